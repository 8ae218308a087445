// A ternary tensor whose GGUF blocks carry different scales d (host/model/ternary.ts
// blockScales). The integer part stays exact: each block's partial dot product is an integer;
// only its combination with the block scales is float: y = sum_b (partial_b * d_b) / act_scale,
// accumulated in float64 and stored as float32. Boards apply one scale per tensor and refuse
// these tensors, so this always runs on the host.

import type { PackedTernary } from '../model/ternary.ts';

export function blockScaledMatmul(w: PackedTernary, xq: Int8Array, actScales: Float32Array, M: number, out: Float32Array): Float32Array {
  const bs = w.blockScales!;
  const K = w.cols;
  const N = w.rows;
  const perRow = Math.ceil(K / bs.size);
  const codes = w.codes;
  for (let m = 0; m < M; m++) {
    const xo = m * K;
    for (let n = 0; n < N; n++) {
      const ro = n * w.stride;
      let y = 0;
      for (let b = 0; b < perRow; b++) {
        const d = bs.values[n * perRow + b]!;
        if (d === 0) continue;
        let part = 0;
        const end = Math.min(K, (b + 1) * bs.size);
        for (let k = b * bs.size; k < end; k++) part += (((codes[ro + (k >> 2)]! >> ((k & 3) * 2)) & 3) - 1) * xq[xo + k]!;
        y += part * d;
      }
      out[m * N + n] = y / actScales[m]!;
    }
  }
  return out;
}
