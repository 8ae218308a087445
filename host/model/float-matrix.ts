// Float matrices as the checkpoint stores them: the embedding and the output head stay in the
// file's precision (BF16, F16 or F32), or an 8-bit form, never widened into a float32 copy
// (BitNet-2B-4T's 128256 x 2560 embedding is 656 MB in BF16 and would be 1.31 GB in float32,
// read once per token by the output head). Rows are decoded exactly when they are needed.

import { F16_TABLE } from './dtypes.ts';
import { roundHalfEven } from '../infer/quant.ts';

export type FloatDtype = 'f32' | 'f16' | 'bf16' | 'q8';
/** Columns per scale of the 8-bit form (llama.cpp's Q8_0 block). */
export const Q8_BLOCK = 32;

export interface FloatMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly dtype: FloatDtype;
  /** Raw little-endian elements, row-major (q8: int8 values). */
  readonly data: Uint8Array;
  /** q8 only: one scale per Q8_BLOCK columns of a row (rows x cols / Q8_BLOCK); element = q * scale. */
  readonly scales?: Float32Array;
}

const ELEMENT_BYTES: Record<FloatDtype, number> = { f32: 4, f16: 2, bf16: 2, q8: 1 };

export function floatMatrix(dtype: FloatDtype, rows: number, cols: number, data: Uint8Array, scales?: Float32Array): FloatMatrix {
  if (data.length !== rows * cols * ELEMENT_BYTES[dtype]) throw new RangeError(`float matrix ${rows}x${cols} ${dtype}: ${data.length} bytes, expected ${rows * cols * ELEMENT_BYTES[dtype]}`);
  if (data.byteOffset % ELEMENT_BYTES[dtype]) throw new RangeError(`float matrix ${rows}x${cols} ${dtype}: data not aligned`);
  if (dtype === 'q8' && (cols % Q8_BLOCK || scales?.length !== (rows * cols) / Q8_BLOCK)) throw new RangeError(`q8 matrix ${rows}x${cols}: needs cols a multiple of ${Q8_BLOCK} and ${(rows * cols) / Q8_BLOCK} scales`);
  return { rows, cols, dtype, data, scales };
}

export function f32Matrix(rows: number, cols: number, values: Float32Array): FloatMatrix {
  return floatMatrix('f32', rows, cols, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
}

/** Row r as float32 (exact for f32/f16/bf16) into out[o..o+cols). */
export function readRow(m: FloatMatrix, r: number, out: Float32Array, o = 0): Float32Array {
  const n = m.cols;
  const base = r * n;
  const d = m.data;
  switch (m.dtype) {
    case 'f32':
      out.set(new Float32Array(d.buffer, d.byteOffset + base * 4, n), o);
      break;
    case 'bf16': {
      const src = new Uint16Array(d.buffer, d.byteOffset + base * 2, n);
      const o32 = new Uint32Array(out.buffer, out.byteOffset + o * 4, n);
      for (let i = 0; i < n; i++) o32[i] = src[i]! << 16;
      break;
    }
    case 'f16': {
      const src = new Uint16Array(d.buffer, d.byteOffset + base * 2, n);
      for (let i = 0; i < n; i++) out[o + i] = F16_TABLE[src[i]!]!;
      break;
    }
    case 'q8': {
      const q = new Int8Array(d.buffer, d.byteOffset + base, n);
      const s = m.scales!;
      const so = base / Q8_BLOCK;
      for (let i = 0; i < n; i++) out[o + i] = Math.fround(q[i]! * s[so + ((i / Q8_BLOCK) | 0)]!);
      break;
    }
  }
  return out;
}


/**
 * out[m * rows + r] = row r . x[m * cols ..] for M vectors x (the output head), in float64
 * (the JavaScript path; host/native has the SIMD one).
 */
export function matVecJs(W: FloatMatrix, x: Float32Array, M: number, out: Float32Array): Float32Array {
  const n = W.cols;
  const row = new Float32Array(n);
  for (let r = 0; r < W.rows; r++) {
    readRow(W, r, row);
    for (let m = 0; m < M; m++) {
      const xo = m * n;
      let s0 = 0;
      let s1 = 0;
      let i = 0;
      for (; i + 1 < n; i += 2) {
        s0 += row[i]! * x[xo + i]!;
        s1 += row[i + 1]! * x[xo + i + 1]!;
      }
      if (i < n) s0 += row[i]! * x[xo + i]!;
      out[m * W.rows + r] = s0 + s1;
    }
  }
  return out;
}

/**
 * The 8-bit form (`--head-bits 8`): per block of 32 columns, scale = absmax / 127 and
 * q = round_half_even(x / scale), as llama.cpp's Q8_0 (with a float32 scale instead of f16).
 */
export function toQ8Js(W: FloatMatrix): FloatMatrix {
  if (W.cols % Q8_BLOCK) throw new RangeError(`an 8-bit head needs the hidden size to be a multiple of ${Q8_BLOCK}, got ${W.cols}`);
  const q = new Int8Array(W.rows * W.cols);
  const scales = new Float32Array((W.rows * W.cols) / Q8_BLOCK);
  const row = new Float32Array(W.cols);
  for (let r = 0; r < W.rows; r++) {
    readRow(W, r, row);
    for (let b = 0; b < W.cols; b += Q8_BLOCK) {
      let amax = 0;
      for (let i = 0; i < Q8_BLOCK; i++) amax = Math.max(amax, Math.abs(row[b + i]!));
      const s = Math.fround(amax / 127);
      scales[(r * W.cols + b) / Q8_BLOCK] = s;
      if (s === 0) continue;
      for (let i = 0; i < Q8_BLOCK; i++) q[r * W.cols + b + i] = Math.max(-127, Math.min(127, roundHalfEven(Math.fround(row[b + i]! / s))));
    }
  }
  return floatMatrix('q8', W.rows, W.cols, new Uint8Array(q.buffer), scales);
}
