// The adder-column path of a dual4 core: int8 runs as in core.ts, and an int4 mode chosen per
// run (CTRL.INT4 with START) in which each lane carries two tokens' int4 activations, so a
// run takes ceil(M/2) steps per tile instead of M. The arithmetic (README.md, "Two int4
// tokens a lane"):
//
//   lane value  P = a_lo + 2^s * a_hi     (a_lo: token 2p, a_hi: token 2p+1, s = 5 + log2 rows)
//   column      S = sum_r w_r * P_r = S_lo + 2^s * S_hi      |S_lo| <= 8 * rows < 2^(s-1)
//   split       S_lo = the low s bits of S, sign-extended;  S_hi = (S >> s) + bit s-1 of S
//
// so one column (dot.ts, built for lanes of s + 5 bits) computes both tokens' dot products
// exactly, and the accumulators take both in one step. The lane values are formed from the
// activation word before x_q (the decrement of a_hi by a_lo's sign is a LUT per bit, shared
// by every column); dot + carry is registered (DUAL4_SPLIT_STAGES) so that the accumulate
// stage stays one carry chain.
//
// Accumulators: one word per token pair, {hi token's cols sums, lo token's}. In int4 mode a
// step reads and writes both halves; in int8 mode token m lives in half m & 1 of word m >> 1,
// and a step writes its own half and writes the other back as it read it (forwarded when the
// step before wrote it). Result beats have room for two tokens (common/core-layout.ts
// resultBeatBits): in int4 mode a pair, in int8 mode one token in the low half.
//
// Built for block-RAM weights and the adder columns (params.ts refuses dram and jmax); the
// cycle count is runCycles in common/core-model.ts, which the regression checks.

import { UInt, SInt, Bool, mux, cat, lit, type ModuleBuilder, type Signal, type Value } from '../../hdl/index.ts';
import type { RunInputs } from './path-inputs.ts';
import { ternaryDot } from './dot.ts';
import { tileCodes } from './decode.ts';
import { log2ceil, type Derived, type TernaryParams } from './params.ts';
import { columnStages, pipelineCycles, MEMORY_OUTPUT_STAGES, DUAL4_SPLIT_STAGES } from '../../../common/core-model.ts';
import { resultBeatBits } from '../../../common/core-layout.ts';
import { CTRL } from '../../../common/core-registers.ts';
import { ltConst } from '../const-compare.ts';
import { tileLoop, stepControl, walkControl, type StepControl } from './tile-loop.ts';

/** Bits below token 2p+1's field in a lane value: the lo token's column sum, |S_lo| <= 8 * rows, must fit signed. */
export const guardShift = (rows: number): number => 5 + log2ceil(rows);
/** Bits of a lane value: s for a_lo, 5 for a_hi less a_lo's sign (int8 fits too). */
export const dualLaneBits = (rows: number): number => guardShift(rows) + 5;

/** The accumulator memory of a core: per token (mmax words of cols sums), or with dual4 per token pair. */
export function accMemoryShape(p: TernaryParams, d: Derived): { shape: ReturnType<typeof UInt>; depth: number } {
  if (p.dual4) return { shape: UInt(2 * p.cols * d.accBits), depth: Math.max(2, p.mmax / 2) };
  return { shape: UInt(p.cols * d.accBits), depth: Math.max(2, p.mmax * (p.jmax || 1)) };
}

/** Bits of the core's result stream and output FIFO. */
export const resultBits = (p: TernaryParams): number => resultBeatBits(p);

/** The run's inputs; its accumulators (amem) hold accMemoryShape's words. */
export interface DualPathInputs extends RunInputs {
  /** The register port's write data: CTRL.INT4 of the write that starts a run sets its mode. */
  readonly wdata: Value;
  /** The output FIFO's fill level and its input. */
  readonly outLevel: Value;
  readonly out: { readonly valid: Signal; readonly data: Signal; readonly ready: Value };
  readonly outDepth: number;
  /** Registered at the K, N and M writes: K <= rows, N <= cols, M == 1, M <= 2. */
  readonly flags: { readonly kOne: Value; readonly nOne: Value; readonly mOne: Value; readonly mLe2: Value };
}

