// The testbench framework's own behaviour: when writes take effect, trigger order,
// tasks, cancellation, timeouts, wide and signed values, $fatal/$finish.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import {
  dutTest, Clock, RisingEdge, FallingEdge, ValueChange, ClockCycles, Timer, ReadOnly, ReadWrite, NextTimeStep, Combine, First, withTimeout,
  startSoon, SimEvent, Lock, SimQueue, SimTimeoutError, SignalError, CancelledError, globalSeed, testSeed, formatTime,
} from '../../sim/index.ts';
import { widths, counter } from './duts.ts';

describe('sim kernel', () => {
  dutTest('a write is visible to combinational outputs at once; registers change only at edges', { dut: widths, timeout: '1 us' }, async (dut) => {
    new Clock(dut.clk, 10, 'ns').start();
    await RisingEdge(dut.clk);
    dut.wide_a.value = 5n;
    dut.wide_b.value = 3n;
    assert.equal(dut.wide_xor.value, 6n);
    dut.sa.value = -3;
    dut.sb.value = 7;
    assert.equal(dut.sprod.value, -21n);
    const before = dut.sacc.value;
    await FallingEdge(dut.clk);
    assert.equal(dut.sacc.value, before, 'a falling edge does not clock the accumulator');
    await RisingEdge(dut.clk);
    assert.equal(dut.sacc.value, before - 21n);
  });

  dutTest('triggers fire in the documented order within and across time steps', { dut: counter, timeout: '1 us' }, async (dut, tb) => {
    const seen: string[] = [];
    const t = (): string => formatTime(tb.now());
    new Clock(dut.clk, 10, 'ns').start();
    await RisingEdge(dut.clk); // t = 0
    startSoon(async () => {
      await ReadOnly();
      seen.push(`readonly ${t()}`);
    });
    startSoon(async () => {
      await ReadWrite();
      seen.push(`readwrite ${t()}`);
    });
    startSoon(async () => {
      await NextTimeStep();
      seen.push(`nextstep ${t()}`);
    });
    startSoon(async () => {
      await Timer(10, 'ns');
      seen.push(`timer ${t()}`);
    });
    startSoon(async () => {
      await RisingEdge(dut.clk);
      seen.push(`edge ${t()}`);
    });
    await Timer(20, 'ns');
    assert.deepEqual(seen, ['readwrite 0 ps', 'readonly 0 ps', 'nextstep 5 ns', 'timer 10 ns', 'edge 10 ns']);
  });

  dutTest('ReadOnly forbids writes', { dut: counter, timeout: '1 us', expectFail: /write to counter.en during ReadOnly/ }, async (dut) => {
    await ReadOnly();
    dut.en.value = 1;
  });

  dutTest('ClockCycles, Combine, First and withTimeout', { dut: counter, timeout: '10 us' }, async (dut, tb) => {
    new Clock(dut.clk, 10, 'ns').start();
    dut.en.value = 1;
    await RisingEdge(dut.clk); // the clock's first rising edge is at the time it starts
    const t0 = tb.now();
    await ClockCycles(dut.clk, 7);
    assert.equal(tb.now() - t0, 70_000);
    await Combine(Timer(15, 'ns'), ClockCycles(dut.clk, 3));
    assert.equal(tb.now() - t0, 100_000);
    const r = await First(Timer(1, 'us'), RisingEdge(dut.clk));
    assert.equal(r.index, 1);
    await assert.rejects(withTimeout(RisingEdge(dut.wrap), 100, 'ns'), (e: unknown) => e instanceof SimTimeoutError && /RisingEdge\(counter.wrap\) \[counter.wrap = 0\] did not happen within 100 ns/.test(e.message));
    await withTimeout(ValueChange(dut.count), 100, 'ns');
  });

  dutTest('tasks join with their result and cancel through their pending await', { dut: counter, timeout: '10 us' }, async (dut) => {
    new Clock(dut.clk, 10, 'ns').start();
    const joined = startSoon(async () => {
      await ClockCycles(dut.clk, 3);
      return 42;
    });
    let edges = 0;
    let cleanedUp = false;
    const looping = startSoon(async () => {
      try {
        for (;;) {
          await RisingEdge(dut.clk);
          edges++;
        }
      } finally {
        cleanedUp = true;
      }
    }, 'looping');
    assert.equal(await joined, 42);
    looping.cancel();
    await ClockCycles(dut.clk, 5);
    assert.equal(cleanedUp, true);
    assert.equal(edges, 3);
    assert.ok(looping.done && looping.error instanceof CancelledError);
  });

  dutTest('Event, Lock and Queue between tasks; plain promises still work', { dut: counter, timeout: '10 us' }, async (dut, tb) => {
    new Clock(dut.clk, 10, 'ns').start();
    const q = new SimQueue<number>('items');
    const ev = new SimEvent<string>('done');
    const lock = new Lock('bus');
    const order: string[] = [];
    startSoon(async () => {
      for (let i = 0; i < 3; i++) {
        await RisingEdge(dut.clk);
        q.put(i);
      }
      ev.set('producer finished');
    });
    const got: number[] = [];
    for (let i = 0; i < 3; i++) got.push(await q.get());
    assert.deepEqual(got, [0, 1, 2]);
    assert.equal(await ev.wait(), 'producer finished');
    const user = async (name: string): Promise<void> => {
      await lock.acquire();
      order.push(`${name} in`);
      await ClockCycles(dut.clk, 2);
      order.push(`${name} out`);
      lock.release();
    };
    await Combine(startSoon(() => user('a')), startSoon(() => user('b')));
    assert.deepEqual(order, ['a in', 'a out', 'b in', 'b out']);
    // A plain promise settled by another task: the waiting task resumes in that time step.
    let release!: (v: number) => void;
    const plain = new Promise<number>((r) => (release = r));
    const t = tb.now();
    startSoon(async () => {
      await ClockCycles(dut.clk, 3);
      release(tb.now());
    });
    assert.equal(await plain, t + 30_000);
    assert.equal(tb.now(), t + 30_000);
    await RisingEdge(dut.clk);
    assert.equal(tb.now(), t + 40_000);
  });

  dutTest('a DUT that never answers times out with the time and the awaited signal values', { dut: counter, timeout: '2 us', expectFail: /timed out at simulation time 2 us.*task 'main' waiting on RisingEdge\(counter.wrap\) \[counter.wrap = 0\]/s }, async (dut) => {
    new Clock(dut.clk, 10, 'ns').start();
    await RisingEdge(dut.wrap); // en is low: the counter never wraps
  });

  dutTest('no clock and no timer: the stall is reported, not a hang', { dut: counter, expectFail: /simulation stalled at 0 ps.*RisingEdge\(counter.clk\)/s }, async (dut) => {
    await RisingEdge(dut.clk);
  });

  dutTest('a failing task fails the test with its name', { dut: counter, expectFail: /in task 'checker': boom/ }, async (dut) => {
    new Clock(dut.clk, 10, 'ns').start();
    startSoon(async function checker() {
      await ClockCycles(dut.clk, 2);
      throw new Error('boom');
    });
    await ClockCycles(dut.clk, 10);
  });

  dutTest('values above 64 bits', { dut: widths, timeout: '1 us' }, async (dut, tb) => {
    for (let i = 0; i < 50; i++) {
      const a = tb.rng.bits(100);
      const b = tb.rng.bits(100);
      dut.wide_a.value = a;
      dut.wide_b.value = b;
      assert.equal(dut.wide_sum.value, a + b);
      assert.equal(dut.wide_xor.value, a ^ b);
      const q = tb.rng.bits(64);
      dut.q.value = q;
      assert.equal(dut.q_inv.value, ~q & ((1n << 64n) - 1n));
    }
    assert.throws(() => (dut.wide_a.value = 1n << 100n), (e: unknown) => e instanceof SignalError && /widths.wide_a is unsigned 100-bit: \d+ is outside \[0, \d+\]/.test(e.message));
  });

  dutTest('signed ports read signed and refuse out-of-range values', { dut: widths, timeout: '1 us' }, async (dut) => {
    new Clock(dut.clk, 10, 'ns').start();
    dut.clear.value = 1;
    await RisingEdge(dut.clk);
    dut.clear.value = 0;
    let acc = 0n;
    for (const [a, b] of [[-2048, 2047], [-1, -1], [2047, 2047], [-2048, -2048]] as const) {
      dut.sa.value = a;
      dut.sb.value = b;
      assert.equal(dut.sprod.value, BigInt(a * b));
      await RisingEdge(dut.clk);
      acc += BigInt(a * b);
      assert.equal(dut.sacc.value, BigInt.asIntN(25, acc));
    }
    assert.throws(() => (dut.sa.value = 2048), /widths.sa is signed 12-bit: 2048 is outside \[-2048, 2047\]/);
    assert.throws(() => (dut.sprod as unknown as { value: number }).value = 1, /widths.sprod is an output/);
  });

  dutTest('$fatal in the design fails the test with its message and location', { dut: widths, expectFail: /widths.v:\d+: Assertion failed in TOP.widths: trip input was set/ }, async (dut) => {
    new Clock(dut.clk, 10, 'ns').start();
    await ClockCycles(dut.clk, 3);
    dut.trip.value = 1;
    await ClockCycles(dut.clk, 3);
  });

  dutTest('$finish ends the simulation: a failure unless the test allows it', { dut: widths, expectFail: /called \$finish \(.*widths.v:\d+: \$finish\)/ }, async (dut) => {
    new Clock(dut.clk, 10, 'ns').start();
    dut.fin.value = 1;
    await ClockCycles(dut.clk, 10);
  });

  dutTest('$finish with allowFinish ends the test quietly', { dut: widths, allowFinish: true }, async (dut) => {
    new Clock(dut.clk, 10, 'ns').start();
    dut.fin.value = 1;
    await ClockCycles(dut.clk, 10);
    throw new Error('not reached: $finish ends the run first');
  });

  dutTest('every test has its own seed: global seed + hash of its name', { dut: counter }, async (_dut, tb) => {
    assert.equal(tb.seed, testSeed(globalSeed(), 'sim kernel every test has its own seed: global seed + hash of its name'));
  });

  dutTest('parametrized tests run once per combination', { dut: counter, parametrize: { period: [4, 10], cycles: [3] } }, async (dut, tb, p) => {
    new Clock(dut.clk, p.period, 'ns').start();
    await ClockCycles(dut.clk, p.cycles);
    assert.equal(tb.now(), p.period * (p.cycles - 1) * 1000, 'the first edge is at 0');
  });

  let wavesFile = '';
  dutTest('waves on request: a VCD with the design\'s signals', { dut: counter, waves: true }, async (dut, tb) => {
    new Clock(dut.clk, 10, 'ns').start();
    dut.en.value = 1;
    await ClockCycles(dut.clk, 20);
    wavesFile = tb.waves!;
  });
  it('the waveform file was written', () => {
    assert.ok(existsSync(wavesFile), wavesFile);
    const text = readFileSync(wavesFile, 'utf8');
    assert.match(text, /\$var wire\s+8 \S+ count \[7:0\] \$end/);
    assert.match(text, /#190000\n1#/, 'the 20th rising edge, at 190 ns');
  });

  let wavesFst = '';
  dutTest('FST waveforms on request', { dut: counter, waves: 'fst' }, async (dut, tb) => {
    new Clock(dut.clk, 10, 'ns').start();
    await ClockCycles(dut.clk, 5);
    assert.match(tb.waves!, /\.fst$/);
    wavesFst = tb.waves!;
  });
  it('the FST file was written and closed', () => {
    const bytes = readFileSync(wavesFst);
    assert.ok(bytes.length > 100, `${wavesFst}: ${bytes.length} bytes`);
  });

  dutTest('typed handles from the generated port list', { dut: counter }, async (dut) => {
    // @ts-expect-error: 'coutn' is not a port of counter (checked by tsc --noEmit)
    assert.throws(() => dut.coutn, /design 'counter' has no port 'coutn' \(did you mean 'count'\?\)/);
    // @ts-expect-error: a one-bit input takes 0 | 1 | boolean
    assert.throws(() => (dut.en.value = 2), /counter.en is unsigned 1-bit: 2 is outside \[0, 1\]/);
    // @ts-expect-error: outputs are read-only
    assert.throws(() => (dut.count.value = 1), /counter.count is an output/);
  });
});

describe('sim model builds', () => {
  it('a Verilog syntax error is reported with Verilator\'s file:line', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const { buildModel, VerilogError } = await import('../../sim/index.ts');
    const dir = mkdtempSync(path.join(tmpdir(), 'bitnet-fpga-bad-'));
    const file = path.join(dir, 'bad.v');
    writeFileSync(file, 'module bad(input wire a, output wire b);\n  assign b = a +;\nendmodule\n');
    await assert.rejects(buildModel({ top: 'bad', files: [file] }, { log: () => {} }), (e: unknown) => e instanceof VerilogError && e.message.includes(`${file}:2:`) && /syntax error/.test(e.message));
  });

  it('a missing file and an unknown top are named', async () => {
    const { buildModel } = await import('../../sim/index.ts');
    await assert.rejects(buildModel({ top: 'x', files: ['no/such/file.v'] }, { log: () => {} }), /no\/such\/file.v: no such Verilog file \(top 'x'\)/);
    await assert.rejects(buildModel({ top: 'nosuchtop', files: ['test/verilog/widths.v'] }, { log: () => {} }), /Verilator rejected the design 'nosuchtop':[\s\S]*nosuchtop/);
  });

  it('a stale manifest is refused', async () => {
    const { DutSpec } = await import('../../sim/index.ts');
    const { manifestSource } = await import('../../sim/bridge/build.ts');
    const src = manifestSource('rtl/counter/counter.manifest.json');
    const lying = { ...src, manifest: { ...src.manifest!, ports: src.manifest!.ports.map((p) => (p.name === 'count' ? { ...p, width: 9 } : p)) } };
    await assert.rejects(new DutSpec(lying).build({ log: () => {} }), /manifest of 'counter' says port count is output \[9\], Verilator sees output \[8\]; is rtl\/ stale\?/);
  });
});

