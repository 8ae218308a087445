// The ternary core's randomized regression, shared by the RTL test (test/cores/ternary.test.ts,
// every configuration) and the post-synthesis test (test/boards/netlist.test.ts, one): shapes
// and data from the seed, K/N/M not multiples of the array, M = 1, maximum K, all-zero and
// all-+-1 weights, extreme activations and result back-pressure, each checked against the
// bit-exact model, results and CYCLES. TERNARY_SOAK=n runs n times as many cases. Each run
// can be handed to a callback (the RTL test's functional coverage samples them).

import assert from 'node:assert/strict';
import type { Tb } from '../../sim/index.ts';
import { matrix, type IntMatrix } from '../../common/reference.ts';
import { modelCore } from '../../common/core-model.ts';
import type { CoreDriver } from '../../sim/drivers/ternary.ts';
import { coreWidths, derive, type TernaryParams } from '../../generator/cores/ternary/params.ts';
import { firstDifference } from './first-difference.ts';
import { REG, CORE_STATUS } from '../../common/core-registers.ts';

export const CONFIGS: readonly TernaryParams[] = [
  { rows: 4, cols: 4, act: 8, format: 2, kmax: 64, mmax: 4, wdepth: 256, acc: 0 },
  { rows: 8, cols: 8, act: 8, format: 5, kmax: 128, mmax: 8, wdepth: 256, acc: 0 },
  { rows: 16, cols: 16, act: 8, format: 2, kmax: 256, mmax: 4, wdepth: 128, acc: 0 },
  { rows: 8, cols: 12, act: 4, format: 5, kmax: 96, mmax: 4, wdepth: 128, acc: 0 },
  // The table-lookup array (jmax > 0): random N up to 3*cols gives 1 to 3 n-tiles, fewer than
  // its fill (fill-bound), and blocks of jmax=2 that do not divide 3 (or 9 in the back-pressure
  // case). Its results leave in bursts of jmax*M (the drain), so back-pressure can only stall
  // it where jmax*mmax is well above the output FIFO's 16 (a 30 % sink takes a third of a burst).
  { rows: 8, cols: 8, act: 8, format: 2, kmax: 64, mmax: 16, wdepth: 256, acc: 0, jmax: 2 },
  { rows: 16, cols: 16, act: 8, format: 5, kmax: 128, mmax: 4, wdepth: 128, acc: 0, jmax: 16 },
  { rows: 4, cols: 6, act: 4, format: 2, kmax: 40, mmax: 8, wdepth: 256, acc: 0, jmax: 4 },
  // dual4: every case in int8 mode, then again with int4 activations in the int4 mode (two
  // tokens a step), so the mode switches between consecutive runs; M odd and even explicitly.
  { rows: 8, cols: 8, act: 8, format: 2, kmax: 64, mmax: 8, wdepth: 256, acc: 0, dual4: 1 },
];
const SOAK = Number(process.env.TERNARY_SOAK ?? 1);

/** The RTL regression's suite; a test's seed comes from its full name, so the same name draws the same cases. */
export const CORE_SUITE = 'ternary matmul core (Verilator vs the bit-exact model)';
export const configName = (p: TernaryParams): string => `${p.rows}x${p.cols} int${p.act} ${p.format === 2 ? '2-bit' : 'trit5'} weights${p.jmax ? `, table-lookup array jmax=${p.jmax}` : ''}${p.dual4 ? ', dual4 (int8 and int4-pair modes)' : ''}`;

export type Kind = 'random' | 'tiny' | 'm1' | 'kmax' | 'zero' | 'pm1' | 'extreme' | 'backpressure' | 'odd' | 'even';
const KINDS: readonly Kind[] = ['random', 'random', 'tiny', 'm1', 'kmax', 'zero', 'pm1', 'backpressure', 'extreme'];
/** A dual4 core's int4-mode cases: the same, and M odd (the last pair's second token absent) and even. */
const KINDS4: readonly Kind[] = [...KINDS, 'odd', 'even'];

