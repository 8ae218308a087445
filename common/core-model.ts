// A bit-exact model of the ternary matmul core, tile by tile as the hardware computes
// (lane masking in the last k-tile, padded columns, accumulator width), and its cycle
// model. The regression compares the RTL against both, and this against the plain
// reference (reference.ts).

import type { IntMatrix } from './reference.ts';
import { kTiles, nTiles, type CoreShape } from './core-layout.ts';

/**
 * Registers in one column of the array (generator/cores/ternary/dot.ts): one after every
 * adder level of its log2(rows)-level tree, so that a stage is one carry chain; a one-row
 * column still registers its single term. The activation width changes only how wide
 * each register is, not how many there are.
 */
export function columnStages(rows: number): number {
  return Math.max(1, Math.ceil(Math.log2(rows)));
}

/** Registers between the memories' read data and the column: the weight and activation memories' output registers (w_q, x_q). */
export const MEMORY_OUTPUT_STAGES = 1;

/**
 * Cycles from `start` to the last result entering the output FIFO, beyond one per
 * tile-token step: the issue cycle (the memories' read), their output registers, the
 * column's registers, and the accumulate stage that pushes the result.
 */
export function pipelineCycles(rows: number): number {
  return 1 + MEMORY_OUTPUT_STAGES + columnStages(rows) + 1;
}

export interface CoreRun {
  /** M x N results, as the result beats carry them (padded columns dropped). */
  readonly y: Int32Array;
  /** Tile-token steps: one per cycle when results are taken as fast as they come. */
  readonly steps: number;
  /** CYCLES register without back-pressure. */
  readonly cycles: number;
}

export function modelCore(s: CoreShape, x: IntMatrix, w: IntMatrix): CoreRun {
  const M = x.rows;
  const K = x.cols;
  const N = w.rows;
  if (w.cols !== K) throw new RangeError(`modelCore: X has K=${K}, W has K=${w.cols}`);
  if (K > s.kmax) throw new RangeError(`modelCore: K=${K} exceeds the core's kmax=${s.kmax}`);
  if (M > s.mmax) throw new RangeError(`modelCore: M=${M} exceeds the core's mmax=${s.mmax}`);
  const KT = kTiles(s, K);
  const NT = nTiles(s, N);
  const y = new Int32Array(M * N);
  const acc = new Array<number>(s.cols);
  for (let nt = 0; nt < NT; nt++) {
    for (let m = 0; m < M; m++) {
      acc.fill(0);
      for (let kt = 0; kt < KT; kt++) {
        for (let c = 0; c < s.cols; c++) {
          const n = nt * s.cols + c;
          let dot = 0;
          for (let r = 0; r < s.rows; r++) {
            const k = kt * s.rows + r;
            if (k >= K || n >= N) continue; // masked lane / padded column (weight 0)
            const wv = w.data[n * K + k]!;
            const a = x.data[m * K + k]!;
            dot += wv === 1 ? a : wv === -1 ? -a : 0;
          }
          acc[c] = acc[c]! + dot;
        }
      }
      for (let c = 0; c < s.cols; c++) {
        const n = nt * s.cols + c;
        if (n < N) y[m * N + n] = acc[c]!;
      }
    }
  }
  const steps = NT * KT * M;
  return { y, steps, cycles: steps + pipelineCycles(s.rows) };
}
