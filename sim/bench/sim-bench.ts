// `bench sim`: the same DUTs driven four ways, measured side by side in one run:
//   (a) a plain C++ Verilator loop (write an input, clock, read an output);
//   (b) a TypeScript testbench that awaits every rising edge and does the same;
//   (c) the C++ stream engine fed from TypeScript (valid/ready source and sink);
//   (d) (c) with a passive StreamMonitor (sim/tb/passive.ts) on the output stream, as a
//       realistic testbench has one; its beats stay in the engine's buffer until someone
//       reads them or the model is freed, so (d) is also given with that copy into
//       JavaScript (timed as freeing the model) added to the run.
// Reported as cycles per second of this process's CPU time (process.cpuUsage: user +
// system, so page faults count and time the scheduler gives other processes does not; on
// a shared 2-core machine wall time measured the load, not the engines) and as ratios to
// (a). (a), (c) and (d) run in ROUNDS interleaved rounds and each keeps its best.

import { emitDesign } from '../../generator/hdl/index.ts';
import { fifo } from '../../generator/cores/fifo.ts';
import { benchGrid } from '../../generator/bench/pe-grid.ts';
import { buildModel, emittedSource, type BuiltModel } from '../bridge/build.ts';
import { Model } from '../bridge/model.ts';
import { Kernel } from '../tb/kernel.ts';
import { Task } from '../tb/task.ts';
import { makeDut } from '../tb/dut.ts';
import { Clock } from '../tb/clock.ts';
import { RisingEdge } from '../tb/triggers.ts';
import { FastStreams } from '../tb/fast.ts';
import { StreamMonitor } from '../vip/stream.ts';
import type { Signal } from '../tb/handle.ts';

const ROUNDS = 5;

export interface BenchRecord {
  metric: string;
  value: number;
  unit: string;
  config: Record<string, unknown>;
}

interface Dut {
  name: string;
  built: BuiltModel;
  /** Stream port names. */
  inData: string;
  outData: string;
}

function build(design: ReturnType<typeof emitDesign>, log: (s: string) => void): Promise<BuiltModel> {
  return buildModel(emittedSource(design), { log });
}

/** CPU seconds of this process so far. */
function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function secondsOf(fn: () => void): number {
  const t0 = cpuSeconds();
  fn();
  return cpuSeconds() - t0;
}

/** (a): n cycles in C++ with in_valid and out_ready held high. */
function pureCpp(d: Dut, n: number): number {
  const m = new Model(d.built);
  const idx = (p: string): number => m.index.get(p)!;
  m.setBits(idx('in_valid'), 1);
  m.setBits(idx('out_ready'), 1);
  m.benchCycles(idx('clk'), 1000, idx(d.inData), idx(d.outData)); // warm up
  const s = secondsOf(() => m.benchCycles(idx('clk'), n, idx(d.inData), idx(d.outData)));
  m.free();
  return n / s;
}

/** CPU seconds of the body, and of freeing the model after it (a StreamMonitor's untaken beats are copied into JavaScript then). */
async function inKernelTimed(d: Dut, body: (dut: Record<string, Signal>, clock: Clock) => Promise<void>): Promise<{ body: number; free: number }> {
  const m = new Model(d.built);
  const k = new Kernel(m, {});
  const dut = makeDut<Record<string, Signal>>(k, d.built.top) as unknown as Record<string, Signal>;
  const t0 = cpuSeconds();
  await k.run(() => new Task(k, 'bench', () => body(dut, new Clock(dut.clk!, 10, 'ns').start())).start());
  const s = cpuSeconds() - t0;
  return { body: s, free: secondsOf(() => m.free()) };
}

async function inKernel(d: Dut, body: (dut: Record<string, Signal>, clock: Clock) => Promise<void>): Promise<number> {
  return (await inKernelTimed(d, body)).body;
}

/** (b): a TypeScript task awaits every rising edge, writes the input and reads the output. */
async function perEdge(d: Dut, n: number): Promise<number> {
  const s = await inKernel(d, async (dut) => {
    dut.in_valid!.value = 1;
    dut.out_ready!.value = 1;
    const inp = dut[d.inData]!;
    const out = dut[d.outData]!;
    const mask = (1 << Math.min(30, inp.width)) - 1;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      await RisingEdge(dut.clk!);
      sum ^= out.num;
      inp.value = i & mask;
    }
    if (sum === -1) throw new Error('unreachable');
  });
  return n / s;
}

/**
 * (c): n beats through the C++ stream engine, queued and collected from TypeScript.
 * `run` is the engine alone; `endToEnd` adds building the beats and reading them back.
 * (d) with `monitored`: a passive StreamMonitor on the output stream as well.
 */
async function fastStreams(d: Dut, n: number, monitored: boolean): Promise<{ run: number; endToEnd: number; cycles: number; taken: number }> {
  let cycles = 0;
  let runSeconds = 0;
  const { body: s, free } = await inKernelTimed(d, async (dut, clock) => {
    const fast = new FastStreams(clock);
    const inp = dut[d.inData]!;
    const src = fast.source({ valid: dut.in_valid!, ready: dut.in_ready!, data: inp });
    const snk = fast.sink({ valid: dut.out_valid!, ready: dut.out_ready!, data: dut[d.outData]! });
    const mon = monitored ? new StreamMonitor(clock, { valid: dut.out_valid!, ready: dut.out_ready!, data: dut[d.outData]! }) : undefined;
    const mask = (2 ** Math.min(32, inp.width)) - 1;
    if (inp.width <= 32) src.push(Uint32Array.from({ length: n }, (_, i) => i & mask));
    else src.push(Array.from({ length: n }, (_, i) => BigInt(i)));
    snk.expect(n);
    const t0 = cpuSeconds();
    cycles = await fast.run({ maxCycles: 4 * n });
    runSeconds = cpuSeconds() - t0;
    if (snk.takeWords().length !== n * snk.beatWords) throw new Error('fast stream bench lost beats');
    if (mon && mon.count !== n) throw new Error(`the passive monitor delivered ${mon.count} of ${n} beats`);
  });
  // `taken`: the run plus taking the monitor's beats into JavaScript (freeing the model does, as nobody read them).
  return { run: cycles / runSeconds, endToEnd: cycles / s, cycles, taken: cycles / (runSeconds + free) };
}

