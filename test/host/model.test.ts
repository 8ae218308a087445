// The runtime against ground truth from an independent port of the Hugging Face BitNet
// model (shared/fixtures): exact int8 activations and int32 BitLinear products at position 0
// of every projection, logits at every position within the fixture's tolerance, greedy
// tokens, and the same ternary matrices from safetensors, TQ1_0, TQ2_0 and I2_S.

import assert from 'node:assert/strict';
import { loadModel } from '../../host/model/load.ts';
import { bitLinears, PROJECTIONS, type BitNetModel } from '../../host/model/model.ts';
import { CpuBackend } from '../../host/backends/cpu.ts';
import { Transformer } from '../../host/infer/transformer.ts';
import { quantizeRows } from '../../host/infer/quant.ts';
import { TernaryKernel } from '../../host/infer/cpu-kernel.ts';
import { unpackTernary } from '../../host/model/ternary.ts';
import { ternaryMatmul } from '../../common/reference.ts';
import { argmax } from '../../host/infer/sampler.ts';
import { expected, fixture } from './fixtures.ts';
import { readRow, type FloatMatrix } from '../../host/model/float-matrix.ts';
import { f16ToF32, f32ToF16 } from '../../host/model/dtypes.ts';
import * as fs from 'node:fs';

/** Every row of a matrix as float32, whatever precision it is stored in. */
const allRows = (m: FloatMatrix): Float32Array => {
  const out = new Float32Array(m.rows * m.cols);
  for (let r = 0; r < m.rows; r++) readRow(m, r, out, r * m.cols);
  return out;
};

/**
 * Logits at every prompt position, their largest difference from the expected ones, and `n`
 * greedy tokens after the prompt (KV cache), on the cpu backend.
 */
async function againstExpected(m: BitNetModel, tokens: number[], expectedLogits: number[][], n: number): Promise<{ logits: Float32Array; worst: number; greedy: number[] }> {
  const tr = await cpuTransformer(m);
  const V = m.config.vocab;
  const logits = await tr.forward(tokens, { all: true });
  let worst = 0;
  expectedLogits.forEach((row, p) => row.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - logits[p * V + i]!)))));
  const greedy: number[] = [];
  let last = logits.subarray((tokens.length - 1) * V);
  for (let i = 0; i < n; i++) {
    greedy.push(argmax(last));
    last = await tr.forward([greedy[i]!]);
  }
  return { logits, worst, greedy };
}

async function cpuTransformer(m: BitNetModel): Promise<Transformer> {
  const be = new CpuBackend();
  await be.load(bitLinears(m));
  return new Transformer(m, be);
}

const SOURCES = [
  { name: 'tiny-bitnet-a', file: '' },
  { name: 'tiny-bitnet-c', file: '' },
  { name: 'tiny-bitnet-c', file: 'model-tq2_0.gguf' },
  { name: 'tiny-bitnet-c', file: 'model-tq1_0.gguf' },
  { name: 'tiny-bitnet-c', file: 'model-i2_s.gguf' },
];

