// Ternary weight matrices as the runtime keeps them: N rows (output units) of K trits,
// packed four to a byte along K with code c = w + 1 in bits 2i..2i+1 (the code TQ2_0 and
// the core's weight memory use), each row padded to whole bytes with code 1 (zero).
// One scale per tensor; how the integer result is rescaled is part of the weight, since
// checkpoints disagree (Hugging Face divides by weight_scale, GGUF multiplies by 1/that).

import type { IntMatrix } from '../../common/reference.ts';

export interface TensorScale {
  /** 'div': y = acc / (act_scale * value) (HF bitlinear); 'mul': y = acc / act_scale * value (GGUF, autobitlinear). */
  readonly op: 'div' | 'mul';
  readonly value: number;
}

export interface PackedTernary {
  readonly name: string;
  /** N: output units. */
  readonly rows: number;
  /** K: inputs. */
  readonly cols: number;
  /** Bytes per row: ceil(K / 4). */
  readonly stride: number;
  readonly codes: Uint8Array;
  readonly scale: TensorScale;
  /**
   * Per-block scales (GGUF blocks whose d differ): weight[n][k] = trit * values[n * ceil(K / size)
   * + floor(k / size)], `scale` is then { mul, 1 }. Only the host computes such a tensor
   * (exactly, block by block); a board applies one scale per tensor and refuses it.
   */
  readonly blockScales?: { readonly size: number; readonly values: Float32Array };
}

/** An all-zero matrix; `into` (rows * ceil(cols / 4) bytes) is the storage to use, e.g. a part of a fused matrix. */
export function emptyTernary(name: string, rows: number, cols: number, scale: TensorScale, into?: Uint8Array): PackedTernary {
  const stride = Math.ceil(cols / 4);
  if (into && into.length !== rows * stride) throw new RangeError(`${name}: storage of ${into.length} bytes for ${rows} rows of ${stride}`);
  return { name, rows, cols, stride, codes: (into ?? new Uint8Array(rows * stride)).fill(0x55), scale };
}

/** Set trit (n, k); t in {-1, 0, 1}. */
export function setTrit(w: PackedTernary, n: number, k: number, t: number): void {
  const i = n * w.stride + (k >> 2);
  const sh = (k & 3) * 2;
  w.codes[i] = (w.codes[i]! & ~(3 << sh)) | ((t + 1) << sh);
}

export function getTrit(w: PackedTernary, n: number, k: number): number {
  return ((w.codes[n * w.stride + (k >> 2)]! >> ((k & 3) * 2)) & 3) - 1;
}

/** Dense int8 form (N x K, -1/0/1) for the board's tile packer and the integer reference. */
export function unpackTernary(w: PackedTernary): IntMatrix {
  const out = new Int8Array(w.rows * w.cols);
  for (let n = 0; n < w.rows; n++) for (let k = 0; k < w.cols; k++) out[n * w.cols + k] = getTrit(w, n, k);
  return { rows: w.rows, cols: w.cols, data: out };
}

/** Pack a dense ternary matrix; names the first value that is not -1, 0 or 1. */
export function packTernary(name: string, m: IntMatrix, scale: TensorScale): PackedTernary {
  const w = emptyTernary(name, m.rows, m.cols, scale);
  for (let n = 0; n < m.rows; n++) {
    for (let k = 0; k < m.cols; k++) {
      const t = m.data[n * m.cols + k]!;
      if (t !== -1 && t !== 0 && t !== 1) throw new RangeError(`${name}: value ${t} at [${n}, ${k}] is not ternary`);
      setTrit(w, n, k, t);
    }
  }
  return w;
}

/** A stable digest of the trits and scale (for "does the board already hold these weights"). */
export function ternaryDigest(w: PackedTernary, h: { update(d: Uint8Array | string): unknown }): void {
  h.update(`${w.name}:${w.rows}x${w.cols}:${w.scale.op}:${w.scale.value};`);
  h.update(w.codes);
  if (w.blockScales) h.update(new Uint8Array(w.blockScales.values.buffer, w.blockScales.values.byteOffset, w.blockScales.values.byteLength));
}
