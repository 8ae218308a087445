// GGUF v3 writer: metadata of every GGUF value type, tensors F32, F16, BF16, TQ2_0 and
// TQ1_0 (encoded from the runtime's PackedTernary), alignment 32 by default. The header is
// laid out from the tensor specs (names, shapes, types: sizes follow), then each tensor's
// data is produced and written in file order with fs.writeSync, so a file of gigabytes is
// never held in one buffer: a tensor's producer may even yield its bytes in pieces.
//
// The layout is the one llama.cpp's gguf-py writes (host/model/gguf.ts reads it): header,
// key/values in the order given, tensor infos in the order given, zero padding to the
// alignment, then each tensor's data padded with zeros to the alignment (the last one too).
//
// Ternary tensors come in two layouts (../shared/fixtures/tiny-bitnet-c/README.md):
// - 'folded' (llama.cpp's convert_hf_to_gguf.py): the tensor scale is every block's f16 d
//   (an all-zero block has d = 0), no `.scale` tensor; the effective scale is f16(scale);
// - 'scale-tensor' (the fixture's model-tq2_0.gguf): blocks hold the bare trits with d = 1
//   (0 for an all-zero block, as gguf-py's quantizer writes it), followed by an F32 [1]
//   `<name>.scale` tensor holding the scale; the effective scale is exactly the f32 scale.
// `<name>` is the tensor name without its `.weight` suffix (blk.0.attn_q.weight gets
// blk.0.attn_q.scale), as llama.cpp's bitnet graph looks it up.

import * as fs from 'node:fs';
import { GGML_TYPE, ggmlTypeName } from './gguf.ts';
import type { PackedTernary } from './ternary.ts';

// ---- metadata ----

export const GGUF_VALUE_TYPE = { UINT8: 0, INT8: 1, UINT16: 2, INT16: 3, UINT32: 4, INT32: 5, FLOAT32: 6, BOOL: 7, STRING: 8, ARRAY: 9, UINT64: 10, INT64: 11, FLOAT64: 12 } as const;
export type GgufScalarType = Exclude<keyof typeof GGUF_VALUE_TYPE, 'ARRAY'>;
/** A value's GGUF type: a scalar type, or an array of some (possibly array) type. */
export type GgufType = GgufScalarType | { readonly array: GgufType };
export type GgufWriteValue = number | bigint | boolean | string | readonly GgufWriteValue[];

export interface GgufMetaEntry {
  readonly key: string;
  readonly type: GgufType;
  readonly value: GgufWriteValue;
}

/** Metadata in insertion order (the order of the file); setting a key again replaces it in place. */
export class GgufMetadata {
  private readonly map = new Map<string, GgufMetaEntry>();
  get entries(): GgufMetaEntry[] {
    return [...this.map.values()];
  }
  has(key: string): boolean {
    return this.map.has(key);
  }
  get(key: string): GgufMetaEntry | undefined {
    return this.map.get(key);
  }
  set(key: string, type: GgufType, value: GgufWriteValue): this {
    checkValue(type, value, `metadata '${key}'`);
    this.map.set(key, { key, type, value });
    return this;
  }
  u8 = (k: string, v: number): this => this.set(k, 'UINT8', v);
  i8 = (k: string, v: number): this => this.set(k, 'INT8', v);
  u16 = (k: string, v: number): this => this.set(k, 'UINT16', v);
  i16 = (k: string, v: number): this => this.set(k, 'INT16', v);
  u32 = (k: string, v: number): this => this.set(k, 'UINT32', v);
  i32 = (k: string, v: number): this => this.set(k, 'INT32', v);
  f32 = (k: string, v: number): this => this.set(k, 'FLOAT32', v);
  bool = (k: string, v: boolean): this => this.set(k, 'BOOL', v);
  str = (k: string, v: string): this => this.set(k, 'STRING', v);
  u64 = (k: string, v: number | bigint): this => this.set(k, 'UINT64', v);
  i64 = (k: string, v: number | bigint): this => this.set(k, 'INT64', v);
  f64 = (k: string, v: number): this => this.set(k, 'FLOAT64', v);
  array = (k: string, item: GgufType, v: readonly GgufWriteValue[]): this => this.set(k, { array: item }, v);
}

