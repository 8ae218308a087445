// The CPU BitLinear kernel against the integer reference, the activation quantizer's
// rounding, and the sampler's determinism.

import assert from 'node:assert/strict';
import { TernaryKernel } from '../../host/infer/cpu-kernel.ts';
import { quantizeRows, roundHalfEven } from '../../host/infer/quant.ts';
import { packTernary, unpackTernary } from '../../host/model/ternary.ts';
import { ternaryMatmul } from '../../common/reference.ts';
import { Sampler, argmax } from '../../host/infer/sampler.ts';
import { XorShift32, globalSeed } from '../../common/rng.ts';

describe('host: CPU kernel, quantizer, sampler', function () {
  it('the lookup-table kernel equals the integer reference (K not a multiple of 4, extreme activations)', () => {
    const rng = new XorShift32(globalSeed() ^ 0xbeef);
    const kernel = new TernaryKernel();
    for (let c = 0; c < 40; c++) {
      const N = rng.int(1, 70);
      const K = rng.int(1, 300);
      const M = rng.int(1, 5);
      const wd = Int8Array.from({ length: N * K }, () => rng.int(-1, 1));
      const extreme = c % 4 === 0;
      const xd = Int8Array.from({ length: M * K }, () => (extreme ? rng.pick([-128, 127]) : rng.int(-128, 127)));
      const w = packTernary('w', { rows: N, cols: K, data: wd }, { op: 'div', value: 1 });
      assert.deepEqual(unpackTernary(w).data, wd);
      const want = ternaryMatmul({ rows: M, cols: K, data: xd }, { rows: N, cols: K, data: wd }).data;
      assert.deepEqual(kernel.matmul(w, xd, M), want, `case ${c}: M=${M} N=${N} K=${K}`);
    }
  });

  it('rounds half to even on the float32 product', () => {
    assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, -48.50009536743164].map(roundHalfEven), [0, 2, 2, -0, -2, -2, 2, -49]);
    // 0.1f * 5 = 0.5 exactly in float32 but 0.50000000745 in float64: float32 rounds to 0, float64 to 1.
    const x = Float32Array.of(0.1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -25.4);
    const q = new Int8Array(x.length);
    const s = new Float32Array(1);
    quantizeRows(x, 1, x.length, q, s);
    assert.equal(s[0], Math.fround(127 / Math.fround(25.4)));
    assert.equal(q[13], -127);
    assert.equal(q[0], roundHalfEven(Math.fround(Math.fround(0.1) * s[0]!)));
    const q4 = new Int8Array(x.length);
    quantizeRows(x, 1, x.length, q4, s, 4);
    assert.equal(q4[13], -7, 'int4 activations clamp to 7 / -8');
  });

  it('sampling: temperature 0 is argmax, a seed repeats, top-k 1 is greedy', () => {
    const rng = new XorShift32(globalSeed());
    const logits = Float32Array.from({ length: 100 }, () => rng.int(-1000, 1000) / 100);
    assert.equal(new Sampler({ temperature: 0 }).sample(logits), argmax(logits));
    const draw = (seed: number): number[] => {
      const s = new Sampler({ temperature: 1, topK: 0, topP: 1, seed });
      return Array.from({ length: 50 }, () => s.sample(logits));
    };
    assert.deepEqual(draw(7), draw(7));
    assert.notDeepEqual(draw(7), draw(8));
    const k1 = new Sampler({ temperature: 5, topK: 1, seed: 3 });
    for (let i = 0; i < 10; i++) assert.equal(k1.sample(logits), argmax(logits));
    const tiny = new Sampler({ temperature: 1, topK: 0, topP: 1e-9, seed: 3 });
    assert.equal(tiny.sample(logits), argmax(logits), 'top-p below the top probability keeps one token');
    assert.throws(() => new Sampler({ topP: 0 }), /top-p 0: must be in \(0, 1\]/);
  });

  it('top-k draws only from the k best logits (ties to the lower id), and reaches all of them', () => {
    const rng = new XorShift32(globalSeed() ^ 0x70b);
    for (const k of [1, 5, 40]) {
      const logits = Float32Array.from({ length: 300 }, () => rng.int(-30, 30) / 10); // many ties
      const best = Array.from(logits.keys()).sort((a, b) => logits[b]! - logits[a]! || a - b).slice(0, k);
      const s = new Sampler({ temperature: 1000, topK: k, topP: 1, seed: k });
      const seen = new Set<number>();
      for (let i = 0; i < 400 * k; i++) seen.add(s.sample(logits));
      assert.deepEqual([...seen].sort((a, b) => a - b), [...best].sort((a, b) => a - b), `top-${k}`);
    }
  });
});
