// Passive monitors keep the fast path in C++: the same testbench run with a task that
// watches every clock edge (which holds a fast run in JavaScript, edge by edge) and
// without one (the run stays in C++ and the monitors decode its change log) must give the
// same transactions, the same times and the same failure message.

import assert from 'node:assert/strict';
import { simulate, Clock, ClockCycles, RisingEdge, startSoon, FastStreams, runCycles, UartMonitor, UartSink, StreamMonitor, type UartFrame, type UartOptions, type Tb, type Task, type Signal, type AnyPorts } from '../../sim/index.ts';
import { uartLoop, syncFifo } from './duts.ts';

type Path = 'edge by edge' | 'fast' | 'fast, 3-entry log';
const PATHS: readonly Path[] = ['edge by edge', 'fast', 'fast, 3-entry log'];

interface Outcome {
  frames: UartFrame[][];
  arrivals: number[];
  steps: number;
  error?: string;
}

/** On the edge-by-edge path, a task that watches every clock edge (it holds fast runs in JavaScript). */
function watcherFor(path: Path, clk: Signal): Task<void> | undefined {
  if (path !== 'edge by edge') return undefined;
  return startSoon(async (): Promise<void> => {
    for (;;) await RisingEdge(clk);
  }, 'watcher');
}

async function reset(dut: AnyPorts): Promise<void> {
  dut.rst!.value = 1;
  await ClockCycles(dut.clk!, 2);
  dut.rst!.value = 0;
}

/**
 * 60 bytes through uart_tx (8 clocks a bit, fed by the C++ stream engine with idle cycles)
 * watched on tx by monitors of several formats: the right one, and wrong ones that see
 * parity errors, framing errors and start bits in the middle of characters.
 */
async function uartBench(path: Path, opts: { strict?: UartOptions; consumer?: boolean } = {}): Promise<Outcome> {
  const out: Outcome = { frames: [], arrivals: [], steps: 0 };
  try {
    await simulate('passive uart bench', { dut: uartLoop, timeout: '10 ms' }, async (dut, tb: Tb) => {
      const clock = new Clock(dut.clk!, 10, 'ns').start();
      if (path === 'fast, 3-entry log') tb.model.logCapacity(3);
      await reset(dut);
      const fast = new FastStreams(clock);
      const src = fast.source({ valid: dut.in_valid!, ready: dut.in_ready!, data: dut.in_data! }, { idle: 0.4, seed: 11 });
      const formats: UartOptions[] = [
        { clock, clocksPerBit: 8 },
        { clock, clocksPerBit: 8, parity: 'even' },
        { clock, clocksPerBit: 8, dataBits: 7, stopBits: 2 },
        { baud: 1e12 / (8 * 10_000 * 1.37), parity: 'odd', stopBits: 1.5 },
      ];
      out.frames = formats.map(() => []);
      formats.forEach((f, i) => new UartMonitor(dut.tx!, f).onFrame((fr) => out.frames[i]!.push(fr)));
      if (opts.strict) new UartSink(dut.tx!, opts.strict);
      if (opts.consumer) {
        const sink = new UartSink(dut.tx!, { clock, clocksPerBit: 8 });
        startSoon(async () => {
          for (;;) {
            await sink.recv();
            out.arrivals.push(tb.now());
          }
        }, 'consumer');
      }
      const watcher = watcherFor(path, dut.clk!);
      const steps0 = tb.kernel.steps;
      src.push(Array.from({ length: 60 }, (_, i) => (i * 73 + 5) & 0xff));
      await fast.run({ maxCycles: 100_000 });
      await runCycles(clock, 8 * 12);
      out.steps = tb.kernel.steps - steps0;
      watcher?.cancel();
    });
  } catch (e) {
    out.error = (e as Error).message.split('\n')[0];
  }
  return out;
}

interface StreamOutcome {
  /** Beats of the monitor read from its queue after the run, and of the one with a callback. */
  queued: bigint[];
  called: bigint[];
  arrivals: number[];
  steps: number;
}

/**
 * 400 words through sync_fifo between the C++ stream engine's source and sink (idle and
 * back-pressure), a passive StreamMonitor on each side of the FIFO.
 */
