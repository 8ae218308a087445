import assert from 'node:assert/strict';
import { dutTest, verilogDut, Clock, RisingEdge, ClockCycles, Timer, ReadOnly, startSoon } from '../../sim/index.ts';
const counter = verilogDut({ top: 'counter', files: ['rtl/counter/counter.v'] });
describe('smoke', () => {
  dutTest('counts', { dut: counter, timeout: '10 us' }, async (dut, tb) => {
    new Clock(dut.clk, 10, 'ns').start();
    dut.en.value = 1;
    dut.rst.value = 1;
    await RisingEdge(dut.clk);
    dut.rst.value = 0;
    await ClockCycles(dut.clk, 5);
    tb.log.info(`count ${dut.count.num}`);
    assert.equal(dut.count.num, 5);
    await Timer(3, 'ns');
    await ReadOnly();
    assert.equal(tb.now(), 53000);
  });
  dutTest('per-edge speed', { dut: counter, timeout: '100 ms' }, async (dut, tb) => {
    new Clock(dut.clk, 10, 'ns').start();
    dut.en.value = 1;
    const n = 200000; const t0 = performance.now();
    for (let i = 0; i < n; i++) { await RisingEdge(dut.clk); }
    const dt = performance.now() - t0;
    console.log('ns/cycle', (dt * 1e6 / n).toFixed(0), 'evals', tb.model.evals);
  });
  dutTest('fails on timeout', { dut: counter, timeout: '1 us', expectFail: /timed out/ }, async (dut) => {
    new Clock(dut.clk, 10, 'ns').start();
    await RisingEdge(dut.wrap);
  });
  dutTest('bad port', { dut: counter, expectFail: /did you mean 'count'/ }, async (dut) => {
    (dut as any).coutn.value = 1;
  });
});