const INT_RANGE: Partial<Record<GgufScalarType, [number, number]>> = { UINT8: [0, 255], INT8: [-128, 127], UINT16: [0, 65535], INT16: [-32768, 32767], UINT32: [0, 2 ** 32 - 1], INT32: [-(2 ** 31), 2 ** 31 - 1] };

function checkValue(type: GgufType, v: GgufWriteValue, what: string): void {
  if (typeof type === 'object') {
    if (!Array.isArray(v)) throw new TypeError(`${what}: an array type needs an array value`);
    for (let i = 0; i < v.length; i++) checkValue(type.array, (v as GgufWriteValue[])[i]!, `${what}[${i}]`);
    return;
  }
  const range = INT_RANGE[type];
  if (range) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < range[0] || v > range[1]) throw new RangeError(`${what}: ${String(v)} is not a ${type}`);
  } else if (type === 'UINT64' || type === 'INT64') {
    const b = typeof v === 'bigint' ? v : typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : undefined;
    if (b === undefined || (type === 'UINT64' ? b < 0n || b >= 1n << 64n : b < -(1n << 63n) || b >= 1n << 63n)) throw new RangeError(`${what}: ${String(v)} is not a ${type}`);
  } else if (type === 'FLOAT32' || type === 'FLOAT64') {
    if (typeof v !== 'number') throw new TypeError(`${what}: ${String(v)} is not a number`);
  } else if (type === 'BOOL') {
    if (typeof v !== 'boolean') throw new TypeError(`${what}: ${String(v)} is not a boolean`);
  } else if (type === 'STRING') {
    if (typeof v !== 'string') throw new TypeError(`${what}: ${String(v)} is not a string`);
  } else throw new TypeError(`${what}: unknown GGUF type ${String(type)}`);
}

const UTF8 = new TextEncoder();

/** Growable little-endian byte buffer for the header. */
class Bytes {
  private buf = new Uint8Array(1 << 16);
  private dv = new DataView(this.buf.buffer);
  length = 0;
  private room(n: number): number {
    if (this.length + n > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < this.length + n) size *= 2;
      const nb = new Uint8Array(size);
      nb.set(this.buf.subarray(0, this.length));
      this.buf = nb;
      this.dv = new DataView(nb.buffer);
    }
    const o = this.length;
    this.length += n;
    return o;
  }
  u32(v: number): void {
    const o = this.room(4);
    this.dv.setUint32(o, v, true);
  }
  u64(v: number | bigint): void {
    const o = this.room(8);
    this.dv.setBigUint64(o, BigInt(v), true);
  }
  raw(b: Uint8Array): void {
    const o = this.room(b.length); // may replace this.buf
    this.buf.set(b, o);
  }
  str(s: string): void {
    const b = UTF8.encode(s);
    this.u64(b.length);
    this.raw(b);
  }
  typeId(t: GgufType): void {
    this.u32(typeof t === 'object' ? GGUF_VALUE_TYPE.ARRAY : GGUF_VALUE_TYPE[t]);
  }
  value(t: GgufType, v: GgufWriteValue): void {
    if (typeof t === 'object') {
      const a = v as readonly GgufWriteValue[];
      this.typeId(t.array);
      this.u64(a.length);
      for (const x of a) this.value(t.array, x);
      return;
    }
    const dv = (): DataView => this.dv;
    switch (t) {
      case 'UINT8': { const o = this.room(1); dv().setUint8(o, v as number); return; }
      case 'INT8': { const o = this.room(1); dv().setInt8(o, v as number); return; }
      case 'UINT16': { const o = this.room(2); dv().setUint16(o, v as number, true); return; }
      case 'INT16': { const o = this.room(2); dv().setInt16(o, v as number, true); return; }
      case 'UINT32': { const o = this.room(4); dv().setUint32(o, v as number, true); return; }
      case 'INT32': { const o = this.room(4); dv().setInt32(o, v as number, true); return; }
      case 'FLOAT32': { const o = this.room(4); dv().setFloat32(o, v as number, true); return; }
      case 'BOOL': { const o = this.room(1); dv().setUint8(o, v ? 1 : 0); return; }
      case 'STRING': this.str(v as string); return;
      case 'UINT64': { const o = this.room(8); dv().setBigUint64(o, BigInt(v as number | bigint), true); return; }
      case 'INT64': { const o = this.room(8); dv().setBigInt64(o, BigInt(v as number | bigint), true); return; }
      case 'FLOAT64': { const o = this.room(8); dv().setFloat64(o, v as number, true); return; }
    }
  }
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

