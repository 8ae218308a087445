// BitNet a4.8 activations (host/infer/act-scheme.ts) against the fixtures' independent
// reference (shared/fixtures/tiny-bitnet-{a,c}/expected-a48.json): the integer input, the
// activation scale and the int32 products of every projection at position 0 exactly, logits
// at every position within 1e-4, and 8 greedy tokens; the scheme chosen by config.json.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadModel } from '../../host/model/load.ts';
import { bitLinears, STAGES, type BitNetModel } from '../../host/model/model.ts';
import { CpuBackend } from '../../host/backends/cpu.ts';
import { Transformer } from '../../host/infer/transformer.ts';
import { TernaryKernel } from '../../host/infer/cpu-kernel.ts';
import { argmax } from '../../host/infer/sampler.ts';
import { absmeanInt4, top50Int8, type ActScheme } from '../../host/infer/act-scheme.ts';
import { fixture } from './fixtures.ts';
import { CheckpointError } from '../../host/model/errors.ts';

interface A48 {
  token_ids: number[];
  all_logits: number[][];
  greedy_new_tokens: number[];
  bitlinear_pos0: { layer: number; proj: string; scheme: string; q_pos0: number[]; act_scale_pos0: number; int32_pos0: number[] }[];
}

const withScheme = (m: BitNetModel, actScheme: ActScheme): BitNetModel => ({ ...m, config: { ...m.config, actScheme } });

describe('host: BitNet a4.8 activations against the fixtures', function () {
  for (const name of ['tiny-bitnet-a', 'tiny-bitnet-c']) {
    it(`${name}: integer inputs, scales and int32 products of every projection at position 0; logits within 1e-4; greedy tokens`, async () => {
      const ex = JSON.parse(fs.readFileSync(fixture(name, 'expected-a48.json'), 'utf8')) as A48;
      const m = withScheme(loadModel(fixture(name)), 'a4.8');
      const be = new CpuBackend();
      await be.load(bitLinears(m));
      const seen = new Map<string, { q: number[]; s: number }>();
      const tr = new Transformer(m, be, undefined, {
        onStage: (layer, stage, xq, sc) => {
          if (tr.pos !== 0) return;
          for (const p of STAGES[stage]!) seen.set(`${layer}.${p}_proj`, { q: Array.from(xq.subarray(0, m.layers[layer]!.proj[p].cols)), s: sc[0]! });
        },
      });
      const V = m.config.vocab;
      const logits = await tr.forward(ex.token_ids, { all: true });
      const kernel = new TernaryKernel();
      for (const r of ex.bitlinear_pos0) {
        const got = seen.get(`${r.layer}.${r.proj}`)!;
        const what = `layer ${r.layer} ${r.proj} (${r.scheme})`;
        assert.deepEqual(got.q, r.q_pos0, `${what}: integer input`);
        // The scale is a float: the reference's float32 steps before it (norms, rescaling)
        // are ordered differently from ours in places, which moves it by at most one ulp
        // (seen on tiny-bitnet-c's layer 0 o_proj and layer 1 q_proj); the integers are exact.
        const ulp = 2 ** (Math.floor(Math.log2(r.act_scale_pos0)) - 23);
        assert.ok(Math.abs(got.s - r.act_scale_pos0) <= ulp, `${what}: activation scale ${got.s}, expected ${r.act_scale_pos0} (one float32 ulp ${ulp})`);
        const w = m.layers[r.layer]!.proj[r.proj.replace('_proj', '') as 'q']!;
        assert.deepEqual(Array.from(kernel.matmul(w, Int8Array.from(got.q), 1)), r.int32_pos0, `${what}: int32 products`);
      }
      assert.equal(ex.bitlinear_pos0.length, 7 * m.config.layers);
      let worst = 0;
      ex.all_logits.forEach((row, p) => row.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - logits[p * V + i]!)))));
      assert.ok(worst <= 1e-4, `max |logit - expected| = ${worst}`);
      const greedy: number[] = [];
      let last = logits.subarray((ex.token_ids.length - 1) * V);
      for (let i = 0; i < ex.greedy_new_tokens.length; i++) {
        greedy.push(argmax(last));
        last = await tr.forward([greedy[i]!]);
      }
      assert.deepEqual(greedy, ex.greedy_new_tokens);
      console.log(`      max logit error ${worst.toExponential(2)}`);
    });
  }

  it('top-50 %: exactly floor(K/2) kept, ties go to the lower index, the scale is the full row\'s', () => {
    const x = Float32Array.from([1, -1, 1, 0.5, -3]);
    const q = new Int8Array(5);
    const s = new Float32Array(1);
    top50Int8(x, 1, 5, q, s);
    // floor(5/2) = 2 kept: -3, then the first of the three 1s (index 0).
    assert.deepEqual(Array.from(q), [42, 0, 0, 0, -127]);
    assert.equal(s[0], Math.fround(127 / 3));
  });

  it('int4 absmean: clamps to -8..7 and an all-zero row uses the 1e-5 floor', () => {
    const q = new Int8Array(4);
    const s = new Float32Array(1);
    absmeanInt4(Float32Array.from([10, 0, 0, 0]), 1, 4, q, s);
    assert.deepEqual(Array.from(q), [7, 0, 0, 0]);
    absmeanInt4(Float32Array.from([0, 0, 0, 0]), 1, 4, q, s);
    assert.equal(s[0], Math.fround(Math.fround(Math.sqrt(7)) / Math.fround(1e-5)));
  });

  it('config.json selects the scheme (quantization_config.activation_scheme); an unknown one is refused naming the field', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'a48-'));
    try {
      fs.copyFileSync(fixture('tiny-bitnet-a', 'model.safetensors'), path.join(dir, 'model.safetensors'));
      const cfg = JSON.parse(fs.readFileSync(fixture('tiny-bitnet-a', 'config.json'), 'utf8')) as { quantization_config: Record<string, unknown> };
      assert.equal(loadModel(fixture('tiny-bitnet-a')).config.actScheme, 'b1.58');
      assert.equal(loadModel(fixture('tiny-fortunes-a48')).config.actScheme, 'a4.8');
      cfg.quantization_config.activation_scheme = 'a4.4';
      fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(cfg));
      assert.throws(() => loadModel(dir), (e: unknown) => e instanceof CheckpointError && /quantization_config\.activation_scheme' is "a4\.4", expected "b1\.58", "a4\.8", "int4"/.test(e.message) && !e.message.includes('\n'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
