// The native attention kernel against the JavaScript one: causal grouped-query attention of
// M new rows over a KV cache, equal within float32 rounding, and bit-identical whatever the
// thread count (one (row, head) pair is one thread's work).

import assert from 'node:assert/strict';
import { loadNative } from '../../host/native/native.ts';
import { attentionJs } from '../../host/infer/attention.ts';
import { XorShift32 } from '../../common/rng.ts';

const SEED = Number(process.env.SEED ?? 20261201);

describe(`host: native attention (seed ${SEED})`, function () {
  const k = loadNative();
  before(function () {
    if (!k) this.skip();
  });

  it('equals the JavaScript attention within float32 rounding, decode and prefill, MHA and GQA; 1 and 2 threads bit-identical', () => {
    const rng = new XorShift32(SEED);
    const f = (): number => rng.next() / 2 ** 31 - 1;
    for (const [heads, kvHeads, D, pos, M] of [[4, 4, 16, 0, 1], [4, 2, 64, 7, 1], [20, 5, 128, 40, 1], [20, 5, 128, 0, 33], [8, 1, 32, 100, 5], [20, 5, 128, 300, 2]] as const) {
      const T = pos + M;
      const q = Float32Array.from({ length: M * heads * D }, f);
      const kc = Float32Array.from({ length: T * kvHeads * D }, f);
      const vc = Float32Array.from({ length: T * kvHeads * D }, f);
      const a = { M, heads, kvHeads, headDim: D, pos, scale: 1 / Math.sqrt(D) };
      const ref = attentionJs(q, kc, vc, a, new Float32Array(M * heads * D));
      const got: Float32Array[] = [];
      for (const t of [1, 2]) {
        k!.setThreads(t);
        const out = new Float32Array(M * heads * D);
        k!.attention(q, kc, vc, M, heads, kvHeads, D, pos, a.scale, out);
        got.push(out);
      }
      k!.setThreads(2);
      assert.deepEqual(got[0], got[1], `${heads}/${kvHeads} heads, D ${D}, pos ${pos}, M ${M}: thread count changed the result`);
      let worst = 0;
      for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(ref[i]! - got[0]![i]!));
      assert.ok(worst < 1e-5, `${heads}/${kvHeads} heads, D ${D}, pos ${pos}, M ${M}: max difference ${worst}`);
    }
  });

  it('refuses a cache shorter than pos + M, by name', () => {
    assert.throws(() => k!.attention(new Float32Array(64), new Float32Array(64), new Float32Array(64), 1, 4, 4, 16, 3, 0.25, new Float32Array(64)), /kc\/vc: 64\/64 floats, need \(pos\+M\)\*kvHeads\*D = 256/);
  });
});

describe(`host: native activation quantizer and rescaling are the JavaScript ones bit for bit (seed ${SEED})`, function () {
  const k = loadNative();
  before(function () {
    if (!k) this.skip();
  });

  it('quantizeRows: random rows, near-half products, zeros, NaN, int8 and int4', async () => {
    const { quantizeRowsJs } = await import('../../host/infer/quant.ts');
    const rng = new XorShift32(SEED);
    const f = (): number => rng.next() / 2 ** 31 - 1;
    for (const bits of [8, 4]) {
      for (let it = 0; it < 200; it++) {
        const M = 1 + (it % 3);
        const K = 1 + (rng.next() % 700);
        const x = Float32Array.from({ length: M * K }, (_, i) => (i % 11 === 0 ? (Math.round(f() * 100) + 0.5) / 127 : f() * (1 + (it % 5))));
        if (it === 3) x.fill(0);
        if (it === 4) x[0] = NaN;
        const a = new Int8Array(M * K);
        const b = new Int8Array(M * K);
        const sa = new Float32Array(M);
        const sb = new Float32Array(M);
        quantizeRowsJs(x, M, K, a, sa, bits);
        k!.quantizeRows(x, M, K, bits, b, sb);
        assert.deepEqual(sb, sa, `case ${it} (int${bits}): scales`);
        assert.deepEqual(b, a, `case ${it} (int${bits}): values`);
      }
    }
  });

  it('rescale: div and mul, every row range of a fused result', async () => {
    const { rescaleRowsJs } = await import('../../host/infer/quant.ts');
    const rng = new XorShift32(SEED + 1);
    const M = 3;
    const NT = 97;
    const acc = Int32Array.from({ length: M * NT }, () => (rng.next() % 2000001) - 1000000);
    const scales = Float32Array.from({ length: M }, () => Math.fround(0.5 + (rng.next() % 1000) / 7));
    for (const op of ['div', 'mul'] as const) {
      for (const [row0, N] of [[0, 97], [0, 40], [40, 57], [96, 1]] as const) {
        const ws = Math.fround(op === 'div' ? 20.125 : 1 / 20.125);
        const ref = rescaleRowsJs(acc, M, NT, row0, N, { op, value: ws }, scales, new Float32Array(M * N));
        const got = new Float32Array(M * N);
        k!.rescale(acc, M, NT, row0, N, op, ws, scales, got);
        assert.deepEqual(got, ref, `${op} rows ${row0}..${row0 + N}`);
      }
    }
  });
});