describe('host: BitNet models against the fixtures', function () {
  for (const { name } of SOURCES.filter((s) => !s.file)) {
    it(`${name}: int8 activations and int32 products of every projection at position 0 are exact`, () => {
      const m = loadModel(fixture(name));
      const ex = expected(name);
      const kernel = new TernaryKernel();
      let checked = 0;
      for (const rec of ex.per_layer_bitlinear_pos0) {
        for (const p of PROJECTIONS) {
          const r = rec[`${p}_proj`]!;
          const w = m.layers[rec.layer]!.proj[p];
          const K = r.input_f32.length;
          const q = new Int8Array(K);
          const s = new Float32Array(1);
          quantizeRows(Float32Array.from(r.input_f32), 1, K, q, s);
          assert.equal(s[0], Math.fround(r.act_scale), `layer ${rec.layer} ${p}: act_scale`);
          assert.deepEqual(Array.from(q), r.input_int8, `layer ${rec.layer} ${p}: int8 input`);
          const y = kernel.matmul(w, q, 1);
          assert.deepEqual(Array.from(y), r.acc_int32, `layer ${rec.layer} ${p}: int32 products (lookup kernel)`);
          assert.deepEqual(Array.from(ternaryMatmul({ rows: 1, cols: K, data: q }, unpackTernary(w)).data), r.acc_int32, `layer ${rec.layer} ${p}: int32 products (reference)`);
          const d = Math.fround(s[0]! * w.scale.value);
          r.output_f32.forEach((v, i) => assert.equal(Math.fround(y[i]! / d), Math.fround(v), `layer ${rec.layer} ${p}: output ${i}`));
          checked++;
        }
      }
      assert.equal(checked, 14);
    });
  }

  for (const { name, file } of SOURCES) {
    it(`${name}${file ? ` (${file})` : ''}: logits at every position and 8 greedy tokens`, async () => {
      const m = loadModel(fixture(name, file));
      const ex = expected(name);
      const atol = ex.notes.suggested_logit_atol ?? 2e-3;
      const { logits, worst, greedy } = await againstExpected(m, ex.token_ids, ex.all_logits, ex.greedy_new_tokens.length);
      assert.ok(worst <= atol, `max |logit - expected| = ${worst} > ${atol}`);
      const V = m.config.vocab;
      ex.top5.forEach((top, p) => assert.equal(argmax(logits.subarray(p * V, (p + 1) * V)), top[0], `top-1 at position ${p}`));
      assert.deepEqual(greedy, ex.greedy_new_tokens);
      console.log(`      ${m.source.format}: max logit error ${worst.toExponential(2)} (tolerance ${atol})`);
    });
  }

  it('tiny-bitnet-c: TQ2_0, TQ1_0 and I2_S decode to exactly the safetensors ternary matrices, with scale = 1/weight_scale', () => {
    const hf = loadModel(fixture('tiny-bitnet-c'));
    for (const f of ['model-tq2_0.gguf', 'model-tq1_0.gguf', 'model-i2_s.gguf']) {
      const g = loadModel(fixture('tiny-bitnet-c', f));
      hf.layers.forEach((l, i) => {
        for (const p of PROJECTIONS) {
          const a = l.proj[p];
          const b = g.layers[i]!.proj[p];
          assert.deepEqual([b.rows, b.cols], [a.rows, a.cols]);
          assert.ok(Buffer.from(a.codes).equals(Buffer.from(b.codes)), `${f}: layer ${i} ${p} trits differ`);
          assert.equal(a.scale.op, 'div');
          assert.equal(b.scale.op, 'mul');
          assert.equal(b.scale.value, Math.fround(1 / a.scale.value), `${f}: layer ${i} ${p} scale`);
        }
      });
      assert.deepEqual(allRows(g.embed), allRows(hf.embed), `${f}: embedding`);
    }
  });

  // GGUF files as llama.cpp's own gguf-py writes them (expected-gguf-llamacpp.json): the
  // scale folded into TQ blocks' d, F16 values +-scale, F32 trits with a separate .scale.
  for (const [name, file] of [
    ['tiny-bitnet-c', 'model-tq2_0-folded.gguf'],
    ['tiny-bitnet-c', 'model-tq1_0-folded.gguf'],
    ['tiny-bitnet-a', 'model-f16-folded.gguf'],
    ['tiny-bitnet-a', 'model-f32-scale.gguf'],
  ] as const) {
    it(`${name} (${file}, llama.cpp's layout): the safetensors' trits, that file's scale, logits within 1e-4 and greedy tokens`, async () => {
      const ex = (JSON.parse(fs.readFileSync(fixture(name, 'expected-gguf-llamacpp.json'), 'utf8')) as { token_ids: number[]; files: Record<string, { scale: 'exact' | 'f16scale'; greedy_new_tokens: number[]; all_logits: number[][] }> });
      const want = ex.files[file]!;
      const m = loadModel(fixture(name, file));
      const hf = loadModel(fixture(name));
      hf.layers.forEach((l, i) => {
        for (const p of PROJECTIONS) {
          const a = l.proj[p];
          const b = m.layers[i]!.proj[p];
          assert.ok(Buffer.from(a.codes).equals(Buffer.from(b.codes)), `layer ${i} ${p}: trits differ`);
          const exact = Math.fround(1 / a.scale.value);
          assert.equal(b.scale.op, 'mul');
          assert.equal(b.scale.value, want.scale === 'exact' ? exact : f16ToF32(f32ToF16(exact)), `layer ${i} ${p}: scale`);
          assert.equal(b.blockScales, undefined);
        }
      });
      const { worst, greedy } = await againstExpected(m, ex.token_ids, want.all_logits, want.greedy_new_tokens.length);
      assert.ok(worst <= 1e-4, `max |logit - expected| = ${worst} > 1e-4`);
      assert.deepEqual(greedy, want.greedy_new_tokens);
      console.log(`      ${m.source.format}: max logit error ${worst.toExponential(2)}`);
    });
  }

  it('prompt eval in one batch equals token-by-token decoding', async () => {
    const m = loadModel(fixture('tiny-bitnet-a'));
    const ex = expected('tiny-bitnet-a');
    const a = await cpuTransformer(m);
    const batch = await a.forward(ex.token_ids, { all: true });
    const b = await cpuTransformer(m);
    const V = m.config.vocab;
    let worst = 0;
    for (let p = 0; p < ex.token_ids.length; p++) {
      const l = await b.forward([ex.token_ids[p]!]);
      l.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - batch[p * V + i]!))));
    }
    assert.ok(worst < 1e-4, `batched vs incremental logits differ by ${worst}`);
  });
});

