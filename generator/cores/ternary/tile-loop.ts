// Stage 0 of the adder-column paths (core.ts's, and dual-int4.ts's in both its modes): the
// loop over n-tiles, k-tiles and steps that issues one tile-step a cycle, and the control
// registers that walk beside each step's data down the pipeline. A step is a token, or in
// dual4's int4 mode a token pair; the caller says how many a run has.
//
// The loop tests compare counters with registered bounds or step flags, so none is an adder
// and a compare in one stage (the iCE40 figures in README.md are this structure's). The
// bounds follow K, M, N a cycle later, which a run never sees: they are set by register
// writes before the one that starts it.

import { UInt, Bool, mux, cat, lit, type ModuleBuilder, type Signal, type Value } from '../../hdl/index.ts';
import { leConst } from '../const-compare.ts';
import { log2ceil, coreWidths, type Derived, type TernaryParams } from './params.ts';

export interface TileLoopInputs {
  readonly K: Signal;
  readonly N: Signal;
  readonly M: Signal;
  readonly kTiles: Value;
  /** A run starts (CTRL.START accepted) this cycle. */
  readonly begin: Value;
  /** Registered at the K and N writes: K <= rows, N <= cols. */
  readonly kOne: Value;
  readonly nOne: Value;
  /** The run has one step: its value at `begin`, and during the run. */
  readonly stepOneAtBegin: Value;
  readonly stepOne: Value;
  /** Made where the loop needs it: the step one before the last, valid from the cycle after `begin`. */
  readonly stepLast2: () => Value;
  /** Made once `tok` exists: what a step needs to issue besides the loop having one (result room, the tile arrived), all true. */
  readonly ready: (tok: Signal) => readonly Value[];
  /** Block-RAM weights: the tile index counts from here. Absent with DRAM, whose fetcher keeps the address. */
  readonly wBase?: Value;
}

export interface TileLoop {
  readonly issuing: Signal;
  readonly issue: Value;
  /** The step within the tile (token, or token pair). */
  readonly tok: Signal;
  readonly kt: Signal;
  readonly wIdx?: Signal;
  /** tok * k_tiles: the step's first activation beat. */
  readonly xRow: Signal;
  readonly lastKt: Signal;
  /** Lanes past K in the last k-tile read as zero. */
  readonly laneMask: Value;
}

