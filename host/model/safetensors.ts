// safetensors: an 8-byte little-endian header length, a JSON header naming each tensor's
// dtype, shape and byte range, then the raw little-endian data. Sharded checkpoints add a
// `model.safetensors.index.json` whose weight_map says which file holds which tensor.
// Every check names the file and the tensor.

import * as fs from 'node:fs';
import { CheckpointError, excerpt, quoted, reason } from './errors.ts';
import { modelDirFile } from './model-dir.ts';
import { bf16ToF32, f16ToF32 } from './dtypes.ts';
import { FileSource, readJsonFile } from './file-source.ts';

export type SafeDtype = 'BOOL' | 'U8' | 'I8' | 'U16' | 'I16' | 'F16' | 'BF16' | 'U32' | 'I32' | 'F32' | 'U64' | 'I64' | 'F64';
const DTYPE_BYTES: Record<SafeDtype, number> = { BOOL: 1, U8: 1, I8: 1, U16: 2, I16: 2, F16: 2, BF16: 2, U32: 4, I32: 4, F32: 4, U64: 8, I64: 8, F64: 8 };
/** Refuse headers larger than this: a corrupted length must not make us allocate gigabytes. */
const MAX_HEADER = 100 << 20;

export interface SafeTensorInfo {
  readonly name: string;
  readonly file: string;
  readonly dtype: SafeDtype;
  readonly shape: readonly number[];
  /** Absolute byte offset of the data in the file, and its length. */
  readonly offset: number;
  readonly size: number;
}

export interface SafeTensor extends SafeTensorInfo {
  /** The raw bytes. */
  readonly bytes: Uint8Array;
}

export interface SafeFile {
  readonly file: string;
  readonly metadata: Record<string, string>;
  readonly tensors: Map<string, SafeTensor>;
}

export const dtypeBytes = (d: SafeDtype): number => DTYPE_BYTES[d];

/** The header of a file of `fileSize` bytes, given its first 8 + header-length bytes (or more). */
function parseHeader(head: Uint8Array, file: string, fileSize: number): { metadata: Record<string, string>; tensors: Map<string, SafeTensorInfo>; hlen: number } {
  if (fileSize < 8 || head.length < 8) throw new CheckpointError(file, `${fileSize} bytes; a safetensors file starts with an 8-byte header length`);
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const hlen = Number(dv.getBigUint64(0, true));
  if (hlen > MAX_HEADER || 8 + hlen > fileSize) throw new CheckpointError(file, `header length ${hlen} does not fit the file (${fileSize} bytes); the file is truncated or not safetensors`);
  if (head.length < 8 + hlen) return { metadata: {}, tensors: new Map(), hlen };
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(8, 8 + hlen)));
  } catch (e) {
    throw new CheckpointError(file, `the header is not valid UTF-8 JSON (${reason(e)})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new CheckpointError(file, 'the header must be a JSON object of tensors');
  const dataStart = 8 + hlen;
  const dataLength = fileSize - dataStart;
  const tensors = new Map<string, SafeTensorInfo>();
  const ranges: { name: string; begin: number; end: number }[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, v] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      // As the reference implementation: a map of strings to strings.
      if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.values(v).every((x) => typeof x === 'string')) throw new CheckpointError(file, `'__metadata__' must be an object of strings, got ${excerpt(v)}`);
      metadata = v as Record<string, string>;
      continue;
    }
    const where = `tensor ${quoted(name)}`;
    if (typeof v !== 'object' || v === null) throw new CheckpointError(file, `${where}: header entry must be an object`);
    const t = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    // Object.hasOwn: a dtype named after an Object.prototype member ("toString") is not a dtype.
    if (typeof t.dtype !== 'string' || !Object.hasOwn(DTYPE_BYTES, t.dtype)) throw new CheckpointError(file, `${where}: unknown dtype ${excerpt(t.dtype)} (expected one of ${Object.keys(DTYPE_BYTES).join(', ')})`);
    if (!Array.isArray(t.shape) || t.shape.length > 8 || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new CheckpointError(file, `${where}: shape ${excerpt(t.shape)} must be a list of at most 8 non-negative integers`);
    const off = t.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0) || off[0] > off[1]) throw new CheckpointError(file, `${where}: data_offsets ${excerpt(off)} must be [begin, end]`);
    const dtype = t.dtype as SafeDtype;
    const shape = t.shape as number[];
    const expected = shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype];
    if (off[1] - off[0] !== expected) throw new CheckpointError(file, `${where}: ${off[1] - off[0]} bytes for ${dtype} [${shape.join(', ')}], expected ${expected}`);
    if (off[1] > dataLength) throw new CheckpointError(file, `${where}: data ends at byte ${off[1]} but the file has ${dataLength} data bytes; the file is truncated`);
    tensors.set(name, { name, file, dtype, shape, offset: dataStart + off[0], size: off[1] - off[0] });
    ranges.push({ name, begin: off[0], end: off[1] });
  }
  // As the reference implementation (its InvalidOffset and MetadataIncompleteBuffer): the
  // tensors' byte ranges, in order, tile the data exactly, with no overlap, gap or tail.
  ranges.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let prev: string | undefined;
  for (const r of ranges) {
    if (r.begin < at) throw new CheckpointError(file, `tensor ${quoted(r.name)}: data_offsets [${r.begin}, ${r.end}] overlap tensor ${quoted(prev!)}'s bytes (up to ${at}); each tensor has bytes of its own`);
    if (r.begin > at) throw new CheckpointError(file, `tensor ${quoted(r.name)}: data_offsets [${r.begin}, ${r.end}] leave bytes ${at}..${r.begin} of the data unused; the tensors' bytes must follow each other`);
    at = r.end;
    prev = r.name;
  }
  if (at !== dataLength) throw new CheckpointError(file, `${dataLength - at} bytes after the last tensor's data (the header's tensors end at data byte ${at}, the file has ${dataLength}); the header does not describe the file`);
  return { metadata, tensors, hlen };
}

