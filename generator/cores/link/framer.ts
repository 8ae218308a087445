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
// Its body depends only on the width of the answer's byte index and on `idle`, so one
// framer module serves engines of many sizings.

import { defineModule, UInt, Bool, lit, mux, select, cat, hdlEnum, widthFor, bundlePorts, streamSpec, fwd, bwd, type Value } from '../../hdl/index.ts';
import { nameWith } from '../naming.ts';
import { BOARD_PARAMS, defaultsOf } from '../param-table.ts';
import { crc32Step } from './crc32.ts';
import { MAX_PAYLOAD, SYNC0, SYNC1, HEADER_BYTES, TRAILER_BYTES, HEADER_CHECK_SEED, MATMUL_ARGS_BYTES } from '../../../common/protocol.ts';
import { crc32Update } from '../../../common/crc32.ts';

/** The framer's states, in this order: a state below EXEC takes input bytes. */
export const FrameState = hdlEnum('frame_state', ['HUNT', 'SYNC1', 'HDR', 'HCHK', 'PAY', 'CRC', 'EXEC', 'WAIT', 'SEND'], { prefix: 'S_' });

/**
 * Framer → executor (the framer's side is the source): the request as it comes in. The
 * header's fields (op and len are final once header_ok has been seen); header_ok for one
 * cycle when the header passed its check (len <= MAX_PAYLOAD); each payload byte for one
 * cycle as it arrives (no back-pressure: the executor takes every byte), with its index
 * from 0; the first 16 payload bytes held (byte 0 in the low bits: every operation's fixed
 * fields); `valid` for one cycle once the CRC is verified (state EXEC). In that cycle the
 * executor raises `later` if its answer needs more cycles; it then raises the answer's
 * `valid` when status and body length are final. Otherwise the answer goes out at once.
 */
export function requestSpec() {
  return {
    op: fwd(UInt(8)),
    len: fwd(UInt(32)),
    header_ok: fwd(Bool),
    pay_valid: fwd(Bool),
    pay_data: fwd(UInt(8)),
    pay_index: fwd(UInt(widthFor(MAX_PAYLOAD))),
    fields: fwd(UInt(128)),
    valid: fwd(Bool),
    later: bwd(Bool),
  } as const;
}

/**
 * Executor → framer (the executor's side is the source): the answer. `valid`: the answer
 * asked for with `later` is ready. `status` and `body_len` (bytes after the status) are
 * read while it goes out; the body is a valid/ready byte stream of body_len bytes, the
 * byte at `index` (the low 7 bits of the framer's position in the frame, the body starting
 * at BODY_START: enough for the one body that is a table, IDENTIFY's 53 bytes (IDENTITY_BYTES) from position 10);
 * `sending` is high while the answer goes out and `done` for the cycle its last byte is taken.
 */
export function answerSpec(indexBits: number) {
  return {
    valid: fwd(Bool),
    status: fwd(UInt(3)),
    body_len: fwd(UInt(indexBits)),
    body_valid: fwd(Bool),
    body_data: fwd(UInt(8)),
    body_ready: bwd(Bool),
    index: bwd(UInt(INDEX_SEEN)),
    sending: bwd(Bool),
    done: bwd(Bool),
  } as const;
}

/** Bits of the frame position the executor sees (answerSpec's `index`). */
export const INDEX_SEEN = 7;

/** Bits of an answer's byte index for answers of at most `bodyMax` bytes after the status: header 10 bytes (with the status), body, CRC 4. */
export const indexBits = (bodyMax: number): number => widthFor(HEADER_BYTES + 1 + bodyMax + TRAILER_BYTES);

export interface FramerParams {
  /** Bits of the answer's byte index (indexBits()). */
  readonly index: number;
  /** Quiet cycles after which a frame in progress is abandoned (a power of two). */
  readonly idle: number;
  [k: string]: number;
}

/** Index of the first body byte in an answer: 9 header bytes and the status. */
export const BODY_START = HEADER_BYTES + 1;

