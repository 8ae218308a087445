// The board's UART at bit level under Verilator: loopback through the fabric-side
// streams, the transmitter's bit timing, the receiver against a sender whose baud rate is
// off by a few percent, framing errors and overruns.

import assert from 'node:assert/strict';
import { emitDesign } from '../../generator/hdl/index.ts';
import { uart, type UartParams } from '../../generator/cores/uart.ts';
import { emittedDut, dutTest, Clock, ClockCycles, RisingEdge, Timer, ValueChange, startSoon, StreamSource, StreamSink, Scoreboard, UartSource, UartSink, type AnyPorts } from '../../sim/index.ts';


// 2 MHz / 115200 baud = 17.36 clocks per bit: not an integer, on purpose.
const P: UartParams = { clk: 2_000_000, baud: 115_200, depth: 16 };
const CLK_NS = 500;
const BIT_NS = 1e9 / P.baud;
const dut = emittedDut(emitDesign(uart(P)));

async function start(d: AnyPorts): Promise<Clock> {
  const clock = new Clock(d.clk!, CLK_NS, 'ns').start();
  d.rx!.value = 1;
  d.rst!.value = 1;
  await ClockCycles(d.clk!, 3);
  d.rst!.value = 0;
  return clock;
}


describe('uart (generated)', () => {
  dutTest('loopback: bytes sent on the fabric side come back on the fabric side', { dut, timeout: '200 ms' }, async (d, tb) => {
    const clock = await start(d);
    startSoon(async () => {
      for (;;) {
        await ValueChange(d.tx!);
        d.rx!.value = d.tx!.value;
      }
    }, 'wire tx to rx');
    const bytes = Array.from({ length: 60 }, () => tb.rng.int(0, 255));
    const sb = new Scoreboard<bigint>('uart loopback');
    sb.expect(...bytes.map(BigInt));
    const snk = new StreamSink(clock, { valid: d.out_valid!, ready: d.out_ready!, data: d.out_data! }, { backpressure: 0.5, seed: tb.rng.fork() });
    snk.onBeat((b) => sb.got(b));
    const line = new UartSink(d.tx!, { baud: P.baud }); // what the wire carried, decoded at the nominal rate
    new StreamSource(clock, { valid: d.in_valid!, ready: d.in_ready!, data: d.in_data! }, { idle: 0.3, seed: tb.rng.fork() }).push(...bytes);
    while (snk.count < bytes.length) await RisingEdge(d.clk!);
    sb.check();
    assert.deepEqual(await line.read(bytes.length), bytes);
    assert.equal(d.frame_errors!.num, 0);
    assert.equal(d.overruns!.num, 0);
  });

  dutTest('the transmitter keeps the bit time on average (phase accumulator)', { dut, timeout: '50 ms' }, async (d, tb) => {
    const clock = await start(d);
    const src = new StreamSource(clock, { valid: d.in_valid!, ready: d.in_ready!, data: d.in_data! });
    src.push(0x55, 0x55, 0x55, 0x55); // 0x55: the line toggles every bit
    const edges: number[] = [];
    for (let i = 0; i < 40; i++) {
      await ValueChange(d.tx!);
      edges.push(tb.now());
    }
    const spans = edges.slice(1).map((t, i) => t - edges[i]!);
    const mean = spans.reduce((a, b) => a + b, 0) / spans.length / 1000; // ns
    tb.log.info(`mean bit ${mean.toFixed(1)} ns, expected ${BIT_NS.toFixed(1)} ns; spans ${Math.min(...spans) / 1000}..${Math.max(...spans) / 1000} ns`);
    assert.ok(Math.abs(mean - BIT_NS) / BIT_NS < 0.002, `mean bit time ${mean} ns vs ${BIT_NS} ns`);
    for (const s of spans) assert.ok(Math.abs(s / 1000 - BIT_NS) <= CLK_NS, `a bit lasted ${s / 1000} ns: more than one clock off ${BIT_NS} ns`);
  });

  dutTest('the receiver tolerates a baud-rate mismatch', { dut, timeout: '200 ms', parametrize: { mismatch: [-0.03, -0.015, 0, 0.015, 0.03] } }, async (d, tb, p) => {
    const clock = await start(d);
    const got: number[] = [];
    const snk = new StreamSink(clock, { valid: d.out_valid!, ready: d.out_ready!, data: d.out_data! });
    snk.onBeat((b) => got.push(Number(b)));
    const src = new UartSource(d.rx!, { baud: P.baud * (1 + p.mismatch) });
    const bytes = Array.from({ length: 25 }, () => tb.rng.int(0, 255));
    for (const b of bytes) {
      src.write([b]);
      await src.idle();
      if (tb.rng.chance(0.5)) await Timer(tb.rng.int(1, 3000), 'ns');
    }
    await Timer(2 * BIT_NS, 'ns');
    assert.deepEqual(got, bytes);
    assert.equal(d.frame_errors!.num, 0);
  });

  dutTest('a low stop bit is counted as a framing error and the byte is dropped', { dut, timeout: '50 ms' }, async (d) => {
    const clock = await start(d);
    const got: number[] = [];
    new StreamSink(clock, { valid: d.out_valid!, ready: d.out_ready!, data: d.out_data! }).onBeat((b) => got.push(Number(b)));
    const src = new UartSource(d.rx!, { baud: P.baud });
    src.write([0x3c], { badStop: true });
    await src.idle();
    await Timer(3 * BIT_NS, 'ns');
    src.write([0xa7]);
    await src.idle();
    await Timer(2 * BIT_NS, 'ns');
    assert.equal(d.frame_errors!.num, 1);
    assert.deepEqual(got, [0xa7]);
  });

  dutTest('bytes nobody reads overflow the FIFO and are counted', { dut, timeout: '50 ms' }, async (d) => {
    await start(d);
    d.out_ready!.value = 0;
    const src = new UartSource(d.rx!, { baud: P.baud });
    src.write(Array.from({ length: 20 }, (_, i) => i));
    await src.idle();
    await Timer(2 * BIT_NS, 'ns');
    // 16 in the RAM plus one in the output register.
    assert.equal(d.overruns!.num, 3);
    assert.equal(d.rx_level!.num, 17);
  });
});
