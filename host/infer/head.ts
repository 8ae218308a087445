// The output head: logits = W_head . h for each row of h, with W kept in the file's precision
// (or 8-bit). It reads the whole head per token (656 MB in BF16 for BitNet-2B-4T), so it runs
// in the native SIMD kernels on every core when they are available (host/native), and in
// JavaScript otherwise.

import { matVecJs, type FloatMatrix } from '../model/float-matrix.ts';

/** out[m * rows + r] = W[r] . x[m * cols ..] for M rows of x. */
export function headLogits(W: FloatMatrix, x: Float32Array, M: number, out: Float32Array): Float32Array {
  return matVecJs(W, x, M, out);
}
