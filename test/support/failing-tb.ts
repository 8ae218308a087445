// A testbench that fails on purpose, for test/sim/failure-report.test.ts: a node:assert
// failure inside a named task, in parametrized tests whose names hold regular-expression
// characters. Not a *.test.ts file, so the suite never runs it by itself.

import assert from 'node:assert/strict';
import { dutTest, Clock, ClockCycles, startSoon } from '../../sim/index.ts';
import { counter } from '../sim/duts.ts';

describe('failure report (on purpose)', () => {
  dutTest('counts (to n) + 1?', { dut: counter, timeout: '1 us', parametrize: { n: [1, 10] } }, async (dut, tb, { n }) => {
    new Clock(dut.clk, 10, 'ns').start();
    dut.en.value = 1;
    tb.log.info(`counting to ${n}`);
    const checker = startSoon(async () => {
      await ClockCycles(dut.clk, 3);
      assert.equal(Number(dut.count.value), -1, `count after 3 cycles (n=${n})`);
    }, 'Checker');
    await checker;
  });
});
