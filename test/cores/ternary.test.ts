// Randomized regression of the ternary matmul core under Verilator against the bit-exact
// model (common/core-model.ts): shapes from the seed, K/N/M not multiples of the array, M = 1,
// maximum K, all-zero and all-+-1 weights, extreme activations, result back-pressure,
// both weight formats and both activation widths, on several array shapes. The cycle
// counter is compared with the model's cycle count. TERNARY_SOAK=n runs n times more cases.

import assert from 'node:assert/strict';
import { dutTest, Clock, CoverGroup, type Tb } from '../../sim/index.ts';
import { ternaryMatmul, matrix, type IntMatrix } from '../../common/reference.ts';
import { modelCore } from '../../common/core-model.ts';
import { coreDesign, CoreDriver, resetCore } from '../../sim/drivers/ternary.ts';
import type { TernaryParams } from '../../generator/cores/ternary/params.ts';

const CONFIGS: TernaryParams[] = [
  { rows: 4, cols: 4, act: 8, format: 2, kmax: 64, mmax: 4, wdepth: 256, acc: 0 },
  { rows: 8, cols: 8, act: 8, format: 5, kmax: 128, mmax: 8, wdepth: 256, acc: 0 },
  { rows: 16, cols: 16, act: 8, format: 2, kmax: 256, mmax: 4, wdepth: 128, acc: 0 },
  { rows: 8, cols: 12, act: 4, format: 5, kmax: 96, mmax: 4, wdepth: 128, acc: 0 },
];
const SOAK = Number(process.env.TERNARY_SOAK ?? 1);

type Kind = 'random' | 'tiny' | 'm1' | 'kmax' | 'zero' | 'pm1' | 'backpressure';

/** One run of the regression, as the coverage samples it. */
interface RunSample {
  readonly config: string;
  readonly p: TernaryParams;
  readonly kind: Kind;
  readonly K: number;
  readonly N: number;
  readonly M: number;
  readonly stalls: number;
  readonly extremes: boolean;
}

// What the regression must have exercised, summed over its array shapes: every shape, the
// K/N/M corners the tile loops and lane masking care about, the weight patterns, extreme
// activations, and result back-pressure on every shape. The M x K cross is reported only:
// random shapes do not promise all nine combinations.
const coverage = new CoverGroup<RunSample>('ternary core regression')
  .point('shape', (s) => s.config, CONFIGS.map(configName))
  .point('K', (s) => s, {
    'one partial k-tile (K < rows)': (s) => s.K < s.p.rows,
    'several k-tiles, the last partial': (s) => s.K > s.p.rows && s.K % s.p.rows !== 0,
    'whole k-tiles': (s) => s.K % s.p.rows === 0,
    kmax: (s) => s.K === s.p.kmax,
  })
  .point('N', (s) => s, {
    'one partial n-tile (N < cols)': (s) => s.N < s.p.cols,
    'last n-tile partial': (s) => s.N > s.p.cols && s.N % s.p.cols !== 0,
    'whole n-tiles': (s) => s.N % s.p.cols === 0,
    'more results than the output FIFO holds (>= 8 n-tiles)': (s) => s.N >= 8 * s.p.cols,
  })
  .point('M', (s) => s, { 'M = 1 (decode)': (s) => s.M === 1, '1 < M < mmax': (s) => s.M > 1 && s.M < s.p.mmax, 'M = mmax': (s) => s.M === s.p.mmax })
  .point('weights', (s) => (s.kind === 'zero' ? 'all zero' : s.kind === 'pm1' ? 'all +-1' : 'mixed'), ['all zero', 'all +-1', 'mixed'])
  .point('activations', (s) => s.extremes, { 'both extremes of the range': (e) => e })
  .point('back-pressure', (s) => (s.stalls > 0 ? 'stalled' : 'free-running'), ['stalled', 'free-running'])
  .cross('shape', 'back-pressure')
  .cross('M', 'K', { required: false });

function configName(p: TernaryParams): string {
  return `${p.rows}x${p.cols} int${p.act} ${p.format === 2 ? '2-bit' : 'trit5'} weights`;
}

