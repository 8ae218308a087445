// safetensors: an 8-byte little-endian header length, a JSON header naming each tensor's
// dtype, shape and byte range, then the raw little-endian data. Sharded checkpoints add a
// `model.safetensors.index.json` whose weight_map says which file holds which tensor.
// Every check names the file and the tensor.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { CheckpointError } from './errors.ts';
import { bf16ToF32, f16ToF32 } from './dtypes.ts';

export type SafeDtype = 'BOOL' | 'U8' | 'I8' | 'U16' | 'I16' | 'F16' | 'BF16' | 'U32' | 'I32' | 'F32' | 'U64' | 'I64' | 'F64';
const DTYPE_BYTES: Record<SafeDtype, number> = { BOOL: 1, U8: 1, I8: 1, U16: 2, I16: 2, F16: 2, BF16: 2, U32: 4, I32: 4, F32: 4, U64: 8, I64: 8, F64: 8 };
/** Refuse headers larger than this: a corrupted length must not make us allocate gigabytes. */
const MAX_HEADER = 100 << 20;

export interface SafeTensor {
  readonly name: string;
  readonly file: string;
  readonly dtype: SafeDtype;
  readonly shape: readonly number[];
  /** The raw bytes (a view into the file's buffer). */
  readonly bytes: Uint8Array;
}

export interface SafeFile {
  readonly file: string;
  readonly metadata: Record<string, string>;
  readonly tensors: Map<string, SafeTensor>;
}

export function parseSafetensors(buf: Uint8Array, file: string): SafeFile {
  if (buf.length < 8) throw new CheckpointError(file, `${buf.length} bytes; a safetensors file starts with an 8-byte header length`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const hlen = Number(dv.getBigUint64(0, true));
  if (hlen > MAX_HEADER || 8 + hlen > buf.length) throw new CheckpointError(file, `header length ${hlen} does not fit the file (${buf.length} bytes); the file is truncated or not safetensors`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(8, 8 + hlen)));
  } catch (e) {
    throw new CheckpointError(file, `the header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new CheckpointError(file, 'the header must be a JSON object of tensors');
  const data = buf.subarray(8 + hlen);
  const tensors = new Map<string, SafeTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, v] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = (v ?? {}) as Record<string, string>;
      continue;
    }
    const where = `tensor '${name}'`;
    if (typeof v !== 'object' || v === null) throw new CheckpointError(file, `${where}: header entry must be an object`);
    const t = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof t.dtype !== 'string' || !(t.dtype in DTYPE_BYTES)) throw new CheckpointError(file, `${where}: unknown dtype ${JSON.stringify(t.dtype)} (expected one of ${Object.keys(DTYPE_BYTES).join(', ')})`);
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new CheckpointError(file, `${where}: shape ${JSON.stringify(t.shape)} must be a list of non-negative integers`);
    const off = t.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0) || off[0] > off[1]) throw new CheckpointError(file, `${where}: data_offsets ${JSON.stringify(off)} must be [begin, end]`);
    const dtype = t.dtype as SafeDtype;
    const shape = t.shape as number[];
    const expected = shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype];
    if (off[1] - off[0] !== expected) throw new CheckpointError(file, `${where}: ${off[1] - off[0]} bytes for ${dtype} [${shape.join(', ')}], expected ${expected}`);
    if (off[1] > data.length) throw new CheckpointError(file, `${where}: data ends at byte ${off[1]} but the file has ${data.length} data bytes; the file is truncated`);
    tensors.set(name, { name, file, dtype, shape, bytes: data.subarray(off[0], off[1]) });
  }
  return { file, metadata, tensors };
}

/** All tensors of a checkpoint directory: model.safetensors, or the shards an index names. */
export function readSafetensorsDir(dir: string): Map<string, SafeTensor> {
  const single = path.join(dir, 'model.safetensors');
  const index = path.join(dir, 'model.safetensors.index.json');
  if (fs.existsSync(single)) return parseSafetensors(readFile(single), single).tensors;
  if (!fs.existsSync(index)) throw new CheckpointError(dir, 'no model.safetensors and no model.safetensors.index.json');
  let map: Record<string, string>;
  try {
    map = (JSON.parse(fs.readFileSync(index, 'utf8')) as { weight_map: Record<string, string> }).weight_map;
    if (typeof map !== 'object' || map === null) throw new Error("no 'weight_map' object");
  } catch (e) {
    throw new CheckpointError(index, `not a safetensors index (${(e as Error).message})`);
  }
  const out = new Map<string, SafeTensor>();
  for (const shard of new Set(Object.values(map))) {
    const f = path.join(dir, shard);
    if (!fs.existsSync(f)) throw new CheckpointError(index, `names shard '${shard}', which does not exist`);
    for (const [n, t] of parseSafetensors(readFile(f), f).tensors) out.set(n, t);
  }
  for (const [n, shard] of Object.entries(map)) if (!out.has(n)) throw new CheckpointError(path.join(dir, shard), `tensor '${n}' is listed in the index but not in the shard`);
  return out;
}

function readFile(f: string): Uint8Array {
  const b = fs.readFileSync(f);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** A tensor's values as float32 (BF16, F16 and F32 are widened exactly). */
export function toF32(t: SafeTensor): Float32Array {
  const n = t.bytes.length / DTYPE_BYTES[t.dtype];
  const aligned = t.bytes.slice(); // own, aligned copy
  switch (t.dtype) {
    case 'F32':
      return new Float32Array(aligned.buffer, 0, n);
    case 'BF16':
      return bf16ToF32(new Uint16Array(aligned.buffer, 0, n));
    case 'F16': {
      const h = new Uint16Array(aligned.buffer, 0, n);
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