describe('host: the KV cache grows as positions are used', function () {
  it('results are identical whatever the growth history (capacities 16-32-40 against 16-32-64), and the cache holds what is used', async () => {
    const m = loadModel(fixture('tiny-bitnet-a'));
    const ex = expected('tiny-bitnet-a');
    const T = Math.min(40, m.config.maxPositions);
    const tokens = Array.from({ length: T }, (_, i) => ex.token_ids[i % ex.token_ids.length]!);
    const be = new CpuBackend();
    await be.load(bitLinears(m));
    const tight = new Transformer(m, be, T);
    const roomy = new Transformer(m, be);
    assert.equal(roomy.ctx, Math.min(4096, m.config.maxPositions));
    const caps: number[] = [];
    for (let p = 0; p < T; p++) {
      const a = await tight.forward([tokens[p]!]);
      const b = await roomy.forward([tokens[p]!]);
      assert.ok(a.every((v, i) => v === b[i]), `position ${p}: logits differ`);
      if (caps.at(-1) !== tight.cacheCapacity) caps.push(tight.cacheCapacity);
    }
    assert.deepEqual(caps, [16, 32, T]);
    assert.ok(roomy.cacheCapacity === 64, `doubling: ${roomy.cacheCapacity}`);
    await assert.rejects(tight.forward([1]), /context full: 40 \+ 1 tokens exceed the context of 40/);
  });
});

describe('host: float master weights', function () {
  it('BF16 projection weights (quantization_mode online) are ternarized at load with absmean', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const { makeModel } = await import('../../host/model/make-model.ts');
    const { parseSafetensors, writeSafetensors } = await import('../../host/model/safetensors.ts');
    const { f32ToBf16 } = await import('../../host/model/dtypes.ts');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bitnet-online-'));
    makeModel(dir, { tokenizer: false, vocab: 32, hidden: 16, heads: 2, kvHeads: 1, intermediate: 32, layers: 1 });
    const packed = loadModel(dir);
    const st = parseSafetensors(new Uint8Array(fs.readFileSync(path.join(dir, 'model.safetensors'))), 'model.safetensors');
    const tensors: Parameters<typeof writeSafetensors>[1] = [];
    for (const [name, t] of st.tensors) {
      if (name.endsWith('.weight_scale')) continue;
      const m = /^model\.layers\.0\.(?:self_attn|mlp)\.(\w+)_proj\.weight$/.exec(name);
      if (!m) {
        tensors.push({ name, dtype: t.dtype, shape: [...t.shape], bytes: t.bytes });
        continue;
      }
      // The float weight this packed one came from: trit / weight_scale, as BF16 [N, K].
      const w = packed.layers[0]!.proj[m[1] as 'q'];
      const u = new Uint16Array(w.rows * w.cols);
      const dense = unpackTernary(w).data;
      for (let i = 0; i < u.length; i++) u[i] = f32ToBf16(dense[i]! / w.scale.value);
      tensors.push({ name, dtype: 'BF16', shape: [w.rows, w.cols], bytes: new Uint8Array(u.buffer) });
    }
    writeSafetensors(path.join(dir, 'model.safetensors'), tensors);
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    cfg.quantization_config.quantization_mode = 'online';
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(cfg));
    const online = loadModel(dir);
    for (const p of PROJECTIONS) {
      assert.deepEqual(online.layers[0]!.proj[p].codes, packed.layers[0]!.proj[p].codes, `${p}: absmean recovers the trits`);
      assert.equal(online.layers[0]!.proj[p].scale.op, 'div');
    }
    const logits = await (await cpuTransformer(online)).forward([1, 2, 3]);
    assert.ok(logits.every(Number.isFinite));
  });
});

describe('host: the 8-bit output head (--head-bits 8)', function () {
  it('changes the logits of every fixture by a reported, bounded amount and keeps the top-1 token', async () => {
    const { quantizeHead } = await import('../../host/infer/head.ts');
    for (const name of ['tiny-fortunes', 'tiny-bitnet-a', 'tiny-bitnet-c']) {
      const m = loadModel(fixture(name));
      const m8 = { ...m, lmHead: quantizeHead(m.lmHead) };
      assert.equal(m8.lmHead.dtype, 'q8');
      const toks = [1, 17, 42, 99, 5, 63, 7, 200].map((t) => t % m.config.vocab);
      const a = await (await cpuTransformer(m)).forward(toks, { all: true });
      const b = await (await cpuTransformer(m8)).forward(toks, { all: true });
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
      const V = m.config.vocab;
      for (let p = 0; p < toks.length; p++) assert.equal(argmax(b.subarray(p * V, (p + 1) * V)), argmax(a.subarray(p * V, (p + 1) * V)), `${name}: top-1 at position ${p}`);
      // Each weight moves by at most half a step (absmax/254 of its block of 32).
      assert.ok(worst > 0 && worst < 0.25, `${name}: max logit change ${worst}`);
      console.log(`      ${name}: ${m.lmHead.dtype} head -> q8: max logit change ${worst.toExponential(2)}`);
    }
  });
});