export function tileLoop(m: ModuleBuilder, p: TernaryParams, d: Derived, io: TileLoopInputs): TileLoop {
  const R = p.rows;
  const C = p.cols;
  const { kW, mW, wA, xA, ktW } = coreWidths(p, d);
  const { K, N } = io;

  const nLeft = m.reg('n_left', UInt(N.width)); // columns of N from this n-tile on
  const kt = m.reg('kt', UInt(ktW));
  const tok = m.reg('tok', UInt(mW));
  const wIdx = io.wBase ? m.reg('w_idx', UInt(wA)) : undefined;
  const xRow = m.reg('x_row', UInt(xA + 1)); // tok * k_tiles
  const issuing = m.reg('issuing', Bool);
  const issue = m.let('issue', io.ready(tok).reduce((a, b) => a.and(b), issuing as Value));

  const bound = (name: string, v: Value): Value => {
    const q = m.reg(name, v.shape);
    m.set(q, v);
    return q;
  };
  const kTilesQ = bound('k_tiles_q', io.kTiles);
  // The step and k-tile one before the last: a counter about to step onto its last value.
  // (Unused when a run has one step or K <= rows, where every step or k-tile is the last.)
  const stepLast2 = io.stepLast2();
  const ktLast2Q = bound('kt_last2_q', K.zext(kW + 1).sub(R + 1).shr(log2ceil(R)).trunc(ktW)); // floor((K-1)/R) - 1
  const lastNQ = m.reg('last_n_q', Bool); // n_left <= cols: this n-tile is the last
  // Lanes of the last k-tile: K mod rows of them, all when that is 0; lane b is live when b < K mod rows.
  const kLow = R === 1 ? undefined : K.slice(log2ceil(R) - 1, 0);
  const lastMaskQ = bound('last_mask_q', kLow ? cat(...Array.from({ length: R }, (_, i) => R - 1 - i).map((b) => [0, ...Array.from({ length: R - 1 - b }, (_, j) => b + 1 + j)].map((v) => kLow.eq(v)).reduce((a, e) => a.or(e)))) : lit(1, UInt(1)));
  // tok == last step and kt == ceil(K/rows) - 1, kept as flags that step with the counters, so
  // the issue logic starts from registers.
  const lastTok = m.reg('last_tok', Bool);
  const lastKt = m.reg('last_kt', Bool);

  m.when(io.begin, () => {
    m.set(issuing, 1);
    m.set(nLeft, N);
    m.set(kt, 0);
    m.set(tok, 0);
    if (wIdx) m.set(wIdx, io.wBase!);
    m.set(lastNQ, io.nOne);
    m.set(lastTok, io.stepOneAtBegin);
    m.set(lastKt, io.kOne);
    m.set(xRow, 0);
  });
  m.when(issue, () => {
    m.when(lastTok.not(), () => {
      m.set(tok, tok.add(1));
      m.set(lastTok, tok.eq(stepLast2));
      m.set(xRow, xRow.add(kTilesQ.zext(xA + 1)));
    }).otherwise(() => {
      m.set(tok, 0);
      m.set(lastTok, io.stepOne);
      m.set(xRow, 0);
      if (wIdx) m.set(wIdx, wIdx.add(1));
      m.when(lastKt.not(), () => {
        m.set(kt, kt.add(1));
        m.set(lastKt, kt.eq(ktLast2Q));
      }).otherwise(() => {
        m.set(kt, 0);
        m.set(lastKt, io.kOne);
        m.when(lastNQ, () => m.set(issuing, 0)).otherwise(() => {
          // Counting down compares with a constant: no subtraction and compare in one stage.
          m.set(nLeft, nLeft.sub(C));
          m.set(lastNQ, leConst(nLeft, 2 * C));
        });
      });
    });
  });

  const laneMask = m.let('lane_mask', cat(...Array.from({ length: R }, (_, i) => lastKt.not().or(lastMaskQ.bit(R - 1 - i)))));
  return { issuing, issue, tok, kt, wIdx, xRow, lastKt, laneMask };
}

/** A step's control as it enters s1: its step index, whether it starts or ends the tile's sums, the lane mask. */
export interface StepControl {
  readonly valid: Value;
  readonly tok: Value;
  /** Absent past the stage walkControl stops it at. */
  readonly first?: Value;
  readonly last: Value;
  /** Absent past s2. */
  readonly mask?: Value;
}

/** The s1 control registers of a step issued now. */
export function stepControl(m: ModuleBuilder, loop: TileLoop): StepControl {
  const v1 = m.reg('s1_valid', Bool);
  const tok1 = m.reg('s1_tok', loop.tok.shape);
  const first1 = m.reg('s1_first', Bool);
  const last1 = m.reg('s1_last', Bool);
  const mask1 = m.reg('s1_mask', loop.laneMask.shape);
  m.set(v1, loop.issue);
  m.when(loop.issue, () => {
    m.set(tok1, loop.tok);
    m.set(first1, loop.kt.eq(0));
    m.set(last1, loop.lastKt);
    m.set(mask1, loop.laneMask);
  });
  return { valid: v1, tok: tok1, first: first1, last: last1, mask: mask1 };
}

/**
 * The control walked from s1 to s`lastStage`, one register per stage: at[0] is s1. The lane
 * mask is used where the lanes enter the columns (s2) and goes no further; `first` stops at
 * `firstUntil` (where the accumulate's selects take it).
 */
export function walkControl(m: ModuleBuilder, s1: StepControl, lastStage: number, firstUntil = lastStage): StepControl[] {
  const at = [s1];
  for (let s = 2; s <= lastStage; s++) {
    const prev = at[at.length - 1]!;
    const next: Partial<Record<keyof StepControl, Value>> = {};
    for (const k of ['valid', 'tok', 'first', 'last', 'mask'] as const) {
      const v = prev[k];
      if (!v || (k === 'mask' && s > 2) || (k === 'first' && s > firstUntil)) continue;
      const q = m.reg(`s${s}_${k}`, v.shape);
      m.set(q, v);
      next[k] = q;
    }
    at.push(next as StepControl);
  }
  return at;
}