async function streamBench(path: Path, consumer = false): Promise<StreamOutcome> {
  const out: StreamOutcome = { queued: [], called: [], arrivals: [], steps: 0 };
  await simulate('passive stream bench', { dut: syncFifo, timeout: '10 ms' }, async (dut, tb: Tb) => {
    const clock = new Clock(dut.clk!, 10, 'ns').start();
    if (path === 'fast, 3-entry log') tb.model.logCapacity(3);
    await reset(dut);
    const fast = new FastStreams(clock);
    const input = { valid: dut.s_valid!, ready: dut.s_ready!, data: dut.s_data! };
    const output = { valid: dut.m_valid!, ready: dut.m_ready!, data: dut.m_data! };
    const onInput = new StreamMonitor(clock, input);
    new StreamMonitor(clock, output).onBeat((b) => out.called.push(b));
    const src = fast.source(input, { idle: 0.3, seed: 3 });
    const snk = fast.sink(output, { backpressure: 0.4, seed: 4 });
    if (consumer) {
      const mon = new StreamMonitor(clock, output);
      startSoon(async () => {
        for (;;) {
          await mon.recv();
          out.arrivals.push(tb.now());
        }
      }, 'consumer');
    }
    const watcher = watcherFor(path, dut.clk!);
    const steps0 = tb.kernel.steps;
    src.push(Array.from({ length: 400 }, (_, i) => BigInt((i * 40503) & 0xffff)));
    snk.expect(400);
    await fast.run({ maxCycles: 100_000 });
    out.steps = tb.kernel.steps - steps0;
    watcher?.cancel();
    assert.equal(onInput.count, 400);
    while (!onInput.beats.empty()) out.queued.push(await onInput.recv());
  });
  return out;
}

/** Each path in turn (one simulation at a time in a process). */
async function each<T>(paths: readonly Path[], bench: (p: Path) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (const p of paths) out.push(await bench(p));
  return out;
}

