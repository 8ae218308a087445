// Weight quantizers and decoders of the ternary layouts found in checkpoints. Each decoder
// checks sizes and codes and names the tensor when something is off; all produce the
// runtime's PackedTernary (host/model/ternary.ts).

import { CheckpointError } from './errors.ts';
import { f16ToF32, F16_TABLE } from './dtypes.ts';
import { emptyTernary, setTrit, type PackedTernary, type TensorScale } from './ternary.ts';
import { roundHalfEven } from '../infer/quant.ts';

interface Where {
  readonly file: string;
  readonly tensor: string;
}

const bad = (w: Where, msg: string): CheckpointError => new CheckpointError(w.file, `tensor '${w.tensor}': ${msg}`);

/**
 * Hugging Face packed 2-bit (microsoft/bitnet-b1.58-2B-4T): U8 [N/4, K], four trits per byte
 * along the output dimension; row i*(N/4) + r of the matrix is ((byte[r, c] >> 2i) & 3) - 1.
 */
export function decodeHfPacked(bytes: Uint8Array, shape: readonly number[], N: number, K: number, scale: TensorScale, w: Where, into?: Uint8Array): PackedTernary {
  checkHfPackedShape(shape, N, K, w);
  const q = N / 4;
  const out = emptyTernary(w.tensor, N, K, scale, into);
  const codes = out.codes;
  const stride = out.stride;
  const whole = K >> 2;
  for (let r = 0; r < q; r++) {
    const row = r * K;
    // Four columns at a time: the 2-bit fields of output row i*q + r sit at bits 2i of each byte.
    for (let j = 0; j < whole; j++) {
      const p = row + 4 * j;
      const u = bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16) | (bytes[p + 3]! << 24);
      if (u & (u >>> 1) & 0x55555555) throw codeThree(w, bytes, p, (i) => `byte [${r}, ${4 * j + i}]`);
      for (let i = 0; i < 4; i++) codes[(i * q + r) * stride + j] = gather4(u >>> (2 * i));
    }
    for (let c = 4 * whole; c < K; c++) {
      const b = bytes[row + c]!;
      for (let i = 0; i < 4; i++) {
        const code = (b >> (2 * i)) & 3;
        if (code === 3) throw bad(w, `byte [${r}, ${c}] holds code 3, which is not a trit (codes are 0, 1, 2 for -1, 0, +1)`);
        setTrit(out, i * q + r, c, code - 1);
      }
    }
  }
  return out;
}

/** The shape a packed 2-bit Hugging Face weight must have for an N x K ternary matrix. */
export function checkHfPackedShape(shape: readonly number[], N: number, K: number, w: Where): void {
  if (shape.length !== 2 || shape[0] !== N / 4 || shape[1] !== K || N % 4) throw bad(w, `packed shape [${shape.join(', ')}], expected [${N / 4}, ${K}] for a ${N}x${K} ternary matrix (four trits per byte along the output dimension)`);
}

/**
 * The 2-bit fields at bits 0-1 of each byte of u, packed into one byte (field of byte i at
 * bits 2i): how four trits spread over four bytes become one byte of the runtime's layout.
 */
function gather4(u: number): number {
  const v = u & 0x03030303;
  return (v | (v >>> 6) | (v >>> 12) | (v >>> 18)) & 0xff;
}

/** The error for a code 3 among the four bytes at p; `where(i)` names byte p + i. */
function codeThree(w: Where, bytes: Uint8Array, p: number, where: (i: number) => string): CheckpointError {
  let i = 0;
  while (i < 3 && !(bytes[p + i]! & (bytes[p + i]! >> 1) & 0x55)) i++;
  return bad(w, `${where(i)} holds code 3, which is not a trit (codes are 0, 1, 2 for -1, 0, +1)`);
}

