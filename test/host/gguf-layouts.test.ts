// GGUF ternary tensors in the layouts llama.cpp writes, taken apart: per-block scales (blocks
// whose d differ) run exactly on the host and are refused by a board by name; a tensor that
// is not ternary up to one scale, and a negative block scale, are refused by name.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseGguf } from '../../host/model/gguf.ts';
import { loadModel } from '../../host/model/load.ts';
import { f32ToF16 } from '../../host/model/dtypes.ts';
import { getTrit } from '../../host/model/ternary.ts';
import { blockScaledMatmul } from '../../host/infer/block-scaled.ts';
import { BoardBackend } from '../../host/backends/board.ts';
import type { LinkClient } from '../../host/link/client.ts';
import { fixture } from './fixtures.ts';

/** A copy of a fixture GGUF with `edit` applied to one tensor's bytes. */
function edited(src: string, tensor: string, edit: (bytes: Uint8Array) => void): string {
  const buf = new Uint8Array(fs.readFileSync(src));
  const g = parseGguf(buf, src);
  edit(g.tensors.get(tensor)!.bytes);
  const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bitnet-gguf-')), path.basename(src));
  fs.writeFileSync(f, buf);
  return f;
}

const setF16 = (b: Uint8Array, o: number, v: number): void => {
  const h = f32ToF16(v);
  b[o] = h & 255;
  b[o + 1] = h >> 8;
};

describe('host: GGUF scale layouts', function () {
  it('TQ2_0 blocks with different d load with per-block scales; the host computes them exactly; a board refuses them by name', async () => {
    // Block 1 of blk.0.attn_q.weight (K = 256: the block of row 1) gets d = 0.125.
    const f = edited(fixture('tiny-bitnet-c', 'model-tq2_0-folded.gguf'), 'blk.0.attn_q.weight', (b) => setF16(b, 66 + 64, 0.125));
    const m = loadModel(f);
    const w = m.layers[0]!.proj.q;
    assert.ok(w.blockScales, 'per-block scales');
    assert.equal(w.blockScales.values[1], 0.125);
    const d0 = w.blockScales.values[0]!;
    assert.ok(Array.from(w.blockScales.values).every((v, i) => i === 1 || v === d0 || v === 0));
    // Against a dense float64 reference of sum_k t * d_block * x / act_scale.
    const M = 3;
    const K = w.cols;
    const xq = Int8Array.from({ length: M * K }, (_, i) => ((i * 37) % 256) - 128);
    const act = Float32Array.from([1.5, 20, 127]);
    const y = blockScaledMatmul(w, xq, act, M, new Float32Array(M * w.rows));
    for (let mm = 0; mm < M; mm++) {
      for (let n = 0; n < w.rows; n++) {
        let ref = 0;
        for (let k = 0; k < K; k++) ref += getTrit(w, n, k) * w.blockScales.values[n * (K / 256) + (k >> 8)]! * xq[mm * K + k]!;
        assert.equal(y[mm * w.rows + n], Math.fround(ref / act[mm]!), `row ${mm} unit ${n}`);
      }
    }
    const board = new BoardBackend('sim', {} as LinkClient);
    await assert.rejects(board.load(m.layers.flatMap((l) => Object.values(l.proj))), /sim: tensor 'blk\.0\.attn_q\.weight' has per-block scales .* runs only with --backend cpu/);
  });

  it('a negative block scale is refused by name', () => {
    const f = edited(fixture('tiny-bitnet-c', 'model-tq1_0-folded.gguf'), 'blk.1.ffn_up.weight', (b) => setF16(b, 52, -0.05));
    assert.throws(() => loadModel(f), /tensor 'blk\.1\.ffn_up\.weight': block 0 has scale d = -0\.0499.* not negative/);
  });

  it('F16 projection values with two magnitudes are not ternary and are refused by name', () => {
    const f = edited(fixture('tiny-bitnet-a', 'model-f16-folded.gguf'), 'blk.0.attn_k.weight', (b) => {
      const u = new Uint16Array(b.buffer, b.byteOffset, b.length / 2);
      const i = u.findIndex((v) => (v & 0x7fff) !== 0);
      u[i] = f32ToF16(0.3);
    });
    assert.throws(() => loadModel(f), /model-f16-folded\.gguf: tensor 'blk\.0\.attn_k\.weight': F16 values are not ternary up to one scale/);
  });

  it('an F32 projection with a .scale tensor of 0 is refused by name', () => {
    const f = edited(fixture('tiny-bitnet-a', 'model-f32-scale.gguf'), 'blk.0.attn_v.scale', (b) => b.fill(0));
    assert.throws(() => loadModel(f), /tensor 'blk\.0\.attn_v\.scale': 0 must be positive and finite/);
  });
});