/** Parse a safetensors file held whole in `buf`. */
export function parseSafetensors(buf: Uint8Array, file: string): SafeFile {
  const h = parseHeader(buf, file, buf.length);
  const tensors = new Map<string, SafeTensor>();
  for (const [n, t] of h.tensors) tensors.set(n, { ...t, bytes: buf.subarray(t.offset, t.offset + t.size) });
  return { file, metadata: h.metadata, tensors };
}

/** The tensors of a checkpoint on disk, each read only when asked for. */
export interface SafetensorsDir {
  readonly tensors: Map<string, SafeTensorInfo>;
  read(t: SafeTensorInfo): Uint8Array;
  /** Without a copy where the file is mapped (read-only; see FileSource.view). */
  view(t: SafeTensorInfo, align?: number): Uint8Array;
  /** Done with view(t) of a tensor that is not kept. */
  release(t: SafeTensorInfo): void;
  close(): void;
}

function openFile(file: string, sources: Map<string, FileSource>): Map<string, SafeTensorInfo> {
  const src = new FileSource(file);
  sources.set(file, src);
  const first = src.read(0, Math.min(src.size, 1 << 20), 'header');
  let h = parseHeader(first, file, src.size);
  if (first.length < 8 + h.hlen) h = parseHeader(src.read(0, 8 + h.hlen, 'header'), file, src.size);
  return h.tensors;
}

/** All tensors of a checkpoint directory: model.safetensors, or the shards an index names. */
export function openSafetensorsDir(dir: string): SafetensorsDir {
  const sources = new Map<string, FileSource>();
  const close = (): void => sources.forEach((s) => s.close());
  const read = (t: SafeTensorInfo): Uint8Array => sources.get(t.file)!.read(t.offset, t.size, `tensor '${t.name}'`);
  const view = (t: SafeTensorInfo, align?: number): Uint8Array => sources.get(t.file)!.view(t.offset, t.size, `tensor '${t.name}'`, align);
  const release = (t: SafeTensorInfo): void => sources.get(t.file)!.release(t.offset, t.size);
  try {
    const single = modelDirFile(dir, 'model.safetensors');
    const index = modelDirFile(dir, 'model.safetensors.index.json');
    if (fs.existsSync(single)) return { tensors: openFile(single, sources), read, view, release, close };
    if (!fs.existsSync(index)) throw new CheckpointError(dir, 'no model.safetensors and no model.safetensors.index.json');
    const json = readJsonFile(index) as { weight_map?: unknown } | null;
    const map = typeof json === 'object' && json !== null ? json.weight_map : undefined;
    if (typeof map !== 'object' || map === null || Array.isArray(map)) throw new CheckpointError(index, `field 'weight_map' must be an object of tensor name to shard file, got ${excerpt(map)}`);
    const entries = Object.entries(map as Record<string, unknown>);
    const files = new Map<unknown, string>();
    for (const [n, shard] of entries) if (!files.has(shard)) files.set(shard, modelDirFile(dir, shard, { file: index, field: `weight_map[${quoted(n)}]` }));
    const out = new Map<string, SafeTensorInfo>();
    for (const [shard, f] of files) {
      if (!fs.existsSync(f)) throw new CheckpointError(index, `names shard ${quoted(shard as string)}, which does not exist`);
      for (const [n, t] of openFile(f, sources)) {
        const other = out.get(n);
        if (other) throw new CheckpointError(f, `tensor ${quoted(n)} is also in ${other.file}; a tensor is in one shard`);
        out.set(n, t);
      }
    }
    for (const [n, shard] of entries) if (!out.has(n)) throw new CheckpointError(files.get(shard)!, `tensor ${quoted(n)} is listed in the index but not in the shard`);
    return { tensors: out, read, view, release, close };
  } catch (e) {
    close();
    throw e;
  }
}

/** A tensor's values as float32 (BF16, F16 and F32 are widened exactly). */
export function toF32(t: SafeTensorInfo, bytes: Uint8Array): Float32Array {
  const n = bytes.length / DTYPE_BYTES[t.dtype];
  // Our own aligned bytes (not a view into someone's larger buffer, which a Float32Array
  // would keep alive and alias).
  const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
  switch (t.dtype) {
    case 'F32':
      return new Float32Array(own.buffer, 0, n);
    case 'BF16':
      return bf16ToF32(new Uint16Array(own.buffer, 0, n));
    case 'F16': {
      const h = new Uint16Array(own.buffer, 0, n);
      return Float32Array.from(h, f16ToF32);
    }
    default:
      throw new CheckpointError(t.file, `tensor '${t.name}': dtype ${t.dtype}, expected a float dtype (BF16, F16 or F32)`);
  }
}

/** Write tensors as one safetensors file (for make-model and tests). Data are raw little-endian bytes. */
export function writeSafetensors(file: string, tensors: { name: string; dtype: SafeDtype; shape: number[]; bytes: Uint8Array }[], metadata: Record<string, string> = { format: 'pt' }): void {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let off = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + t.bytes.length] };
    off += t.bytes.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8); // the data start 8-byte aligned, as the reference writer does
  const hb = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + hb.length + off);
  out.writeBigUInt64LE(BigInt(hb.length), 0);
  hb.copy(out, 8);
  let p = 8 + hb.length;
  for (const t of tensors) {
    out.set(t.bytes, p);
    p += t.bytes.length;
  }
  fs.writeFileSync(file, out);
}
