// The link's framing (host/link/PROTOCOL.md), both ways, for the command engine.
//
// Receiving: hunt for the sync marker, check the header's rotate-xor byte and the CRC-32
// computed byte by byte as the frame arrives; a frame that fails is dropped unanswered
// and the hunt starts again at the failing byte. The executor sees the header once it has
// passed its check, every payload byte as it arrives, and the request once its CRC is
// verified; nothing may be acted on before that.
// Sending: the answer is produced byte by byte: the header, the status and body bytes the
// executor supplies, the CRC. The header check and CRC units are shared with the receiver,
// which is idle while an answer goes out.

import { UInt, Bool, lit, mux, select, cat, hdlEnum, widthFor, type ModuleBuilder, type Signal, type Value } from '../../hdl/index.ts';
import { crc32Step } from './crc32.ts';
import { MAX_PAYLOAD } from './engine.ts';

/** The framer's states, in this order: a state below EXEC takes input bytes. */
export const FrameState = hdlEnum('frame_state', ['HUNT', 'SYNC1', 'HDR', 'HCHK', 'PAY', 'CRC', 'EXEC', 'WAIT', 'SEND'], { prefix: 'S_' });

/** A byte stream as the engine's ports carry it. */
export interface ByteStream {
  readonly valid: Signal;
  readonly ready: Signal;
  readonly data: Signal;
}

/** What the framer tells the executor about the request coming in. */
export interface RequestSide {
  /** The header's fields, as received (op and len are final once `headerOk` has been seen). */
  readonly seq: Signal;
  readonly op: Signal;
  readonly len: Signal;
  /** One cycle: the header passed its check (len <= MAX_PAYLOAD); payload bytes follow. */
  readonly headerOk: Value;
  /** One cycle per payload byte: the byte, and its index from 0. */
  readonly payValid: Value;
  readonly payByte: Value;
  readonly payIndex: Signal;
  /** The first 16 payload bytes, held (the fixed fields of every operation). */
  readonly fields: readonly Signal[];
  /**
   * The request, CRC verified: valid for one cycle (state EXEC). In that cycle the executor
   * sets `answerLater` if it needs more cycles, and then raises `answerNow` when its answer
   * (status, body length) is ready; otherwise the answer goes out right after.
   */
  readonly valid: Value;
}

/** What the executor gives the framer for the answer, and what the framer tells it back. */
export interface AnswerSide {
  /** Set by the executor (wires, default 0): see RequestSide.valid. */
  readonly answerLater: Signal;
  readonly answerNow: Signal;
  /** The status byte and the number of body bytes after it (registers of the executor). */
  status: Value;
  bodyLen: Value;
  /** The body byte at `index`, and whether it can be sent this cycle (valid/ready toward tx). */
  bodyByte: Value;
  bodyValid: Value;
  /** Framer → executor: the answer is going out; the index of the byte on tx in the frame (the body starts at BODY_START). */
  readonly sending: Value;
  readonly index: Signal;
  /** One cycle: a body byte was taken by tx. */
  readonly bodyFire: Value;
  /** One cycle: the answer's last byte was taken. */
  readonly done: Value;
}

/** Index of the first body byte in an answer: 9 header bytes and the status. */
export const BODY_START = 10;

const rotl8 = (x: number): number => ((x << 1) | (x >>> 7)) & 0xff;
const byteOf = (v: Value, i: number): Value => (8 * i < v.width ? v.slice(Math.min(8 * i + 7, v.width - 1), 8 * i).zext(8) : lit(0, UInt(8)));

/**
 * The framing logic of an engine whose answers are at most `bodyMax` bytes after the
 * status, and which abandons a frame after `idle` quiet cycles. The answer side's
 * `status`, `bodyLen`, `bodyByte` and `bodyValid` are read when `finish()` is called, so
 * the executor may be built in between.
 */