/** absmean (BitNet b1.58): weight_scale = 1 / mean|W|, t = clamp(round(W * weight_scale), -1, 1), in float32. */
export function absmeanQuantize(name: string, W: Float32Array, N: number, K: number, into?: Uint8Array): PackedTernary {
  let sum = 0;
  for (let i = 0; i < W.length; i++) sum += Math.abs(W[i]!);
  const mean = Math.fround(Math.max(Math.fround(sum / W.length), 1e-5));
  const ws = Math.fround(1 / mean);
  const out = emptyTernary(name, N, K, { op: 'div', value: ws }, into);
  const codes = out.codes;
  for (let n = 0; n < N; n++) {
    const o = n * K;
    const ro = n * out.stride;
    // Four trits per output byte, the code c = t + 1 of each (padding past K stays code 1).
    for (let k = 0; k < K; k += 4) {
      let b = 0x55;
      for (let i = 0; i < 4 && k + i < K; i++) {
        const t = Math.max(-1, Math.min(1, roundHalfEven(Math.fround(W[o + k + i]! * ws))));
        b = (b & ~(3 << (2 * i))) | ((t + 1) << (2 * i));
      }
      codes[ro + (k >> 2)] = b;
    }
  }
  return out;
}

/** Trits and the f16 block scales d of a GGUF ternary tensor, before the scale is resolved. */
export interface TernaryBlocks {
  readonly codes: PackedTernary;
  /** d of each 256-weight block, row-major (N x K/256). */
  readonly d: Float32Array;
}

function checkBlocks(bytes: Uint8Array, N: number, K: number, blockBytes: number, format: string, w: Where): void {
  if (K % 256) throw bad(w, `${format} needs the input dimension to be a multiple of 256, got ${K}`);
  const want = (N * K * blockBytes) / 256;
  if (bytes.length !== want) throw bad(w, `${bytes.length} bytes, expected ${want} for ${format} [${K}, ${N}] (${blockBytes} bytes per 256 weights)`);
}

const f16At = (bytes: Uint8Array, o: number): number => F16_TABLE[bytes[o]! | (bytes[o + 1]! << 8)]!;

/**
 * llama.cpp TQ2_0: 66 bytes per 256 weights, qs[64] then fp16 d; element 128c + 32l + j in
 * bits 2l of qs[32c + j]. A block with d = 0 is all zeros whatever its codes say.
 */
export function tq2Blocks(bytes: Uint8Array, N: number, K: number, w: Where, into?: Uint8Array): TernaryBlocks {
  checkBlocks(bytes, N, K, 66, 'TQ2_0', w);
  const t = emptyTernary(w.tensor, N, K, { op: 'mul', value: 1 }, into);
  const codes = t.codes;
  const blocks = (N * K) / 256;
  const d = new Float32Array(blocks);
  // K is a multiple of 256, so block b of row n is block n*K/256 + b overall and its 64
  // output bytes follow each other: out byte 32c + 8l + jj holds elements 128c + 32l + 4jj + i.
  for (let blk = 0; blk < blocks; blk++) {
    const o = blk * 66;
    const dv = f16At(bytes, o + 64);
    d[blk] = dv;
    if (dv === 0) continue;
    const base = blk * 64;
    for (let c = 0; c < 2; c++) {
      for (let jj = 0; jj < 8; jj++) {
        const p = o + 32 * c + 4 * jj;
        const u = bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16) | (bytes[p + 3]! << 24);
        if (u & (u >>> 1) & 0x55555555) throw codeThree(w, bytes, p, (i) => `block ${blk} byte ${p + i - o} (qs)`);
        const ob = base + 32 * c + jj;
        codes[ob] = gather4(u);
        codes[ob + 8] = gather4(u >>> 2);
        codes[ob + 16] = gather4(u >>> 4);
        codes[ob + 24] = gather4(u >>> 6);
      }
    }
  }
  return { codes: t, d };
}

/** digit k (0..4) of a TQ1_0 byte, as a code 0..2: ((byte * 3^k) mod 256) * 3 >> 8. */
const TQ1_DIGITS = (() => {
  const t = new Uint8Array(256 * 5);
  for (let b = 0; b < 256; b++) for (let k = 0, p = 1; k < 5; k++, p *= 3) t[b * 5 + k] = (((b * p) & 255) * 3) >> 8;
  return t;
})();