/** One checked run, as coverage samples it. */
export interface RunSample {
  readonly p: TernaryParams;
  readonly kind: Kind;
  readonly K: number;
  readonly N: number;
  readonly M: number;
  readonly stalls: number;
  /** The activations hold both ends of their range. */
  readonly extremes: boolean;
  /** Run in a dual4 core's int4 mode. */
  readonly int4: boolean;
}

function randomCase(tb: Tb, p: TernaryParams, kind: Kind, act: number): { x: IntMatrix; w: IntMatrix } {
  const r = tb.rng;
  const lo = -(2 ** (act - 1));
  const hi = 2 ** (act - 1) - 1;
  // Back-pressure needs more results than the core's output FIFO holds, coming faster than a
  // sink that is ready 30 % of cycles takes them: one k-tile (a result per cycle), many n-tiles.
  // (K up to 2 rows gave a result every other cycle, which a seed found too slow to fill the FIFO.)
  const bp = kind === 'backpressure';
  const tiny = kind === 'tiny'; // one partial tile: K < rows, N < cols
  // Every result at an end of its range: each row of W all +1 or all -1, each token's
  // activations all at one end, K = kmax (or one less: a partial last tile), M odd. Random
  // +-1 weights almost never fill a tile's column with one sign, and the full sums are what a
  // too-narrow adder, accumulator or int4 guard gap gets wrong.
  const ext = kind === 'extreme';
  const K = kind === 'kmax' || kind === 'pm1' ? p.kmax : ext ? p.kmax - r.int(0, 1) : bp ? r.int(1, p.rows) : tiny ? r.int(1, Math.max(1, p.rows - 1)) : r.int(1, p.kmax);
  const N = bp ? 8 * p.cols + r.int(0, p.cols - 1) : tiny ? r.int(1, Math.max(1, p.cols - 1)) : kind === 'pm1' ? p.cols * r.int(1, 3) : r.int(1, 3 * p.cols);
  const M = kind === 'm1' ? 1 : bp || kind === 'even' ? p.mmax : kind === 'odd' || ext ? p.mmax - 1 : r.int(1, p.mmax);
  const x = new Int8Array(M * K);
  const w = new Int8Array(N * K);
  // Drawn only for this kind, so every other kind's cases stay those its seed always drew.
  const tokenEnd = ext ? Array.from({ length: M }, () => (r.chance(0.5) ? lo : hi)) : [];
  const rowSign = ext ? Array.from({ length: N }, () => (r.chance(0.5) ? -1 : 1)) : [];
  for (let i = 0; i < x.length; i++) x[i] = ext ? tokenEnd[Math.floor(i / K)]! : kind === 'pm1' ? (r.chance(0.5) ? lo : hi) : r.chance(0.1) ? r.pick([lo, hi]) : r.int(lo, hi);
  for (let i = 0; i < w.length; i++) w[i] = ext ? rowSign[Math.floor(i / K)]! : kind === 'zero' ? 0 : kind === 'pm1' ? (r.chance(0.5) ? -1 : 1) : r.int(-1, 1);
  return { x: matrix(M, K, x, 'X'), w: matrix(N, K, w, 'W') };
}

/**
 * Every case kind (SOAK times) through `drv`, against the model: results `===`, CYCLES = model
 * + STALLS. A dual4 core runs each kind in int8 mode and then, with int4 activations, in its
 * int4 mode (and KINDS4's extra M parities).
 */
