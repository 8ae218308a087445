// The framework on Verilog we did not generate: a valid/ready FIFO, a UART pair, an
// AXI4-Lite register bank and an AXI4-Stream register slice, all hand-written in the style
// of common open-source cores (test/verilog/).

import assert from 'node:assert/strict';
import {
  dutTest, Clock, RisingEdge, ClockCycles, Timer, startSoon, StreamSource, StreamSink, Scoreboard, FastStreams, runCycles,
  AxiLiteMaster, axiLitePorts, AxiLiteError, AxisSource, AxisSink, axisPorts, withTimeout, UartSource, UartSink, type Signal, type Tb,
} from '../../sim/index.ts';
import { syncFifo, uartLoop, uartRx, uartRxNamed, uartRxMisnamed, axilRegs, axisRegister, fifo } from './duts.ts';

async function reset(clk: Signal, rst: Signal, cycles = 2): Promise<void> {
  rst.value = 1;
  await ClockCycles(clk, cycles);
  rst.value = 0;
}

function randomWords(tb: Tb, n: number, width: number): bigint[] {
  return Array.from({ length: n }, () => tb.rng.bits(width));
}

describe('sim on hand-written Verilog', () => {
  describe('sync_fifo (valid/ready)', () => {
    dutTest('keeps order under random idle cycles and back-pressure', { dut: syncFifo, timeout: '1 ms', parametrize: { idle: [0, 0.3], backpressure: [0, 0.6] } }, async (dut, tb, p) => {
      const clock = new Clock(dut.clk, 10, 'ns').start();
      await reset(dut.clk, dut.rst);
      const words = randomWords(tb, 300, 16);
      const sb = new Scoreboard<bigint>('fifo');
      sb.expect(...words);
      const src = new StreamSource(clock, { valid: dut.s_valid, ready: dut.s_ready, data: dut.s_data }, { idle: p.idle, seed: tb.rng.fork() });
      const snk = new StreamSink(clock, { valid: dut.m_valid, ready: dut.m_ready, data: dut.m_data }, { backpressure: p.backpressure, seed: tb.rng.fork() });
      snk.onBeat((b) => sb.got(b as bigint));
      startSoon(async () => {
        for (;;) {
          await RisingEdge(dut.clk);
          assert.ok(dut.count.num <= 8, `count ${dut.count.num} exceeds the depth`);
        }
      }, 'occupancy');
      src.push(...words);
      await src.idle();
      while (snk.count < words.length) await RisingEdge(dut.clk);
      sb.check();
      tb.log.info(`${words.length} words through in ${tb.now() / 10_000} cycles`);
    });

    dutTest('a scoreboard mismatch names the item and the first differing value', { dut: syncFifo, timeout: '100 us', expectFail: /fifo: item 2 differs: expected 0x63 \(99\), got 0x3 \(3\)/ }, async (dut) => {
      const clock = new Clock(dut.clk, 10, 'ns').start();
      await reset(dut.clk, dut.rst);
      const sb = new Scoreboard<bigint>('fifo');
      sb.expect(1n, 2n, 99n);
      const snk = new StreamSink(clock, { valid: dut.m_valid, ready: dut.m_ready, data: dut.m_data });
      snk.onBeat((b) => sb.got(b as bigint));
      new StreamSource(clock, { valid: dut.s_valid, ready: dut.s_ready, data: dut.s_data }).push(1n, 2n, 3n);
      await ClockCycles(dut.clk, 20);
    });

    dutTest('the C++ fast path and the TypeScript drivers make the same cycles', { dut: syncFifo, timeout: '10 ms' }, async (dut, tb) => {
      const words = randomWords(tb, 2000, 16);
      const clock = new Clock(dut.clk, 10, 'ns').start();
      await reset(dut.clk, dut.rst);
      // TypeScript drivers
      const t0 = tb.now();
      const src = new StreamSource(clock, { valid: dut.s_valid, ready: dut.s_ready, data: dut.s_data }, { idle: 0.25, seed: 11 });
      const snk = new StreamSink(clock, { valid: dut.m_valid, ready: dut.m_ready, data: dut.m_data }, { backpressure: 0.4, seed: 22 });
      let lastBeat = 0;
      snk.onBeat(() => void (snk.count === words.length && (lastBeat = tb.now())));
      src.push(...words);
      while (snk.count < words.length) await RisingEdge(dut.clk);
      const jsCycles = (lastBeat - t0) / 10_000;
      const jsOut: bigint[] = [];
      while (snk.beats.length) jsOut.push((await snk.recv()) as bigint);
      src.stop();
      snk.stop();
      await reset(dut.clk, dut.rst);
      // the same in C++
      const t1 = tb.now();
      const fast = new FastStreams(clock);
      const fsrc = fast.source({ valid: dut.s_valid, ready: dut.s_ready, data: dut.s_data }, { idle: 0.25, seed: 11 });
      const fsnk = fast.sink({ valid: dut.m_valid, ready: dut.m_ready, data: dut.m_data }, { backpressure: 0.4, seed: 22 });
      fsrc.push(words);
      fsnk.expect(words.length);
      const cycles = await fast.run({ maxCycles: 100_000 });
      assert.deepEqual(fsnk.take(), words);
      assert.deepEqual(jsOut, words);
      tb.log.info(`JS drivers: ${jsCycles} cycles; C++ engine: ${cycles} cycles`);
      assert.equal(cycles, jsCycles, 'the same draws give the same cycles');
    });

    dutTest('a fast run that cannot finish fails with the streams\' state', { dut: syncFifo, timeout: '10 ms', expectFail: /did not finish within 50 cycles.*source\(sync_fifo.s_valid\): \d+ accepted, \d+ queued.*sink\(sync_fifo.m_valid\): \d+ captured/s }, async (dut) => {
      const clock = new Clock(dut.clk, 10, 'ns').start();
      await reset(dut.clk, dut.rst);
      const fast = new FastStreams(clock);
      const src = fast.source({ valid: dut.s_valid, ready: dut.s_ready, data: dut.s_data });
      const snk = fast.sink({ valid: dut.m_valid, ready: dut.m_ready, data: dut.m_data }, { backpressure: 1 });
      src.push([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      snk.expect(12);
      await fast.run({ maxCycles: 50 });
    });
  });

  describe('generated fifo (typed handles)', () => {
    dutTest('fast streams with a monitor task watching edges fall back to edge by edge, same result', { dut: fifo, timeout: '10 ms' }, async (dut, tb) => {
      const clock = new Clock(dut.clk, 10, 'ns').start();
      await reset(dut.clk, dut.rst);
      const words = randomWords(tb, 500, 8);
      const fast = new FastStreams(clock);
      const src = fast.source({ valid: dut.in_valid, ready: dut.in_ready, data: dut.in_data }, { idle: 0.1, seed: 5 });
      const snk = fast.sink({ valid: dut.out_valid, ready: dut.out_ready, data: dut.out_data }, { backpressure: 0.2, seed: 6 });
      src.push(words.slice(0, 250));
      snk.expect(250);
      const exclusive = await fast.run({ maxCycles: 10_000 });
      let edges = 0;
      const watcher = startSoon(async () => {
        for (;;) {
          await RisingEdge(dut.clk);
          edges++;
        }
      });
      src.push(words.slice(250));
      snk.expect(500);
      const shared = await fast.run({ maxCycles: 10_000 });
      watcher.cancel(); // takes effect at the watcher's next await, after it counted this edge
      await ClockCycles(dut.clk, 1);
      assert.equal(edges, shared, 'the watcher saw every edge of the shared run');
      assert.deepEqual(snk.take(), words);
      tb.log.info(`exclusive run ${exclusive} cycles, shared run ${shared} cycles`);
    });

    dutTest('runCycles stops at timers and lets them fire', { dut: fifo, timeout: '1 ms' }, async (dut, tb) => {
      const clock = new Clock(dut.clk, 10, 'ns').start();
      let fired = -1;
      startSoon(async () => {
        await Timer(12_345, 'ns');
        fired = tb.now();
      });
      await RisingEdge(dut.clk);
      const n = await runCycles(clock, 5000);
      assert.equal(n, 5000);
      assert.equal(tb.now(), 5000 * 10_000);
      assert.equal(fired, 12_345_000);
    });
  });

  describe('uart_tx + uart_rx', () => {
    dutTest('loopback: every byte comes back, in order', { dut: uartLoop, timeout: '10 ms' }, async (dut, tb) => {
      const clock = new Clock(dut.clk, 10, 'ns').start();
      await reset(dut.clk, dut.rst);
      const bytes = Array.from({ length: 40 }, () => tb.rng.int(0, 255));
      const sb = new Scoreboard<bigint>('uart');
      sb.expect(...bytes.map(BigInt));
      startSoon(async () => {
        for (;;) {
          await RisingEdge(dut.clk);
          if (dut.out_valid.bool) sb.got(dut.out_data.value);
          assert.equal(dut.frame_error.num, 0, 'framing error');
        }
      }, 'receiver');
      const src = new StreamSource(clock, { valid: dut.in_valid, ready: dut.in_ready, data: dut.in_data }, { idle: 0.5, seed: tb.rng.fork() });
      // The line between them, decoded by the UART VIP at the design's prescale.
      const line = new UartSink(dut.tx, { clock, clocksPerBit: 8 });
      src.push(...bytes);
      await src.idle();
      await withTimeout(ClockCycles(dut.clk, 8 * 12), 2, 'us');
      sb.check();
      assert.deepEqual(await line.read(bytes.length), bytes, 'the serial line carried every byte, 8N1');
    });

    dutTest('the receiver tolerates a baud-rate mismatch', { dut: uartRx, timeout: '20 ms', parametrize: { mismatch: [-0.03, 0, 0.03] } }, async (dut, tb, p) => {
      new Clock(dut.clk, 10, 'ns').start();
      dut.rx.value = 1;
      await reset(dut.clk, dut.rst);
      const src = new UartSource(dut.rx, { baud: 1e9 / (16 * 10 * (1 + p.mismatch)) });
      const got: number[] = [];
      startSoon(async () => {
        for (;;) {
          await RisingEdge(dut.out_valid);
          got.push(dut.out_data.num);
        }
      });
      const bytes = Array.from({ length: 30 }, () => tb.rng.int(0, 255));
      for (const b of bytes) {
        src.write([b]);
        await src.idle();
        await Timer(160 * tb.rng.int(0, 2) + 1, 'ns');
      }
      await ClockCycles(dut.clk, 40);
      assert.deepEqual(got, bytes);
      assert.equal(dut.frame_error.num, 0);
    });

    dutTest('a low stop bit is a framing error', { dut: uartRx, timeout: '1 ms' }, async (dut) => {
      new Clock(dut.clk, 10, 'ns').start();
      await reset(dut.clk, dut.rst);
      const src = new UartSource(dut.rx, { baud: 1e9 / 160 });
      src.write([0x5a], { badStop: true });
      await src.idle();
      await ClockCycles(dut.clk, 40);
      assert.equal(dut.frame_error.num, 1);
    });
  });

  describe('named ports of foreign Verilog', () => {
    // A helper typed by structure, as a user writes one: it takes any DUT with these ports.
    async function idleAndReset(dut: { clk: Signal; rst: Signal; rx: Signal }): Promise<void> {
      dut.rx.value = 1;
      await reset(dut.clk, dut.rst);
    }

    dutTest('a structurally typed helper takes a DUT whose ports are named', { dut: uartRxNamed, timeout: '1 ms' }, async (dut) => {
      new Clock(dut.clk, 10, 'ns').start();
      await idleAndReset(dut);
      const src = new UartSource(dut.rx, { baud: 1e9 / 160 });
      src.write([0x5a], { badStop: true });
      await src.idle();
      await ClockCycles(dut.clk, 40);
      assert.equal(dut.frame_error.num, 1);
      assert.equal(dut.out_valid.num, 0, 'unnamed ports still work, checked at run time');
    });

    it('a named port the design lacks fails when the model is built, with the real ports', async () => {
      await assert.rejects(uartRxMisnamed.build(), /verilogDut 'uart_rx': ports names 'rxd', which the design does not have \(did you mean 'rst', 'rx'\?\); its ports are: clk, rst, rx, out_data, out_valid, frame_error/);
    });
  });

  describe('axil_regs (AXI4-Lite)', () => {
    dutTest('writes, reads, byte strobes and error responses', { dut: axilRegs, timeout: '1 ms' }, async (dut, tb) => {
      const clock = new Clock(dut.clk, 10, 'ns').start();
      const axi = new AxiLiteMaster(clock, axiLitePorts(dut, 's_axil_'));
      await reset(dut.clk, dut.rst);
      const a = tb.rng.bits(32);
      const b = tb.rng.bits(32);
      await axi.write(0x0, a);
      await axi.write(0x4, b);
      assert.equal(await axi.read(0x0), a);
      assert.equal(await axi.read(0x4), b);
      assert.equal(await axi.read(0xc), (a + b) & 0xffffffffn);
      await axi.write(0x8, 0xffffffffn);
      await axi.write(0x8, 0x12345678n, 0b0101);
      assert.equal(await axi.read(0x8), 0xff34ff78n);
      await assert.rejects(axi.write(0x10, 1), (e: unknown) => e instanceof AxiLiteError && /write 0x10 = 0x1: slave answered SLVERR/.test(e.message));
      await assert.rejects(axi.read(0x20), /read 0x20: slave answered SLVERR/);
      // concurrent callers are serialized
      const results = await Promise.all([0, 4, 8].map((addr) => axi.read(addr)));
      assert.deepEqual(results, [a, b, 0xff34ff78n]);
    });

    dutTest('a slave that never answers gives a timeout naming the signal', { dut: axilRegs, timeout: '1 ms', expectFail: /write 0x0 address\/data: no handshake within 20 cycles .*axil_regs.s_axil_awready = 0/ }, async (dut) => {
      const clock = new Clock(dut.clk, 10, 'ns').start();
      const axi = new AxiLiteMaster(clock, axiLitePorts(dut, 's_axil_'), { timeoutCycles: 20 });
      dut.rst.value = 1; // held in reset: never ready
      await axi.write(0, 1);
    });
  });

  describe('axis_register (AXI4-Stream)', () => {
    dutTest('frames of any length pass through with tkeep and tlast', { dut: axisRegister, timeout: '1 ms', parametrize: { backpressure: [0, 0.5] } }, async (dut, tb, p) => {
      const clock = new Clock(dut.clk, 10, 'ns').start();
      await reset(dut.clk, dut.rst);
      const src = new AxisSource(clock, axisPorts(dut, 's_axis_'), { idle: 0.2, seed: tb.rng.fork() });
      const snk = new AxisSink(clock, axisPorts(dut, 'm_axis_'), { backpressure: p.backpressure, seed: tb.rng.fork() });
      const frames = Array.from({ length: 25 }, () => Uint8Array.from({ length: tb.rng.int(1, 40) }, () => tb.rng.int(0, 255)));
      for (const f of frames) src.send(f);
      for (const f of frames) assert.deepEqual(await withTimeout(snk.recv(), 20, 'us'), f);
    });
  });

});