/** llama.cpp TQ1_0: 54 bytes per 256 weights, qs[48], qh[4], fp16 d; five base-3 digits per byte, scaled to fill it. */
export function tq1Blocks(bytes: Uint8Array, N: number, K: number, w: Where, into?: Uint8Array): TernaryBlocks {
  checkBlocks(bytes, N, K, 54, 'TQ1_0', w);
  const t = emptyTernary(w.tensor, N, K, { op: 'mul', value: 1 }, into);
  const codes = t.codes;
  const blocks = (N * K) / 256;
  const d = new Float32Array(blocks);
  const e = new Uint8Array(256);
  const D = TQ1_DIGITS;
  for (let blk = 0; blk < blocks; blk++) {
    const o = blk * 54;
    const dv = f16At(bytes, o + 52);
    d[blk] = dv;
    if (dv === 0) continue;
    for (let j = 0; j < 32; j++) for (let k = 0, b = bytes[o + j]! * 5; k < 5; k++) e[32 * k + j] = D[b + k]!;
    for (let j = 0; j < 16; j++) for (let k = 0, b = bytes[o + 32 + j]! * 5; k < 5; k++) e[160 + 16 * k + j] = D[b + k]!;
    for (let j = 0; j < 4; j++) for (let k = 0, b = bytes[o + 48 + j]! * 5; k < 4; k++) e[240 + 4 * k + j] = D[b + k]!;
    const base = blk * 64;
    for (let i = 0; i < 64; i++) codes[base + i] = e[4 * i]! | (e[4 * i + 1]! << 2) | (e[4 * i + 2]! << 4) | (e[4 * i + 3]! << 6);
  }
  return { codes: t, d };
}

/**
 * The scale of a block-quantized ternary tensor, as llama.cpp applies it: weight = t * d * scale,
 * where `scale` is the `<name>.scale` tensor if the file has one. llama.cpp's converter folds the
 * tensor scale into every block's d (all-zero blocks get d = 0, which says nothing about the
 * scale); files with a separate scale have d = 1. One value is the tensor's scale; blocks that
 * disagree give per-block scales (exact on the cpu backend; a board applies one scale and
 * refuses such a tensor).
 */
export function resolveBlockScale(b: TernaryBlocks, fileScale: number | undefined, w: Where): PackedTernary {
  let d0 = 0;
  let uniform = true;
  for (let i = 0; i < b.d.length; i++) {
    const v = b.d[i]!;
    if (!(v >= 0) || !Number.isFinite(v)) throw bad(w, `block ${i} has scale d = ${v}; a block scale must be finite and not negative`);
    if (v === 0) continue;
    if (d0 === 0) d0 = v;
    else if (v !== d0) uniform = false;
  }
  const times = (v: number): number => (fileScale === undefined ? v : v === 1 ? fileScale : Math.fround(v * fileScale));
  if (uniform) return { ...b.codes, scale: { op: 'mul', value: d0 === 0 ? (fileScale ?? 1) : times(d0) } };
  const values = new Float32Array(b.d.length);
  for (let i = 0; i < values.length; i++) values[i] = times(b.d[i]!);
  return { ...b.codes, scale: { op: 'mul', value: 1 }, blockScales: { size: 256, values } };
}

export function decodeTQ2_0(bytes: Uint8Array, N: number, K: number, scale: number | undefined, w: Where, into?: Uint8Array): PackedTernary {
  return resolveBlockScale(tq2Blocks(bytes, N, K, w, into), scale, w);
}

export function decodeTQ1_0(bytes: Uint8Array, N: number, K: number, scale: number | undefined, w: Where, into?: Uint8Array): PackedTernary {
  return resolveBlockScale(tq1Blocks(bytes, N, K, w, into), scale, w);
}

/**
 * bitnet.cpp I2_S (x86 layout): flat index over [N, K] in blocks of 128 elements in 32 bytes;
 * element j of a block sits in bits 6 - 2*(j / 32) of byte j % 32; codes 0, 1, 2 = -1, 0, +1;
 * then a 32-byte tail whose first 4 bytes are the tensor scale (f32).
 */
