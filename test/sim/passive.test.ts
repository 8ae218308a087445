// Passive monitors keep the fast path in C++: the same testbench run with a task that
// watches every clock edge (which holds a fast run in JavaScript, edge by edge) and
// without one (the run stays in C++ and the monitors decode its change log) must give the
// same transactions, the same times and the same failure message.

import assert from 'node:assert/strict';
import { simulate, Clock, ClockCycles, RisingEdge, startSoon, FastStreams, runCycles, UartMonitor, UartSink, type UartFrame, type UartOptions, type Tb, type Task } from '../../sim/index.ts';
import { uartLoop } from './duts.ts';

type Path = 'edge by edge' | 'fast' | 'fast, 3-entry log';
const PATHS: readonly Path[] = ['edge by edge', 'fast', 'fast, 3-entry log'];

interface Outcome {
  frames: UartFrame[][];
  arrivals: number[];
  steps: number;
  error?: string;
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
      dut.rst!.value = 1;
      await ClockCycles(dut.clk!, 2);
      dut.rst!.value = 0;
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
      let watcher: Task<void> | undefined;
      if (path === 'edge by edge') watcher = startSoon(async (): Promise<void> => {
        for (;;) await RisingEdge(dut.clk!);
      }, 'watcher');
      const steps0 = tb.kernel.steps;
      src.push(Array.from({ length: 60 }, (_, i) => (i * 73 + 5) & 0xff));
      await fast.run({ maxCycles: 100_000 });
      await runCycles(clock, 8 * 12);
      out.steps = tb.kernel.steps - steps0;
      watcher?.cancel();
    });
    if (process.env.PASSIVE_DUMP) (await import('node:fs')).writeFileSync(`${process.env.PASSIVE_DUMP}-${path}.json`, JSON.stringify(out));
  } catch (e) {
    out.error = (e as Error).message.split('\n')[0];
  }
  return out;
}

async function each(paths: readonly Path[], o: Parameters<typeof uartBench>[1] = {}): Promise<Outcome[]> {
  const out: Outcome[] = [];
  for (const p of paths) out.push(await uartBench(p, o)); // one simulation at a time in a process
  return out;
}

describe('passive monitors on the fast path', () => {
  it('UART monitors decode a fast run as they do edge by edge: same characters, times and errors', async () => {
    const [edge, fast, tiny] = await each(PATHS);
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
    const [edge, fast] = await each(['edge by edge', 'fast'], { strict });
    assert.match(edge!.error ?? '', /^in task 'UartSink\(uart_loop\.tx\)': UartSink\(uart_loop\.tx\): (framing error \(stop bit low\)|parity error).* in the character 0x[0-9a-f]{2} starting at /);
    assert.equal(fast!.error, edge!.error);
  });

  it('a task awaiting a monitor wakes at the same times (the run goes edge by edge while it waits)', async () => {
    const [edge, fast] = await each(['edge by edge', 'fast'], { consumer: true });
    assert.equal(edge!.arrivals.length, 60);
    assert.deepEqual(fast!.arrivals, edge!.arrivals);
  });
});