export async function simBench(opts: { cycles?: number; log?: (s: string) => void } = {}): Promise<BenchRecord[]> {
  const log = opts.log ?? ((s: string) => process.stderr.write(`[bench] ${s}\n`));
  const duts: Dut[] = [
    { name: 'fifo 8-bit x16 (tiny)', built: await build(emitDesign(fifo({ width: 8, depth: 16 })), log), inData: 'in_data', outData: 'out_data' },
    { name: 'PE grid 16x16 (large)', built: await build(emitDesign(benchGrid({ rows: 16, cols: 16 })), log), inData: 'in_data', outData: 'out_data' },
  ];
  const out: BenchRecord[] = [];
  for (const d of duts) {
    const big = d.name.includes('large');
    const n = opts.cycles ?? (big ? 200_000 : 1_000_000);
    log(`${d.name}: ${n} cycles each way, best of ${ROUNDS} interleaved rounds`);
    let a = 0;
    let c = { run: 0, endToEnd: 0, cycles: 0, taken: 0 };
    let p = { run: 0, endToEnd: 0, cycles: 0, taken: 0 };
    for (let r = 0; r < ROUNDS; r++) {
      a = Math.max(a, pureCpp(d, n));
      const cr = await fastStreams(d, n, false);
      if (cr.run > c.run) c = cr;
      const pr = await fastStreams(d, n, true);
      if (pr.run > p.run) p = pr;
    }
    const b = await perEdge(d, Math.min(n, big ? 100_000 : 300_000));
    const cfg = { dut: d.name, top: d.built.top, cycles: n };
    out.push({ metric: 'sim.pure_cpp', value: a, unit: 'cycles/s', config: cfg });
    out.push({ metric: 'sim.ts_per_edge', value: b, unit: 'cycles/s', config: cfg });
    out.push({ metric: 'sim.fast_streams', value: c.run, unit: 'cycles/s', config: { ...cfg, stream_cycles: c.cycles } });
    out.push({ metric: 'sim.fast_streams_end_to_end', value: c.endToEnd, unit: 'cycles/s', config: { ...cfg, stream_cycles: c.cycles, includes: 'building beats, queueing, collecting' } });
    out.push({ metric: 'sim.ts_per_edge_over_cpp', value: b / a, unit: 'ratio', config: cfg });
    out.push({ metric: 'sim.fast_streams_over_cpp', value: c.run / a, unit: 'ratio', config: cfg });
    out.push({ metric: 'sim.fast_streams_end_to_end_over_cpp', value: c.endToEnd / a, unit: 'ratio', config: cfg });
    out.push({ metric: 'sim.ts_per_edge_overhead', value: (1 / b - 1 / a) * 1e6, unit: 'us/cycle', config: cfg });
    out.push({ metric: 'sim.fast_passive_monitor', value: p.run, unit: 'cycles/s', config: { ...cfg, stream_cycles: p.cycles, monitor: 'StreamMonitor on the output stream' } });
    out.push({ metric: 'sim.fast_passive_monitor_over_cpp', value: p.run / a, unit: 'ratio', config: cfg });
    out.push({ metric: 'sim.fast_passive_monitor_taken_over_cpp', value: p.taken / a, unit: 'ratio', config: { ...cfg, includes: "taking the monitor's beats into JavaScript" } });
  }
  return out;
}

/** The table of sim/README.md ("Speed") from the records of one run. */
export function simTable(records: readonly BenchRecord[]): string | undefined {
  const duts = [...new Set(records.filter((r) => r.metric === 'sim.pure_cpp').map((r) => String(r.config.dut)))];
  if (!duts.length) return undefined;
  const get = (dut: string, metric: string): number => {
    const r = records.find((x) => x.metric === metric && x.config.dut === dut);
    if (!r) throw new Error(`bench sim: no ${metric} record for ${dut}`);
    return r.value;
  };
  const rate = (v: number): string => (v >= 1e6 ? `${(v / 1e6).toFixed(2)} M` : `${(v / 1e3).toFixed(0)} k`) + ' cycles/s';
  const head = ['DUT', 'pure C++', 'TS per edge', 'per-edge overhead', 'stream engine (run)', 'run ÷ C++', 'with a passive StreamMonitor', 'passive ÷ C++', "passive, its beats taken into JS ÷ C++", 'with building/collecting beats ÷ C++'];
  const rows = duts.map((d) => [
    d,
    rate(get(d, 'sim.pure_cpp')),
    rate(get(d, 'sim.ts_per_edge')),
    `${get(d, 'sim.ts_per_edge_overhead').toFixed(1)} µs/cycle`,
    rate(get(d, 'sim.fast_streams')),
    get(d, 'sim.fast_streams_over_cpp').toFixed(2),
    rate(get(d, 'sim.fast_passive_monitor')),
    get(d, 'sim.fast_passive_monitor_over_cpp').toFixed(2),
    get(d, 'sim.fast_passive_monitor_taken_over_cpp').toFixed(2),
    get(d, 'sim.fast_streams_end_to_end_over_cpp').toFixed(2),
  ]);
  return [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}
