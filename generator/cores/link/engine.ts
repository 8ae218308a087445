// The board's command engine: framing (host/link/PROTOCOL.md) and the operations
// IDENTIFY, READ_REG, WRITE_REG, WRITE_WEIGHTS, MATMUL and RESET on the ternary core.
// Bytes come in and go out as valid/ready streams, so the same engine sits behind the
// UART or a PCIe stream.
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
  /** Bits of one weight tile (the core's wordBits) and of one activation beat (xBits); both whole bytes. */
  wordBits: number;
  xBits: number;
  /** Weight tiles one WRITE_WEIGHTS frame may carry (the staging buffer, a power of two). */
  stage: number;
  /** Clock cycles without a byte after which a frame in progress is abandoned (a power of two). */
  idle: number;
  /** The identity hash, 8 words of 32 bits (the core's manifest content hash). */
  h0: number; h1: number; h2: number; h3: number; h4: number; h5: number; h6: number; h7: number;
  [k: string]: number;
}

const rotl8 = (x: number): number => ((x << 1) | (x >>> 7)) & 0xff;
/** The IDENTIFY payload after the status byte. */
export function identityBytes(p: EngineParams): number[] {
  const u32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
  const hash = [p.h0, p.h1, p.h2, p.h3, p.h4, p.h5, p.h6, p.h7].flatMap(u32);
  return [PROTOCOL_VERSION, ...hash, p.rows, p.cols, p.act, p.format, ...u32(p.kmax), ...u32(p.mmax), ...u32(p.wdepth), ...u32(p.stage)];
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
    const coreBusy = m.input('core_busy', Bool);
    const wOut = bundlePorts(m, 'w', streamSpec(UInt(p.wordBits)), 'source');
    const xOut = bundlePorts(m, 'x', streamSpec(UInt(p.xBits)), 'source');
    const yIn = bundlePorts(m, 'y', streamSpec(UInt(32 * p.cols)), 'sink');
    const tileBytes = p.wordBits / 8;
    const xBytes = p.xBits / 8;

    // ---- receive --------------------------------------------------------------------
    const HUNT = 0, SYNC1 = 1, HDR = 2, HCHK = 3, PAY = 4, CRC = 5, EXEC = 6, EXEC2 = 7, SEND = 8, WCOPY = 9, MSETUP = 10;
    const state = m.reg('state', UInt(4));
    const idx = m.reg('idx', UInt(21)); // byte index within a field
    const hc = m.reg('hc', UInt(8));
    const crc = m.reg('crc', UInt(32));
    const seq = m.reg('seq', UInt(8));
    const op = m.reg('op', UInt(8));
    const len = m.reg('len', UInt(32));
    const rcrc = m.reg('rcrc', UInt(32));
    const pay = Array.from({ length: 16 }, (_, i) => m.reg(`pay${i}`, UInt(8)));
    const u32At = (i: number): Value => cat(pay[i + 3]!, pay[i + 2]!, pay[i + 1]!, pay[i]!);

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

    m.set(regWe, 0);
    m.set(coreReset, 0);
    // Payload bytes past the fixed fields: activation beats go straight to the core's
    // scratch buffer (harmless until a verified MATMUL starts the core); weight tiles go to
    // a staging buffer and reach the core only after the CRC is verified.
    const isMatmul = m.let('is_matmul', op.eq(OP.MATMUL));
    const isWeights = m.let('is_weights', op.eq(OP.WRITE_WEIGHTS));
    // Bytes of the beat or tile being assembled (little-endian: the last byte is on top).
    const xAsm = m.reg('x_asm', UInt(Math.max(1, p.xBits - 8)));
    const xCnt = m.reg('x_cnt', UInt(8));
    const xBeats = m.reg('x_beats', UInt(32));
    const xOverflow = m.reg('x_overflow', Bool);
    const wAsm = m.reg('w_asm', UInt(Math.max(1, p.wordBits - 8)));
    const wCnt = m.reg('w_cnt', UInt(16));
    const stN = m.reg('stage_n', UInt(24));
    const stageMem = m.memory('stage_mem', { shape: UInt(p.wordBits), depth: Math.max(2, p.stage) });
    const payByte = m.let('pay_byte', take.and(state.eq(PAY)));
    const xWord = p.xBits > 8 ? cat(b, xAsm) : b;
    const wWord = p.wordBits > 8 ? cat(b, wAsm) : b;
    const xFull = m.let('x_full', payByte.and(isMatmul).and(idx.ge(16)).and(xCnt.eq(xBytes - 1)));
    m.set(xOut.valid, xFull);
    m.set(xOut.data, xWord);
    m.when(payByte.and(isMatmul).and(idx.ge(16)), () => {
      if (p.xBits > 8) m.set(xAsm, xWord.slice(p.xBits - 1, 8));
      m.set(xCnt, mux(xCnt.eq(xBytes - 1), 0, xCnt.add(1)));
      m.when(xFull, () => {
        m.set(xBeats, xBeats.add(1));
        m.when(xOut.ready.not(), () => m.set(xOverflow, 1));
      });
    });
    m.when(payByte.and(isWeights).and(idx.ge(4)), () => {
      if (p.wordBits > 8) m.set(wAsm, wWord.slice(p.wordBits - 1, 8));
      m.set(wCnt, mux(wCnt.eq(tileBytes - 1), 0, wCnt.add(1)));
      m.when(wCnt.eq(tileBytes - 1), () => {
        m.when(stN.lt(p.stage), () => stageMem.write(stN.trunc(Math.max(1, Math.log2(Math.max(2, p.stage)))), wWord));
        m.set(stN, stN.add(1));
      });
    });

    // A frame that stops arriving (its length was corrupted into a large one, or the host
    // went away mid-frame) is abandoned after `idle` quiet cycles, so the host's retry is
    // heard instead of being swallowed as payload.
    const quiet = m.reg('quiet', UInt(Math.log2(p.idle) + 1));
    const midFrame = m.let('mid_frame', state.ge(SYNC1).and(state.le(CRC)));
    m.when(take.or(midFrame.not()), () => m.set(quiet, 0)).otherwise(() => m.set(quiet, quiet.add(1)));
    m.when(midFrame.and(quiet.eq(p.idle)), () => m.set(state, HUNT));

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
          }).otherwise(() => {
            m.set(state, mux(len.eq(0), CRC, PAY));
            m.set(xCnt, 0);
            m.set(xBeats, 0);
            m.set(xOverflow, 0);
            m.set(wCnt, 0);
            m.set(stN, 0);
            // A verified header for MATMUL: activations will load from the core's beat 0.
            m.when(isMatmul, () => {
              m.set(regAddr, 0);
              m.set(regWdata, 0b010);
              m.set(regWe, 1);
            });
          });
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
    const bodyLen = m.reg('body_len', UInt(32)); // response payload bytes after the status byte
    const rvalue = m.reg('rvalue', UInt(32));
    const resetAfter = m.reg('reset_after', Bool);
    const lenIs = (n: number): Value => len.eq(n);
    const stepN = m.reg('step', UInt(4)); // sub-steps of WCOPY and MSETUP
    const counter = m.reg('counter', UInt(32));
    const nTiles = m.reg('n_tiles', UInt(32));
    const resultsLeft = m.reg('results_left', UInt(32));
    const kW = Math.log2(p.rows);
    const K = u32At(4);
    const N = u32At(8);
    const M = u32At(12);
    const kTiles = m.let('mm_k_tiles', K.zext(33).add(p.rows - 1).shr(kW).trunc(24));
    const beatsWanted = m.let('mm_beats', M.slice(15, 0).mul(kTiles));
    const first = u32At(0);
    m.when(state.eq(EXEC), () => {
      m.set(state, SEND);
      m.set(status, STATUS.OK);
      m.set(bodyLen, 0);
      m.set(resetAfter, 0);
      m.set(stepN, 0);
      m.set(counter, 0);
      m.switch(op, [
        [OP.IDENTIFY, () => m.when(lenIs(0), () => m.set(bodyLen, identityBytes(p).length)).otherwise(() => m.set(status, STATUS.BAD_LENGTH))],
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
        [OP.WRITE_WEIGHTS, () => {
          m.when(len.lt(4 + tileBytes).or(wCnt.ne(0)), () => m.set(status, STATUS.BAD_LENGTH))
            .elseWhen(stN.gt(p.stage).or(first.zext(33).add(stN.zext(33)).gt(p.wdepth)), () => m.set(status, STATUS.BAD_ARGS))
            .elseWhen(coreBusy, () => m.set(status, STATUS.BUSY))
            .otherwise(() => m.set(state, WCOPY));
        }],
        [OP.MATMUL, () => {
          m.when(len.lt(16).or(xCnt.ne(0)), () => m.set(status, STATUS.BAD_LENGTH))
            .elseWhen(
              K.eq(0).or(K.gt(p.kmax)).or(M.eq(0)).or(M.gt(p.mmax)).or(N.eq(0)).or(xOverflow).or(xBeats.zext(40).ne(beatsWanted)).or(first.ge(p.wdepth)),
              () => m.set(status, STATUS.BAD_ARGS),
            )
            .elseWhen(coreBusy, () => m.set(status, STATUS.BUSY))
            .otherwise(() => {
              m.set(state, MSETUP);
              m.set(nTiles, 0);
            });
        }],
      ], () => m.set(status, STATUS.UNKNOWN_OP));
    });
    const waitRead = m.reg('wait_read', Bool);
    m.when(state.eq(EXEC2), () => {
      m.set(waitRead, waitRead.not());
      m.when(waitRead, () => {
        m.set(rvalue, regRdata);
        m.set(bodyLen, 4);
        m.set(state, SEND);
      });
    });

    // WRITE_WEIGHTS, verified: point the core at the first tile, then copy the staged tiles.
    const stageRead = stageMem.readSync(counter.trunc(Math.max(1, Math.log2(Math.max(2, p.stage)))), { enable: state.eq(WCOPY).and(stepN.eq(2)), name: 'stage_word' });
    m.set(wOut.valid, state.eq(WCOPY).and(stepN.eq(3)));
    m.set(wOut.data, stageRead);
    m.when(state.eq(WCOPY), () => {
      m.switch(stepN, [
        [0, () => {
          m.set(regAddr, 6);
          m.set(regWdata, first);
          m.set(regWe, 1);
          m.set(stepN, 1);
        }],
        [1, () => {
          m.set(regAddr, 0);
          m.set(regWdata, 0b100);
          m.set(regWe, 1);
          m.set(stepN, 2);
        }],
        [2, () => m.set(stepN, 3)],
        [3, () => {
          m.when(wOut.ready, () => {
            m.set(counter, counter.add(1));
            m.when(counter.add(1).eq(stN.zext(32)), () => m.set(state, SEND)).otherwise(() => m.set(stepN, 2));
          });
        }],
      ]);
    });

    // MATMUL, verified: count the n-tiles (N / cols, by addition), load the core's registers, start.
    m.when(state.eq(MSETUP), () => {
      m.switch(stepN, [
        [0, () => {
          m.when(counter.lt(N), () => {
            m.set(counter, counter.add(p.cols));
            m.set(nTiles, nTiles.add(1));
          }).otherwise(() => m.set(stepN, 1));
        }],
        [1, () => {
          m.set(regAddr, 2);
          m.set(regWdata, K);
          m.set(regWe, 1);
          m.set(stepN, 2);
        }],
        [2, () => {
          m.set(regAddr, 3);
          m.set(regWdata, N);
          m.set(regWe, 1);
          m.set(stepN, 3);
        }],
        [3, () => {
          m.set(regAddr, 4);
          m.set(regWdata, M);
          m.set(regWe, 1);
          m.set(stepN, 4);
        }],
        [4, () => {
          m.set(regAddr, 5);
          m.set(regWdata, first);
          m.set(regWe, 1);
          m.set(stepN, 5);
        }],
        [5, () => {
          m.set(regAddr, 0);
          m.set(regWdata, 1);
          m.set(regWe, 1);
          const results = nTiles.slice(15, 0).mul(M.slice(15, 0)).trunc(32);
          m.set(resultsLeft, results);
          m.set(bodyLen, results.mul(4 * p.cols).trunc(32).add(8));
          m.set(state, SEND);
        }],
      ]);
    });

    // ---- send ---------------------------------------------------------------------------------
    // Header (9 bytes), status, body (bodyLen bytes), CRC (4 bytes).
    const oi = m.reg('out_idx', UInt(32));
    const ohc = m.reg('out_hc', UInt(8));
    const ocrc = m.reg('out_crc', UInt(32));
    const respLen = m.let('resp_len', bodyLen.add(1));
    const bodyStart = 10;
    const bodyEnd = m.let('body_end', bodyLen.zext(33).add(bodyStart).trunc(32)); // index of the first CRC byte
    const bi = m.let('body_idx', oi.sub(bodyStart).trunc(8)); // tables are under 256 bytes
    const inBody = m.let('in_body', oi.ge(bodyStart).and(oi.lt(bodyEnd)));
    // MATMUL results: cols int32 per beat from the core, serialized little-endian, then CYCLES and STALLS.
    const yBuf = m.reg('y_buf', UInt(32 * p.cols));
    const yLeft = m.reg('y_left', UInt(8));
    const trailer = m.reg('trailer', UInt(64));
    const tstep = m.reg('trailer_step', UInt(3)); // 0: results; 1..4: reading CYCLES/STALLS; 5: trailer ready
    const mmSend = m.let('mm_send', state.eq(SEND).and(isMatmul).and(status.eq(STATUS.OK)));
    m.set(yIn.ready, mmSend.and(yLeft.eq(0)).and(resultsLeft.ne(0)));
    m.when(yIn.valid.and(yIn.ready), () => {
      m.set(yBuf, yIn.data);
      m.set(yLeft, 4 * p.cols);
      m.set(resultsLeft, resultsLeft.sub(1));
    });
    m.when(mmSend.and(resultsLeft.eq(0)).and(yLeft.eq(0)).and(coreBusy.not()), () => {
      m.switch(tstep, [
        [0, () => {
          m.set(regAddr, 7);
          m.set(tstep, 1);
        }],
        [1, () => m.set(tstep, 2)],
        [2, () => {
          m.set(trailer, cat(trailer.slice(63, 32), regRdata));
          m.set(regAddr, 8);
          m.set(tstep, 3);
        }],
        [3, () => m.set(tstep, 4)],
        [4, () => {
          m.set(trailer, cat(regRdata, trailer.slice(31, 0)));
          m.set(tstep, 5);
        }],
      ]);
    });
    const mmByte = mux(yLeft.ne(0), yBuf.slice(7, 0), trailer.slice(7, 0));
    const mmReady = m.let('mm_ready', yLeft.ne(0).or(tstep.eq(5)));
    const identity = identityBytes(p);
    const tableByte = mux(
      op.eq(OP.IDENTIFY),
      select(bi, identity.map((v, i) => [i, lit(v, UInt(8))] as const), lit(0, UInt(8))),
      select(bi, [0, 1, 2, 3].map((i) => [i, rvalue.slice(8 * i + 7, 8 * i)] as const), lit(0, UInt(8))),
    );
    const crcOut = ocrc.not();
    const byteOut = m.let(
      'byte_out',
      mux(
        oi.lt(bodyStart),
        select(
          oi.trunc(4),
          [
            [0, lit(0xb1, UInt(8))],
            [1, lit(0x7f, UInt(8))],
            [2, seq],
            [3, op.or(0x80)],
            [4, respLen.slice(7, 0)],
            [5, respLen.slice(15, 8)],
            [6, respLen.slice(23, 16)],
            [7, respLen.slice(31, 24)],
            [8, ohc],
          ],
          status,
        ),
        mux(inBody, mux(isMatmul, mmByte, tableByte), select(oi.sub(bodyEnd).trunc(2), [0, 1, 2, 3].map((i) => [i, crcOut.slice(8 * i + 7, 8 * i)] as const), lit(0, UInt(8)))),
      ),
    );
    const sending = m.let('sending', state.eq(SEND));
    const byteReady = m.let('byte_ready', inBody.and(isMatmul).not().or(mmReady));
    m.set(tx.valid, sending.and(byteReady));
    m.set(tx.data, byteOut);
    const lastOut = m.let('last_out', oi.eq(bodyEnd.add(3)));
    m.when(state.eq(EXEC), () => {
      m.set(oi, 0);
      m.set(ohc, 0x5a);
      m.set(ocrc, 0xffffffff);
      m.set(yLeft, 0);
      m.set(tstep, 0);
    });
    m.when(sending.and(tx.valid).and(tx.ready), () => {
      m.set(oi, oi.add(1));
      m.when(oi.lt(8), () => m.set(ohc, cat(ohc.slice(6, 0), ohc.bit(7)).xor(byteOut)));
      m.when(oi.lt(bodyEnd), () => m.set(ocrc, crc32Step(ocrc, byteOut)));
      m.when(inBody.and(isMatmul), () => {
        m.when(yLeft.ne(0), () => {
          m.set(yBuf, yBuf.shr(8));
          m.set(yLeft, yLeft.sub(1));
        }).otherwise(() => m.set(trailer, trailer.shr(8)));
      });
      m.when(lastOut, () => {
        m.set(state, HUNT);
        m.when(resetAfter, () => m.set(coreReset, 1));
      });
    });
    return { rx, tx, reg: { addr: regAddr, wdata: regWdata, we: regWe, rdata: regRdata }, coreReset, coreBusy, w: wOut, x: xOut, y: yIn };
  },
  { name: () => 'link_engine' },
);