export function decodeI2S(bytes: Uint8Array, N: number, K: number, w: Where, into?: Uint8Array): PackedTernary {
  const packed = (N * K) / 4;
  if ((N * K) % 128) throw bad(w, `I2_S needs N*K to be a multiple of 128, got ${N}x${K}`);
  if (bytes.length !== packed + 32) throw bad(w, `${bytes.length} bytes, expected ${packed + 32} for I2_S [${K}, ${N}] (2 bits per weight plus a 32-byte scale tail)`);
  const scale = new DataView(bytes.buffer, bytes.byteOffset + packed, 4).getFloat32(0, true);
  // bitnet.cpp writes the tensor's max |w| there: zero, negative or not finite is not a scale.
  if (!(scale > 0) || !Number.isFinite(scale)) throw bad(w, `the scale in the I2_S tail is ${scale}; it must be positive and finite`);
  const out = emptyTernary(w.tensor, N, K, { op: 'mul', value: scale }, into);
  if (K % 4 === 0) {
    // Rows are whole bytes, so output byte i holds flat elements 4i..4i+3: in block b, group g,
    // those are bytes 32b + 4jj + (0..3) at bits 6 - 2g.
    const codes = out.codes;
    for (let blk = 0; blk < packed / 32; blk++) {
      for (let jj = 0; jj < 8; jj++) {
        const p = 32 * blk + 4 * jj;
        const u = bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16) | (bytes[p + 3]! << 24);
        if (u & (u >>> 1) & 0x55555555) throw codeThree(w, bytes, p, (i) => `block ${blk} byte ${4 * jj + i}`);
        for (let g = 0; g < 4; g++) codes[32 * blk + 8 * g + jj] = gather4(u >>> (6 - 2 * g));
      }
    }
    return out;
  }
  for (let i = 0; i < N * K; i++) {
    const blk = i >> 7;
    const j = i & 127;
    const code = (bytes[32 * blk + (j & 31)]! >> (6 - 2 * (j >> 5))) & 3;
    if (code === 3) throw bad(w, `element ${i} has code 3, which is not a trit`);
    setTrit(out, Math.floor(i / K), i % K, code - 1);
  }
  return out;
}

/**
 * A ternary tensor stored as floats (F32, F16 or BF16, `bits` per element): values -m, 0, +m
 * for one magnitude m. llama.cpp's converter writes such tensors when a projection's input
 * size is not a multiple of 256 (F16 values ±scale, no scale tensor), or F32 trits with a
 * separate `<name>.scale`. The effective scale is m times that tensor. Anything else (two
 * magnitudes, NaN) is not ternary and is refused by name: it would silently be another model.
 */
export function ternaryFromFloatBits(raw: Uint8Array, bits: 16 | 32, kind: 'F32' | 'F16' | 'BF16', N: number, K: number, fileScale: number | undefined, w: Where, into?: Uint8Array): PackedTernary {
  const n = N * K;
  if (raw.length !== (n * bits) / 8) throw bad(w, `${raw.length} bytes, expected ${(n * bits) / 8} for ${kind} [${K}, ${N}]`);
  const v = bits === 16 ? new Uint16Array(raw.buffer, raw.byteOffset, n) : new Uint32Array(raw.buffer, raw.byteOffset, n);
  const magMask = bits === 16 ? 0x7fff : 0x7fffffff;
  const sign = bits === 16 ? 0x8000 : 0x80000000;
  const toF32 = (b: number): number => (kind === 'F32' ? new Float32Array(new Uint32Array([b]).buffer)[0]! : kind === 'BF16' ? new Float32Array(new Uint32Array([b << 16]).buffer)[0]! : f16ToF32(b));
  const out = emptyTernary(w.tensor, N, K, { op: 'mul', value: 1 }, into);
  const codes = out.codes;
  const stride = out.stride;
  let m = 0;
  for (let r = 0; r < N; r++) {
    const o = r * K;
    for (let c = 0; c < K; c++) {
      const b = v[o + c]!;
      const mag = b & magMask;
      if (mag === 0) continue;
      if (m === 0) {
        m = mag;
        const f = toF32(m);
        if (!Number.isFinite(f)) throw bad(w, `value ${toF32(b)} at [${r}, ${c}] is not finite`);
      } else if (mag !== m) throw bad(w, `${kind} values are not ternary up to one scale: ${toF32(b)} at [${r}, ${c}] next to magnitude ${toF32(m)} (a BitLinear weight must be -s, 0 or +s)`);
      const i = r * stride + (c >> 2);
      const sh = (c & 3) * 2;
      codes[i] = (codes[i]! & ~(3 << sh)) | ((b & sign ? 0 : 2) << sh);
    }
  }
  const mf = m === 0 ? 1 : toF32(m);
  const value = fileScale === undefined ? mf : mf === 1 ? fileScale : Math.fround(mf * fileScale);
  return { ...out, scale: { op: 'mul', value } };
}
