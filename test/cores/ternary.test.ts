// Randomized regression of the ternary matmul core under Verilator against the bit-exact
// model (common/core-model.ts): shapes from the seed, K/N/M not multiples of the array, M = 1,
// maximum K, all-zero and all-+-1 weights, extreme activations, result back-pressure,
// both weight formats and both activation widths, on several array shapes. The cycle
// counter is compared with the model's cycle count. TERNARY_SOAK=n runs n times more cases.

import assert from 'node:assert/strict';
import { dutTest, Clock, CoverGroup } from '../../sim/index.ts';
import { ternaryMatmul, matrix } from '../../common/reference.ts';
import { modelCore } from '../../common/core-model.ts';
import { coreDesign, CoreDriver, resetCore } from '../../sim/drivers/ternary.ts';
import { CONFIGS, CORE_SUITE, configName, coreRegression, type RunSample } from '../support/ternary-regression.ts';

// What the regression must have exercised, summed over its array shapes: every shape, the
// K/N/M corners the tile loops and lane masking care about, the weight patterns, extreme
// activations, and result back-pressure on every shape. The M x K cross is reported only:
// random shapes do not promise all nine combinations.
const coverage = new CoverGroup<RunSample>('ternary core regression')
  .point('shape', (s) => configName(s.p), CONFIGS.map(configName))
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
  .point('weights', (s) => (s.kind === 'zero' ? 'all zero' : s.kind === 'pm1' || s.kind === 'extreme' ? 'all +-1' : 'mixed'), ['all zero', 'all +-1', 'mixed'])
  .point('activations', (s) => s.extremes, { 'both extremes of the range': (e) => e })
  .point('back-pressure', (s) => (s.stalls > 0 ? 'stalled' : 'free-running'), ['stalled', 'free-running'])
  // A dual4 core's int4 mode: M odd leaves the last pair's second token out.
  .point('activation mode', (s) => (!s.int4 ? 'one token a lane' : s.M % 2 ? 'int4 pairs, M odd' : 'int4 pairs, M even'), ['one token a lane', 'int4 pairs, M odd', 'int4 pairs, M even'])
  .cross('shape', 'back-pressure')
  .cross('M', 'K', { required: false });

describe(CORE_SUITE, () => {
  it('the model agrees with the plain integer reference', () => {
    const d = coreDesign(CONFIGS[3]!);
    for (let seed = 1; seed <= 20; seed++) {
      const x = matrix(3, 50, Int8Array.from({ length: 150 }, (_, i) => ((i * 37 + seed * 11) % 16) - 8), 'X');
      const w = matrix(29, 50, Int8Array.from({ length: 29 * 50 }, (_, i) => ((i * 7 + seed) % 3) - 1), 'W');
      assert.deepEqual(modelCore(d.shape, x, w).y, ternaryMatmul(x, w).data);
    }
  });

  it('int4 mode: refused on a core without dual4, naming its modes; the model counts token pairs', () => {
    const plain = coreDesign(CONFIGS[0]!).shape;
    const x = matrix(3, 5, Int8Array.from({ length: 15 }, (_, i) => (i % 16) - 8), 'X');
    const w = matrix(2, 5, Int8Array.from({ length: 10 }, (_, i) => (i % 3) - 1), 'W');
    assert.throws(() => modelCore(plain, x, w, { int4: true }), /int4 mode needs a core generated with dual4=1; this core's modes are int8$/);
    const dual = { ...plain, dual4: 1 };
    const r4 = modelCore(dual, x, w, { int4: true });
    const r8 = modelCore(dual, x, w);
    assert.deepEqual(r4.y, r8.y);
    assert.equal(r4.steps, 2 * 2, '3 tokens are 2 pairs, on 2 k-tiles');
    assert.equal(r8.steps, 3 * 2);
    assert.throws(() => modelCore(dual, matrix(1, 1, Int8Array.of(8), 'X'), matrix(1, 1, Int8Array.of(1), 'W'), { int4: true }), /X\[0\]\[0\] = 8 does not fit int4/);
  });

  for (const p of CONFIGS) {
    const d = coreDesign(p);
    const name = configName(p);
    dutTest(name, { dut: d.dut, timeout: '100 ms', wallTimeoutMs: 600_000 }, async (dut, tb) => {
      const clock = new Clock(dut.clk!, 10, 'ns').start();
      await resetCore(dut);
      const drv = new CoreDriver(dut, clock, d.shape, { seed: tb.rng.fork() });
      await coreRegression(drv, tb, p, (s) => coverage.sample(s));
    });
  }

  it('covered every required bin (the report follows the run)', () => coverage.check());
});