describe('sim random numbers', () => {
  it('forked generators are not shifted copies of their parent', async () => {
    const { XorShift32 } = await import('../../sim/index.ts');
    const parent = new XorShift32(12345);
    const a = new XorShift32(parent.fork());
    const b = new XorShift32(parent.fork());
    const xs = Array.from({ length: 64 }, () => a.next());
    const ys = Array.from({ length: 64 }, () => b.next());
    for (let lag = -4; lag <= 4; lag++) {
      const shared = xs.filter((x, i) => ys[i + lag] === x).length;
      assert.equal(shared, 0, `a and b share values at lag ${lag}`);
    }
  });
});

describe('sim bridge: ids the C++ side checks', () => {
  it('a stream, memory or port id that names nothing is a ModelError naming the call, not a read past a vector', async () => {
    const { buildModel, Model, ModelError, StreamKind } = await import('../../sim/index.ts');
    const m = new Model(await buildModel({ top: 'widths', files: ['test/verilog/widths.v'] }, { log: () => {} }));
    try {
      assert.throws(() => m.streamPush(3, new Uint32Array(1), 1), (e: unknown) => e instanceof ModelError && /vb_stream_push: stream id 3 out of range \(0 exist\)/.test(e.message));
      assert.throws(() => m.axiMemStats(0), /vb_axi_mem_stats: AXI memory id 0 out of range/);
      const clk = m.index.get('clk')!;
      assert.throws(() => m.streamAdd(StreamKind.Source, clk, 9999, [clk], 1, 0), /vb_stream_add: port id 9999 out of range/);
      assert.equal(m.eval(10), 0, 'an id refused at once does not stop the model');
      // Buffers are checked against the stream's beat size before C++ touches them.
      const wide = m.index.get('wide_xor')!; // 100 bits: four 32-bit words a beat
      const sink = m.streamAdd(StreamKind.Monitor, clk, clk, [wide], 1, 0);
      assert.throws(() => m.streamTake(sink, new Uint32Array(7), 2), /streamTake: 2 beats of 4 words need 8 words; the buffer holds 7/);
      assert.throws(() => m.streamPush(sink, new Uint32Array(3), 1), /streamPush: 1 beats of 4 words need 4 words/);
      // Two models of one design, the older freed last (this order used to hang in Verilator's scope teardown).
      const other = new Model(m.built);
      try {
        // Port access is the hot path: the bad index is reported by the next evaluation.
        other.api.vb_set(other.handle, -1, 1);
        assert.throws(() => other.eval(10), /vb_set: port id -1 out of range/);
        assert.throws(() => other.run(other.index.get('clk')!, 5, { from: { timePs: 0, level: 1 }, highPs: 5000, lowPs: 5000 }), /vb_set: port id -1/, 'misuse sticks: nothing runs on');
      } finally {
        other.free();
      }
    } finally {
      m.free();
    }
  });

  it('a freed model refuses every call into the library', async () => {
    const { buildModel, Model } = await import('../../sim/index.ts');
    const m = new Model(await buildModel({ top: 'widths', files: ['test/verilog/widths.v'] }, { log: () => {} }));
    m.free();
    assert.throws(() => m.run(0, 1, { from: { timePs: 0, level: 1 }, highPs: 1, lowPs: 1 }), /the model was freed/);
    assert.throws(() => m.axiMemRead(0, 0, new Uint8Array(1)), /the model was freed/);
  });

  it('Model.run clocks in C++ and returns where the clock stopped', async () => {
    const { buildModel, Model } = await import('../../sim/index.ts');
    const m = new Model(await buildModel({ top: 'widths', files: ['test/verilog/widths.v'] }, { log: () => {} }));
    try {
      const clk = m.index.get('clk')!;
      const r = m.run(clk, 7, { from: { timePs: 0, level: 1 }, highPs: 4000, lowPs: 6000 });
      assert.deepEqual(r, { cycles: 7, next: { timePs: 6 * 10000 + 4000, level: 0 }, finished: false });
      assert.throws(() => m.run(clk, 1, { from: r.next, highPs: 0, lowPs: 5000 }), /clock phases must be positive/);
    } finally {
      m.free();
    }
  });
});

describe('sim crash report', () => {
  it('a crash inside the model names the model and the simulation time before the process dies', async () => {
    const { spawnSync } = await import('node:child_process');
    const script = [
      "import { buildModel, Model } from './sim/index.ts';",
      "const m = new Model(await buildModel({ top: 'widths', files: ['test/verilog/widths.v'] }, { log: () => {} }));",
      'm.eval(1234);',
      'm.api.vb_selftest_crash(m.handle);',
      "console.log('still alive');",
    ].join('\n');
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 120_000 });
    assert.notEqual(r.status, 0);
    assert.doesNotMatch(r.stdout, /still alive/);
    assert.match(r.stderr, /the Verilated model 'widths' crashed with signal 11 \(Segmentation fault\) during self-test at simulation time 1234 ps/);
  });
});
