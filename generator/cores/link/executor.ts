// The command engine's operations on the ternary core: IDENTIFY, READ_REG, WRITE_REG,
// WRITE_WEIGHTS, MATMUL and RESET (host/link/PROTOCOL.md), behind the framer's request and
// answer bundles (framer.ts). The identity hash IDENTIFY reports comes in on id_hash, so
// the executor of one sizing is the same module on every board.
//
// Payload bytes past the fixed fields: activation beats go straight to the core's scratch
// buffer as they arrive (harmless until a verified MATMUL starts the core); weight tiles go
// to a staging buffer and reach the core only after the CRC is verified.
// Runs (PROTOCOL.md "Runs"): the core starts only for a verified MATMUL whose arguments
// passed the checks (a start written to CTRL with WRITE_REG is refused), only once the
// core's result path is empty, and its answer takes exactly the results it counted;
// results offered at any other time are discarded. So every run is bounded by checked
// arguments, and no answer can carry another run's results.
//
// Every counter is sized from the core's limits (kmax, mmax, wdepth, stage) and the
// protocol's 1 MiB payload limit, and the sizes a run needs are counted out by addition
// rather than multiplied: on an iCE40 this keeps the engine under a third of its first
// all-32-bit version (constraints/README.md has the figures).

import { defineModule, UInt, Bool, lit, mux, select, cat, hdlEnum, widthFor, bundlePorts, streamSpec, type Value } from '../../hdl/index.ts';
import { identityBytes, engineResultBits, type EngineSizing } from './engine.ts';
import { OP, STATUS, MAX_ANSWER, MATMUL_ARGS_BYTES } from '../../../common/protocol.ts';
import { BODY_START, requestSpec, answerSpec, indexBits } from './framer.ts';
import { nameWith } from '../naming.ts';
import { BOARD_PARAMS, defaultsOf } from '../param-table.ts';
import { REG, CTRL } from '../../../common/core-registers.ts';

/** What the executor does after a request's first cycle. */
export const ExecState = hdlEnum('exec_state', ['IDLE', 'READ', 'WCOPY', 'MSETUP'], { prefix: 'X_' });

/** WRITE_WEIGHTS, verified: point the core at the first tile, restart its weight loading, then read and send each staged tile; wait for the core. */
export const WCopyStep = hdlEnum('wcopy_step', ['SET_WADDR', 'SET_CTRL', 'READ', 'SEND', 'DRAIN'], { prefix: 'W_', width: 3 });
/** MATMUL, verified: walk the n-tiles and the tokens (the run's checks), load K, N, M, WBASE, start. */
export const MatmulStep = hdlEnum('matmul_step', ['WALK_N', 'WALK_M', 'SET_K', 'SET_N', 'SET_M', 'SET_WBASE', 'START'], { prefix: 'M_', width: 3 });

/** The steps of a MATMUL answer's trailer (CYCLES and STALLS after the results), in order. */
export const TrailerStep = hdlEnum('trailer_step', ['ASK_CYCLES', 'WAIT_CYCLES', 'TAKE_CYCLES', 'SEND_CYCLES', 'WAIT_STALLS', 'TAKE_STALLS', 'SEND_STALLS'], { prefix: 'T_' });

/** The largest answer body of an engine of this sizing, after the status byte. */
export function bodyMax(p: EngineSizing): number {
  return Math.max(identityBytes({ ...p, h0: 0, h1: 0, h2: 0, h3: 0, h4: 0, h5: 0, h6: 0, h7: 0 }).length, 4, resultsMax(p) * 4 * p.cols + 8);
}

/**
 * Result beats one answer may carry. Every n-tile of a run uses at least one weight tile,
 * so a run has at most wdepth n-tiles and wdepth * mmax result beats; and an answer is a
 * frame like any other, at most MAX_PAYLOAD bytes (the status, the results, CYCLES and
 * STALLS): a run asking for more results than that is refused rather than answered with a
 * frame every receiver drops as garbage.
 */
export function resultsMax(p: EngineSizing): number {
  return Math.min(p.wdepth * p.mmax, Math.floor(MAX_ANSWER / (4 * p.cols)));
}

/** What an executor's name carries besides its shape (naming.ts). */
const EXEC_TAGS = [['kmax', 'k'], ['mmax', 'm'], ['wdepth', 'w'], ['stage', 's'], ['dual4', 'dual']] as const;