describe('host: reading checkpoints without copies', function () {
  it('a mapped file and a read file give the same tensors; views of a mapped file are not copies', async () => {
    const { FileSource } = await import('../../host/model/file-source.ts');
    const f = fixture('tiny-bitnet-c', 'model-tq2_0-folded.gguf');
    const whole = new Uint8Array(fs.readFileSync(f));
    const src = new FileSource(f);
    try {
      const v = src.view(4096, 1000, 'probe');
      assert.deepEqual(v, whole.subarray(4096, 5096));
      const r = src.read(4096, 1000, 'probe');
      assert.deepEqual(r, v);
      assert.notEqual(r.buffer, v.buffer, 'read() returns a buffer of its own');
      src.release(0, src.size); // pages leave the process; the bytes are still there
      assert.deepEqual(src.view(4096, 1000, 'probe'), whole.subarray(4096, 5096));
      assert.throws(() => src.view(src.size - 10, 11, "tensor 'x'"), /tensor 'x': bytes \d+\.\.\d+ are past the end of the file .* truncated/);
    } finally {
      src.close();
    }
  });

  it('q/k/v and gate/up are fused into one matmul each (views, no second copy): 4 matmuls per layer per forward pass', async () => {
    const { offloadLayout, bitLinears } = await import('../../host/model/model.ts');
    const { CpuBackend } = await import('../../host/backends/cpu.ts');
    const { Transformer } = await import('../../host/infer/transformer.ts');
    for (const f of ['', 'model-tq2_0-folded.gguf', 'model-i2_s.gguf']) {
      const m = loadModel(fixture('tiny-bitnet-c', f));
      const lay = offloadLayout(m);
      assert.deepEqual(lay.map((l) => l.map((s) => s.length)), m.layers.map(() => [1, 1, 1, 1]), `${f}: one matmul per stage`);
      const l0 = m.layers[0]!;
      assert.equal(l0.proj.k.codes.buffer, l0.fused!.qkv!.codes.buffer, `${f}: k is a view into the fused q/k/v`);
      assert.equal(l0.fused!.qkv!.rows, l0.proj.q.rows + l0.proj.k.rows + l0.proj.v.rows);
      const be = new CpuBackend();
      await be.load(bitLinears(m));
      await new Transformer(m, be).forward([1, 2, 3]);
      assert.equal(be.stats.calls, 4 * m.layers.length);
    }
  });
});

describe('host: sizes from the config are checked before they are allocated', function () {
  it('an intermediate_size of 4e9 in config.json is refused by the tensor that disagrees, not by the allocator', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bitnet-bigcfg-'));
    fs.copyFileSync(fixture('tiny-bitnet-a', 'model.safetensors'), path.join(dir, 'model.safetensors'));
    const cfg = JSON.parse(fs.readFileSync(fixture('tiny-bitnet-a', 'config.json'), 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...cfg, intermediate_size: 4_000_000_000 }));
    assert.throws(() => loadModel(dir), /tensor 'model\.layers\.0\.mlp\.ffn_sub_norm\.weight': shape \[160\], expected \[4000000000\]|tensor 'model\.layers\.0\.mlp\.gate_proj\.weight': packed shape \[40, 64\], expected \[1000000000, 64\]/);
  });
});