describe('passive monitors on the fast path', () => {
  it('UART monitors decode a fast run as they do edge by edge: same characters, times and errors', async () => {
    const [edge, fast, tiny] = await each(PATHS, (p) => uartBench(p));
    assert.equal(edge!.error, undefined);
    assert.equal(edge!.frames[0]!.length, 60, 'the right format sees every byte');
    assert.ok(edge!.frames[1]!.some((f) => f.parityError) && edge!.frames[2]!.some((f) => f.framingError) && edge!.frames[3]!.length > 0, 'the wrong formats see errors');
    assert.deepEqual(fast!.frames, edge!.frames);
    assert.deepEqual(tiny!.frames, edge!.frames);
    // The structure, not the speed: without the watcher the run stayed in C++.
    assert.ok(fast!.steps * 20 < edge!.steps, `fast path took ${fast!.steps} kernel steps, edge by edge ${edge!.steps}`);
  });

  it('a strict sink fails a fast run with the message it gives edge by edge', async () => {
    const strict: UartOptions = { baud: 1e12 / 80_000, parity: 'even' };
    const [edge, fast] = await each(['edge by edge', 'fast'], (p) => uartBench(p, { strict }));
    assert.match(edge!.error ?? '', /^in task 'UartSink\(uart_loop\.tx\)': UartSink\(uart_loop\.tx\): (framing error \(stop bit low\)|parity error).* in the character 0x[0-9a-f]{2} starting at /);
    assert.equal(fast!.error, edge!.error);
  });

  it('a task awaiting a monitor wakes at the same times (the run goes edge by edge while it waits)', async () => {
    const [edge, fast] = await each(['edge by edge', 'fast'], (p) => uartBench(p, { consumer: true }));
    assert.equal(edge!.arrivals.length, 60);
    assert.deepEqual(fast!.arrivals, edge!.arrivals);
  });

  it('stream monitors see the same beats on a fast run as edge by edge, queued or by callback', async () => {
    const [edge, fast] = await each(['edge by edge', 'fast'], (p) => streamBench(p));
    const words = Array.from({ length: 400 }, (_, i) => BigInt((i * 40503) & 0xffff));
    assert.deepEqual(edge!.queued, words);
    assert.deepEqual(edge!.called, words);
    assert.deepEqual(fast!.queued, words);
    assert.deepEqual(fast!.called, words);
    assert.ok(fast!.steps * 20 < edge!.steps, `fast path took ${fast!.steps} kernel steps, edge by edge ${edge!.steps}`);
  });

  it("a stream monitor's beats stay readable after the model is freed, and a callback added between runs keeps the order", async () => {
    const words = Array.from({ length: 200 }, (_, i) => BigInt((i * 40503) & 0xffff));
    const called: bigint[] = [];
    let untouched: StreamMonitor | undefined;
    await simulate('passive stream beats after free', { dut: syncFifo, timeout: '10 ms' }, async (dut) => {
      const clock = new Clock(dut.clk!, 10, 'ns').start();
      await reset(dut);
      const fast = new FastStreams(clock);
      const output = { valid: dut.m_valid!, ready: dut.m_ready!, data: dut.m_data! };
      untouched = new StreamMonitor(clock, output);
      const late = new StreamMonitor(clock, output);
      const src = fast.source({ valid: dut.s_valid!, ready: dut.s_ready!, data: dut.s_data! }, { idle: 0.3, seed: 3 });
      const snk = fast.sink(output, { backpressure: 0.4, seed: 4 });
      src.push(words.slice(0, 100));
      snk.expect(100);
      await fast.run({ maxCycles: 100_000 });
      late.onBeat((b) => called.push(b)); // its first 100 beats are still in the engine's buffer
      src.push(words.slice(100));
      snk.expect(200);
      await fast.run({ maxCycles: 100_000 });
      assert.deepEqual(called, words.slice(100));
      const got: bigint[] = [];
      while (!late.beats.empty()) got.push(await late.recv());
      assert.deepEqual(got, words);
    });
    // Nobody looked at these inside the simulation: they were taken before the model was freed.
    assert.equal(untouched!.count, 200);
    assert.equal(untouched!.beats.size, 200);
  });

  it('a task awaiting a stream monitor wakes on the same edges', async () => {
    const [edge, fast] = await each(['edge by edge', 'fast'], (p) => streamBench(p, true));
    assert.equal(edge!.arrivals.length, 400);
    assert.deepEqual(fast!.arrivals, edge!.arrivals);
  });

  it("a stopped stream monitor's captures are dropped as they come: its C++ buffer stays empty", async () => {
    let left = -1;
    let kept = -1;
    await simulate('stopped stream monitor', { dut: syncFifo, timeout: '10 ms', wallTimeoutMs: 60_000 }, async (dut, tb: Tb) => {
      const clock = new Clock(dut.clk!, 10, 'ns').start();
      await reset(dut);
      const fast = new FastStreams(clock);
      const input = { valid: dut.s_valid!, ready: dut.s_ready!, data: dut.s_data! };
      const output = { valid: dut.m_valid!, ready: dut.m_ready!, data: dut.m_data! };
      const mon = new StreamMonitor(clock, input);
      const src = fast.source(input, { seed: 3 });
      const snk = fast.sink(output, { seed: 4 });
      src.push(Array.from({ length: 50 }, (_, i) => BigInt(i)));
      snk.expect(50);
      await fast.run({ maxCycles: 10_000 });
      mon.stop();
      src.push(Array.from({ length: 300 }, (_, i) => BigInt(i)));
      snk.expect(350);
      await fast.run({ maxCycles: 100_000 });
      const engine = (mon as unknown as { engine: { id: number } }).engine;
      left = tb.model.streamCaptured(engine.id);
      kept = mon.beats.size;
    });
    assert.equal(left, 0, 'beats captured after stop() are not kept in C++');
    assert.equal(kept, 50, 'the beats delivered before stop() stay readable');
  });

  it('a stopped UART monitor no longer fills the change log: the next fast run runs', async () => {
    // With a 3-entry log the line's changes would fill it at the first byte; a detached
    // monitor's port is unwatched in C++ and the log is drained with no monitor left.
    let ran = 0;
    await simulate('stopped UART monitor', { dut: uartLoop, timeout: '10 ms', wallTimeoutMs: 60_000 }, async (dut, tb: Tb) => {
      const clock = new Clock(dut.clk!, 10, 'ns').start();
      tb.model.logCapacity(3);
      dut.rst!.value = 1;
      await ClockCycles(dut.clk!, 2);
      dut.rst!.value = 0;
      const fast = new FastStreams(clock);
      const src = fast.source({ valid: dut.in_valid!, ready: dut.in_ready!, data: dut.in_data! }, { seed: 11 });
      const mon = new UartMonitor(dut.tx!, { clock, clocksPerBit: 8 });
      await ClockCycles(dut.clk!, 1);
      mon.stop();
      src.push(Array.from({ length: 60 }, (_, i) => (i * 73 + 5) & 0xff));
      ran = await fast.run({ maxCycles: 20_000 });
    });
    assert.ok(ran > 4000, `the run made ${ran} cycles`);
  });
});
