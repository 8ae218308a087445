// GGUF (v2/v3) reader: header, metadata key/values, tensor infos, and views of tensor
// data. Every read is bounds-checked, so a truncated or corrupted file gives an error
// naming the file, the key or tensor, and the byte offset, never a RangeError from deep
// inside a DataView.

import { CheckpointError, quoted } from './errors.ts';
import { FileSource } from './file-source.ts';

export const GGML_TYPE = { F32: 0, F16: 1, Q8_0: 8, BF16: 30, TQ1_0: 34, TQ2_0: 35, I2_S: 36 } as const;
const TYPE_NAMES: Record<number, string> = { 0: 'F32', 1: 'F16', 2: 'Q4_0', 3: 'Q4_1', 6: 'Q5_0', 7: 'Q5_1', 8: 'Q8_0', 9: 'Q8_1', 10: 'Q2_K', 11: 'Q3_K', 12: 'Q4_K', 13: 'Q5_K', 14: 'Q6_K', 15: 'Q8_K', 24: 'I8', 25: 'I16', 26: 'I32', 27: 'I64', 28: 'F64', 30: 'BF16', 34: 'TQ1_0', 35: 'TQ2_0', 36: 'I2_S' };
export const ggmlTypeName = (t: number): string => TYPE_NAMES[t] ?? `type ${t}`;

export type GgufValue = number | bigint | boolean | string | GgufValue[];

export interface GgufTensorInfo {
  readonly name: string;
  /** GGUF order: ne[0] is the fastest-varying (input) dimension. */
  readonly ne: readonly number[];
  readonly type: number;
  /** Absolute byte offset in the file. */
  readonly offset: number;
  /** Bytes of data, or undefined for a type this reader cannot size (it cannot be read). */
  readonly size: number | undefined;
}

export interface GgufTensor extends GgufTensorInfo {
  readonly bytes: Uint8Array;
}

interface GgufHeader<T> {
  readonly file: string;
  readonly version: number;
  readonly metadata: Map<string, GgufValue>;
  readonly tensors: Map<string, T>;
  readonly alignment: number;
}

/** A GGUF file parsed from a buffer holding all of it (tests, small files). */
export type GgufFile = GgufHeader<GgufTensor>;

/** A GGUF file on disk: the header is parsed, each tensor is read when asked for. */
export interface GgufHandle extends GgufHeader<GgufTensorInfo> {
  /** The tensor's bytes, in a buffer of their own. */
  read(t: GgufTensorInfo): Uint8Array;
  /** The tensor's bytes without a copy where the file is mapped (read-only; see FileSource.view). */
  view(t: GgufTensorInfo, align?: number): Uint8Array;
  /** Done with view(t) of a tensor that is not kept. */
  release(t: GgufTensorInfo): void;
  close(): void;
}

/** Bytes a tensor of `type` with `n` elements takes, or undefined for types we cannot size. */
function tensorBytes(type: number, ne: readonly number[]): number | undefined {
  const n = ne.reduce((a, b) => a * b, 1);
  switch (type) {
    case 0:
      return 4 * n;
    case 1:
    case 30:
      return 2 * n;
    case 8:
      return (n / 32) * 34;
    case 34:
      return (n / 256) * 54;
    case 35:
      return (n / 256) * 66;
    case 36:
      return n / 4 + 32;
    default:
      return undefined;
  }
}

const MAX_ARRAY = 1 << 24;
/**
 * The GGUF specification limits a key to 65535 bytes (and a tensor name to 64; files with
 * longer names exist, so they get the key's limit). A string value is bounded by the JS string
 * limit's eighth: the longest real ones are chat templates of kilobytes.
 */
const MAX_NAME = 65535;
const MAX_STRING = 64 << 20;

/** The header runs past the prefix read so far: read more of the file and parse again. */
class NeedMore extends Error {}

