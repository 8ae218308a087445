// Link frames (the layout and the rules are in host/link/PROTOCOL.md); the codec the host's
// client, board-sim and the testbench drivers share:
//
//   0xB1 0x7F | seq u8 | op u8 | len u32le | header-crc u8 | payload (len bytes) | crc32 u32le
//
// The decoder accepts bytes in any chunking, resynchronizes after garbage (it looks for
// the sync marker again one byte after a frame that fails), and never delivers a frame
// whose checks fail.

import { crc32 } from './crc32.ts';
import { SYNC0, SYNC1, HEADER_BYTES, TRAILER_BYTES, MAX_PAYLOAD, HEADER_CHECK_SEED } from './protocol.ts';

export interface Frame {
  readonly seq: number;
  readonly op: number;
  readonly payload: Uint8Array;
}

/** A small check over the first 8 header bytes, so a corrupted length is caught before waiting for it. */
export function headerCheck(h: Uint8Array, off = 0): number {
  let x = HEADER_CHECK_SEED;
  for (let i = 0; i < 8; i++) x = (((x << 1) | (x >>> 7)) & 0xff) ^ h[off + i]!; // an 8-bit rotate
  return x & 0xff;
}

export function encodeFrame(f: Frame): Uint8Array {
  if (!Number.isInteger(f.seq) || f.seq < 0 || f.seq > 255) throw new RangeError(`frame seq ${f.seq}: expected 0..255`);
  if (!Number.isInteger(f.op) || f.op < 0 || f.op > 255) throw new RangeError(`frame op ${f.op}: expected 0..255`);
  if (f.payload.length > MAX_PAYLOAD) throw new RangeError(`frame payload of ${f.payload.length} bytes exceeds ${MAX_PAYLOAD}`);
  const out = new Uint8Array(HEADER_BYTES + f.payload.length + TRAILER_BYTES);
  const dv = new DataView(out.buffer);
  out[0] = SYNC0;
  out[1] = SYNC1;
  out[2] = f.seq;
  out[3] = f.op;
  dv.setUint32(4, f.payload.length, true);
  out[8] = headerCheck(out);
  out.set(f.payload, HEADER_BYTES);
  dv.setUint32(HEADER_BYTES + f.payload.length, crc32(out, 0, HEADER_BYTES + f.payload.length), true);
  return out;
}

export interface DecoderStats {
  frames: number;
  /** Bytes skipped while looking for a sync marker. */
  skipped: number;
  /** Candidate frames rejected by the header check or the CRC. */
  rejected: number;
}

export class FrameDecoder {
  private buf = new Uint8Array(4096);
  private start = 0;
  private end = 0;
  readonly stats: DecoderStats = { frames: 0, skipped: 0, rejected: 0 };

  constructor(private readonly maxPayload = MAX_PAYLOAD) {}

  /** Feed bytes; returns every complete, checked frame they finish. */
  push(chunk: Uint8Array): Frame[] {
    this.append(chunk);
    const out: Frame[] = [];
    for (;;) {
      const f = this.next();
      if (f === undefined) break;
      out.push(f);
    }
    return out;
  }

  /** Forget buffered bytes (after a timeout, before a retry). */
  reset(): void {
    this.start = this.end = 0;
  }

  private append(chunk: Uint8Array): void {
    const live = this.end - this.start;
    if (this.end + chunk.length > this.buf.length) {
      if (live + chunk.length > this.buf.length) {
        const nb = new Uint8Array(Math.max(2 * this.buf.length, live + chunk.length));
        nb.set(this.buf.subarray(this.start, this.end));
        this.buf = nb;
      } else this.buf.copyWithin(0, this.start, this.end);
      this.start = 0;
      this.end = live;
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }

  private next(): Frame | undefined {
    const b = this.buf;
    for (;;) {
      // Find the sync marker.
      let i = this.start;
      while (i + 1 < this.end && !(b[i] === SYNC0 && b[i + 1] === SYNC1)) i++;
      this.stats.skipped += i - this.start;
      this.start = i;
      if (this.end - this.start < HEADER_BYTES) return undefined;
      const dv = new DataView(b.buffer, b.byteOffset + this.start);
      const len = dv.getUint32(4, true);
      if (headerCheck(b, this.start) !== b[this.start + 8] || len > this.maxPayload) {
        this.drop();
        continue;
      }
      const total = HEADER_BYTES + len + TRAILER_BYTES;
      if (this.end - this.start < total) return undefined;
      const crc = dv.getUint32(HEADER_BYTES + len, true);
      if (crc32(b, this.start, this.start + HEADER_BYTES + len) !== crc) {
        this.drop();
        continue;
      }
      const f: Frame = { seq: b[this.start + 2]!, op: b[this.start + 3]!, payload: b.slice(this.start + HEADER_BYTES, this.start + HEADER_BYTES + len) };
      this.start += total;
      this.stats.frames++;
      return f;
    }
  }

  /** A false sync: skip one byte and look again. */
  private drop(): void {
    this.stats.rejected++;
    this.stats.skipped++;
    this.start++;
  }
}
