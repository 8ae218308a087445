// Per-token absmax activation quantization, exactly as BitNet's reference computes it in
// float32: s = 127 / max(absmax(x), 1e-5), q = clamp(round_half_even(x * s), -128, 127).
// JavaScript computes in float64, so every product is rounded to float32 with fround
// first; Math.round would round halves up, so rounding is explicit. The native kernels
// (host/native) compute the same thing in C++; tests hold the two equal.

import { loadNative } from '../native/native.ts';
import type { TensorScale } from '../model/ternary.ts';

/** 1.5 * 2^52: x + ROUND - ROUND is x rounded half to even, for |x| < 2^51. */
const ROUND = 6755399441055744;

/** Round to nearest, ties to even. */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Quantize M rows of K values (row-major) to `bits`-bit integers (8, or 4 for BitNet a4.8).
 * Writes q and one scale per row; returns q.
 */
export function quantizeRows(x: Float32Array, M: number, K: number, q: Int8Array, scales: Float32Array, bits = 8): Int8Array {
  const k = loadNative();
  if (k) {
    k.quantizeRows(x, M, K, bits, q, scales);
    return q;
  }
  return quantizeRowsJs(x, M, K, q, scales, bits);
}

/** The definition (and the path without the native kernels, which compute exactly this). */
export function quantizeRowsJs(x: Float32Array, M: number, K: number, q: Int8Array, scales: Float32Array, bits = 8): Int8Array {
  const qp = 2 ** (bits - 1) - 1;
  const qn = -(2 ** (bits - 1));
  for (let m = 0; m < M; m++) {
    const o = m * K;
    let amax = 0;
    for (let k = 0; k < K; k++) {
      const a = Math.abs(x[o + k]!);
      if (a > amax) amax = a;
    }
    const s = Math.fround(qp / Math.max(amax, Math.fround(1e-5)));
    scales[m] = s;
    for (let k = 0; k < K; k++) {
      // |x * s| <= qp + 1, so adding and subtracting 1.5 * 2^52 rounds it to an integer in
      // float64, to nearest with ties to even: roundHalfEven without its branches.
      const v = Math.fround(x[o + k]! * s) + ROUND - ROUND;
      q[o + k] = v > qp ? qp : v < qn ? qn : v;
    }
  }
  return q;
}

/**
 * A BitLinear's float output: rows row0..row0+N of an M x NT int32 result (one part of a fused
 * matmul) rescaled with the weight's scale and each row's activation scale, in float32 as the
 * checkpoint says: 'div' y = acc / (s * ws) (HF bitlinear), 'mul' y = acc / s * ws (GGUF).
 */
export function rescaleRows(acc: Int32Array, M: number, NT: number, row0: number, N: number, scale: TensorScale, actScales: Float32Array, out: Float32Array): Float32Array {
  const k = loadNative();
  if (k) {
    k.rescale(acc, M, NT, row0, N, scale.op, scale.value, actScales, out);
    return out;
  }
  return rescaleRowsJs(acc, M, NT, row0, N, scale, actScales, out);
}

/** The definition (and the path without the native kernels, which compute exactly this). */
export function rescaleRowsJs(acc: Int32Array, M: number, NT: number, row0: number, N: number, scale: TensorScale, actScales: Float32Array, out: Float32Array): Float32Array {
  const ws = scale.value;
  for (let m = 0; m < M; m++) {
    const s = actScales[m]!;
    const ai = m * NT + row0;
    const oi = m * N;
    if (scale.op === 'div') {
      const d = Math.fround(s * ws);
      for (let n = 0; n < N; n++) out[oi + n] = acc[ai + n]! / d;
    } else {
      for (let n = 0; n < N; n++) out[oi + n] = Math.fround(acc[ai + n]! / s) * ws;
    }
  }
  return out;
}