class Reader {
  pos = 0;
  private readonly dv: DataView;
  constructor(
    readonly buf: Uint8Array,
    readonly file: string,
    /** Size of the whole file; buf may be only its first bytes. */
    readonly fileSize = buf.length,
  ) {
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  need(n: number, what: string): void {
    if (this.pos + n <= this.buf.length) return;
    if (this.pos + n <= this.fileSize) throw new NeedMore();
    throw new CheckpointError(this.file, `truncated: ${what} at byte ${this.pos} needs ${n} bytes, the file has ${this.fileSize}`);
  }
  u8(w: string): number {
    this.need(1, w);
    return this.dv.getUint8(this.pos++);
  }
  u32(w: string): number {
    this.need(4, w);
    const v = this.dv.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  u64(w: string): number {
    this.need(8, w);
    const v = this.dv.getBigUint64(this.pos, true);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new CheckpointError(this.file, `${w} at byte ${this.pos - 8} is ${v}, which is not a plausible size`);
    return Number(v);
  }
  str(w: string, max = MAX_STRING): string {
    const n = this.u64(`${w} (length)`);
    if (n > max) throw new CheckpointError(this.file, `${w}: a string of ${n} bytes at byte ${this.pos - 8}; at most ${max} are allowed (a corrupted length?)`);
    this.need(n, w);
    const s = new TextDecoder().decode(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s;
  }
  value(type: number, w: string, depth = 0): GgufValue {
    const dv = this.dv;
    const fixed = (n: number, get: (o: number) => GgufValue): GgufValue => {
      this.need(n, w);
      const v = get(this.pos);
      this.pos += n;
      return v;
    };
    switch (type) {
      case 0: return fixed(1, (o) => dv.getUint8(o));
      case 1: return fixed(1, (o) => dv.getInt8(o));
      case 2: return fixed(2, (o) => dv.getUint16(o, true));
      case 3: return fixed(2, (o) => dv.getInt16(o, true));
      case 4: return fixed(4, (o) => dv.getUint32(o, true));
      case 5: return fixed(4, (o) => dv.getInt32(o, true));
      case 6: return fixed(4, (o) => dv.getFloat32(o, true));
      case 7: return fixed(1, (o) => dv.getUint8(o) !== 0);
      case 8: return this.str(w);
      case 9: {
        if (depth > 4) throw new CheckpointError(this.file, `${w}: arrays nested too deeply`);
        const et = this.u32(`${w} (array type)`);
        const n = this.u64(`${w} (array length)`);
        // Every element takes at least one byte of what is left of the file.
        if (n > this.fileSize - this.pos) throw new CheckpointError(this.file, `${w}: array of ${n} elements cannot fit in the ${this.fileSize - this.pos} bytes left of the file`);
        // Vocabularies are the largest arrays (Llama 3: 128,256 tokens, 280,147 merges); one of
        // tens of millions of elements would be a corrupt length, and would fill the JS heap.
        if (n > MAX_ARRAY) throw new CheckpointError(this.file, `${w}: array of ${n} elements; at most ${MAX_ARRAY} are read`);
        const out: GgufValue[] = [];
        for (let i = 0; i < n; i++) out.push(this.value(et, w, depth + 1));
        return out;
      }
      case 10: return fixed(8, (o) => dv.getBigUint64(o, true));
      case 11: return fixed(8, (o) => dv.getBigInt64(o, true));
      case 12: return fixed(8, (o) => dv.getFloat64(o, true));
      default:
        throw new CheckpointError(this.file, `${w}: unknown metadata value type ${type} at byte ${this.pos - 4}`);
    }
  }
}

function parseHeader(buf: Uint8Array, file: string, fileSize: number): GgufHeader<GgufTensorInfo> {
  const r = new Reader(buf, file, fileSize);
  const magic = r.u32('magic');
  if (magic !== 0x46554747) throw new CheckpointError(file, `not a GGUF file (magic 0x${magic.toString(16)}, expected "GGUF")`);
  const version = r.u32('version');
  if (version !== 2 && version !== 3) throw new CheckpointError(file, `GGUF version ${version}; versions 2 and 3 are supported`);
  const nTensors = r.u64('tensor count');
  const nKv = r.u64('metadata count');
  if (nTensors > 1e6 || nKv > 1e6) throw new CheckpointError(file, `implausible header: ${nTensors} tensors, ${nKv} metadata keys`);
  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < nKv; i++) {
    const at = r.pos;
    const key = r.str(`metadata key ${i}`, MAX_NAME);
    // Keys are unique (llama.cpp refuses a repeated one): which of two block_counts is meant?
    if (metadata.has(key)) throw new CheckpointError(file, `metadata key ${quoted(key)} appears twice (again as key ${i}, at byte ${at})`);
    const type = r.u32(`metadata ${quoted(key)} type`);
    metadata.set(key, r.value(type, `metadata ${quoted(key)}`));
  }
  const alignment = Number(metadata.get('general.alignment') ?? 32);
  if (!Number.isInteger(alignment) || alignment <= 0 || alignment & (alignment - 1)) throw new CheckpointError(file, `metadata 'general.alignment' is ${alignment}, expected a power of two`);
  const infos: { name: string; ne: number[]; type: number; rel: number }[] = [];
  for (let i = 0; i < nTensors; i++) {
    const name = r.str(`tensor info ${i} name`, MAX_NAME);
    const q = quoted(name);
    const nd = r.u32(`tensor ${q} dimension count`);
    if (nd < 1 || nd > 4) throw new CheckpointError(file, `tensor ${q}: ${nd} dimensions, expected 1 to 4`);
    const ne: number[] = [];
    for (let d = 0; d < nd; d++) ne.push(r.u64(`tensor ${q} ne[${d}]`));
    const type = r.u32(`tensor ${q} type`);
    infos.push({ name, ne, type, rel: r.u64(`tensor ${q} offset`) });
  }
  const dataStart = Math.ceil(r.pos / alignment) * alignment;
  const tensors = new Map<string, GgufTensorInfo>();
  for (const t of infos) {
    const q = quoted(t.name);
    if (t.rel % alignment) throw new CheckpointError(file, `tensor ${q}: offset ${t.rel} is not a multiple of the alignment ${alignment}`);
    if (tensors.has(t.name)) throw new CheckpointError(file, `tensor ${q} is listed twice`);
    const size = tensorBytes(t.type, t.ne);
    const offset = dataStart + t.rel;
    if (size !== undefined) {
      if (!Number.isInteger(size)) throw new CheckpointError(file, `tensor ${q}: ${ggmlTypeName(t.type)} with ne [${t.ne.join(', ')}] is not a whole number of blocks`);
      if (offset + size > fileSize) throw new CheckpointError(file, `tensor ${q} (${ggmlTypeName(t.type)} [${t.ne.join(', ')}]) ends at byte ${offset + size}, past the end of the file (${fileSize} bytes); the file is truncated`);
    }
    tensors.set(t.name, { name: t.name, ne: t.ne, type: t.type, offset, size });
  }
  return { file, version, metadata, tensors, alignment };
}

/** Parse a GGUF file held whole in `buf`. */
export function parseGguf(buf: Uint8Array, file: string): GgufFile {
  const h = parseHeader(buf, file, buf.length);
  const tensors = new Map<string, GgufTensor>();
  for (const [n, t] of h.tensors) tensors.set(n, { ...t, bytes: buf.subarray(t.offset, t.offset + (t.size ?? 0)) });
  return { ...h, tensors };
}

/**
 * Open a GGUF file on disk: parse its header from the front of the file (reading more while
 * the metadata runs on: a vocabulary can take megabytes) and read tensors only when asked.
 */
export function openGguf(file: string): GgufHandle {
  const src = new FileSource(file);
  try {
    let n = Math.min(src.size, 1 << 22);
    for (;;) {
      try {
        // A view: where the file is mapped, the header is parsed where it lies (no copy of a
        // prefix that may grow to the whole file when a corrupted length says so).
        const h = parseHeader(src.view(0, n, 'header'), file, src.size);
        const sized = (t: GgufTensorInfo): number => {
          if (t.size === undefined) throw new CheckpointError(file, `tensor ${quoted(t.name)}: type ${ggmlTypeName(t.type)} cannot be read by this runtime`);
          return t.size;
        };
        return {
          ...h,
          read: (t) => src.read(t.offset, sized(t), `tensor ${quoted(t.name)}`),
          view: (t, align) => src.view(t.offset, sized(t), `tensor ${quoted(t.name)}`, align),
          release: (t) => src.release(t.offset, sized(t)),
          close: () => src.close(),
        };
      } catch (e) {
        if (!(e instanceof NeedMore)) throw e;
        n = Math.min(src.size, n * 4);
      }
    }
  } catch (e) {
    src.close();
    throw e;
  }
}
