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
}

export function dualPath(m: ModuleBuilder, p: TernaryParams, d: Derived, io: DualPathInputs): { stall: Value; wstall: Value; idle: Value } {
  const R = p.rows;
  const C = p.cols;
  const A = dualLaneBits(R);
  const s = guardShift(R);
  const mW = Math.max(1, log2ceil(p.mmax)); // a step index, at most mmax - 1
  const wA = log2ceil(p.wdepth);
  const xA = log2ceil(d.xDepth);
  const ktW = Math.max(1, log2ceil(d.kTilesMax + 1));
  const nW = io.N.width;
  const aA = io.amem.mem.addrWidth;
  const { K, N, M } = io;

  // The run's mode, fixed from its start until it is idle (a start needs an idle core).
  const int4 = m.reg('int4_mode', Bool);
  const int4Bit = io.wdata.bit(Math.log2(CTRL.INT4));
  m.when(io.begin, () => m.set(int4, int4Bit));

  // Loop state of stage 0: `step` is the token, or in int4 mode the token pair.
  const nBase = m.reg('n_base', UInt(nW));
  const kt = m.reg('kt', UInt(ktW));
  const step = m.reg('step', UInt(mW));
  const wIdx = m.reg('w_idx', UInt(wA));
  const xRow = m.reg('x_row', UInt(xA + 1)); // step * k_tiles
  const issuing = m.reg('issuing', Bool);

  const inFlight = pipelineCycles(R) + DUAL4_SPLIT_STAGES - 1;
  const room = m.reg('room', Bool);
  m.set(room, io.outLevel.lt(io.outDepth - inFlight - 1).and(io.out.ready));
  const issue = m.let('issue', issuing.and(room));

  // Registered loop bounds, as in core.ts; the last step follows the mode, so it is set at the start.
  const bound = (name: string, v: Value): Value => {
    const q = m.reg(name, v.shape);
    m.set(q, v);
    return q;
  };
  const kTilesQ = bound('k_tiles_q', io.kTiles);
  const ktLastQ = bound('kt_last_q', K.sub(1).shr(log2ceil(R)).trunc(ktW));
  const stepLastQ = m.reg('step_last_q', UInt(mW)); // M - 1, or ceil(M/2) - 1 = (M - 1) >> 1
  const nFarQ = bound('n_far_q', mux(N.le(2 * C), 0, N.sub(2 * C)));
  const lastNQ = m.reg('last_n_q', Bool);
  const kLow = R === 1 ? undefined : K.slice(log2ceil(R) - 1, 0);
  const lastMaskQ = bound('last_mask_q', kLow ? cat(...Array.from({ length: R }, (_, i) => R - 1 - i).map((b) => [0, ...Array.from({ length: R - 1 - b }, (_, j) => b + 1 + j)].map((v) => kLow.eq(v)).reduce((a, e) => a.or(e)))) : lit(1, UInt(1)));
  const lastStep = m.let('last_step', step.eq(stepLastQ));
  const lastKt = m.let('last_kt', kt.eq(ktLastQ));

  m.when(io.begin, () => {
    m.set(issuing, 1);
    m.set(nBase, 0);
    m.set(kt, 0);
    m.set(step, 0);
    m.set(wIdx, io.wBase);
    m.set(lastNQ, N.le(C));
    m.set(xRow, 0);
    m.set(stepLastQ, mux(int4Bit, M.sub(1).shr(1), M.sub(1)).trunc(mW)); // M <= mmax (start_ok)
  });
  m.when(issue, () => {
    m.when(lastStep.not(), () => {
      m.set(step, step.add(1));
      m.set(xRow, xRow.add(kTilesQ.zext(xA + 1)));
    }).otherwise(() => {
      m.set(step, 0);
      m.set(xRow, 0);
      m.set(wIdx, wIdx.add(1));
      m.when(lastKt.not(), () => m.set(kt, kt.add(1))).otherwise(() => {
        m.set(kt, 0);
        m.when(lastNQ, () => m.set(issuing, 0)).otherwise(() => {
          m.set(nBase, nBase.add(C));
          m.set(lastNQ, nBase.ge(nFarQ));
        });
      });
    });
  });
  const laneMask = m.let('lane_mask', cat(...Array.from({ length: R }, (_, i) => lastKt.not().or(lastMaskQ.bit(R - 1 - i)))));

  // ---- stage 0 -> 1 ----------------------------------------------------------------------
  const wWord = io.wmemRead(wIdx, issue.and(step.eq(0)));
  const xWord = io.xmem.readSync(xRow.add(kt.zext(xA + 1)).trunc(xA), { enable: issue, name: 'x_word' });
  const v1 = m.reg('s1_valid', Bool);
  const step1 = m.reg('s1_step', UInt(mW));
  const first1 = m.reg('s1_first', Bool);
  const last1 = m.reg('s1_last', Bool);
  const mask1 = m.reg('s1_mask', UInt(R));
  m.set(v1, issue);
  m.when(issue, () => {
    m.set(step1, step);
    m.set(first1, kt.eq(0));
    m.set(last1, lastKt);
    m.set(mask1, laneMask);
  });

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
  const ctl = { valid: v1 as Value, step: step1 as Value, first: first1 as Value, last: last1 as Value, mask: mask1 as Value | undefined };
  const at = [ctl];
  for (let st = 2; st <= 1 + MEMORY_OUTPUT_STAGES + columnStages(R) + DUAL4_SPLIT_STAGES; st++) {
    const prevCtl = at[at.length - 1]!;
    const next = {} as typeof ctl;
    for (const k of Object.keys(ctl) as (keyof typeof ctl)[]) {
      const v = prevCtl[k];
      if (!v || (k === 'mask' && st > 2)) continue;
      const q = m.reg(`s${st}_${k}`, v.shape);
      m.set(q, v);
      next[k] = q;
    }
    at.push(next);
  }

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
  const wordOf = (ct: typeof ctl): Value => mux(int4, ct.step, ct.step.shr(1)).trunc(aA);
  const rd = at[at.length - 2]!;
  const accOld = io.amem.readSync(wordOf(rd), { enable: rd.valid, name: 'acc_word' });
  const acc = at[at.length - 1]!;
  const word2 = m.let('acc_word_addr', wordOf(acc));
  const odd = m.let('acc_odd', int4.not().and(acc.step.bit(0))); // int8: the token's sums are the hi half
  const wbValid = m.reg('wb_valid', Bool);
  const wbWord = m.reg('wb_word', UInt(aA));
  const wbData = m.reg('wb_data', UInt(2 * C * d.accBits));
  const prev = m.let('acc_prev', mux(wbValid.and(wbWord.eq(word2)), wbData, accOld));
  const B = d.accBits;
  const zeroLo = m.let('zero_lo', acc.first.and(odd.not()));
  const zeroHi = m.let('zero_hi', acc.first.and(int4.or(odd)));
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
