// The link's framing: round trips, any chunking, resynchronization after garbage, and
// corrupted frames never delivered (fuzzed with a printed seed).

import assert from 'node:assert/strict';
import { encodeFrame, FrameDecoder, type Frame } from '../../common/frame.ts';
import { crc32 } from '../../common/crc32.ts';
import { XorShift32, globalSeed } from '../../common/rng.ts';

const same = (a: Frame, b: Frame): boolean => a.seq === b.seq && a.op === b.op && Buffer.compare(Buffer.from(a.payload), Buffer.from(b.payload)) === 0;

describe('link frames', () => {
  it('CRC-32 matches the standard check value', () => {
    assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  });

  it('round-trips frames delivered in arbitrary chunks', () => {
    const rng = new XorShift32(globalSeed());
    const frames: Frame[] = Array.from({ length: 200 }, (_, i) => ({ seq: i & 255, op: rng.int(0, 255), payload: Uint8Array.from({ length: rng.int(0, 300) }, () => rng.int(0, 255)) }));
    const bytes = Buffer.concat(frames.map((f) => encodeFrame(f)));
    const dec = new FrameDecoder();
    const got: Frame[] = [];
    for (let at = 0; at < bytes.length; ) {
      const n = rng.int(1, 97);
      got.push(...dec.push(bytes.subarray(at, at + n)));
      at += n;
    }
    assert.equal(got.length, frames.length);
    got.forEach((f, i) => assert.ok(same(f, frames[i]!), `frame ${i}`));
    assert.equal(dec.stats.skipped, 0);
  });

  it(`resynchronizes after garbage and never delivers a corrupted frame (seed ${globalSeed()})`, () => {
    const rng = new XorShift32(globalSeed() ^ 0x51ed);
    const sent: Frame[] = [];
    const parts: Uint8Array[] = [];
    let corrupted = 0;
    for (let i = 0; i < 3000; i++) {
      if (rng.chance(0.3)) parts.push(Uint8Array.from({ length: rng.int(1, 40) }, () => (rng.chance(0.2) ? rng.pick([0xb1, 0x7f]) : rng.int(0, 255))));
      const f: Frame = { seq: i & 255, op: rng.int(0, 255), payload: Uint8Array.from({ length: rng.int(0, 64) }, () => rng.int(0, 255)) };
      const bytes = encodeFrame(f);
      if (rng.chance(0.1)) {
        bytes[rng.int(0, bytes.length - 1)] ^= 1 << rng.int(0, 7);
        corrupted++;
      } else sent.push(f);
      parts.push(bytes);
    }
    const dec = new FrameDecoder(1024);
    const got: Frame[] = [];
    for (const p of parts) got.push(...dec.push(p));
    // Every delivered frame is one that was sent intact, in order.
    let j = 0;
    for (const f of got) {
      while (j < sent.length && !same(f, sent[j]!)) j++;
      assert.ok(j < sent.length, `delivered a frame that was never sent intact: seq ${f.seq} op ${f.op}`);
      j++;
    }
    // A flipped bit can make one garbage run look like a frame header and swallow the next frame; allow a little loss.
    assert.ok(got.length >= sent.length * 0.97, `${got.length} of ${sent.length} intact frames recovered`);
    assert.ok(corrupted > 200 && dec.stats.rejected > 0);
  });
});