// ---- tensors ----

/** Data of one tensor: all of it, or its pieces in order. Produced once, when the writer reaches it. */
export type TensorData = Uint8Array | Iterable<Uint8Array>;

export interface GgufTensorSpec {
  readonly name: string;
  /** GGUF order: ne[0] is the fastest-varying (input) dimension. */
  readonly ne: readonly number[];
  /** A GGML_TYPE (F32, F16, BF16, TQ1_0, TQ2_0). */
  readonly type: number;
  readonly data: () => TensorData;
}

/** Bytes of a tensor of a type this writer knows; throws for others or for partial blocks. */
export function ggmlTensorBytes(type: number, ne: readonly number[], name = 'tensor'): number {
  const n = ne.reduce((a, b) => a * b, 1);
  const blocks = (bytesPerBlock: number): number => {
    if (ne[0]! % 256) throw new RangeError(`${name}: ${ggmlTypeName(type)} needs ne[0] to be a multiple of 256, got ${ne[0]}`);
    return (n / 256) * bytesPerBlock;
  };
  switch (type) {
    case GGML_TYPE.F32: return 4 * n;
    case GGML_TYPE.F16:
    case GGML_TYPE.BF16: return 2 * n;
    case GGML_TYPE.TQ2_0: return blocks(66);
    case GGML_TYPE.TQ1_0: return blocks(54);
    default: throw new RangeError(`${name}: the writer has no size for type ${ggmlTypeName(type)}`);
  }
}

export interface GgufWriteOptions {
  readonly metadata: GgufMetadata;
  readonly tensors: readonly GgufTensorSpec[];
  /** Power of two; 32 by default. Anything else is also written as general.alignment (UINT32). */
  readonly alignment?: number;
  /** Called after each tensor is written (index, count, name), e.g. for progress logs. */
  readonly progress?: (done: number, total: number, name: string) => void;
}

export interface GgufWriteResult {
  readonly bytes: number;
  /** Absolute offset of the tensor data section. */
  readonly dataOffset: number;
  /** Absolute offset of each tensor's data. */
  readonly offsets: ReadonlyMap<string, number>;
}

const align = (n: number, a: number): number => Math.ceil(n / a) * a;

