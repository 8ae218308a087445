// GGUF files taken apart at the byte level, for tests that write what no writer would: a
// repeated key, a count of the wrong type, a corrupted length. Independent of
// host/model/gguf.ts on purpose (a reader's bug must not hide in the test's own walker).

/** One metadata entry: [start, end) in the file; its key's length field is at `start`. */
export interface KvSpan {
  readonly key: string;
  readonly type: number;
  readonly start: number;
  /** Where the value starts (a string value's length field is here). */
  readonly valueStart: number;
  readonly end: number;
}

export interface GgufLayout {
  readonly kvs: KvSpan[];
  /** The tensor infos: [infosStart, infosEnd). */
  readonly infosStart: number;
  readonly infosEnd: number;
  readonly alignment: number;
  readonly dataStart: number;
}

const FIXED: Record<number, number> = { 0: 1, 1: 1, 7: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 10: 8, 11: 8, 12: 8 };

export function ggufLayout(b: Buffer): GgufLayout {
  let p = 8;
  const nTensors = Number(b.readBigUInt64LE(p));
  const nKv = Number(b.readBigUInt64LE(p + 8));
  p += 16;
  const str = (): string => {
    const n = Number(b.readBigUInt64LE(p));
    const s = b.toString('utf8', p + 8, p + 8 + n);
    p += 8 + n;
    return s;
  };
  const skip = (type: number): void => {
    if (FIXED[type] !== undefined) p += FIXED[type]!;
    else if (type === 8) str();
    else if (type === 9) {
      const et = b.readUInt32LE(p);
      const n = Number(b.readBigUInt64LE(p + 4));
      p += 12;
      for (let i = 0; i < n; i++) skip(et);
    } else throw new Error(`gguf-bytes: value type ${type} at ${p}`);
  };
  const kvs: KvSpan[] = [];
  let alignment = 32;
  for (let i = 0; i < nKv; i++) {
    const start = p;
    const key = str();
    const type = b.readUInt32LE(p);
    p += 4;
    const valueStart = p;
    if (key === 'general.alignment') alignment = b.readUInt32LE(p);
    skip(type);
    kvs.push({ key, type, start, valueStart, end: p });
  }
  const infosStart = p;
  for (let i = 0; i < nTensors; i++) {
    str();
    const nd = b.readUInt32LE(p);
    p += 4 + 8 * nd + 4 + 8;
  }
  return { kvs, infosStart, infosEnd: p, alignment, dataStart: Math.ceil(p / alignment) * alignment };
}

/** The same file with these raw metadata entries instead of its own (tensor infos and data kept, re-aligned). */
export function withKvs(b: Buffer, entries: readonly Buffer[]): Buffer {
  const l = ggufLayout(b);
  const head = Buffer.alloc(24);
  b.copy(head, 0, 0, 16);
  head.writeBigUInt64LE(BigInt(entries.length), 16);
  const before = Buffer.concat([head, ...entries, b.subarray(l.infosStart, l.infosEnd)]);
  const pad = Buffer.alloc((l.alignment - (before.length % l.alignment)) % l.alignment);
  return Buffer.concat([before, pad, b.subarray(l.dataStart)]);
}

/** The raw bytes of each of the file's metadata entries, in order. */
export const kvEntries = (b: Buffer): Buffer[] => ggufLayout(b).kvs.map((k) => Buffer.from(b.subarray(k.start, k.end)));

const u32 = (n: number): Buffer => {
  const x = Buffer.alloc(4);
  x.writeUInt32LE(n);
  return x;
};
const gstr = (s: string): Buffer => {
  const x = Buffer.from(s, 'utf8');
  const n = Buffer.alloc(8);
  n.writeBigUInt64LE(BigInt(x.length));
  return Buffer.concat([n, x]);
};

/** A metadata entry: key, GGUF value type, and the value's bytes (see the helpers below). */
export const kv = (key: string, type: number, value: Buffer): Buffer => Buffer.concat([gstr(key), u32(type), value]);
export const U32 = 4;
export const I32 = 5;
export const F32 = 6;
export const STRING = 8;
export const U64 = 10;
export const u32v = u32;
export const i32v = (n: number): Buffer => {
  const x = Buffer.alloc(4);
  x.writeInt32LE(n);
  return x;
};
export const f32v = (n: number): Buffer => {
  const x = Buffer.alloc(4);
  x.writeFloatLE(n);
  return x;
};
export const u64v = (n: bigint): Buffer => {
  const x = Buffer.alloc(8);
  x.writeBigUInt64LE(n);
  return x;
};
export const strv = gstr;

/** A GGUF v3 header with these metadata entries and no tensors. */
export const headerOnly = (entries: readonly Buffer[]): Buffer => {
  const head = Buffer.alloc(24);
  head.write('GGUF', 0, 'latin1');
  head.writeUInt32LE(3, 4);
  head.writeBigUInt64LE(0n, 8);
  head.writeBigUInt64LE(BigInt(entries.length), 16);
  return Buffer.concat([head, ...entries]);
};
