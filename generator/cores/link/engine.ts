// The board's command engine: framing (host/link/PROTOCOL.md) and the operations
// IDENTIFY, READ_REG, WRITE_REG, WRITE_WEIGHTS, MATMUL and RESET on the ternary core.
// Bytes come in and go out as valid/ready streams, so the same engine sits behind the
// UART or a PCIe stream.
//
// Receiving: hunt for the sync marker, check the header's rotate-xor byte and the CRC-32
// computed byte by byte as the frame arrives; a frame that fails is dropped unanswered
// and the hunt starts again at the failing byte. Nothing is acted on before the CRC is
// verified (the few payload bytes these operations need are held in registers).
// Sending: the response is produced byte by byte; the header check and CRC units are
// shared with the receiver, which is idle while a response goes out.
// Runs: the core starts only for a verified MATMUL whose arguments passed the checks (a
// start written to CTRL with WRITE_REG is refused), only once the core's result path is
// empty, and its answer takes exactly the results it counted; results offered at any other
// time are discarded. So every run is bounded by checked arguments, and no answer can carry
// another run's results.
//
// Every counter is sized from the core's limits (kmax, mmax, wdepth, stage) and the
// protocol's 1 MiB payload limit, and the sizes a run needs are counted out by addition
// rather than multiplied: on an iCE40 this keeps the engine under a third of its first
// all-32-bit version (constraints/README.md has the figures).

import { defineModule, UInt, Bool, lit, mux, select, cat, bundlePorts, streamSpec, widthFor, type Value } from '../../hdl/index.ts';
import { crc32Step } from './crc32.ts';
import { PROTOCOL_VERSION, OP, STATUS, MAX_PAYLOAD } from '../../../common/protocol.ts';