/** The header (everything before the tensor data) and the data offsets relative to its end. */
function header(o: GgufWriteOptions): { head: Uint8Array; sizes: number[]; rel: number[]; alignment: number } {
  const alignment = o.alignment ?? 32;
  if (!Number.isInteger(alignment) || alignment <= 0 || alignment & (alignment - 1)) throw new RangeError(`alignment ${alignment} is not a power of two`);
  const meta = o.metadata;
  const declared = meta.get('general.alignment');
  if (declared && declared.value !== alignment) throw new RangeError(`metadata 'general.alignment' is ${String(declared.value)} but the file is written with alignment ${alignment}`);
  const entries = meta.entries;
  if (alignment !== 32 && !declared) entries.push({ key: 'general.alignment', type: 'UINT32', value: alignment });
  const names = new Set<string>();
  const sizes: number[] = [];
  const rel: number[] = [];
  let off = 0;
  for (const t of o.tensors) {
    if (names.has(t.name)) throw new RangeError(`tensor '${t.name}' is given twice`);
    names.add(t.name);
    if (t.ne.length < 1 || t.ne.length > 4 || t.ne.some((d) => !Number.isInteger(d) || d < 1)) throw new RangeError(`tensor '${t.name}': ne [${t.ne.join(', ')}] must be 1 to 4 positive integers`);
    const size = ggmlTensorBytes(t.type, t.ne, `tensor '${t.name}'`);
    sizes.push(size);
    rel.push(off);
    off = align(off + size, alignment);
  }
  const b = new Bytes();
  b.u32(0x46554747); // "GGUF"
  b.u32(3);
  b.u64(o.tensors.length);
  b.u64(entries.length);
  for (const e of entries) {
    b.str(e.key);
    b.typeId(e.type);
    b.value(e.type, e.value);
  }
  o.tensors.forEach((t, i) => {
    b.str(t.name);
    b.u32(t.ne.length);
    for (const d of t.ne) b.u64(d);
    b.u32(t.type);
    b.u64(rel[i]!);
  });
  const head = new Uint8Array(align(b.length, alignment));
  head.set(b.bytes());
  return { head, sizes, rel, alignment };
}

function writeAll(fd: number, b: Uint8Array, pos: number): void {
  let done = 0;
  while (done < b.length) done += fs.writeSync(fd, b, done, b.length - done, pos + done);
}

/**
 * Write a GGUF v3 file. The header is built first (it only needs names, shapes and types);
 * then each tensor's producer is called in order and its bytes written straight to the file,
 * so peak memory is the largest tensor (or the largest piece a producer yields).
 */
export function writeGguf(file: string, o: GgufWriteOptions): GgufWriteResult {
  const { head, sizes, rel, alignment } = header(o);
  const fd = fs.openSync(file, 'w');
  const offsets = new Map<string, number>();
  try {
    writeAll(fd, head, 0);
    let pos = head.length;
    const zeros = new Uint8Array(alignment);
    o.tensors.forEach((t, i) => {
      const start = head.length + rel[i]!;
      if (pos !== start) writeAll(fd, zeros.subarray(0, start - pos), pos);
      pos = start;
      offsets.set(t.name, start);
      const data = t.data();
      let n = 0;
      for (const piece of data instanceof Uint8Array ? [data] : data) {
        if (n + piece.length > sizes[i]!) throw new RangeError(`tensor '${t.name}' (${ggmlTypeName(t.type)} [${t.ne.join(', ')}]): its data runs past the ${sizes[i]} bytes it takes`);
        writeAll(fd, piece, pos);
        pos += piece.length;
        n += piece.length;
      }
      if (n !== sizes[i]) throw new RangeError(`tensor '${t.name}' (${ggmlTypeName(t.type)} [${t.ne.join(', ')}]): ${n} bytes of data, expected ${sizes[i]}`);
      o.progress?.(i + 1, o.tensors.length, t.name);
    });
    const end = align(pos, alignment);
    if (end !== pos) writeAll(fd, zeros.subarray(0, end - pos), pos);
    fs.fsyncSync(fd);
    return { bytes: end, dataOffset: head.length, offsets };
  } finally {
    fs.closeSync(fd);
  }
}

