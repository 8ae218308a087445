// Weight quantizers and decoders of the ternary layouts found in checkpoints. Each decoder
// checks sizes and codes and names the tensor when something is off; all produce the
// runtime's PackedTernary (host/model/ternary.ts).

import { CheckpointError } from './errors.ts';
import { f16ToF32 } from './dtypes.ts';
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
export function decodeHfPacked(bytes: Uint8Array, shape: readonly number[], N: number, K: number, scale: TensorScale, w: Where): PackedTernary {
  if (shape.length !== 2 || shape[0] !== N / 4 || shape[1] !== K || N % 4) throw bad(w, `packed shape [${shape.join(', ')}], expected [${N / 4}, ${K}] for a ${N}x${K} ternary matrix (four trits per byte along the output dimension)`);
  const q = N / 4;
  const out = emptyTernary(w.tensor, N, K, scale);
  for (let r = 0; r < q; r++) {
    for (let c = 0; c < K; c++) {
      const b = bytes[r * K + c]!;
      for (let i = 0; i < 4; i++) {
        const code = (b >> (2 * i)) & 3;
        if (code === 3) throw bad(w, `byte [${r}, ${c}] holds code 3, which is not a trit (codes are 0, 1, 2 for -1, 0, +1)`);
        setTrit(out, i * q + r, c, code - 1);
      }
    }
  }
  return out;
}

/** absmean (BitNet b1.58): weight_scale = 1 / mean|W|, t = clamp(round(W * weight_scale), -1, 1), in float32. */
export function absmeanQuantize(name: string, W: Float32Array, N: number, K: number): PackedTernary {
  let sum = 0;
  for (let i = 0; i < W.length; i++) sum += Math.abs(W[i]!);
  const mean = Math.fround(Math.max(Math.fround(sum / W.length), 1e-5));
  const ws = Math.fround(1 / mean);
  const out = emptyTernary(name, N, K, { op: 'div', value: ws });
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const t = Math.max(-1, Math.min(1, roundHalfEven(Math.fround(W[n * K + k]! * ws))));
      setTrit(out, n, k, t);
    }
  }
  return out;
}

/**
 * The per-block scales d of a GGUF ternary tensor must agree (the core applies one scale per
 * tensor); blocks with d = 0 are all-zero blocks and are read as zeros.
 */
class BlockScale {
  value = 0;
  constructor(private readonly w: Where) {}
  take(d: number, block: number): boolean {
    if (d === 0) return false;
    if (this.value === 0) this.value = d;
    else if (d !== this.value) throw bad(this.w, `block ${block} has scale d = ${d} but earlier blocks have ${this.value}; per-block scales are not supported (the core applies one scale per tensor)`);
    return true;
  }
}

function checkBlocks(bytes: Uint8Array, N: number, K: number, blockBytes: number, format: string, w: Where): void {
  if (K % 256) throw bad(w, `${format} needs the input dimension to be a multiple of 256, got ${K}`);
  const want = (N * K * blockBytes) / 256;
  if (bytes.length !== want) throw bad(w, `${bytes.length} bytes, expected ${want} for ${format} [${K}, ${N}] (${blockBytes} bytes per 256 weights)`);
}

/** llama.cpp TQ2_0: 66 bytes per 256 weights, qs[64] then fp16 d; element 128c + 32l + j in bits 2l of qs[32c + j]. */
export function decodeTQ2_0(bytes: Uint8Array, N: number, K: number, scale: number, w: Where): PackedTernary {
  checkBlocks(bytes, N, K, 66, 'TQ2_0', w);
  const out = emptyTernary(w.tensor, N, K, { op: 'mul', value: scale });
  const d = new BlockScale(w);
  const bpr = K / 256;
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < bpr; b++) {
      const o = (n * bpr + b) * 66;
      const blk = n * bpr + b;
      if (!d.take(f16ToF32(bytes[o + 64]! | (bytes[o + 65]! << 8)), blk)) continue;
      for (let e = 0; e < 256; e++) {
        const c = e >> 7;
        const l = (e >> 5) & 3;
        const j = e & 31;
        const code = (bytes[o + 32 * c + j]! >> (2 * l)) & 3;
        if (code === 3) throw bad(w, `block ${blk} element ${e} has code 3, which is not a trit`);
        setTrit(out, n, 256 * b + e, code - 1);
      }
    }
  }
  return withBlockScale(out, d.value);
}

const POW3 = [1, 3, 9, 27, 81];

/** llama.cpp TQ1_0: 54 bytes per 256 weights, qs[48], qh[4], fp16 d; five base-3 digits per byte, scaled to fill it. */
export function decodeTQ1_0(bytes: Uint8Array, N: number, K: number, scale: number, w: Where): PackedTernary {
  checkBlocks(bytes, N, K, 54, 'TQ1_0', w);
  const out = emptyTernary(w.tensor, N, K, { op: 'mul', value: scale });
  const d = new BlockScale(w);
  const bpr = K / 256;
  const digit = (byte: number, k: number): number => (((byte * POW3[k]!) & 255) * 3) >> 8;
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < bpr; b++) {
      const o = (n * bpr + b) * 54;
      const blk = n * bpr + b;
      if (!d.take(f16ToF32(bytes[o + 52]! | (bytes[o + 53]! << 8)), blk)) continue;
      const put = (e: number, byte: number, k: number): void => setTrit(out, n, 256 * b + e, digit(byte, k) - 1);
      for (let j = 0; j < 32; j++) for (let k = 0; k < 5; k++) put(32 * k + j, bytes[o + j]!, k);
      for (let j = 0; j < 16; j++) for (let k = 0; k < 5; k++) put(160 + 16 * k + j, bytes[o + 32 + j]!, k);
      for (let j = 0; j < 4; j++) for (let k = 0; k < 4; k++) put(240 + 4 * k + j, bytes[o + 48 + j]!, k);
    }
  }
  return withBlockScale(out, d.value);
}

/**
 * bitnet.cpp I2_S (x86 layout): flat index over [N, K] in blocks of 128 elements in 32 bytes;
 * element j of a block sits in bits 6 - 2*(j / 32) of byte j % 32; codes 0, 1, 2 = -1, 0, +1;
 * then a 32-byte tail whose first 4 bytes are the tensor scale (f32).
 */
export function decodeI2S(bytes: Uint8Array, N: number, K: number, w: Where): PackedTernary {
  const packed = (N * K) / 4;
  if ((N * K) % 128) throw bad(w, `I2_S needs N*K to be a multiple of 128, got ${N}x${K}`);
  if (bytes.length !== packed + 32) throw bad(w, `${bytes.length} bytes, expected ${packed + 32} for I2_S [${K}, ${N}] (2 bits per weight plus a 32-byte scale tail)`);
  const scale = new DataView(bytes.buffer, bytes.byteOffset + packed, 4).getFloat32(0, true);
  if (!Number.isFinite(scale)) throw bad(w, `the scale in the I2_S tail is ${scale}`);
  const out = emptyTernary(w.tensor, N, K, { op: 'mul', value: scale });
  for (let i = 0; i < N * K; i++) {
    const blk = i >> 7;
    const j = i & 127;
    const code = (bytes[32 * blk + (j & 31)]! >> (6 - 2 * (j >> 5))) & 3;
    if (code === 3) throw bad(w, `element ${i} has code 3, which is not a trit`);
    setTrit(out, Math.floor(i / K), i % K, code - 1);
  }
  return out;
}

function withBlockScale(t: PackedTernary, d: number): PackedTernary {
  return d === 0 || d === 1 ? t : { ...t, scale: { op: 'mul', value: Math.fround(t.scale.value * d) } };
}
