// Causal grouped-query attention of M new positions over the KV cache: for each position and
// query head, softmax((q . k_t) / sqrt(d)) over t = 0..pos+m, then the weighted sum of v_t.
// At 2B-4T shapes this is 20 heads x context x 128 x 2 multiply-adds per layer per token,
// the largest float work of a token after the output head, so it runs in the native kernels
// (host/native: every core, float32 SIMD) when they are available, in JavaScript otherwise.

import { softmax } from './ops.ts';
import { loadNative } from '../native/native.ts';

export interface AttentionShape {
  readonly M: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  /** Position of the first of the M rows (tokens already in the cache before them). */
  readonly pos: number;
  readonly scale: number;
}

/** out (M x heads*headDim) from q (M x heads*headDim) and the caches (T x kvHeads*headDim). */
export function attention(q: Float32Array, kc: Float32Array, vc: Float32Array, a: AttentionShape, out: Float32Array): Float32Array {
  const k = loadNative();
  if (k) {
    k.attention(q, kc, vc, a.M, a.heads, a.kvHeads, a.headDim, a.pos, a.scale, out);
    return out;
  }
  return attentionJs(q, kc, vc, a, out);
}

export function attentionJs(q: Float32Array, kc: Float32Array, vc: Float32Array, a: AttentionShape, out: Float32Array): Float32Array {
  const { M, heads, headDim: D, scale } = a;
  const qd = heads * D;
  const kvd = a.kvHeads * D;
  const group = heads / a.kvHeads;
  const scores = new Float64Array(a.pos + M);
  for (let m = 0; m < M; m++) {
    const n = a.pos + m + 1; // causal: positions 0..pos+m
    for (let hd = 0; hd < heads; hd++) {
      const qo = m * qd + hd * D;
      const ko = Math.floor(hd / group) * D;
      for (let t = 0; t < n; t++) {
        let s = 0;
        const kt = t * kvd + ko;
        for (let d = 0; d < D; d++) s += q[qo + d]! * kc[kt + d]!;
        scores[t] = Math.fround(s) * scale;
      }
      softmax(scores, n);
      const ao = m * qd + hd * D;
      for (let d = 0; d < D; d++) out[ao + d] = 0;
      for (let t = 0; t < n; t++) {
        const p = scores[t]!;
        const vt = t * kvd + ko;
        for (let d = 0; d < D; d++) out[ao + d] = out[ao + d]! + p * vc[vt + d]!;
      }
    }
  }
  return out;
}
