// `bench hdl`: elaboration + checks, emission, and interpreter speed on a PE array.

import { emitDesign, Interpreter } from '../hdl/index.ts';
import { benchArray } from './pe-array.ts';

export interface BenchRecord {
  metric: string;
  value: number;
  unit: string;
  config: Record<string, unknown>;
}

function time<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const r = fn();
  return [r, performance.now() - t0];
}

export function hdlBench(pes: number): BenchRecord[] {
  const out: BenchRecord[] = [];
  const measure = (n: number): { elab: number; emit: number; bytes: number } => {
    const [e, elab] = time(() => benchArray({ pes: n }));
    const [d, emit] = time(() => emitDesign(e));
    return { elab, emit, bytes: d.files.reduce((s, f) => s + f.text.length, 0) };
  };
  measure(64); // warm up the JIT so the first size measured is not penalized
  const small = measure(Math.max(1, pes >> 2));
  const big = measure(pes);
  const cfg = { pes };
  out.push({ metric: 'hdl.elaborate_and_check', value: big.elab, unit: 'ms', config: cfg });
  out.push({ metric: 'hdl.emit_verilog', value: big.emit, unit: 'ms', config: { ...cfg, bytes: big.bytes } });
  out.push({ metric: 'hdl.elaborate_per_pe', value: (big.elab * 1000) / pes, unit: 'us', config: cfg });
  // Linear scaling gives 1.0: time per PE at N divided by time per PE at N/4.
  out.push({ metric: 'hdl.scaling_elaborate', value: big.elab / pes / (small.elab / Math.max(1, pes >> 2)), unit: 'ratio', config: { from: pes >> 2, to: pes } });
  out.push({ metric: 'hdl.scaling_emit', value: big.emit / pes / (small.emit / Math.max(1, pes >> 2)), unit: 'ratio', config: { from: pes >> 2, to: pes } });

  const e = benchArray({ pes });
  const [sim, compile] = time(() => new Interpreter(e));
  out.push({ metric: 'hdl.interp_compile', value: compile, unit: 'ms', config: cfg });
  sim.set('rst', 1);
  sim.tick();
  sim.set('rst', 0);
  sim.set('a_in', 5);
  sim.set('weights', 1);
  let cycles = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 2000 || cycles < 5) {
    sim.set('a_in', (cycles % 200) - 100);
    sim.tick();
    cycles++;
  }
  const secs = (performance.now() - t0) / 1000;
  out.push({ metric: 'hdl.interp_cycles_per_s', value: cycles / secs, unit: 'cycles/s', config: cfg });
  out.push({ metric: 'hdl.interp_pe_updates_per_s', value: (cycles * pes) / secs, unit: 'PE-cycles/s', config: cfg });
  return out;
}
