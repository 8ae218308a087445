// Activation schemes: how each BitLinear's float input becomes the integers a backend
// multiplies with the ternary weights. The four stages of a layer (model.ts STAGES: q/k/v,
// o, gate/up, down) each have one quantizer:
//   b1.58  int8 absmax everywhere (BitNet b1.58, quant.ts quantizeRows);
//   a4.8   BitNet a4.8 (arXiv 2411.04965 sec. 2): int4 absmean into q/k/v and gate/up, the
//          top 50 % of o_proj's input by magnitude then int8 absmax, int8 absmax into down;
//   int4   int4 absmax everywhere: the naive 4-bit baseline the fortunes READMEs measure.
// The definitions are the fixtures' (shared/fixtures/tiny-bitnet-a/expected-a48.json,
// `description`), to the float32 rounding of each step. Every value fits int8, so a board
// takes them on its int8 path and returns the same integers as the cpu backend.

import { quantizeRows, quantizeRowsJs } from './quant.ts';
import type { ActScheme } from './numerics-names.ts';

export { ACT_SCHEMES, type ActScheme } from './numerics-names.ts';

export type StageQuantizer = 'int8-absmax' | 'int4-absmax' | 'int4-absmean' | 'top50-int8-absmax';

/** The quantizer of each stage (q/k/v, o, gate/up, down) under a scheme. */
export const STAGE_QUANTIZERS: Readonly<Record<ActScheme, readonly [StageQuantizer, StageQuantizer, StageQuantizer, StageQuantizer]>> = {
  'b1.58': ['int8-absmax', 'int8-absmax', 'int8-absmax', 'int8-absmax'],
  'a4.8': ['int4-absmean', 'top50-int8-absmax', 'int4-absmean', 'int8-absmax'],
  int4: ['int4-absmax', 'int4-absmax', 'int4-absmax', 'int4-absmax'],
};

/** The widest activation a scheme sends (a board whose core takes fewer bits refuses the model). */
export const schemeBits = (s: ActScheme): number => (STAGE_QUANTIZERS[s].some((q) => q.includes('int8')) ? 8 : 4);

/** sqrt(7) in float32, as the reference computes the absmean scale's numerator. */
const SQRT7 = Math.fround(Math.sqrt(7));
const EPS = Math.fround(1e-5);
/** 1.5 * 2^52: x + ROUND - ROUND rounds a float64 to an integer, ties to even (quant.ts). */
const ROUND = 6755399441055744;

/** Quantize M rows of K values with `kind`; writes q and one scale per row. */
export function quantizeStage(kind: StageQuantizer, x: Float32Array, M: number, K: number, q: Int8Array, scales: Float32Array): void {
  switch (kind) {
    case 'int8-absmax':
      quantizeRows(x, M, K, q, scales, 8);
      return;
    case 'int4-absmax':
      quantizeRows(x, M, K, q, scales, 4);
      return;
    case 'int4-absmean':
      absmeanInt4(x, M, K, q, scales);
      return;
    case 'top50-int8-absmax':
      top50Int8(x, M, K, q, scales);
      return;
  }
}

/**
 * int4 absmean: beta = float32(sum |x| in float64 / K), s = float32(sqrt 7) / max(beta, 1e-5)
 * in float32, q = clamp(round_half_even(float32(x * s)), -8, 7). The mean, not the max, sets
 * the scale, so outliers clip at -8/7 instead of crushing every other value to 0.
 */
export function absmeanInt4(x: Float32Array, M: number, K: number, q: Int8Array, scales: Float32Array): void {
  for (let m = 0; m < M; m++) {
    const o = m * K;
    let sum = 0;
    for (let k = 0; k < K; k++) sum += Math.abs(x[o + k]!);
    const beta = Math.fround(sum / K);
    const s = Math.fround(SQRT7 / Math.max(beta, EPS));
    scales[m] = s;
    for (let k = 0; k < K; k++) {
      const v = Math.fround(x[o + k]! * s) + ROUND - ROUND;
      q[o + k] = v > 7 ? 7 : v < -8 ? -8 : v;
    }
  }
}

/**
 * Keep exactly floor(K/2) largest |x| of each row (ties: the lower index), zero the rest, then
 * int8 absmax. The largest |x| is always kept, so the scale is the unsparsified row's and the
 * kept values quantize as they would without the sparsification.
 */
export function top50Int8(x: Float32Array, M: number, K: number, q: Int8Array, scales: Float32Array): void {
  const keep = Math.floor(K / 2);
  const row = new Float32Array(K);
  const order = new Uint32Array(K);
  for (let m = 0; m < M; m++) {
    const o = m * K;
    for (let k = 0; k < K; k++) order[k] = k;
    // Descending |x|, then ascending index: a total order, so the kept set is exactly defined.
    order.sort((a, b) => Math.abs(x[o + b]!) - Math.abs(x[o + a]!) || a - b);
    row.fill(0);
    for (let i = 0; i < keep; i++) row[order[i]!] = x[o + order[i]!]!;
    quantizeRowsJs(row, 1, K, q.subarray(o, o + K), scales.subarray(m, m + 1), 8);
  }
}
