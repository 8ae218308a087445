// The board's command engine, first part: framing (host/link/PROTOCOL.md) and the
// register-level operations IDENTIFY, READ_REG, WRITE_REG and RESET. Bytes come in and
// go out as valid/ready streams, so the same engine sits behind the UART or a PCIe
// stream. WRITE_WEIGHTS and MATMUL are not implemented yet: they are answered with
// status 1 (unknown opcode) until they are.
//
// Receiving: hunt for the sync marker, check the header's rotate-xor byte and the CRC-32
// computed byte by byte as the frame arrives; a frame that fails is dropped unanswered
// and the hunt starts again at the failing byte. Nothing is acted on before the CRC is
// verified (the few payload bytes these operations need are held in registers).
// Sending: the response is produced byte by byte with its own running checks.

import { defineModule, UInt, Bool, lit, mux, select, cat, bundlePorts, streamSpec, type Value } from '../../hdl/index.ts';
import { crc32Step } from './crc32.ts';

export const PROTOCOL_VERSION = 1;
export const OP = { IDENTIFY: 0x01, READ_REG: 0x02, WRITE_REG: 0x03, WRITE_WEIGHTS: 0x04, MATMUL: 0x05, RESET: 0x06 } as const;
export const STATUS = { OK: 0, UNKNOWN_OP: 1, BAD_LENGTH: 2, BAD_ARGS: 3, BUSY: 4 } as const;

export interface EngineParams {
  rows: number;
  cols: number;
  act: number;
  format: number;
  kmax: number;
  mmax: number;
  wdepth: number;
  /** The identity hash, 8 words of 32 bits (the core's manifest content hash). */
  h0: number; h1: number; h2: number; h3: number; h4: number; h5: number; h6: number; h7: number;
  [k: string]: number;
}

const rotl8 = (x: number): number => ((x << 1) | (x >>> 7)) & 0xff;
/** The IDENTIFY payload after the status byte. */
export function identityBytes(p: EngineParams): number[] {
  const u32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
  const hash = [p.h0, p.h1, p.h2, p.h3, p.h4, p.h5, p.h6, p.h7].flatMap(u32);
  return [PROTOCOL_VERSION, ...hash, p.rows, p.cols, p.act, p.format, ...u32(p.kmax), ...u32(p.mmax), ...u32(p.wdepth)];
}

