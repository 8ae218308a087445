// KV cache quantization (--kv-bits), per head and per token: each head's key (after RoPE) or
// value vector x of headDim floats, at each position, is stored as what a cache of that width
// gives back:
//   32      float32, unchanged (the default, and the fixtures' references);
//   16      each value rounded to IEEE float16 (llama.cpp's default f16 cache);
//   8, 4, 3 symmetric absmax integers: qmax = 2^(bits-1) - 1, s = float32(max|x| / qmax),
//           x' = float32(clamp(round_half_even(float32(x / s)), -qmax, qmax) * s); an all-zero
//           vector stays zero.
// The cache keeps float32 storage holding these values: the numbers (what perplexity measures)
// are those of a narrow cache, not yet its memory saving.

import { f16ToF32, f32ToF16 } from '../model/dtypes.ts';
import { roundHalfEven } from './quant.ts';
import type { KvBits } from './numerics-names.ts';

export { KV_BITS, type KvBits } from './numerics-names.ts';

/** Quantize `heads` vectors of headDim starting at x[o], in place. */
export function quantizeKv(x: Float32Array, o: number, heads: number, headDim: number, bits: KvBits): void {
  if (bits === 32) return;
  const n = heads * headDim;
  if (bits === 16) {
    for (let i = o; i < o + n; i++) x[i] = f16ToF32(f32ToF16(x[i]!));
    return;
  }
  const qmax = 2 ** (bits - 1) - 1;
  for (let h = 0; h < heads; h++) {
    const b = o + h * headDim;
    let amax = 0;
    for (let d = 0; d < headDim; d++) amax = Math.max(amax, Math.abs(x[b + d]!));
    if (amax === 0) continue;
    const s = Math.fround(amax / qmax);
    for (let d = 0; d < headDim; d++) {
      const r = roundHalfEven(Math.fround(x[b + d]! / s));
      x[b + d] = Math.fround((r > qmax ? qmax : r < -qmax ? -qmax : r) * s);
    }
  }
}