export function framer(m: ModuleBuilder, rx: ByteStream, tx: ByteStream, txLast: Signal, o: { bodyMax: number; idle: number }): { req: RequestSide; ans: AnswerSide; finish(): void } {
  const S = FrameState;
  const oBits = widthFor(o.bodyMax + 13); // header 10 bytes (with the status), body, CRC 4
  const state = m.reg('state', S);
  const idx = m.reg('idx', UInt(widthFor(MAX_PAYLOAD))); // byte index within a field
  const hc = m.reg('hc', UInt(8));
  const crc = m.reg('crc', UInt(32));
  const crcOk = m.reg('crc_ok', Bool);
  const seq = m.reg('seq', UInt(8));
  const op = m.reg('op', UInt(8));
  const len = m.reg('len', UInt(32));
  const pay = Array.from({ length: 16 }, (_, i) => m.reg(`pay${i}`, UInt(8)));
  const sending = m.let('sending', state.eq(S.SEND));
  const byteOut = m.wire('byte_out', UInt(8));

  // A header that fails its check may have swallowed the start of a real frame: its
  // bytes after the false sync are replayed through the hunt, ahead of new input. A
  // header is 9 bytes and the replay 8, so a replay never holds a whole failing header
  // and never needs to grow.
  const RQ = 8;
  const rq = Array.from({ length: RQ }, (_, i) => m.reg(`replay${i}`, UInt(8)));
  const rqCount = m.reg('replay_count', UInt(4));
  const replaying = m.let('replaying', rqCount.ne(0));
  m.set(rx.ready, state.lt(S.EXEC).and(replaying.not()));
  const take = m.let('take', state.lt(S.EXEC).and(replaying.or(rx.valid)));
  const b = m.let('in_byte', mux(replaying, rq[0]!, rx.data));
  // Consuming a replayed byte shifts the queue; a failed header pushes its bytes in front.
  const failHeader = m.wire('fail_header', Bool, { default: 0 });
  const headerOk = m.wire('header_ok', Bool, { default: 0 });
  m.when(take.and(replaying), () => {
    rq.forEach((r, i) => m.set(r, i + 1 < RQ ? rq[i + 1]! : lit(0, UInt(8))));
    m.set(rqCount, rqCount.sub(1));
  });
  m.when(failHeader, () => {
    // Header bytes 1..8: the second sync byte, the fields as taken, and the failed check.
    const fresh = [lit(0x7f, UInt(8)), seq, op, ...[0, 1, 2, 3].map((i) => byteOf(len, i)), b];
    rq.forEach((r, i) => m.set(r, fresh[i]!));
    m.set(rqCount, 8);
  });
  // One header-check and one CRC unit: fed received bytes, or sent ones while sending.
  const checkIn = m.let('check_in', mux(sending, byteOut, b));
  const hcNext = m.let('hc_next', cat(hc.slice(6, 0), hc.bit(7)).xor(checkIn));
  const crcNext = m.let('crc_next', crc32Step(crc, checkIn));
  const crcLow = m.let('crc_low', crc.slice(7, 0).not()); // the next CRC byte on the wire
  const crcShifted = cat(lit(0, UInt(8)), crc.slice(31, 8));
  // The checks' state after the first sync byte, worked out here rather than in hardware.
  const hcAfterSync0 = rotl8(0x5a) ^ 0xb1;
  const crcAfterSync0 = (() => {
    let c = 0xffffffff;
    c ^= 0xb1;
    for (let k = 0; k < 8; k++) c = c & 1 ? (0xedb88320 ^ (c >>> 1)) >>> 0 : c >>> 1;
    return c >>> 0;
  })();
  const restartOn = (byte: Value): void => {
    // A failed frame: hunt again, treating this byte as a possible first sync byte.
    m.when(byte.eq(0xb1), () => {
      m.set(state, S.SYNC1);
      m.set(hc, hcAfterSync0);
      m.set(crc, crcAfterSync0);
    }).otherwise(() => m.set(state, S.HUNT));
  };
  const payValid = m.let('pay_valid', take.and(state.eq(S.PAY)));

  // A frame that stops arriving (its length was corrupted into a large one, or the host
  // went away mid-frame) is abandoned after `idle` quiet cycles, so the host's retry is
  // heard instead of being swallowed as payload.
  const quiet = m.reg('quiet', UInt(Math.log2(o.idle) + 1));
  const midFrame = m.let('mid_frame', state.ge(S.SYNC1).and(state.le(S.CRC)));
  m.when(take.or(midFrame.not()), () => m.set(quiet, 0)).otherwise(() => m.set(quiet, quiet.add(1)));
  m.when(midFrame.and(quiet.eq(o.idle)), () => m.set(state, S.HUNT));

  m.when(take, () => {
    m.switch(state, [
      [S.HUNT, () => restartOn(b)],
      [S.SYNC1, () => {
        m.when(b.eq(0x7f), () => {
          m.set(state, S.HDR);
          m.set(idx, 0);
          m.set(hc, hcNext);
          m.set(crc, crcNext);
        }).otherwise(() => restartOn(b));
      }],
      [S.HDR, () => {
        m.set(hc, hcNext);
        m.set(crc, crcNext);
        m.set(idx, idx.add(1));
        m.switch(idx, [
          [0, () => m.set(seq, b)],
          [1, () => m.set(op, b)],
          [2, () => m.set(len, cat(len.slice(31, 8), b))],
          [3, () => m.set(len, cat(len.slice(31, 16), b, len.slice(7, 0)))],
          [4, () => m.set(len, cat(len.slice(31, 24), b, len.slice(15, 0)))],
          [5, () => {
            m.set(len, cat(b, len.slice(23, 0)));
            m.set(state, S.HCHK);
          }],
        ]);
      }],
      [S.HCHK, () => {
        m.set(crc, crcNext);
        m.set(idx, 0);
        m.when(b.ne(hc).or(len.gt(MAX_PAYLOAD)), () => {
          m.set(state, S.HUNT);
          m.set(failHeader, 1);
        }).otherwise(() => {
          m.set(state, mux(len.eq(0), S.CRC, S.PAY));
          m.set(crcOk, 1);
          m.set(headerOk, 1);
        });
      }],
      [S.PAY, () => {
        m.set(crc, crcNext);
        m.set(idx, idx.add(1));
        pay.forEach((r, i) => m.when(idx.eq(i), () => m.set(r, b)));
        m.when(idx.add(1).eq(len.trunc(idx.width)), () => {
          m.set(state, S.CRC);
          m.set(idx, 0);
        });
      }],
      [S.CRC, () => {
        // The received CRC, checked a byte at a time against the computed one as it shifts out.
        const ok = crcOk.and(b.eq(crcLow));
        m.set(idx, idx.add(1));
        m.set(crc, crcShifted);
        m.set(crcOk, ok);
        // Verified: act. Not verified: drop it unanswered.
        m.when(idx.eq(3), () => m.when(ok, () => m.set(state, S.EXEC)).otherwise(() => restartOn(b)));
      }],
    ]);
  });

  // ---- the answer ----------------------------------------------------------------------
  const answerLater = m.wire('answer_later', Bool, { default: 0 });
  const answerNow = m.wire('answer_now', Bool, { default: 0 });
  const execNow = m.let('exec_now', state.eq(S.EXEC));
  m.when(execNow, () => m.set(state, mux(answerLater, S.WAIT, S.SEND)));
  m.when(state.eq(S.WAIT).and(answerNow), () => m.set(state, S.SEND));

  // Header (9 bytes), status, body (bodyLen bytes), CRC (4 bytes).
  const oi = m.reg('out_idx', UInt(oBits));
  const txFire = m.let('tx_fire', tx.valid.and(tx.ready));
  const ans: AnswerSide = {
    answerLater,
    answerNow,
    status: lit(0, UInt(8)),
    bodyLen: lit(0, UInt(oBits)),
    bodyByte: lit(0, UInt(8)),
    bodyValid: lit(1, Bool),
    sending,
    index: oi,
    bodyFire: lit(0, Bool),
    done: lit(0, Bool),
  };
  // The body's extent and the handshakes depend on the executor's bodyLen: declared now, driven in finish().
  const inBody = m.wire('in_body', Bool);
  const bodyFire = m.let('body_fire', txFire.and(inBody));
  const lastOut = m.wire('last_out', Bool);
  const done = m.let('answer_done', sending.and(txFire).and(lastOut));
  Object.assign(ans, { bodyFire, done });
  const req: RequestSide = { seq, op, len, headerOk, payValid, payByte: b, payIndex: idx, fields: pay, valid: execNow };

  const finish = (): void => {
    const respLen = m.let('resp_len', ans.bodyLen.add(1));
    const bodyEnd = m.let('body_end', ans.bodyLen.add(BODY_START)); // index of the first CRC byte
    m.set(inBody, oi.ge(BODY_START).and(oi.lt(bodyEnd)));
    m.set(
      byteOut,
      mux(
        oi.lt(BODY_START),
        select(
          oi.trunc(4),
          [
            [0, lit(0xb1, UInt(8))],
            [1, lit(0x7f, UInt(8))],
            [2, seq],
            [3, op.or(0x80)],
            ...[0, 1, 2, 3].map((i) => [4 + i, byteOf(respLen, i)] as const),
            [8, hc],
          ],
          ans.status.zext(8),
        ),
        mux(inBody, ans.bodyByte, crcLow),
      ),
    );
    const byteReady = m.let('byte_ready', inBody.not().or(ans.bodyValid));
    m.set(tx.valid, sending.and(byteReady));
    m.set(tx.data, byteOut);
    m.set(lastOut, oi.eq(bodyEnd.add(3)));
    m.set(txLast, lastOut);
    m.when(execNow, () => {
      m.set(oi, 0);
      m.set(hc, 0x5a);
      m.set(crc, 0xffffffff);
    });
    m.when(sending.and(txFire), () => {
      m.set(oi, oi.add(1));
      m.when(oi.lt(8), () => m.set(hc, hcNext));
      m.when(oi.lt(bodyEnd), () => m.set(crc, crcNext)).otherwise(() => m.set(crc, crcShifted));
      m.when(lastOut, () => m.set(state, S.HUNT));
    });
  };
  return { req, ans, finish };
}