// The protocol's numbers (version, opcodes, status codes, the payload limit) live in
// common/protocol.ts, which the host and the simulators import too: one definition for both
// ends of the link. Re-exported here for the generator's users.
export { PROTOCOL_VERSION, OP, STATUS, MAX_PAYLOAD };

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
    // Marks a response's last byte, for links that carry frames as packets (AXI4-Stream tlast).
    const txLast = m.output('tx_last', Bool);
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

    // What the counters must hold. Every n-tile of a run uses at least one weight tile, so
    // a run has at most wdepth n-tiles and wdepth * mmax result beats.
    const ktMax = Math.ceil(p.kmax / p.rows);
    const xCap = p.mmax * ktMax; // activation beats of the largest MATMUL
    // A response is a frame like any other, at most MAX_PAYLOAD bytes (the status, the
    // results, CYCLES and STALLS): a run asking for more results than that is refused rather
    // than answered with a frame every receiver drops as garbage.
    const resultsMax = Math.min(p.wdepth * p.mmax, Math.floor((MAX_PAYLOAD - 9) / (4 * p.cols)));
    const identity = identityBytes(p);
    const bodyMax = Math.max(identity.length, 4, resultsMax * 4 * p.cols + 8);
    const oBits = widthFor(bodyMax + 13); // header 10 bytes (with the status), body, CRC 4
    const wBits = widthFor(p.wdepth + Math.max(ktMax, p.stage));

    // ---- receive --------------------------------------------------------------------
    const HUNT = 0, SYNC1 = 1, HDR = 2, HCHK = 3, PAY = 4, CRC = 5, EXEC = 6, EXEC2 = 7, SEND = 8, WCOPY = 9, MSETUP = 10;
    const state = m.reg('state', UInt(4));
    const idx = m.reg('idx', UInt(widthFor(MAX_PAYLOAD))); // byte index within a field
    const hc = m.reg('hc', UInt(8));
    const crc = m.reg('crc', UInt(32));
    const crcOk = m.reg('crc_ok', Bool);
    const seq = m.reg('seq', UInt(8));
    const op = m.reg('op', UInt(8));
    const len = m.reg('len', UInt(32));
    const pay = Array.from({ length: 16 }, (_, i) => m.reg(`pay${i}`, UInt(8)));
    const u32At = (i: number): Value => cat(pay[i + 3]!, pay[i + 2]!, pay[i + 1]!, pay[i]!);
    const byteOf = (v: Value, i: number): Value => (8 * i < v.width ? v.slice(Math.min(8 * i + 7, v.width - 1), 8 * i).zext(8) : lit(0, UInt(8)));
    const sending = m.let('sending', state.eq(SEND));
    const byteOut = m.wire('byte_out', UInt(8));

    // A header that fails its check may have swallowed the start of a real frame: its
    // bytes after the false sync are replayed through the hunt, ahead of new input. A
    // header is 9 bytes and the replay 8, so a replay never holds a whole failing header
    // and never needs to grow.
    const RQ = 8;
    const rq = Array.from({ length: RQ }, (_, i) => m.reg(`replay${i}`, UInt(8)));
    const rqCount = m.reg('replay_count', UInt(4));
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
    const xCnt = m.reg('x_cnt', UInt(widthFor(xBytes - 1)));
    const xBeats = m.reg('x_beats', UInt(widthFor(xCap)));
    const xOverflow = m.reg('x_overflow', Bool); // more beats than a MATMUL can use, or the core refused one
    const wAsm = m.reg('w_asm', UInt(Math.max(1, p.wordBits - 8)));
    const wCnt = m.reg('w_cnt', UInt(widthFor(tileBytes - 1)));
    const stN = m.reg('stage_n', UInt(widthFor(p.stage + 1))); // tiles received, stopping at stage + 1 (too many)
    const stageBits = Math.max(1, Math.log2(Math.max(2, p.stage)));
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
        m.when(xBeats.eq(xCap).or(xOut.ready.not()), () => m.set(xOverflow, 1)).otherwise(() => m.set(xBeats, xBeats.add(1)));
      });
    });
    m.when(payByte.and(isWeights).and(idx.ge(4)), () => {
      if (p.wordBits > 8) m.set(wAsm, wWord.slice(p.wordBits - 1, 8));
      m.set(wCnt, mux(wCnt.eq(tileBytes - 1), 0, wCnt.add(1)));
      m.when(wCnt.eq(tileBytes - 1), () => {
        m.when(stN.lt(p.stage), () => stageMem.write(stN.trunc(stageBits), wWord));
        m.when(stN.le(p.stage), () => m.set(stN, stN.add(1)));
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
          m.when(b.ne(hc).or(len.gt(MAX_PAYLOAD)), () => {
            m.set(state, HUNT);
            m.set(failHeader, 1);
          }).otherwise(() => {
            m.set(state, mux(len.eq(0), CRC, PAY));
            m.set(crcOk, 1);
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
          m.when(idx.add(1).eq(len.trunc(idx.width)), () => {
            m.set(state, CRC);
            m.set(idx, 0);
          });
        }],
        [CRC, () => {
          // The received CRC, checked a byte at a time against the computed one as it shifts out.
          const ok = crcOk.and(b.eq(crcLow));
          m.set(idx, idx.add(1));
          m.set(crc, crcShifted);
          m.set(crcOk, ok);
          // Verified: act. Not verified: drop it unanswered.
          m.when(idx.eq(3), () => m.when(ok, () => m.set(state, EXEC)).otherwise(() => restartOn(b)));
        }],
      ]);
    });

    // ---- execute ------------------------------------------------------------------------
    const status = m.reg('status', UInt(3));
    const bodyLen = m.reg('body_len', UInt(oBits)); // response payload bytes after the status byte
    // READ_REG's value, then MATMUL's CYCLES and STALLS: sent low byte first, shifted out.
    const word = m.reg('word', UInt(32));
    const resetAfter = m.reg('reset_after', Bool);
    const lenIs = (n: number): Value => len.eq(n);
    const stepN = m.reg('step', UInt(3)); // sub-steps of WCOPY and MSETUP
    const counter = m.reg('counter', UInt(Math.max(widthFor(p.wdepth * p.cols), widthFor(p.stage + 1))));
    const wEnd = m.reg('w_end', UInt(wBits)); // one past the last weight tile the run reads
    const resultsLeft = m.reg('results_left', UInt(widthFor(resultsMax)));
    const mLeft = m.reg('m_left', UInt(widthFor(p.mmax)));
    const beatsWanted = m.reg('beats_wanted', UInt(widthFor(xCap)));
    const K = u32At(4);
    const N = u32At(8);
    const M = u32At(12);
    const first = u32At(0);
    const kBits = widthFor(p.kmax);
    // Only read once K <= kmax has been checked.
    const kTiles = m.let('mm_k_tiles', K.trunc(kBits).addWide(p.rows - 1).shr(Math.log2(p.rows)).trunc(widthFor(ktMax)));
    const wdBits = widthFor(p.wdepth);
    m.when(state.eq(EXEC), () => {
      m.set(state, SEND);
      m.set(status, STATUS.OK);
      m.set(bodyLen, 0);
      m.set(resetAfter, 0);
      m.set(stepN, 0);
      m.set(counter, 0);
      m.switch(op, [
        [OP.IDENTIFY, () => m.when(lenIs(0), () => m.set(bodyLen, identity.length)).otherwise(() => m.set(status, STATUS.BAD_LENGTH))],
        [OP.READ_REG, () => {
          m.when(lenIs(1).and(pay[0]!.ge(16)), () => m.set(status, STATUS.BAD_ARGS)).elseWhen(lenIs(1), () => {
            m.set(regAddr, pay[0]!.slice(3, 0));
            m.set(state, EXEC2); // the core's register read takes a cycle
          }).otherwise(() => m.set(status, STATUS.BAD_LENGTH));
        }],
        [OP.WRITE_REG, () => {
          // A run starts only through MATMUL, whose arguments are checked below. A start
          // written to CTRL would run on whatever K/N/M/WBASE hold (N = 2^31 - 1 is hours of
          // work, weights past the memory, results nobody asked for), so it is refused.
          const startsRun = pay[0]!.eq(0).and(pay[1]!.bit(0));
          m.when(lenIs(5).and(pay[0]!.ge(16).or(startsRun)), () => m.set(status, STATUS.BAD_ARGS)).elseWhen(lenIs(5), () => {
            m.set(regAddr, pay[0]!.slice(3, 0));
            m.set(regWdata, cat(pay[4]!, pay[3]!, pay[2]!, pay[1]!));
            m.set(regWe, 1);
          }).otherwise(() => m.set(status, STATUS.BAD_LENGTH));
        }],
        [OP.RESET, () => m.when(lenIs(0), () => m.set(resetAfter, 1)).otherwise(() => m.set(status, STATUS.BAD_LENGTH))],
        [OP.WRITE_WEIGHTS, () => {
          const end = first.trunc(wdBits).zext(wBits).add(stN.zext(wBits));
          m.when(len.lt(4 + tileBytes).or(wCnt.ne(0)), () => m.set(status, STATUS.BAD_LENGTH))
            .elseWhen(stN.gt(p.stage).or(first.ge(p.wdepth)).or(end.gt(p.wdepth)), () => m.set(status, STATUS.BAD_ARGS))
            .elseWhen(coreBusy, () => m.set(status, STATUS.BUSY))
            .otherwise(() => m.set(state, WCOPY));
        }],
        [OP.MATMUL, () => {
          // Busy first: a core that is running refuses activation beats, which would otherwise read as too many.
          m.when(len.lt(16).or(xCnt.ne(0)), () => m.set(status, STATUS.BAD_LENGTH))
            .elseWhen(coreBusy, () => m.set(status, STATUS.BUSY))
            .elseWhen(K.eq(0).or(K.gt(p.kmax)).or(M.eq(0)).or(M.gt(p.mmax)).or(N.eq(0)).or(xOverflow).or(first.ge(p.wdepth)), () => m.set(status, STATUS.BAD_ARGS))
            .otherwise(() => {
              m.set(state, MSETUP);
              m.set(wEnd, first.trunc(wdBits).zext(wBits));
              m.set(resultsLeft, 0);
              m.set(mLeft, M.trunc(mLeft.width));
              m.set(beatsWanted, 0);
            });
        }],
      ], () => m.set(status, STATUS.UNKNOWN_OP));
    });
    const waitRead = m.reg('wait_read', Bool);
    m.when(state.eq(EXEC2), () => {
      m.set(waitRead, waitRead.not());
      m.when(waitRead, () => {
        m.set(word, regRdata);
        m.set(bodyLen, 4);
        m.set(state, SEND);
      });
    });

    // WRITE_WEIGHTS, verified: point the core at the first tile, then copy the staged tiles.
    const stageRead = stageMem.readSync(counter.trunc(stageBits), { enable: state.eq(WCOPY).and(stepN.eq(2)), name: 'stage_word' });
    m.set(wOut.valid, state.eq(WCOPY).and(stepN.eq(3)));
    m.set(wOut.data, stageRead);
    const writeReg = (addr: number, value: Value | number, next: number): void => {
      m.set(regAddr, addr);
      m.set(regWdata, value);
      m.set(regWe, 1);
      m.set(stepN, next);
    };
    m.when(state.eq(WCOPY), () => {
      m.switch(stepN, [
        [0, () => writeReg(6, first, 1)],
        [1, () => writeReg(0, 0b100, 2)],
        [2, () => m.set(stepN, 3)],
        [3, () => {
          m.when(wOut.ready, () => {
            m.set(counter, counter.add(1));
            m.when(counter.add(1).eq(stN.zext(counter.width)), () => m.set(stepN, 4)).otherwise(() => m.set(stepN, 2));
          });
        }],
        // Answer once the core is idle: weights bound for DRAM are written when their responses are in.
        [4, () => m.when(coreBusy.not(), () => m.set(state, SEND))],
      ]);
    });

    // MATMUL, verified: walk the n-tiles (N / cols, by addition) checking that the run's
    // weights end inside the memory and counting its results, then the activation beats
    // M * ceil(K / rows) the same way; then load the core's registers and start it.
    const refuse = (): void => {
      m.set(status, STATUS.BAD_ARGS);
      m.set(state, SEND);
    };
    m.when(state.eq(MSETUP), () => {
      m.switch(stepN, [
        [0, () => {
          const nextEnd = wEnd.add(kTiles.zext(wBits));
          const moreResults = resultsLeft.zext(resultsLeft.width + 1).add(mLeft.zext(resultsLeft.width + 1));
          m.when(counter.zext(32).lt(N), () => {
            m.when(nextEnd.gt(p.wdepth).or(moreResults.gt(resultsMax)), refuse).otherwise(() => {
              m.set(counter, counter.add(p.cols));
              m.set(wEnd, nextEnd);
              m.set(resultsLeft, resultsLeft.add(mLeft.zext(resultsLeft.width)));
            });
          }).otherwise(() => m.set(stepN, 1));
        }],
        [1, () => {
          m.when(mLeft.ne(0), () => {
            m.set(beatsWanted, beatsWanted.add(kTiles.zext(beatsWanted.width)));
            m.set(mLeft, mLeft.sub(1));
          }).elseWhen(beatsWanted.ne(xBeats), refuse).otherwise(() => m.set(stepN, 2));
        }],
        [2, () => writeReg(2, K, 3)],
        [3, () => writeReg(3, N, 4)],
        [4, () => writeReg(4, M, 5)],
        [5, () => writeReg(5, first, 6)],
        // Start only with an empty result path (results nobody asked for are being drained,
        // below), so every result this answer carries comes from this run.
        [6, () => {
          m.when(coreBusy, () => {
            m.set(status, STATUS.BUSY);
            m.set(state, SEND);
          }).elseWhen(yIn.valid.not(), () => {
            writeReg(0, 1, 0);
            m.set(bodyLen, resultsLeft.zext(oBits).mul(4 * p.cols).trunc(oBits).add(8));
            m.set(state, SEND);
          });
        }],
      ]);
    });

    // ---- send ---------------------------------------------------------------------------------
    // Header (9 bytes), status, body (bodyLen bytes), CRC (4 bytes).
    const oi = m.reg('out_idx', UInt(oBits));
    const respLen = m.let('resp_len', bodyLen.add(1));
    const bodyStart = 10;
    const bodyEnd = m.let('body_end', bodyLen.add(bodyStart)); // index of the first CRC byte
    const inBody = m.let('in_body', oi.ge(bodyStart).and(oi.lt(bodyEnd)));
    const txFire = m.let('tx_fire', tx.valid.and(tx.ready));
    // MATMUL results: the core's beat is held (valid/ready) while its bytes go out,
    // little-endian, then CYCLES and STALLS are read into `word` one after the other.
    const byteIdx = m.reg('byte_idx', UInt(widthFor(4 * p.cols - 1))); // within the result beat, or the trailer word
    const tstep = m.reg('trailer_step', UInt(3));
    const T_CYCLES = 3, T_STALLS = 6; // steps at which the word is being sent
    const mmSend = m.let('mm_send', sending.and(isMatmul).and(status.eq(STATUS.OK)));
    const resultsPhase = m.let('results_phase', resultsLeft.ne(0));
    const yByte = select(byteIdx, Array.from({ length: 4 * p.cols }, (_, i) => [i, yIn.data.slice(8 * i + 7, 8 * i)] as const), lit(0, UInt(8)));
    const mmValid = m.let('mm_valid', mux(resultsPhase, yIn.valid, tstep.eq(T_CYCLES).or(tstep.eq(T_STALLS))));
    const bodyFire = m.let('body_fire', txFire.and(inBody));
    const lastYByte = byteIdx.eq(4 * p.cols - 1);
    // Results are taken only by a MATMUL answer that still wants them; at any other time
    // whatever the core offers is discarded, so a leftover can never become the next answer.
    m.set(yIn.ready, mux(mmSend.and(resultsPhase), bodyFire.and(lastYByte), 1));
    m.when(mmSend.and(resultsPhase.not()).and(coreBusy.not()), () => {
      m.switch(tstep, [
        [0, () => {
          m.set(regAddr, 7);
          m.set(tstep, 1);
        }],
        [1, () => m.set(tstep, 2)],
        [2, () => {
          m.set(word, regRdata);
          m.set(byteIdx, 0);
          m.set(tstep, T_CYCLES);
        }],
        [T_CYCLES, () => m.when(bodyFire.and(byteIdx.eq(3)), () => {
          m.set(regAddr, 8);
          m.set(tstep, 4);
        })],
        [4, () => m.set(tstep, 5)],
        [5, () => {
          m.set(word, regRdata);
          m.set(byteIdx, 0);
          m.set(tstep, T_STALLS);
        }],
      ]);
    });
    const tableByte = select(oi.trunc(7), identity.map((v, i) => [i + bodyStart, lit(v, UInt(8))] as const), lit(0, UInt(8)));
    const bodyByte = mux(op.eq(OP.IDENTIFY), tableByte, mux(isMatmul.and(resultsPhase), yByte, word.slice(7, 0)));
    m.set(
      byteOut,
      mux(
        oi.lt(bodyStart),
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
          status.zext(8),
        ),
        mux(inBody, bodyByte, crcLow),
      ),
    );
    const byteReady = m.let('byte_ready', inBody.and(isMatmul).not().or(mmValid));
    m.set(tx.valid, sending.and(byteReady));
    m.set(tx.data, byteOut);
    const lastOut = m.let('last_out', oi.eq(bodyEnd.add(3)));
    m.set(txLast, lastOut);
    m.when(state.eq(EXEC), () => {
      m.set(oi, 0);
      m.set(hc, 0x5a);
      m.set(crc, 0xffffffff);
      m.set(byteIdx, 0);
      m.set(tstep, 0);
    });
    m.when(sending.and(txFire), () => {
      m.set(oi, oi.add(1));
      m.when(oi.lt(8), () => m.set(hc, hcNext));
      m.when(oi.lt(bodyEnd), () => m.set(crc, crcNext)).otherwise(() => m.set(crc, crcShifted));
      m.when(inBody.and(op.eq(OP.READ_REG).or(isMatmul.and(resultsPhase.not()))), () => {
        m.set(word, word.shr(8));
        m.set(byteIdx, byteIdx.add(1));
      });
      m.when(inBody.and(isMatmul).and(resultsPhase), () => {
        m.set(byteIdx, mux(lastYByte, 0, byteIdx.add(1)));
        m.when(lastYByte, () => m.set(resultsLeft, resultsLeft.sub(1)));
      });
      m.when(lastOut, () => {
        m.set(state, HUNT);
        m.when(resetAfter, () => m.set(coreReset, 1));
      });
    });
    return { rx, tx, txLast, reg: { addr: regAddr, wdata: regWdata, we: regWe, rdata: regRdata }, coreReset, coreBusy, w: wOut, x: xOut, y: yIn };
  },
  { name: () => 'link_engine' },
);