export function dualPath(m: ModuleBuilder, p: TernaryParams, d: Derived, io: DualPathInputs): { stall: Value; wstall: Value; idle: Value } {
  const R = p.rows;
  const C = p.cols;
  const A = dualLaneBits(R);
  const s = guardShift(R);
  const xA = log2ceil(d.xDepth);
  const aA = io.amem.mem.addrWidth;
  const { M } = io;

  // The run's mode, fixed from its start until it is idle (a start needs an idle core).
  const int4 = m.reg('int4_mode', Bool);
  const int4Bit = io.wdata.bit(Math.log2(CTRL.INT4));
  m.when(io.begin, () => m.set(int4, int4Bit));

  // Stage 0: core.ts's loop (tile-loop.ts), whose step is the token, or in int4 mode the token
  // pair: a run has M steps, or ceil(M/2). The step flags follow the mode, so they are chosen at
  // the start (from the write that starts the run) and from the mode register after it.
  const inFlight = pipelineCycles(R) + DUAL4_SPLIT_STAGES - 1;
  let room: Value = lit(0, Bool);
  const { kOne, nOne, mOne, mLe2 } = io.flags;
  const loop = tileLoop(m, p, d, {
    K: io.K,
    N: io.N,
    M,
    kTiles: io.kTiles,
    begin: io.begin,
    kOne,
    nOne,
    stepOneAtBegin: mux(int4Bit, mLe2, mOne),
    stepOne: mux(int4, mLe2, mOne),
    stepLast2: () => {
      // The step one before the last: M - 2, or ceil(M/2) - 2 = ((M + 1) >> 1) - 2.
      // Set at the start: the bound follows the mode, which the write that starts the run sets.
      const w = M.width + 1; // M + 1 may need a bit more than M
      const q = m.reg('step_last2_q', UInt(M.width));
      m.when(io.begin, () => m.set(q, mux(int4Bit, M.zext(w).add(1).shr(1).sub(2), M.zext(w).sub(2)).trunc(M.width)));
      return q;
    },
    ready: () => {
      const q = m.reg('room', Bool);
      m.set(q, ltConst(io.outLevel, io.outDepth - inFlight - 1).and(io.out.ready));
      room = q;
      return [room];
    },
    wBase: io.wBase,
  });
  const { issuing, issue, tok, kt, wIdx } = loop;

  // ---- stage 0 -> 1 ----------------------------------------------------------------------
  const wWord = io.wmemRead(wIdx!, issue.and(tok.eq(0)));
  const xWord = io.xmem.readSync(loop.xRow.add(kt.zext(xA + 1)).trunc(xA), { enable: issue, name: 'x_word' });
  const s1 = stepControl(m, loop);

  // ---- stage 1: memory output registers; the lanes widened to lane values on the way --------
  const codes = tileCodes(m, p, d.tileBytes, wWord);
  if (MEMORY_OUTPUT_STAGES !== 1) throw new Error(`dual4 path: built for one memory output register, core-model.ts says ${MEMORY_OUTPUT_STAGES}`);
  const wQ = m.reg('w_q', UInt(2 * R * C));
  const xQ = m.reg('x_q', UInt(R * A));
  m.set(wQ, codes);
  const laneValues: Value[] = [];
  for (let r = R - 1; r >= 0; r--) {
    const byte = xWord.slice(8 * r + 7, 8 * r);
    const lo = byte.slice(3, 0).asSigned();
    const hi = byte.slice(7, 4).asSigned();
    // a_lo + 2^s * a_hi: the low s bits are a_lo's, the top 5 are a_hi less a_lo's borrow.
    const pair = cat(hi.ext(5).sub(lo.msb().zext(5).asSigned()), lo.ext(s));
    laneValues.push(mux(int4, pair, byte.asSigned().ext(A).asUnsigned()));
  }
  m.set(xQ, cat(...laneValues));
  const at = walkControl(m, s1, 1 + MEMORY_OUTPUT_STAGES + columnStages(R) + DUAL4_SPLIT_STAGES);

  // ---- the columns, then dot + carry registered -------------------------------------------
  const lanes: Value[] = [];
  for (let r = R - 1; r >= 0; r--) lanes.push(mux(at[1]!.mask!.bit(r), xQ.slice(r * A + A - 1, r * A), 0));
  const xMasked = m.let('x_masked', cat(...lanes));
  const dotBits = A + log2ceil(R) + 1;
  const sums: Value[] = [];
  for (let c = 0; c < C; c++) {
    const col = m.instance(`col${c}`, ternaryDot({ rows: R, act: A }));
    m.set(col.x, xMasked);
    m.set(col.w, cat(...Array.from({ length: R }, (_, i) => wQ.slice(2 * ((R - 1 - i) * C + c) + 1, 2 * ((R - 1 - i) * C + c)))));
    if (DUAL4_SPLIT_STAGES !== 1) throw new Error(`dual4 path: built for one split register, core-model.ts says ${DUAL4_SPLIT_STAGES}`);
    const sum = m.reg(`dot_sum${c}`, SInt(dotBits));
    m.set(sum, col.dot.add(col.carry.zext(dotBits).asSigned()));
    sums.push(sum);
  }

  // ---- accumulate: both halves of the pair's word ------------------------------------------
  const wordOf = (ct: StepControl): Value => mux(int4, ct.tok, ct.tok.shr(1)).trunc(aA);
  const rd = at[at.length - 2]!;
  const accOld = io.amem.readSync(wordOf(rd), { enable: rd.valid, name: 'acc_word' });
  const acc = at[at.length - 1]!;
  const word2 = m.let('acc_word_addr', wordOf(acc));
  const odd = m.let('acc_odd', int4.not().and(acc.tok.bit(0))); // int8: the token's sums are the hi half
  const wbValid = m.reg('wb_valid', Bool);
  const wbWord = m.reg('wb_word', UInt(aA));
  const wbData = m.reg('wb_data', UInt(2 * C * d.accBits));
  const prev = m.let('acc_prev', mux(wbValid.and(wbWord.eq(word2)), wbData, accOld));
  const B = d.accBits;
  const accFirst = acc.first;
  if (!accFirst) throw new Error('dual4 path: walkControl dropped `first` before the accumulate');
  const zeroLo = m.let('zero_lo', accFirst.and(odd.not()));
  const zeroHi = m.let('zero_hi', accFirst.and(int4.or(odd)));
  const los: Value[] = [];
  const his: Value[] = [];
  for (let c = 0; c < C; c++) {
    const S = sums[c]!;
    const oldLo = prev.slice(c * B + B - 1, c * B).asSigned();
    const oldHi = prev.slice((C + c) * B + B - 1, (C + c) * B).asSigned();
    const sLo = S.slice(s - 1, 0).asSigned().ext(B);
    const sHi = S.slice(dotBits - 1, s).asSigned().ext(B);
    const whole = dotBits > B ? S.trunc(B) : S.ext(B); // an int8 step's sum fits B bits (kmax >= rows)
    const addLo = mux(int4, sLo, mux(odd, 0, whole));
    const addHi = mux(int4, sHi, mux(odd, whole, 0));
    const cinHi = int4.and(S.bit(s - 1)).zext(B).asSigned();
    los.push(m.let(`sum_lo${c}`, mux(zeroLo, 0, oldLo).add(addLo)));
    his.push(m.let(`sum_hi${c}`, mux(zeroHi, 0, oldHi).add(addHi).add(cinHi)));
  }
  const u = (vs: Value[]): Value[] => [...vs].reverse().map((v) => v.asUnsigned());
  const sumWord = m.let('sum_word', cat(...u(his), ...u(los)));
  const writeBack = m.let('write_back', acc.valid.and(acc.last.not()));
  m.when(writeBack, () => io.amem.write(word2, sumWord));
  m.set(wbValid, writeBack);
  m.set(wbWord, word2);
  m.set(wbData, sumWord);
  // Result beat: the step's first token in the low cols words (int8: its own half), int4's second above.
  const lowToken = los.map((lo, c) => mux(odd, his[c]!, lo));
  const highToken = his.map((hi) => mux(int4, hi, 0));
  const i32 = (vs: Value[]): Value[] => [...vs].reverse().map((v) => v.ext(32).asUnsigned());
  m.set(io.out.valid, acc.valid.and(acc.last));
  m.set(io.out.data, cat(...i32(highToken), ...i32(lowToken)));
  if (io.out.data.width !== resultBits(p)) throw new Error(`dual4 path: result beat of ${io.out.data.width} bits, core-layout.ts says ${resultBits(p)}`);
  return { stall: issuing.and(room.not()), wstall: lit(0, Bool), idle: issuing.not().and(cat(...at.map((st) => st.valid)).orReduce().not()) };
}