export const linkExecutor = defineModule(
  'link_exec',
  (m, p: EngineSizing) => {
    const X = ExecState;
    const req = bundlePorts(m, 'req', requestSpec(), 'sink');
    const ans = bundlePorts(m, 'ans', answerSpec(indexBits(bodyMax(p))), 'source');
    const reg = {
      addr: m.output('reg_addr', UInt(4), { reg: {} }),
      wdata: m.output('reg_wdata', UInt(32), { reg: {} }),
      we: m.output('reg_we', Bool, { reg: {} }),
      rdata: m.input('reg_rdata', UInt(32)),
    };
    const coreReset = m.output('core_reset', Bool, { reg: {} });
    const coreBusy = m.input('core_busy', Bool);
    const wOut = bundlePorts(m, 'w', streamSpec(UInt(p.wordBits)), 'source');
    const xOut = bundlePorts(m, 'x', streamSpec(UInt(p.xBits)), 'source');
    const yIn = bundlePorts(m, 'y', streamSpec(UInt(engineResultBits(p))), 'sink');
    const idHash = m.input('id_hash', UInt(256));
    const tileBytes = p.wordBits / 8;
    const xBytes = p.xBits / 8;
    const ktMax = Math.ceil(p.kmax / p.rows);
    const xCap = p.mmax * ktMax; // activation beats of the largest MATMUL
    const rMax = resultsMax(p);
    const oBits = ans.body_len.width;
    const bodyFire = m.let('body_fire', ans.body_valid.and(ans.body_ready));
    const wBits = widthFor(p.wdepth + Math.max(ktMax, p.stage));
    const { op, len } = req;
    const pay = Array.from({ length: 16 }, (_, i) => req.fields.slice(8 * i + 7, 8 * i));
    const u32At = (i: number): Value => req.fields.slice(8 * i + 31, 8 * i);
    const b = req.pay_data;
    const idx = req.pay_index;

    const state = m.reg('exec_state', X);
    const copying = m.let('copying', state.eq(X.WCOPY));
    m.set(reg.we, 0);
    m.set(coreReset, 0);
    // dual4: MATMUL_INT4 is a MATMUL in the int4-pairs mode (two tokens an activation beat and a result beat).
    const int4Op = p.dual4 ? m.let('is_matmul_int4', op.eq(OP.MATMUL_INT4)) : undefined;
    const isMatmul = m.let('is_matmul', int4Op ? op.eq(OP.MATMUL).or(int4Op) : op.eq(OP.MATMUL));
    const isWeights = m.let('is_weights', op.eq(OP.WRITE_WEIGHTS));

    // ---- payload bytes as they arrive ----------------------------------------------------
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
    const xWord = p.xBits > 8 ? cat(b, xAsm) : b;
    const wWord = p.wordBits > 8 ? cat(b, wAsm) : b;
    const xFull = m.let('x_full', req.pay_valid.and(isMatmul).and(idx.ge(MATMUL_ARGS_BYTES)).and(xCnt.eq(xBytes - 1)));
    m.set(xOut.valid, xFull);
    m.set(xOut.data, xWord);
    m.when(req.pay_valid.and(isMatmul).and(idx.ge(MATMUL_ARGS_BYTES)), () => {
      if (p.xBits > 8) m.set(xAsm, xWord.slice(p.xBits - 1, 8));
      m.set(xCnt, mux(xCnt.eq(xBytes - 1), 0, xCnt.add(1)));
      m.when(xFull, () => {
        m.when(xBeats.eq(xCap).or(xOut.ready.not()), () => m.set(xOverflow, 1)).otherwise(() => m.set(xBeats, xBeats.add(1)));
      });
    });
    m.when(req.pay_valid.and(isWeights).and(idx.ge(4)), () => {
      if (p.wordBits > 8) m.set(wAsm, wWord.slice(p.wordBits - 1, 8));
      m.set(wCnt, mux(wCnt.eq(tileBytes - 1), 0, wCnt.add(1)));
      m.when(wCnt.eq(tileBytes - 1), () => {
        // Never while copying (payload bytes only come while the framer is in PAY, when the
        // executor is idle): said outright so that synthesis sees the staging buffer's write
        // and read never collide and needs no bypass registers (about 70 flip-flops on an iCE40).
        m.when(stN.lt(p.stage).and(copying.not()), () => stageMem.write(stN.trunc(stageBits), wWord));
        m.when(stN.le(p.stage), () => m.set(stN, stN.add(1)));
      });
    });
    m.when(req.header_ok, () => {
      m.set(xCnt, 0);
      m.set(xBeats, 0);
      m.set(xOverflow, 0);
      m.set(wCnt, 0);
      m.set(stN, 0);
      // A verified header for MATMUL: activations will load from the core's beat 0.
      m.when(isMatmul, () => {
        m.set(reg.addr, REG.CTRL);
        m.set(reg.wdata, CTRL.RESTART_ACTIVATIONS);
        m.set(reg.we, 1);
      });
    });

    // ---- the request, verified ---------------------------------------------------------
    const status = m.reg('status', UInt(3));
    const bodyLen = m.reg('body_len', UInt(oBits)); // answer bytes after the status byte
    // READ_REG's value, then MATMUL's CYCLES and STALLS: sent low byte first, shifted out.
    const word = m.reg('word', UInt(32));
    const resetAfter = m.reg('reset_after', Bool);
    const lenIs = (n: number): Value => len.eq(n);
    // Sub-steps of WCOPY (WCopyStep) and MSETUP (MatmulStep): one register, two sets of names.
    const stepN = m.reg('step', UInt(3));
    const W = WCopyStep;
    const MS = MatmulStep;
    const counter = m.reg('counter', UInt(Math.max(widthFor(p.wdepth * p.cols), widthFor(p.stage + 1))));
    const wEnd = m.reg('w_end', UInt(wBits)); // one past the last weight tile the run reads
    const resultsLeft = m.reg('results_left', UInt(widthFor(rMax)));
    const mLeft = m.reg('m_left', UInt(widthFor(p.mmax)));
    const beatsWanted = m.reg('beats_wanted', UInt(widthFor(xCap)));
    const K = u32At(4);
    const N = u32At(8);
    const M = u32At(12);
    const first = u32At(0);
    const kBits = widthFor(p.kmax);
    // ceil(K / rows), registered when the request is taken so that the run checks below
    // start from a flip-flop rather than from an adder on the payload fields (the iCE40's
    // critical path). Only read in MSETUP, so only once K <= kmax has been checked.
    const kTiles = m.reg('mm_k_tiles', UInt(widthFor(ktMax)));
    m.when(req.valid, () => m.set(kTiles, K.trunc(kBits).addWide(p.rows - 1).shr(Math.log2(p.rows)).trunc(widthFor(ktMax))));
    const wdBits = widthFor(p.wdepth);
    const identity = identityBytes({ ...p, h0: 0, h1: 0, h2: 0, h3: 0, h4: 0, h5: 0, h6: 0, h7: 0 });
    const later_ = m.wire('answer_later', Bool, { default: 0 });
    const answerNow = m.wire('answer_now', Bool, { default: 0 });
    m.set(req.later, later_);
    m.set(ans.valid, answerNow);
    /** Continue in `next` before answering. */
    const later = (next: Value): void => {
      m.set(state, next);
      m.set(later_, 1);
    };
    /** Answer now, from a later state. */
    const answer = (): void => {
      m.set(state, X.IDLE);
      m.set(answerNow, 1);
    };
    const matmulArm = (): void => {
      // Busy first: a core that is running refuses activation beats, which would otherwise read as too many.
      m.when(len.lt(MATMUL_ARGS_BYTES).or(xCnt.ne(0)), () => m.set(status, STATUS.BAD_LENGTH))
        .elseWhen(coreBusy, () => m.set(status, STATUS.BUSY))
        .elseWhen(K.eq(0).or(K.gt(p.kmax)).or(M.eq(0)).or(M.gt(p.mmax)).or(N.eq(0)).or(xOverflow).or(first.ge(p.wdepth)), () => m.set(status, STATUS.BAD_ARGS))
        .otherwise(() => {
          later(X.MSETUP);
          m.set(wEnd, first.trunc(wdBits).zext(wBits));
          m.set(resultsLeft, 0);
          m.set(mLeft, M.trunc(mLeft.width));
          m.set(beatsWanted, 0);
        });
    };
    m.when(req.valid, () => {
      m.set(status, STATUS.OK);
      m.set(bodyLen, 0);
      m.set(resetAfter, 0);
      m.set(stepN, 0); // the first step of either
      m.set(counter, 0);
      m.switch(op, [
        [OP.IDENTIFY, () => m.when(lenIs(0), () => m.set(bodyLen, identity.length)).otherwise(() => m.set(status, STATUS.BAD_LENGTH))],
        [OP.READ_REG, () => {
          m.when(lenIs(1).and(pay[0]!.ge(16)), () => m.set(status, STATUS.BAD_ARGS)).elseWhen(lenIs(1), () => {
            m.set(reg.addr, pay[0]!.slice(3, 0));
            later(X.READ); // the core's register read takes a cycle
          }).otherwise(() => m.set(status, STATUS.BAD_LENGTH));
        }],
        [OP.WRITE_REG, () => {
          // A run starts only through MATMUL, whose arguments are checked below. A start
          // written to CTRL would run on whatever K/N/M/WBASE hold (N = 2^31 - 1 is hours of
          // work, weights past the memory, results nobody asked for), so it is refused.
          const startsRun = pay[0]!.eq(REG.CTRL).and(pay[1]!.bit(0));
          m.when(lenIs(5).and(pay[0]!.ge(16).or(startsRun)), () => m.set(status, STATUS.BAD_ARGS)).elseWhen(lenIs(5), () => {
            m.set(reg.addr, pay[0]!.slice(3, 0));
            m.set(reg.wdata, cat(pay[4]!, pay[3]!, pay[2]!, pay[1]!));
            m.set(reg.we, 1);
          }).otherwise(() => m.set(status, STATUS.BAD_LENGTH));
        }],
        [OP.RESET, () => m.when(lenIs(0), () => m.set(resetAfter, 1)).otherwise(() => m.set(status, STATUS.BAD_LENGTH))],
        [OP.WRITE_WEIGHTS, () => {
          const end = first.trunc(wdBits).zext(wBits).add(stN.zext(wBits));
          m.when(len.lt(4 + tileBytes).or(wCnt.ne(0)), () => m.set(status, STATUS.BAD_LENGTH))
            .elseWhen(stN.gt(p.stage).or(first.ge(p.wdepth)).or(end.gt(p.wdepth)), () => m.set(status, STATUS.BAD_ARGS))
            .elseWhen(coreBusy, () => m.set(status, STATUS.BUSY))
            .otherwise(() => later(X.WCOPY));
        }],
        [OP.MATMUL, matmulArm],
        ...(int4Op ? [[OP.MATMUL_INT4, matmulArm] as const] : []),
      ], () => m.set(status, STATUS.UNKNOWN_OP));
    });
    const waitRead = m.reg('wait_read', Bool);
    m.when(state.eq(X.READ), () => {
      m.set(waitRead, waitRead.not());
      m.when(waitRead, () => {
        m.set(word, reg.rdata);
        m.set(bodyLen, 4);
        answer();
      });
    });

    // WRITE_WEIGHTS, verified: point the core at the first tile, then copy the staged tiles.
    const stageRead = stageMem.readSync(counter.trunc(stageBits), { enable: copying.and(stepN.eq(W.READ)), name: 'stage_word' });
    m.set(wOut.valid, copying.and(stepN.eq(W.SEND)));
    m.set(wOut.data, stageRead);
    const writeReg = (addr: number, value: Value | number, next: Value): void => {
      m.set(reg.addr, addr);
      m.set(reg.wdata, value);
      m.set(reg.we, 1);
      m.set(stepN, next);
    };
    m.when(copying, () => {
      m.switch(stepN, [
        [W.SET_WADDR, () => writeReg(REG.WADDR, first, W.SET_CTRL)],
        [W.SET_CTRL, () => writeReg(REG.CTRL, CTRL.RESTART_WEIGHTS, W.READ)],
        [W.READ, () => m.set(stepN, W.SEND)],
        [W.SEND, () => {
          m.when(wOut.ready, () => {
            m.set(counter, counter.add(1));
            m.when(counter.add(1).eq(stN.zext(counter.width)), () => m.set(stepN, W.DRAIN)).otherwise(() => m.set(stepN, W.READ));
          });
        }],
        // Answer once the core is idle: weights bound for DRAM are written when their responses are in.
        [W.DRAIN, () => m.when(coreBusy.not(), answer)],
      ]);
    });

    // MATMUL, verified: walk the n-tiles (N / cols, by addition) checking that the run's
    // weights end inside the memory and counting its results, then the activation beats
    // M * ceil(K / rows) the same way; then load the core's registers and start it.
    const refuse = (): void => {
      m.set(status, STATUS.BAD_ARGS);
      answer();
    };
    m.when(state.eq(X.MSETUP), () => {
      m.switch(stepN, [
        [MS.WALK_N, () => {
          const nextEnd = wEnd.add(kTiles.zext(wBits));
          const moreResults = resultsLeft.zext(resultsLeft.width + 1).add(mLeft.zext(resultsLeft.width + 1));
          m.when(counter.zext(32).lt(N), () => {
            m.when(nextEnd.gt(p.wdepth).or(moreResults.gt(rMax)), refuse).otherwise(() => {
              m.set(counter, counter.add(p.cols));
              m.set(wEnd, nextEnd);
              m.set(resultsLeft, resultsLeft.add(mLeft.zext(resultsLeft.width)));
            });
          }).otherwise(() => m.set(stepN, MS.WALK_M));
        }],
        [MS.WALK_M, () => {
          m.when(mLeft.ne(0), () => {
            m.set(beatsWanted, beatsWanted.add(kTiles.zext(beatsWanted.width)));
            // An int4-pairs run has a beat per k-tile for each pair of tokens.
            m.set(mLeft, int4Op ? mux(int4Op.and(mLeft.gt(1)), mLeft.sub(2), mLeft.sub(1)) : mLeft.sub(1));
          }).elseWhen(beatsWanted.ne(xBeats), refuse).otherwise(() => m.set(stepN, MS.SET_K));
        }],
        [MS.SET_K, () => writeReg(REG.K, K, MS.SET_N)],
        [MS.SET_N, () => writeReg(REG.N, N, MS.SET_M)],
        [MS.SET_M, () => writeReg(REG.M, M, MS.SET_WBASE)],
        [MS.SET_WBASE, () => writeReg(REG.WBASE, first, MS.START)],
        // Start only with an empty result path (results nobody asked for are being drained,
        // below), so every result this answer carries comes from this run.
        [MS.START, () => {
          m.when(coreBusy, () => {
            m.set(status, STATUS.BUSY);
            answer();
          }).elseWhen(yIn.valid.not(), () => {
            writeReg(REG.CTRL, int4Op ? mux(int4Op, lit(CTRL.START | CTRL.INT4, UInt(32)), lit(CTRL.START, UInt(32))) : CTRL.START, MS.WALK_N);
            m.set(bodyLen, resultsLeft.zext(oBits).mul(4 * p.cols).trunc(oBits).add(8));
            answer();
          });
        }],
      ]);
    });

    // ---- the answer's body ---------------------------------------------------------------
    // MATMUL results: the core's beat is held (valid/ready) while its bytes go out,
    // little-endian, then CYCLES and STALLS are read into `word` one after the other.
    const byteIdx = m.reg('byte_idx', UInt(widthFor(4 * p.cols - 1))); // within the result beat, or the trailer word
    // The trailer: ask for CYCLES, wait for the register read, take it, send it; the same for STALLS.
    const T = TrailerStep;
    const tstep = m.reg('trailer_step', T);
    const mmSend = m.let('mm_send', ans.sending.and(isMatmul).and(status.eq(STATUS.OK)));
    const resultsPhase = m.let('results_phase', resultsLeft.ne(0));
    // dual4: a result beat has room for two tokens; an int4-pairs run fills both but for the
    // last of an odd M in each n-tile, so the token being sent is counted through the n-tile.
    const pairs = int4Op
      ? { half: m.reg('y_half', Bool), tok: m.reg('y_tok', UInt(widthFor(p.mmax))), M: m.reg('mm_m', UInt(widthFor(p.mmax))) }
      : undefined;
    const yToken = pairs ? mux(pairs.half, yIn.data.slice(64 * p.cols - 1, 32 * p.cols), yIn.data.slice(32 * p.cols - 1, 0)) : yIn.data;
    const yByte = select(byteIdx, Array.from({ length: 4 * p.cols }, (_, i) => [i, yToken.slice(8 * i + 7, 8 * i)] as const), lit(0, UInt(8)));
    const mmValid = m.let('mm_valid', mux(resultsPhase, yIn.valid, tstep.eq(T.SEND_CYCLES).or(tstep.eq(T.SEND_STALLS))));
    const lastYByte = byteIdx.eq(4 * p.cols - 1);
    const tokNext = pairs ? pairs.tok.add(1) : undefined;
    const tileEnd = pairs ? m.let('y_tile_end', tokNext!.eq(pairs.M)) : undefined;
    const secondFollows = pairs ? m.let('y_second_follows', int4Op!.and(pairs.half.not()).and(tileEnd!.not())) : undefined;
    // Results are taken only by a MATMUL answer that still wants them; at any other time
    // whatever the core offers is discarded, so a leftover can never become the next answer.
    m.set(yIn.ready, mux(mmSend.and(resultsPhase), secondFollows ? bodyFire.and(lastYByte).and(secondFollows.not()) : bodyFire.and(lastYByte), 1));
    if (pairs) {
      m.when(req.valid, () => {
        m.set(pairs.half, 0);
        m.set(pairs.tok, 0);
        m.set(pairs.M, M.trunc(widthFor(p.mmax)));
      });
      m.when(bodyFire.and(isMatmul).and(resultsPhase).and(lastYByte), () => {
        m.set(pairs.half, secondFollows!);
        m.set(pairs.tok, mux(tileEnd!, 0, tokNext!));
      });
    }
    m.when(mmSend.and(resultsPhase.not()).and(coreBusy.not()), () => {
      m.switch(tstep, [
        [T.ASK_CYCLES, () => {
          m.set(reg.addr, REG.CYCLES);
          m.set(tstep, T.WAIT_CYCLES);
        }],
        [T.WAIT_CYCLES, () => m.set(tstep, T.TAKE_CYCLES)],
        [T.TAKE_CYCLES, () => {
          m.set(word, reg.rdata);
          m.set(byteIdx, 0);
          m.set(tstep, T.SEND_CYCLES);
        }],
        [T.SEND_CYCLES, () => m.when(bodyFire.and(byteIdx.eq(3)), () => {
          m.set(reg.addr, REG.STALLS);
          m.set(tstep, T.WAIT_STALLS);
        })],
        [T.WAIT_STALLS, () => m.set(tstep, T.TAKE_STALLS)],
        [T.TAKE_STALLS, () => {
          m.set(word, reg.rdata);
          m.set(byteIdx, 0);
          m.set(tstep, T.SEND_STALLS);
        }],
      ]);
    });
    // IDENTIFY: the version and shape are constants; the hash comes in on id_hash.
    const tableByte = select(
      ans.index,
      identity.map((v, i) => [i + BODY_START, i >= 1 && i <= 32 ? idHash.slice(8 * (i - 1) + 7, 8 * (i - 1)) : lit(v, UInt(8))] as const),
      lit(0, UInt(8)),
    );
    m.set(ans.status, status);
    m.set(ans.body_len, bodyLen);
    m.set(ans.body_data, mux(op.eq(OP.IDENTIFY), tableByte, mux(isMatmul.and(resultsPhase), yByte, word.slice(7, 0))));
    m.set(ans.body_valid, isMatmul.not().or(mmValid));
    m.when(req.valid, () => {
      m.set(byteIdx, 0);
      m.set(tstep, T.ASK_CYCLES);
    });
    m.when(bodyFire, () => {
      m.when(op.eq(OP.READ_REG).or(isMatmul.and(resultsPhase.not())), () => {
        m.set(word, word.shr(8));
        m.set(byteIdx, byteIdx.add(1));
      });
      m.when(isMatmul.and(resultsPhase), () => {
        m.set(byteIdx, mux(lastYByte, 0, byteIdx.add(1)));
        m.when(lastYByte, () => m.set(resultsLeft, resultsLeft.sub(1)));
      });
    });
    m.when(ans.done.and(resetAfter), () => m.set(coreReset, 1));
    return { req, ans, reg, coreReset, coreBusy, w: wOut, x: xOut, y: yIn, idHash };
  },
  {
    name: (p) => nameWith(`link_exec_${p.rows}x${p.cols}_a${p.act}_f${p.format}`, p, EXEC_TAGS, defaultsOf(BOARD_PARAMS)),
  },
);