// ---- float encodings ----

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** float32 bits to IEEE half bits, rounding to nearest even (as numpy's astype(float16) does), subnormals, inf and NaN included. */
export function f32BitsToF16(b: number): number {
  const s = (b >>> 16) & 0x8000;
  const e = (b >>> 23) & 0xff;
  const m = b & 0x7fffff;
  if (e === 0xff) return s | 0x7c00 | (m ? 0x200 | (m >>> 13) : 0);
  const he = e - 127 + 15;
  if (he >= 31) return s | 0x7c00;
  if (he <= 0) {
    if (he < -10) return s; // below half the smallest subnormal (2^-25): rounds to zero
    const mm = m | 0x800000; // implicit bit
    const shift = 14 - he; // 24-bit significand to a subnormal half mantissa
    const q = mm >>> shift;
    const rem = mm & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    return s | (rem > half || (rem === half && q & 1) ? q + 1 : q);
  }
  const q = (he << 10) | (m >>> 13);
  const rem = m & 0x1fff;
  // A carry out of the mantissa bumps the exponent, up to infinity: the right answer.
  return s | (rem > 0x1000 || (rem === 0x1000 && q & 1) ? q + 1 : q);
}

/** A number, rounded to float32 first, to IEEE half bits. */
export function f16Bits(x: number): number {
  F32[0] = x;
  return f32BitsToF16(U32[0]!);
}

/** float32 bits to bfloat16 bits, nearest even (NaN stays NaN). */
function f32BitsToBf16(b: number): number {
  if ((b & 0x7f800000) === 0x7f800000 && b & 0x7fffff) return (b >>> 16) | 0x40;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

function floatBytes(v: Float32Array, conv: (bits: number) => number): Uint8Array {
  const bits = new Uint32Array(v.buffer, v.byteOffset, v.length);
  const out = new Uint16Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = conv(bits[i]!);
  return new Uint8Array(out.buffer);
}

const asF32 = (v: Float32Array | readonly number[]): Float32Array => (v instanceof Float32Array ? v : Float32Array.from(v));
const bytesOf = (v: Float32Array): Uint8Array => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
type Lazy<T> = T | (() => T);
const force = <T>(x: Lazy<T>): T => (typeof x === 'function' ? (x as () => T)() : x);

/** F32 tensor from float values (or a producer of them). */
export function f32Tensor(name: string, ne: readonly number[], values: Lazy<Float32Array | readonly number[]>): GgufTensorSpec {
  return { name, ne, type: GGML_TYPE.F32, data: () => bytesOf(asF32(force(values))) };
}

/** F16 tensor from float values, nearest even. */
export function f16Tensor(name: string, ne: readonly number[], values: Lazy<Float32Array | readonly number[]>): GgufTensorSpec {
  return { name, ne, type: GGML_TYPE.F16, data: () => floatBytes(asF32(force(values)), f32BitsToF16) };
}

/** BF16 tensor from float values, nearest even. */
export function bf16Tensor(name: string, ne: readonly number[], values: Lazy<Float32Array | readonly number[]>): GgufTensorSpec {
  return { name, ne, type: GGML_TYPE.BF16, data: () => floatBytes(asF32(force(values)), f32BitsToBf16) };
}

// ---- ternary encodings ----

/** The multiplicative GGUF scale of a runtime tensor: y = acc * scale (a 'div' scale is inverted in float32). */
export function ggufScale(t: PackedTernary): number {
  return t.scale.op === 'mul' ? t.scale.value : Math.fround(1 / t.scale.value);
}

/**
 * Each block's f16 d: `d` for every block (or `d[block]`, row-major N x K/256), except that a
 * block whose trits are all zero gets d = 0, as llama.cpp's and gguf-py's quantizers write it.
 */
export type BlockD = number | Float32Array;

function checkTernary(t: PackedTernary, d: BlockD, format: string): number {
  if (t.cols % 256) throw new RangeError(`${t.name}: ${format} needs the input dimension to be a multiple of 256, got ${t.cols}`);
  if (t.stride !== t.cols / 4 || t.codes.length !== t.rows * t.stride) throw new RangeError(`${t.name}: packed codes of ${t.codes.length} bytes with stride ${t.stride} do not hold ${t.rows}x${t.cols} trits`);
  const blocks = (t.rows * t.cols) / 256;
  if (typeof d !== 'number' && d.length !== blocks) throw new RangeError(`${t.name}: ${d.length} block scales for ${blocks} blocks`);
  return blocks;
}

const dBits = (d: BlockD, blk: number): number => f16Bits(typeof d === 'number' ? d : d[blk]!);

/** The 2-bit fields at bits 0-1 of each byte of u, packed into one byte (the field of byte i at bits 2i). */
function gather4(u: number): number {
  const v = u & 0x03030303;
  return (v | (v >>> 6) | (v >>> 12) | (v >>> 18)) & 0xff;
}

/**
 * TQ2_0 (66 bytes per 256 weights: qs[64], f16 d): element 128c + 32l + j in bits 2l of
 * qs[32c + j], code = trit + 1. `out` may be given to encode into (its length must fit).
 */
export function encodeTQ2_0(t: PackedTernary, d: BlockD, out?: Uint8Array): Uint8Array {
  const blocks = checkTernary(t, d, 'TQ2_0');
  const res = out ?? new Uint8Array(blocks * 66);
  if (res.length !== blocks * 66) throw new RangeError(`${t.name}: output of ${res.length} bytes for ${blocks * 66}`);
  const P = t.codes;
  const uniformD = typeof d === 'number' ? dBits(d, 0) : -1;
  // K is a multiple of 256, so block blk's trits are packed bytes 64*blk .. 64*blk + 63 (rows
  // follow each other); element 128c + 32l + 4jj + i is bits 2i of packed byte 32c + 8l + jj.
  for (let blk = 0; blk < blocks; blk++) {
    const p = blk * 64;
    const o = blk * 66;
    let nonzero = 0;
    for (let c = 0; c < 2; c++) {
      for (let jj = 0; jj < 8; jj++) {
        const q = p + 32 * c + jj;
        const u = P[q]! | (P[q + 8]! << 8) | (P[q + 16]! << 16) | (P[q + 24]! << 24);
        if (u & (u >>> 1) & 0x55555555) throw new RangeError(`${t.name}: block ${blk} holds code 3, which is not a trit`);
        nonzero |= u ^ 0x55555555;
        const r = o + 32 * c + 4 * jj;
        res[r] = gather4(u);
        res[r + 1] = gather4(u >>> 2);
        res[r + 2] = gather4(u >>> 4);
        res[r + 3] = gather4(u >>> 6);
      }
    }
    const h = nonzero === 0 ? 0 : uniformD >= 0 ? uniformD : dBits(d, blk);
    res[o + 64] = h & 0xff;
    res[o + 65] = h >>> 8;
  }
  return res;
}

/**
 * TQ1_0 (54 bytes per 256 weights: qs[48], qh[4], f16 d): five base-3 codes per byte, most
 * significant first, v = 81u0 + 27u1 + 9u2 + 3u3 + u4 stored as ceil(v * 256 / 243);
 * qs[j] holds elements 32k + j, qs[32 + j] elements 160 + 16k + j, qh[j] elements 240 + 4k + j (four codes, u4 = 0).
 */
export function encodeTQ1_0(t: PackedTernary, d: BlockD, out?: Uint8Array): Uint8Array {
  const blocks = checkTernary(t, d, 'TQ1_0');
  const res = out ?? new Uint8Array(blocks * 54);
  if (res.length !== blocks * 54) throw new RangeError(`${t.name}: output of ${res.length} bytes for ${blocks * 54}`);
  const P = t.codes;
  const u = new Uint8Array(256);
  const put = (o: number, v: number): void => {
    res[o] = ((v * 256 + 242) / 243) | 0;
  };
  for (let blk = 0; blk < blocks; blk++) {
    const p = blk * 64;
    const o = blk * 54;
    let nonzero = false;
    for (let e = 0; e < 256; e++) {
      const c = (P[p + (e >> 2)]! >> ((e & 3) * 2)) & 3;
      if (c === 3) throw new RangeError(`${t.name}: block ${blk} element ${e} has code 3, which is not a trit`);
      if (c !== 1) nonzero = true;
      u[e] = c;
    }
    for (let j = 0; j < 32; j++) put(o + j, 81 * u[j]! + 27 * u[32 + j]! + 9 * u[64 + j]! + 3 * u[96 + j]! + u[128 + j]!);
    for (let j = 0; j < 16; j++) put(o + 32 + j, 81 * u[160 + j]! + 27 * u[176 + j]! + 9 * u[192 + j]! + 3 * u[208 + j]! + u[224 + j]!);
    for (let j = 0; j < 4; j++) put(o + 48 + j, 81 * u[240 + j]! + 27 * u[244 + j]! + 9 * u[248 + j]! + 3 * u[252 + j]!);
    const h = nonzero ? dBits(d, blk) : 0;
    res[o + 52] = h & 0xff;
    res[o + 53] = h >>> 8;
  }
  return res;
}

export type TernaryLayout = 'folded' | 'scale-tensor';

export interface TernaryTensorOptions {
  readonly type: 'TQ2_0' | 'TQ1_0';
  readonly layout: TernaryLayout;
  /** The multiplicative scale (y = acc * scale); default ggufScale(t). */
  readonly scale?: number;
  /** Needed when the tensor is given as a producer: N (outputs) and K (inputs). */
  readonly rows?: number;
  readonly cols?: number;
}

/** `blk.0.attn_q.weight` -> `blk.0.attn_q.scale`, as llama.cpp's bitnet graph names it. */
export const scaleTensorName = (weight: string): string => `${weight.replace(/\.weight$/, '')}.scale`;

/**
 * A ternary weight as GGUF tensors: the TQ tensor (ne [K, N]) and, in the 'scale-tensor'
 * layout, its F32 [1] scale right after it. `t` may be a producer, called when the writer
 * reaches the tensor (then give rows and cols), so a model need not be in memory at once.
 * A tensor with per-block scales (blockScales, from a folded file whose blocks disagree)
 * is written folded with those d; the 'scale-tensor' layout cannot hold it.
 */
export function ternaryTensors(name: string, t: Lazy<PackedTernary>, o: TernaryTensorOptions): GgufTensorSpec[] {
  const eager = typeof t === 'function' ? undefined : t;
  const N = eager?.rows ?? o.rows;
  const K = eager?.cols ?? o.cols;
  if (N === undefined || K === undefined) throw new RangeError(`${name}: a ternary tensor given as a producer needs rows and cols`);
  if (eager && ((o.rows !== undefined && o.rows !== N) || (o.cols !== undefined && o.cols !== K))) throw new RangeError(`${name}: rows/cols ${o.rows}x${o.cols} given for a ${N}x${K} tensor`);
  const type = o.type === 'TQ2_0' ? GGML_TYPE.TQ2_0 : GGML_TYPE.TQ1_0;
  let scale = o.scale;
  const weight: GgufTensorSpec = {
    name,
    ne: [K, N],
    type,
    data: () => {
      const w = force(t);
      if (w.rows !== N || w.cols !== K) throw new RangeError(`${name}: the producer gave ${w.rows}x${w.cols}, expected ${N}x${K}`);
      scale ??= ggufScale(w);
      if (!Number.isFinite(scale)) throw new RangeError(`${name}: scale ${scale} is not finite`);
      const blockScales = (w as { blockScales?: { size: number; values: Float32Array } }).blockScales;
      let d: BlockD = o.layout === 'folded' ? scale : 1;
      if (blockScales) {
        if (o.layout !== 'folded') throw new RangeError(`${name}: per-block scales cannot be written in the 'scale-tensor' layout (d = 1)`);
        if (blockScales.size !== 256) throw new RangeError(`${name}: per-block scales over ${blockScales.size} weights, TQ blocks are 256`);
        d = o.scale === undefined ? blockScales.values : Float32Array.from(blockScales.values, (v) => Math.fround(v * scale!));
      }
      return o.type === 'TQ2_0' ? encodeTQ2_0(w, d) : encodeTQ1_0(w, d);
    },
  };
  if (o.layout === 'folded') return [weight];
  return [weight, { name: scaleTensorName(name), ne: [1], type: GGML_TYPE.F32, data: () => bytesOf(Float32Array.of(scale!)) }];
}
