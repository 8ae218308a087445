// Randomized regression of the ternary matmul core under Verilator against the bit-exact
// model (common/core-model.ts) on several array shapes, both weight formats and both
// activation widths; the cases (test/support/ternary-regression.ts) are the ones the
// post-synthesis netlist runs too. The cycle counter is compared with the model's cycle
// count. TERNARY_SOAK=n runs n times more cases.

import assert from 'node:assert/strict';
import { dutTest, Clock } from '../../sim/index.ts';
import { ternaryMatmul, matrix } from '../../common/reference.ts';
import { modelCore } from '../../common/core-model.ts';
import { coreDesign, CoreDriver, resetCore } from '../../sim/drivers/ternary.ts';
import { CONFIGS, CORE_SUITE, configName, coreRegression } from '../support/ternary-regression.ts';

describe(CORE_SUITE, () => {
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
    dutTest(configName(p), { dut: d.dut, timeout: '100 ms', wallTimeoutMs: 600_000 }, async (dut, tb) => {
      const clock = new Clock(dut.clk!, 10, 'ns').start();
      await resetCore(dut);
      await coreRegression(new CoreDriver(dut, clock, d.shape, { seed: tb.rng.fork() }), tb, p);
    });
  }
});
