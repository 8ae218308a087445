// The output head: logits = W_head . h for each row of h, with W kept in the file's precision
// (or 8-bit). It reads the whole head per token (656 MB in BF16 for BitNet-2B-4T), so it runs
// in the native SIMD kernels on every core when they are available (host/native: float32
// lanes, the same result whatever the thread count), and in JavaScript (float64) otherwise.

import { floatMatrix, matVecJs, toQ8Js, type FloatMatrix } from '../model/float-matrix.ts';
import { loadNative } from '../native/native.ts';

/** out[m * rows + r] = W[r] . x[m * cols ..] for M rows of x. */
export function headLogits(W: FloatMatrix, x: Float32Array, M: number, out: Float32Array): Float32Array {
  const k = loadNative();
  if (!k) return matVecJs(W, x, M, out);
  k.matvec(W.dtype, W.data, W.rows, W.cols, x.subarray(0, M * W.cols), M, out.subarray(0, M * W.rows), W.scales);
  return out;
}

/** The head in 8 bits (`--head-bits 8`, like llama.cpp's Q8_0): half the bytes of BF16 read per token. */
export function quantizeHead(W: FloatMatrix): FloatMatrix {
  if (W.dtype === 'q8') return W;
  const k = loadNative();
  if (!k) return toQ8Js(W);
  const { w8, scales } = k.quantizeQ8(W.dtype, W.data, W.rows, W.cols);
  return floatMatrix('q8', W.rows, W.cols, new Uint8Array(w8.buffer, w8.byteOffset, w8.byteLength), scales);
}