export async function coreRegression(drv: CoreDriver, tb: Tb, p: TernaryParams, onRun?: (s: RunSample) => void): Promise<void> {
  await outOfRangeRefused(drv, p);
  const cases: { kind: Kind; int4: boolean }[] = p.dual4 ? KINDS4.flatMap((kind) => [...(KINDS.includes(kind) ? [{ kind, int4: false }] : []), { kind, int4: true }]) : KINDS.map((kind) => ({ kind, int4: false }));
  for (let rep = 0; rep < SOAK; rep++) {
    for (const { kind, int4 } of cases) {
      const act = int4 ? 4 : p.act;
      const { x, w } = randomCase(tb, p, kind, act);
      const model = modelCore(drv.shape, x, w, { int4 });
      const tiles = await drv.loadWeights(w);
      const r = kind === 'backpressure' ? await runWithBackpressure(drv, x, w.rows, int4) : await drv.run(x, w.rows, 0, { int4 });
      const label = `${kind}${int4 ? ' (int4 mode)' : ''}: M=${x.rows} K=${x.cols} N=${w.rows} (${tiles} tiles)`;
      const diff = firstDifference(model.y, r.y, w.rows);
      if (diff) assert.fail(`${label}: results differ from the model at ${diff}`);
      assert.equal(r.cycles, model.cycles + r.stalls, `${label}: CYCLES ${r.cycles} = model ${model.cycles} + STALLS ${r.stalls}`);
      if (kind !== 'backpressure') assert.equal(r.stalls, 0, `${label}: no stalls without back-pressure`);
      else assert.ok(r.stalls > 0, `${label}: back-pressure on the results must stall the issue`);
      tb.log.info(`${label}: ok, ${r.cycles} cycles (${r.stalls} stalled)`);
      const lo = -(2 ** (act - 1));
      onRun?.({ p, kind, K: x.cols, N: w.rows, M: x.rows, stalls: r.stalls, extremes: x.data.includes(lo) && x.data.includes(-lo - 1), int4 });
    }
  }
}

async function runWithBackpressure(drv: CoreDriver, x: IntMatrix, N: number, int4: boolean) {
  drv.setBackpressure(0.7);
  try {
    return await drv.run(x, N, 0, { int4 });
  } finally {
    drv.setBackpressure(0);
  }
}

/**
 * K, M and WBASE out of range are refused (STATUS.REFUSED, not busy), including values whose low
 * bits alone would be in range: the core tests the whole word written, not the bits it keeps.
 * A WADDR past wdepth reads back as wdepth (so it loads nothing). The regression's runs follow, so
 * a core that a refusal left in a bad state fails there.
 */
async function outOfRangeRefused(drv: CoreDriver, p: TernaryParams): Promise<void> {
  // The register widths core.ts gives K, M and WBASE.
  const { kW, mW, wA } = coreWidths(p, derive(p));
  const bad: [string, number, number, number, number][] = [
    ['K = 0', 0, 1, 1, 0],
    ['K = kmax + 1', p.kmax + 1, 1, 1, 0],
    [`K = 2^${kW} + 1 (its low bits are 1)`, 2 ** kW + 1, 1, 1, 0],
    ['K = 2^32 - 1', 0xffffffff, 1, 1, 0],
    ['N = 0', 1, 0, 1, 0],
    ['M = 0', 1, 1, 0, 0],
    ['M = mmax + 1', 1, 1, p.mmax + 1, 0],
    [`M = 2^${mW} + 1 (its low bits are 1)`, 1, 1, 2 ** mW + 1, 0],
    ['WBASE = wdepth', 1, 1, 1, p.wdepth],
    [`WBASE = 2^${wA} (its low bits are 0)`, 1, 1, 1, 2 ** wA],
  ];
  for (const [what, K, N, M, base] of bad) {
    await drv.start(K, N, M, base);
    const status = await drv.readReg(REG.STATUS);
    assert.ok(status & CORE_STATUS.REFUSED, `${what}: STATUS=${status}, expected REFUSED`);
    assert.equal(status & CORE_STATUS.BUSY, 0, `${what}: a refused run must not start`);
  }
  await drv.writeReg(REG.WADDR, 2 ** wA);
  assert.equal(await drv.readReg(REG.WADDR), p.wdepth, `WADDR = 2^${wA} reads back as wdepth`);
}