const rotl8 = (x: number): number => ((x << 1) | (x >>> 7)) & 0xff;
const byteOf = (v: Value, i: number): Value => (8 * i < v.width ? v.slice(Math.min(8 * i + 7, v.width - 1), 8 * i).zext(8) : lit(0, UInt(8)));

export const linkFramer = defineModule(
  'link_framer',
  (m, p: FramerParams) => {
    const rx = bundlePorts(m, 'rx', streamSpec(UInt(8)), 'sink');
    const tx = bundlePorts(m, 'tx', streamSpec(UInt(8)), 'source');
    // Marks an answer's last byte, for links that carry frames as packets (AXI4-Stream tlast).
    const txLast = m.output('tx_last', Bool);
    const req = bundlePorts(m, 'req', requestSpec(), 'source');
    const ans = bundlePorts(m, 'ans', answerSpec(p.index), 'sink');
    const S = FrameState;
    const oBits = p.index;
    const state = m.reg('state', S);
    const idx = m.reg('idx', UInt(widthFor(MAX_PAYLOAD))); // byte index within a field
    const hc = m.reg('hc', UInt(8));
    const crc = m.reg('crc', UInt(32));
    const crcOk = m.reg('crc_ok', Bool);
    const seq = m.reg('seq', UInt(8));
    const op = m.reg('op', UInt(8));
    const len = m.reg('len', UInt(32));
    // The first bytes of a payload, enough for the largest argument block (MATMUL's).
    const pay = Array.from({ length: MATMUL_ARGS_BYTES }, (_, i) => m.reg(`pay${i}`, UInt(8)));
    const sending = m.let('sending', state.eq(S.SEND));
    const byteOut = m.wire('byte_out', UInt(8));

    // A header that fails its check may have swallowed the start of a real frame: its
    // bytes after the false sync are replayed through the hunt, ahead of new input. A
    // header is 9 bytes and the replay 8, so a replay never holds a whole failing header
    // and never needs to grow.
    const RQ = HEADER_BYTES - 1;
    const rq = Array.from({ length: RQ }, (_, i) => m.reg(`replay${i}`, UInt(8)));
    const rqCount = m.reg('replay_count', UInt(4));
    const replaying = m.let('replaying', rqCount.ne(0));
    m.set(rx.ready, state.lt(S.EXEC).and(replaying.not()));
    const take = m.let('take', state.lt(S.EXEC).and(replaying.or(rx.valid)));
    const b = m.let('in_byte', mux(replaying, rq[0]!, rx.data));
    // Consuming a replayed byte shifts the queue; a failed header pushes its bytes in front.
    const failHeader = m.wire('fail_header', Bool, { default: 0 });
    const headerOk = m.wire('header_ok', Bool, { default: 0 });
    m.set(req.header_ok, headerOk);
    m.when(take.and(replaying), () => {
      rq.forEach((r, i) => m.set(r, i + 1 < RQ ? rq[i + 1]! : lit(0, UInt(8))));
      m.set(rqCount, rqCount.sub(1));
    });
    m.when(failHeader, () => {
      // Header bytes 1..8: the second sync byte, the fields as taken, and the failed check.
      const fresh = [lit(SYNC1, UInt(8)), seq, op, ...[0, 1, 2, 3].map((i) => byteOf(len, i)), b];
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
    const hcAfterSync0 = rotl8(HEADER_CHECK_SEED) ^ SYNC0;
    const crcAfterSync0 = crc32Update(0xffffffff, SYNC0);
    const restartOn = (byte: Value): void => {
      // A failed frame: hunt again, treating this byte as a possible first sync byte.
      m.when(byte.eq(SYNC0), () => {
        m.set(state, S.SYNC1);
        m.set(hc, hcAfterSync0);
        m.set(crc, crcAfterSync0);
      }).otherwise(() => m.set(state, S.HUNT));
    };
    m.set(req.pay_valid, take.and(state.eq(S.PAY)));
    m.set(req.pay_data, b);
    m.set(req.pay_index, idx);
    m.set(req.op, op);
    m.set(req.len, len);
    m.set(req.fields, cat(...[...pay].reverse()));

    // A frame that stops arriving (its length was corrupted into a large one, or the host
    // went away mid-frame) is abandoned after `idle` quiet cycles, so the host's retry is
    // heard instead of being swallowed as payload.
    const quiet = m.reg('quiet', UInt(Math.log2(p.idle) + 1));
    const midFrame = m.let('mid_frame', state.ge(S.SYNC1).and(state.le(S.CRC)));
    m.when(take.or(midFrame.not()), () => m.set(quiet, 0)).otherwise(() => m.set(quiet, quiet.add(1)));
    m.when(midFrame.and(quiet.eq(p.idle)), () => m.set(state, S.HUNT));

    m.when(take, () => {
      m.switch(state, [
        [S.HUNT, () => restartOn(b)],
        [S.SYNC1, () => {
          m.when(b.eq(SYNC1), () => {
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
          m.when(idx.eq(TRAILER_BYTES - 1), () => m.when(ok, () => m.set(state, S.EXEC)).otherwise(() => restartOn(b)));
        }],
      ]);
    });

    // ---- the answer ----------------------------------------------------------------------
    const execNow = m.let('exec_now', state.eq(S.EXEC));
    m.set(req.valid, execNow);
    m.when(execNow, () => m.set(state, mux(req.later, S.WAIT, S.SEND)));
    m.when(state.eq(S.WAIT).and(ans.valid), () => m.set(state, S.SEND));

    // Header (9 bytes), status, body (body_len bytes), CRC (4 bytes).
    const oi = m.reg('out_idx', UInt(oBits));
    const txFire = m.let('tx_fire', tx.valid.and(tx.ready));
    m.set(ans.index, oi.trunc(INDEX_SEEN));
    m.set(ans.sending, sending);
    const respLen = m.let('resp_len', ans.body_len.add(1));
    const bodyEnd = m.let('body_end', ans.body_len.add(BODY_START)); // index of the first CRC byte
    const inBody = m.let('in_body', oi.ge(BODY_START).and(oi.lt(bodyEnd)));
    m.set(
      byteOut,
      mux(
        oi.lt(BODY_START),
        select(
          oi.trunc(4),
          [
            [0, lit(SYNC0, UInt(8))],
            [1, lit(SYNC1, UInt(8))],
            [2, seq],
            [3, op.or(0x80)],
            ...[0, 1, 2, 3].map((i) => [4 + i, byteOf(respLen, i)] as const),
            [8, hc],
          ],
          ans.status.zext(8),
        ),
        mux(inBody, ans.body_data, crcLow),
      ),
    );
    const byteReady = m.let('byte_ready', inBody.not().or(ans.body_valid));
    m.set(tx.valid, sending.and(byteReady));
    m.set(tx.data, byteOut);
    m.set(ans.body_ready, sending.and(inBody).and(tx.ready));
    const lastOut = m.let('last_out', oi.eq(bodyEnd.add(3)));
    m.set(txLast, lastOut);
    m.set(ans.done, sending.and(txFire).and(lastOut));
    m.when(execNow, () => {
      m.set(oi, 0);
      m.set(hc, HEADER_CHECK_SEED);
      m.set(crc, 0xffffffff);
    });
    m.when(sending.and(txFire), () => {
      m.set(oi, oi.add(1));
      m.when(oi.lt(HEADER_BYTES - 1), () => m.set(hc, hcNext)); // the check covers bytes 0..7
      m.when(oi.lt(bodyEnd), () => m.set(crc, crcNext)).otherwise(() => m.set(crc, crcShifted));
      m.when(lastOut, () => m.set(state, S.HUNT));
    });
    return { rx, tx, txLast, req, ans };
  },
  {
    name: (p) => nameWith(`link_framer_${p.index}b`, p, [['idle', 'i']], defaultsOf(BOARD_PARAMS)),
  },
);