export const linkEngine = defineModule(
  'link_engine',
  (m, p: EngineParams) => {
    const rx = bundlePorts(m, 'rx', streamSpec(UInt(8)), 'sink');
    const tx = bundlePorts(m, 'tx', streamSpec(UInt(8)), 'source');
    const regAddr = m.output('reg_addr', UInt(4), { reg: {} });
    const regWdata = m.output('reg_wdata', UInt(32), { reg: {} });
    const regWe = m.output('reg_we', Bool, { reg: {} });
    const regRdata = m.input('reg_rdata', UInt(32));
    const coreReset = m.output('core_reset', Bool, { reg: {} });

    // ---- receive --------------------------------------------------------------------
    const HUNT = 0, SYNC1 = 1, HDR = 2, HCHK = 3, PAY = 4, CRC = 5, EXEC = 6, EXEC2 = 7, SEND = 8;
    const state = m.reg('state', UInt(4));
    const idx = m.reg('idx', UInt(21)); // byte index within a field
    const hc = m.reg('hc', UInt(8));
    const crc = m.reg('crc', UInt(32));
    const seq = m.reg('seq', UInt(8));
    const op = m.reg('op', UInt(8));
    const len = m.reg('len', UInt(32));
    const rcrc = m.reg('rcrc', UInt(32));
    const pay = Array.from({ length: 5 }, (_, i) => m.reg(`pay${i}`, UInt(8)));

    // A header that fails its check may have swallowed the start of a real frame: its
    // bytes after the false sync are replayed through the hunt, ahead of new input. A
    // header is 9 bytes and the replay 8, so a replay never holds a whole failing header
    // and never needs to grow.
    const RQ = 8;
    const rq = Array.from({ length: RQ }, (_, i) => m.reg(`replay${i}`, UInt(8)));
    const rqCount = m.reg('replay_count', UInt(4));
    // Header bytes 1..7 as taken (byte 0 is the sync byte; byte 8 the check being tested).
    const hdr = Array.from({ length: 7 }, (_, i) => m.reg(`hdr${i + 1}`, UInt(8)));
    const replaying = m.let('replaying', rqCount.ne(0));
    m.set(rx.ready, state.lt(EXEC).and(replaying.not()));
    const take = m.let('take', state.lt(EXEC).and(replaying.or(rx.valid)));
    const b = m.let('in_byte', mux(replaying, rq[0]!, rx.data));
    // Consuming a replayed byte shifts the queue; a failed header pushes its bytes in front.
    const failHeader = m.wire('fail_header', Bool, { default: 0 });
    m.when(take.and(replaying), () => {
      rq.forEach((r, i) => m.set(r, i + 1 < RQ ? rq[i + 1]! : lit(0, UInt(8))));
      m.set(rqCount, rqCount.sub(1));
    });
    m.when(failHeader, () => {
      // Replay header bytes 1..7 and this byte (the failed check).
      const fresh = [...hdr, b];
      rq.forEach((r, i) => m.set(r, fresh[i]!));
      m.set(rqCount, 8);
    });
    const hcNext = m.let('hc_next', cat(hc.slice(6, 0), hc.bit(7)).xor(b));
    const crcNext = m.let('crc_next', crc32Step(crc, b));
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
        m.set(state, SYNC1);
        m.set(hc, hcAfterSync0);
        m.set(crc, crcAfterSync0);
      }).otherwise(() => m.set(state, HUNT));
    };

    m.when(take, () => {
      m.switch(state, [
        [HUNT, () => restartOn(b)],
        [SYNC1, () => {
          m.set(hdr[0]!, b);
          m.when(b.eq(0x7f), () => {
            m.set(state, HDR);
            m.set(idx, 0);
            m.set(hc, hcNext);
            m.set(crc, crcNext);
          }).otherwise(() => restartOn(b));
        }],
        [HDR, () => {
          m.set(hc, hcNext);
          m.set(crc, crcNext);
          m.set(idx, idx.add(1));
          hdr.slice(1).forEach((r, i) => m.when(idx.eq(i), () => m.set(r, b)));
          m.switch(idx, [
            [0, () => m.set(seq, b)],
            [1, () => m.set(op, b)],
            [2, () => m.set(len, cat(len.slice(31, 8), b))],
            [3, () => m.set(len, cat(len.slice(31, 16), b, len.slice(7, 0)))],
            [4, () => m.set(len, cat(len.slice(31, 24), b, len.slice(15, 0)))],
            [5, () => {
              m.set(len, cat(b, len.slice(23, 0)));
              m.set(state, HCHK);
            }],
          ]);
        }],
        [HCHK, () => {
          m.set(crc, crcNext);
          m.set(idx, 0);
          m.when(b.ne(hc).or(len.gt(1 << 20)), () => {
            m.set(state, HUNT);
            m.set(failHeader, 1);
          }).otherwise(() => m.set(state, mux(len.eq(0), CRC, PAY)));
        }],
        [PAY, () => {
          m.set(crc, crcNext);
          m.set(idx, idx.add(1));
          pay.forEach((r, i) => m.when(idx.eq(i), () => m.set(r, b)));
          m.when(idx.zext(32).add(1).eq(len), () => {
            m.set(state, CRC);
            m.set(idx, 0);
          });
        }],
        [CRC, () => {
          m.set(idx, idx.add(1));
          m.switch(idx, [
            [0, () => m.set(rcrc, cat(rcrc.slice(31, 8), b))],
            [1, () => m.set(rcrc, cat(rcrc.slice(31, 16), b, rcrc.slice(7, 0)))],
            [2, () => m.set(rcrc, cat(rcrc.slice(31, 24), b, rcrc.slice(15, 0)))],
            [3, () => {
              // Verified: act. Not verified: drop it unanswered.
              m.when(cat(b, rcrc.slice(23, 0)).eq(crc.not()), () => m.set(state, EXEC)).otherwise(() => restartOn(b));
            }],
          ]);
        }],
      ]);
    });

    // ---- execute ------------------------------------------------------------------------
    const status = m.reg('status', UInt(8));
    const respLen = m.reg('resp_len', UInt(8)); // payload bytes including the status byte
    const rvalue = m.reg('rvalue', UInt(32));
    const resetAfter = m.reg('reset_after', Bool);
    m.set(regWe, 0);
    m.set(coreReset, 0);
    const lenIs = (n: number): Value => len.eq(n);
    m.when(state.eq(EXEC), () => {
      m.set(state, SEND);
      m.set(status, STATUS.OK);
      m.set(respLen, 1);
      m.set(resetAfter, 0);
      m.switch(op, [
        [OP.IDENTIFY, () => m.when(lenIs(0), () => m.set(respLen, 1 + identityBytes(p).length)).otherwise(() => m.set(status, STATUS.BAD_LENGTH))],
        [OP.READ_REG, () => {
          m.when(lenIs(1).and(pay[0]!.ge(16)), () => m.set(status, STATUS.BAD_ARGS)).elseWhen(lenIs(1), () => {
            m.set(regAddr, pay[0]!.slice(3, 0));
            m.set(state, EXEC2); // the core's register read takes a cycle
          }).otherwise(() => m.set(status, STATUS.BAD_LENGTH));
        }],
        [OP.WRITE_REG, () => {
          m.when(lenIs(5).and(pay[0]!.ge(16)), () => m.set(status, STATUS.BAD_ARGS)).elseWhen(lenIs(5), () => {
            m.set(regAddr, pay[0]!.slice(3, 0));
            m.set(regWdata, cat(pay[4]!, pay[3]!, pay[2]!, pay[1]!));
            m.set(regWe, 1);
          }).otherwise(() => m.set(status, STATUS.BAD_LENGTH));
        }],
        [OP.RESET, () => m.when(lenIs(0), () => m.set(resetAfter, 1)).otherwise(() => m.set(status, STATUS.BAD_LENGTH))],
      ], () => m.set(status, STATUS.UNKNOWN_OP));
    });
    const waitRead = m.reg('wait_read', Bool);
    m.when(state.eq(EXEC2), () => {
      m.set(waitRead, waitRead.not());
      m.when(waitRead, () => {
        m.set(rvalue, regRdata);
        m.set(respLen, 5);
        m.set(state, SEND);
      });
    });

    // ---- send -----------------------------------------------------------------------------
    const oi = m.reg('out_idx', UInt(8));
    const ohc = m.reg('out_hc', UInt(8));
    const ocrc = m.reg('out_crc', UInt(32));
    const sending = m.let('sending', state.eq(SEND));
    const respBytes = identityBytes(p);
    const payloadIdx = m.let('payload_idx', oi.sub(10));
    const payloadByte = mux(
      op.eq(OP.IDENTIFY).and(status.eq(0)),
      select(payloadIdx, respBytes.map((v, i) => [i, lit(v, UInt(8))] as const), lit(0, UInt(8))),
      select(payloadIdx, [0, 1, 2, 3].map((i) => [i, rvalue.slice(8 * i + 7, 8 * i)] as const), lit(0, UInt(8))),
    );
    const crcOut = ocrc.not();
    const byteOut = m.let(
      'byte_out',
      select(
        oi,
        [
          [0, lit(0xb1, UInt(8))],
          [1, lit(0x7f, UInt(8))],
          [2, seq],
          [3, op.or(0x80)],
          [4, respLen],
          [5, lit(0, UInt(8))],
          [6, lit(0, UInt(8))],
          [7, lit(0, UInt(8))],
          [8, ohc],
          [9, status],
        ],
        mux(
          oi.lt(respLen.zext(8).add(9)),
          payloadByte,
          select(oi.sub(respLen.zext(8).add(9)), [0, 1, 2, 3].map((i) => [i, crcOut.slice(8 * i + 7, 8 * i)] as const), lit(0, UInt(8))),
        ),
      ),
    );
    m.set(tx.valid, sending);
    m.set(tx.data, byteOut);
    const lastOut = m.let('last_out', oi.eq(respLen.zext(8).add(12)));
    m.when(state.eq(EXEC), () => {
      m.set(oi, 0);
      m.set(ohc, 0x5a);
      m.set(ocrc, 0xffffffff);
    });
    m.when(sending.and(tx.ready), () => {
      m.set(oi, oi.add(1));
      m.when(oi.lt(8), () => m.set(ohc, cat(ohc.slice(6, 0), ohc.bit(7)).xor(byteOut)));
      m.when(oi.lt(respLen.zext(8).add(9)), () => m.set(ocrc, crc32Step(ocrc, byteOut)));
      m.when(lastOut, () => {
        m.set(state, HUNT);
        m.when(resetAfter, () => m.set(coreReset, 1));
      });
    });
    return { rx, tx, reg: { addr: regAddr, wdata: regWdata, we: regWe, rdata: regRdata }, coreReset };
  },
  { name: () => 'link_engine' },
);
