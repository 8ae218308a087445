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

/**
 * A dual4 core (generator/cores/ternary/dual-int4.ts) registers each column's dot + carry
 * before it is split into two tokens' sums, so that the accumulate stage stays one carry
 * chain: one stage more than pipelineCycles in both of its modes.
 */
export const DUAL4_SPLIT_STAGES = 1;

/** Tile-token steps of M tokens per tile: one a token, or in a dual4 core's int4 mode one a pair of tokens. */
export function tokenSteps(M: number, int4: boolean): number {
  return int4 ? Math.ceil(M / 2) : M;
}

/** Table entries the table-lookup array (jmax > 0) writes per activation beat: its fill, in cycles. */
export const LUT_FILL = 9;
/** Cycles from a tile accepted by the table-lookup array to its dot products (pipe=out). */
export const LUT_LATENCY = 1;

/** n-tiles of each activation-stationary block: jmax each, the rest in the last. */
export function lutBlocks(jmax: number, nTileCount: number): number[] {
  const out: number[] = [];
  for (let n = 0; n < nTileCount; n += jmax) out.push(Math.min(jmax, nTileCount - n));
  return out;
}

/**
 * CYCLES of a table-lookup core (generator/cores/ternary/lut-path.ts) without back-pressure.
 * A block of J n-tiles has KT*M activation beats; the array takes F + (beats-1)*max(J, F) + J
 * cycles for them (the double-buffered fill, README.md), then LUT_LATENCY to the last sum,
 * then J*M cycles draining the accumulators in n-tile-major order, and one to start the next
 * block; after the last block, 2 cycles to the FIFO and to idle.
 */
export function lutCycles(jmax: number, KT: number, NT: number, M: number): number {
  const F = LUT_FILL;
  let cycles = 2;
  for (const J of lutBlocks(jmax, NT)) cycles += F + (KT * M - 1) * Math.max(J, F) + J + LUT_LATENCY + J * M + 1;
  return cycles;
}

export interface CoreRun {
  /** M x N results, as the result beats carry them (padded columns dropped). */
  readonly y: Int32Array;
  /** Tile-token steps: one per cycle when results are taken as fast as they come. */
  readonly steps: number;
  /** CYCLES register without back-pressure. */
  readonly cycles: number;
}

/** CYCLES of one run of M tokens over KT k-tiles and NT n-tiles, without back-pressure, for either array; `int4`: a dual4 core's int4 mode. */
export function runCycles(s: Pick<CoreShape, 'jmax' | 'rows' | 'dual4'>, KT: number, NT: number, M: number, int4 = false): number {
  if (int4 && !s.dual4) throw new RangeError('runCycles: int4 mode needs a core generated with dual4=1');
  if (s.dual4) return NT * KT * tokenSteps(M, int4) + pipelineCycles(s.rows) + DUAL4_SPLIT_STAGES;
  return s.jmax ? lutCycles(s.jmax, KT, NT, M) : NT * KT * M + pipelineCycles(s.rows);
}

/** The activation modes a core runs: int8 lanes (act=8) or int4 (act=4), and with dual4=1 both. */
export function coreModes(s: Pick<CoreShape, 'act' | 'dual4'>): ('int8' | 'int4' | 'int4-pairs')[] {
  return s.dual4 ? ['int8', 'int4-pairs'] : [s.act === 4 ? 'int4' : 'int8'];
}

/**
 * The core's results and CYCLES for X (M x K) and W (N x K). `int4`: run in a dual4 core's
 * int4 mode (two tokens a step); the integers are the same, every activation must fit int4.
 */
export function modelCore(s: CoreShape, x: IntMatrix, w: IntMatrix, opts: { int4?: boolean } = {}): CoreRun {
  const int4 = opts.int4 ?? false;
  if (int4 && !s.dual4) throw new RangeError(`modelCore: int4 mode needs a core generated with dual4=1; this core's modes are ${coreModes(s).join(', ')}`);
  if (int4) for (let i = 0; i < x.data.length; i++) if (x.data[i]! < -8 || x.data[i]! > 7) throw new RangeError(`modelCore: int4 mode, X[${Math.floor(i / x.cols)}][${i % x.cols}] = ${x.data[i]} does not fit int4`);
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
  const steps = NT * KT * tokenSteps(M, int4);
  return { y, steps, cycles: runCycles(s, KT, NT, M, int4) };
}