function randomCase(tb: Tb, p: TernaryParams, kind: Kind): { x: IntMatrix; w: IntMatrix } {
  const r = tb.rng;
  const lo = -(2 ** (p.act - 1));
  const hi = 2 ** (p.act - 1) - 1;
  // Back-pressure needs more results than the core's output FIFO holds, coming faster than a
  // sink that is ready 30 % of cycles takes them: one k-tile (a result per cycle), many n-tiles.
  // (K up to 2 rows gave a result every other cycle, which a seed found too slow to fill the FIFO.)
  const bp = kind === 'backpressure';
  const tiny = kind === 'tiny'; // one partial tile: K < rows, N < cols
  const K = kind === 'kmax' || kind === 'pm1' ? p.kmax : bp ? r.int(1, p.rows) : tiny ? r.int(1, Math.max(1, p.rows - 1)) : r.int(1, p.kmax);
  const N = bp ? 8 * p.cols + r.int(0, p.cols - 1) : tiny ? r.int(1, Math.max(1, p.cols - 1)) : kind === 'pm1' ? p.cols * r.int(1, 3) : r.int(1, 3 * p.cols);
  const M = kind === 'm1' ? 1 : bp ? p.mmax : r.int(1, p.mmax);
  const x = new Int8Array(M * K);
  const w = new Int8Array(N * K);
  for (let i = 0; i < x.length; i++) x[i] = kind === 'pm1' ? (r.chance(0.5) ? lo : hi) : r.chance(0.1) ? r.pick([lo, hi]) : r.int(lo, hi);
  for (let i = 0; i < w.length; i++) w[i] = kind === 'zero' ? 0 : kind === 'pm1' ? (r.chance(0.5) ? -1 : 1) : r.int(-1, 1);
  return { x: matrix(M, K, x, 'X'), w: matrix(N, K, w, 'W') };
}

describe('ternary matmul core (Verilator vs the bit-exact model)', () => {
  it('the model agrees with the plain integer reference', () => {
    const d = coreDesign(CONFIGS[3]!);
    for (let seed = 1; seed <= 20; seed++) {
      const x = matrix(3, 50, Int8Array.from({ length: 150 }, (_, i) => ((i * 37 + seed * 11) % 16) - 8), 'X');
      const w = matrix(29, 50, Int8Array.from({ length: 29 * 50 }, (_, i) => ((i * 7 + seed) % 3) - 1), 'W');
      assert.deepEqual(modelCore(d.shape, x, w).y, ternaryMatmul(x, w).data);
    }
  });

  for (const p of CONFIGS) {
    const d = coreDesign(p);
    const name = configName(p);
    const kinds: Kind[] = ['random', 'random', 'tiny', 'm1', 'kmax', 'zero', 'pm1', 'backpressure'];
    dutTest(name, { dut: d.dut, timeout: '100 ms', wallTimeoutMs: 600_000 }, async (dut, tb) => {
      const clock = new Clock(dut.clk!, 10, 'ns').start();
      await resetCore(dut);
      const drv = new CoreDriver(dut, clock, d.shape, { seed: tb.rng.fork() });
      for (let rep = 0; rep < SOAK; rep++) {
        for (const kind of kinds) {
          const { x, w } = randomCase(tb, p, kind);
          const model = modelCore(d.shape, x, w);
          const tiles = await drv.loadWeights(w);
          const r = kind === 'backpressure' ? await runWithBackpressure(drv, x, w.rows) : await drv.run(x, w.rows);
          const label = `${kind}: M=${x.rows} K=${x.cols} N=${w.rows} (${tiles} tiles)`;
          assert.deepEqual(r.y, model.y, `${label}: results differ`);
          assert.equal(r.cycles, model.cycles + r.stalls, `${label}: CYCLES ${r.cycles} = model ${model.cycles} + STALLS ${r.stalls}`);
          if (kind !== 'backpressure') assert.equal(r.stalls, 0, `${label}: no stalls without back-pressure`);
          else assert.ok(r.stalls > 0, `${label}: back-pressure on the results must stall the issue`);
          tb.log.info(`${label}: ok, ${r.cycles} cycles (${r.stalls} stalled)`);
          const lo = -(2 ** (p.act - 1));
          coverage.sample({ config: name, p, kind, K: x.cols, N: w.rows, M: x.rows, stalls: r.stalls, extremes: x.data.includes(lo) && x.data.includes(-lo - 1) });
        }
      }
    });
  }

  it('covered every required bin (the report follows the run)', () => coverage.check());
});

async function runWithBackpressure(drv: CoreDriver, x: IntMatrix, N: number) {
  drv.setBackpressure(0.7);
  try {
    return await drv.run(x, N);
  } finally {
    drv.setBackpressure(0);
  }
}
