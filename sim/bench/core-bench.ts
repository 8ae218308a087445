// `bench core`: what the ternary core costs and how well it uses what it costs, side by
// side in one run: LUTs and flip-flops per ternary MAC under synth_xilinx for our array
// and for a naive array (an int8 accumulator per PE with a select); the largest
// configuration that fits an iCE40 UP5K and its Fmax; cycles measured in simulation
// against the analytic model; and from that model, prefill and decode efficiency on the
// BitNet b1.58 2B-4T layer shapes.

import * as path from 'node:path';
import { readFileSync } from 'node:fs';
import { emitDesign, writeDesign } from '../../generator/hdl/index.ts';
import { ternaryCore, coreExtra } from '../../generator/cores/ternary/core.ts';
import { ternaryDot } from '../../generator/cores/ternary/dot.ts';
import { benchPe } from '../../generator/bench/pe-array.ts';
import type { TernaryParams } from '../../generator/cores/ternary/params.ts';
import { cacheRoot } from '../toolchain/cache.ts';
import { synthXilinx, synthIce40 } from '../toolchain/synth.ts';
import { coreShape } from '../../common/core-layout.ts';
import { layerFigures, a48CyclesPerToken, BITNET_2B_SHAPES } from '../../common/perf.ts';
import { modelCore, columnStages } from '../../common/core-model.ts';
import { matrix } from '../../common/reference.ts';
import { simulate, Clock } from '../index.ts';
import { coreDesign, CoreDriver, resetCore } from '../drivers/ternary.ts';
import type { BenchRecord } from './sim-bench.ts';
import { boardProjection } from './board-projection.ts';
import { lutArray, type LutArrayParams } from '../../generator/cores/ternary/lut-array.ts';
import { netlistDepth, type Depth } from './lut-levels.ts';
import { runToolChecked } from '../toolchain/run.ts';
import { readVerilog, yosysPath } from '../toolchain/yosys.ts';

function files(name: string, d: ReturnType<typeof emitDesign>): string[] {
  const dir = path.join(cacheRoot(), 'bench-core', name);
  return writeDesign(dir, d).filter((f) => f.endsWith('.v'));
}

export async function coreBench(opts: { log?: (s: string) => void; rows?: number; cols?: number } = {}): Promise<BenchRecord[]> {
  const log = opts.log ?? ((s: string) => process.stderr.write(`[bench] ${s}\n`));
  const out: BenchRecord[] = [];
  const R = opts.rows ?? 16;
  const C = opts.cols ?? 16;
  const p: TernaryParams = { rows: R, cols: C, act: 8, format: 2, kmax: 8192, mmax: 16, wdepth: 1024, acc: 0 };
  const macs = R * C;
  const cfg = { rows: R, cols: C, act: 8, format: '2-bit', target: 'synth_xilinx (7-series)' };

  log(`synth_xilinx: ternary core ${R}x${C}`);
  const core = emitDesign(ternaryCore(p), { extra: coreExtra(p) });
  const xc = await synthXilinx(files('core', core), core.manifest.top);
  log(`synth_xilinx: one ${R}-row column (the array is ${C} of them)`);
  const dot = emitDesign(ternaryDot({ rows: R, act: 8 }));
  const xd = await synthXilinx(files('dot', dot), dot.manifest.top);
  log(`synth_ice40: one ${R}-row column, for its depth`);
  const dd = await ice40Depth('dot-ice40', dot);
  out.push({ metric: 'core.column_ice40_lut_levels', value: dd.luts, unit: 'LUT levels', config: { rows: R, act: 8, target: 'synth_ice40', part: `ternary_dot_r${R}_a8 (worst stage)`, carryChains: dd.chains, levelsPlusChains: dd.both } });
  log('synth_xilinx: one naive PE (int8 activation register, select, 24-bit accumulator)');
  const naive = emitDesign(benchPe({}));
  const xn = await synthXilinx(files('naive', naive), naive.manifest.top);
  out.push(
    { metric: 'core.array_luts_per_mac', value: (xd.luts * C) / macs, unit: 'LUT', config: { ...cfg, part: `${C} x ternary_dot_r${R}` } },
    { metric: 'core.array_ffs_per_mac', value: (xd.ffs * C) / macs, unit: 'FF', config: { ...cfg, part: `${C} x ternary_dot_r${R}: a register after every adder level (columnStages ${columnStages(R)})` } },
    { metric: 'core.luts_per_mac', value: xc.luts / macs, unit: 'LUT', config: { ...cfg, part: 'whole core: array, decoders, accumulators, sequencer, output FIFO' } },
    { metric: 'core.ffs_per_mac', value: xc.ffs / macs, unit: 'FF', config: { ...cfg, part: 'whole core' } },
    { metric: 'core.lutram_luts', value: xc.lutram, unit: 'LUT', config: cfg },
    { metric: 'core.bram_18k', value: xc.bram, unit: 'RAMB18', config: cfg },
    { metric: 'core.dsp', value: xc.dsp, unit: 'DSP48', config: cfg },
    { metric: 'core.naive_luts_per_mac', value: xn.luts, unit: 'LUT', config: { ...cfg, part: 'naive PE (one MAC): select + int8 -> 24-bit accumulator, registered activation' } },
    { metric: 'core.naive_ffs_per_mac', value: xn.ffs, unit: 'FF', config: { ...cfg, part: 'naive PE (one MAC)' } },
  );

  // The largest configuration that fits the UP5K (tried from large to small).
  for (const [r, c] of [
    [8, 8],
    [8, 4],
    [4, 4],
  ] as const) {
    const q: TernaryParams = { rows: r, cols: c, act: 8, format: 2, kmax: 512, mmax: 4, wdepth: 256, acc: 0 };
    const d = emitDesign(ternaryCore(q), { extra: coreExtra(q) });
    log(`synth_ice40 + nextpnr-ice40: ${r}x${c}`);
    try {
      const pnr = path.join(cacheRoot(), 'bench-core', `ice40-${r}x${c}`, 'pnr');
      const seed = 1;
      const rep = await synthIce40(files(`ice40-${r}x${c}`, d), d.manifest.top, d.manifest.ports, pnr, { seed });
      const lc = rep.utilization?.ICESTORM_LC;
      const ram = rep.utilization?.ICESTORM_RAM;
      const icfg = { rows: r, cols: c, kmax: q.kmax, mmax: q.mmax, wdepth: q.wdepth, device: 'iCE40UP5K-SG48', seed };
      out.push({ metric: 'core.ice40_largest_macs', value: r * c, unit: 'MAC/cycle', config: icfg });
      out.push({ metric: 'core.ice40_fmax', value: rep.fmaxMHz ?? 0, unit: 'MHz', config: icfg });
      // The whole core's worst stage, from the netlist nextpnr placed (the fit wrapper's shift registers included).
      const cd = netlistDepth(path.join(pnr, 'fit_top.json'), 'fit_top');
      out.push({ metric: 'core.ice40_lut_levels', value: cd.luts, unit: 'LUT levels', config: { ...icfg, part: 'whole core (worst stage)', carryChains: cd.chains, levelsPlusChains: cd.both, luts: rep.luts, ffs: rep.ffs, carry: rep.carry } });
      if (lc) out.push({ metric: 'core.ice40_logic_cells', value: lc.used / lc.total, unit: 'fraction', config: { ...icfg, used: lc.used, total: lc.total } });
      if (ram) out.push({ metric: 'core.ice40_bram', value: ram.used / ram.total, unit: 'fraction', config: { ...icfg, used: ram.used, total: ram.total } });
      break;
    } catch (e) {
      log(`  ${r}x${c} does not fit: ${(e as Error).message.split('\n')[0]}`);
    }
  }

  // Cycles: the simulated core against the model, on one shape, with each array.
  const x = matrix(8, 200, Int8Array.from({ length: 1600 }, (_, i) => ((i * 29) % 255) - 127), 'X');
  const w = matrix(40, 200, Int8Array.from({ length: 8000 }, (_, i) => ((i * 7) % 3) - 1), 'W');
  for (const jmax of [0, 4]) {
    const small: TernaryParams = { rows: 8, cols: 8, act: 8, format: 2, kmax: 256, mmax: 8, wdepth: 256, acc: 0, ...(jmax ? { jmax } : {}) };
    const sd = coreDesign(small);
    let measured = 0;
    await simulate(`bench core: cycles${jmax ? `, jmax=${jmax}` : ''}`, { dut: sd.dut, timeout: '10 ms' }, async (dut) => {
      const clock = new Clock(dut.clk!, 10, 'ns').start();
      await resetCore(dut, 2);
      const drv = new CoreDriver(dut, clock, sd.shape);
      await drv.loadWeights(w);
      measured = (await drv.run(x, 40)).cycles;
    });
    const modelled = modelCore(sd.shape, x, w).cycles;
    const ccfg = { rows: 8, cols: 8, M: 8, K: 200, N: 40, array: jmax ? 'lut' : 'adder', ...(jmax ? { jmax } : {}) };
    out.push({ metric: 'core.sim_cycles', value: measured, unit: 'cycles', config: ccfg });
    out.push({ metric: 'core.model_cycles', value: modelled, unit: 'cycles', config: ccfg });
  }
  // A dual4 core, the same product with int4 activations in each mode: int4 takes ceil(M/2) steps a tile.
  {
    const x4 = matrix(8, 200, Int8Array.from({ length: 1600 }, (_, i) => ((i * 29) % 16) - 8), 'X');
    const dual: TernaryParams = { rows: 8, cols: 8, act: 8, format: 2, kmax: 256, mmax: 8, wdepth: 256, acc: 0, dual4: 1 };
    const sd = coreDesign(dual);
    const measured: Record<string, number> = {};
    await simulate('bench core: cycles, dual4', { dut: sd.dut, timeout: '10 ms' }, async (dut) => {
      const clock = new Clock(dut.clk!, 10, 'ns').start();
      await resetCore(dut, 2);
      const drv = new CoreDriver(dut, clock, sd.shape);
      await drv.loadWeights(w);
      for (const int4 of [false, true]) measured[String(int4)] = (await drv.run(x4, 40, 0, { int4 })).cycles;
    });
    for (const int4 of [false, true]) {
      const ccfg = { rows: 8, cols: 8, M: 8, K: 200, N: 40, array: 'adder', dual4: 1, mode: int4 ? 'int4 pairs' : 'int8' };
      out.push({ metric: 'core.sim_cycles', value: measured[String(int4)]!, unit: 'cycles', config: ccfg });
      out.push({ metric: 'core.model_cycles', value: modelCore(sd.shape, x4, w, { int4 }).cycles, unit: 'cycles', config: ccfg });
    }
  }

  out.push(...(await dramDecode()));
  out.push(...boardProjection());
  out.push(...(await lutArrayCost(R, C, log)));
  out.push(...(await wholeCoreCost(R, C, log)));

  // BitNet 2B-4T layers on the default configuration.
  // And on the same configuration with the table-lookup array (jmax = 16), whose model is core-model.ts's too.
  const shape = coreShape(core.manifest, 'ternary core manifest');
  for (const sh of [shape, { ...shape, jmax: 16 }]) {
    for (const l of BITNET_2B_SHAPES) {
      const pre = layerFigures(sh, 128, l.N, l.K);
      const dec = layerFigures(sh, 1, l.N, l.K);
      const lc = { layer: l.name, K: l.K, N: l.N, rows: R, cols: C, mmax: p.mmax, array: sh.jmax ? 'lut' : 'adder', ...(sh.jmax ? { jmax: sh.jmax } : {}) };
      out.push({ metric: 'core.prefill_utilization', value: pre.utilization, unit: 'fraction of peak MACs', config: { ...lc, M: 128, cycles: pre.cycles, runs: pre.runs } });
      out.push({ metric: 'core.decode_weight_bound', value: dec.weightBoundFraction, unit: 'fraction of the weight-bandwidth bound', config: { ...lc, M: 1, cycles: dec.cycles, bound: dec.weightBoundCycles } });
    }
  }
  // The same configuration with dual4=1: int4-mode prefill (peak 2 int4 MACs per PE a cycle), and
  // what the a4.8 scheme's int4 inputs in that mode save per token against sending them in int8 lanes.
  const dual = { ...shape, dual4: 1 };
  for (const l of BITNET_2B_SHAPES) {
    const pre = layerFigures(dual, 128, l.N, l.K, true);
    const lc = { layer: l.name, K: l.K, N: l.N, rows: R, cols: C, mmax: p.mmax, array: 'adder', dual4: 1, mode: 'int4 pairs' };
    out.push({ metric: 'core.int4_prefill_utilization', value: pre.utilization, unit: 'fraction of peak int4 MACs (2 per PE a cycle)', config: { ...lc, M: 128, cycles: pre.cycles, int8ModeCycles: layerFigures(dual, 128, l.N, l.K).cycles, runs: pre.runs } });
  }
  for (const M of [128, 16, 1]) {
    const a = a48CyclesPerToken(dual, M);
    const plain = a48CyclesPerToken(shape, M).int8Lanes;
    const cfg = { model: 'BitNet-2B-4T, 30 layers, fused qkv and gate/up, LM head excluded', scheme: 'a4.8: qkv and gate/up int4, o and down int8', rows: R, cols: C, mmax: p.mmax, M, int4ModeCycles: a.int4Mode, int8LaneCycles: a.int8Lanes, dual4ZeroCoreCycles: plain };
    out.push({ metric: 'core.a48_cycles_saved_per_token', value: a.int8Lanes - a.int4Mode, unit: 'cycles per token', config: { ...cfg, ratio: a.int4Mode / a.int8Lanes } });
  }
  return out;
}

/** LUT levels and carry chains of a design's worst stage under synth_ice40 (lut-levels.ts). */
async function ice40Depth(name: string, design: ReturnType<typeof emitDesign>): Promise<Depth> {
  const f = files(name, design);
  const json = path.join(cacheRoot(), 'bench-core', name, 'netlist.json');
  const top = design.manifest.top;
  await runToolChecked('yosys', ['-q', '-p', `${readVerilog(f)}; synth_ice40 -flatten -top ${top}; write_json ${yosysPath(json)}`], { timeoutMs: 3_600_000 });
  return netlistDepth(json, top);
}

/**
 * Decode (M = 1) with the weights in board DRAM: a 2560x2560 BitNet-2B-4T layer behind
 * P = 1, 2, 4 AXI4 masters of 512 bits (16x16, 16x32, 16x64 2-bit cores: one beat per port
 * per tile), against the memory model at a MIG-like latency, with and without a busy
 * controller (a memory per port, each stalling on its own). The bound is one tile per
 * cycle, P x 512 bits; a controller that withholds a beat with probability s offers at most
 * 1 - s of it, which the record's config gives beside the fraction.
 */
export async function dramDecode(): Promise<BenchRecord[]> {
  const out: BenchRecord[] = [];
  const K = 2560;
  const N = 2560;
  for (const ports of [1, 2, 4]) {
    const C = 16 * ports;
    const p: TernaryParams = { rows: 16, cols: C, act: 8, format: 2, kmax: K, mmax: 1, wdepth: 32768, acc: 0, dram: 512, ...(ports > 1 ? { ports } : {}) };
    const d = coreDesign(p);
    const x = matrix(1, K, Int8Array.from({ length: K }, (_, i) => ((i * 29) % 255) - 127), 'X');
    const w = matrix(N, K, Int8Array.from({ length: N * K }, (_, i) => ((i * 7 + (i >> 9)) % 3) - 1), 'W');
    const bound = (N / C) * (K / 16);
    for (const [latency, stall] of [[24, 0], [24, 0.25]] as const) {
      await simulate(`bench core: DRAM decode (${ports} x 512 bits, latency ${latency}, stall ${stall})`, { dut: d.dut, timeout: '100 ms' }, async (dut) => {
        const clock = new Clock(dut.clk!, 10, 'ns').start();
        await resetCore(dut, 2);
        const drv = new CoreDriver(dut, clock, d.shape, { dram: { latency, stall } });
        await drv.loadWeights(w);
        const before = drv.mem!.stats;
        const r = await drv.run(x, N);
        const s = drv.mem!.stats;
        const cfg = { rows: 16, cols: C, K, N, M: 1, ports, axi: 512, latency, stall, cycles: r.cycles, wstalls: r.wstalls, bursts_per_port: s.readBursts - before.readBursts, of_what_memory_offers: bound / r.cycles / (1 - stall) };
        out.push({ metric: 'core.dram_decode_weight_bound', value: bound / r.cycles, unit: 'fraction of one tile per cycle', config: cfg });
      });
    }
  }
  return out;
}

/**
 * The table-lookup array (generator/cores/ternary/lut-array.ts) against today's column in one
 * run, under synth_xilinx: LUTs per MAC with every part counted (tables as the LUTs their
 * RAM32Ms occupy, the writers, the trees, the control), flip-flops per MAC (pipeline, writers,
 * control), DSPs, and the logic depth of the worst stage (lut-levels.ts: LUT levels, LUTRAM
 * reads counted as one, and carry chains). Cells are counted from the JSON netlist, so
 * LUT6_2 and INV count as LUTs; the stat-based synthXilinx does not see LUT6_2.
 */
const LUTRAM_LUTS: Record<string, number> = { RAM32M: 4, RAM64M: 4, RAM32X1D: 2, RAM64X1D: 2, RAM128X1D: 4, RAM32X1S: 1, RAM64X1S: 1 };

/**
 * synth_xilinx of a design, cells counted from the JSON netlist: LUT6_2 and INV as LUTs, each
 * LUTRAM as the LUTs it occupies (the stat-based synthXilinx sees neither LUT6_2 nor that).
 */
async function netlistCost(name: string, design: ReturnType<typeof emitDesign>) {
  // Hand-written modules instantiate LUT6_2 and CARRY4, which synthesis takes from Yosys's library.
  const f = files(name, design);
  const json = path.join(cacheRoot(), 'bench-core', name, 'netlist.json');
  const top = design.manifest.top;
  await runToolChecked('yosys', ['-q', '-p', `${readVerilog(f)}; synth_xilinx -flatten -top ${top}; write_json ${yosysPath(json)}`], { timeoutMs: 3_600_000 });
  const cells = Object.values((JSON.parse(readFileSync(json, 'utf8')) as { modules: Record<string, { cells: Record<string, { type: string }> }> }).modules[top]!.cells);
  const count = (re: RegExp): number => cells.filter((c) => re.test(c.type)).length;
  const lutram = cells.reduce((n, c) => n + (LUTRAM_LUTS[c.type] ?? 0), 0);
  return { luts: count(/^(LUT[1-6]|LUT6_2|INV)$/), lutram, ffs: count(/^FD(RE|SE|CE|PE)$/), dsp: count(/^DSP48E1$/), bram: count(/^RAMB(18|36)E1$/), depth: netlistDepth(json, top) };
}

/**
 * The whole core (array, decoders, accumulators, sequencer, output FIFO, registers) with each
 * array, int8 2-bit weights, counted as netlistCost counts: LUTs (logic + LUTRAM) and
 * flip-flops per MAC, block RAMs, DSPs. The table-lookup core runs jmax = 16 blocks.
 */
export async function wholeCoreCost(R: number, C: number, log: (s: string) => void): Promise<BenchRecord[]> {
  const out: BenchRecord[] = [];
  const macs = R * C;
  for (const jmax of [0, 16]) {
    const p: TernaryParams = { rows: R, cols: C, act: 8, format: 2, kmax: 8192, mmax: 16, wdepth: 1024, acc: 0, ...(jmax ? { jmax } : {}) };
    const d = emitDesign(ternaryCore(p), { extra: coreExtra(p) });
    log(`synth_xilinx: ${d.manifest.top} (whole core, cells from the netlist)`);
    const r = await netlistCost(`whole-${jmax ? 'lut' : 'adder'}`, d);
    const cfg = { rows: R, cols: C, act: 8, format: '2-bit', kmax: p.kmax, mmax: p.mmax, wdepth: p.wdepth, array: jmax ? 'lut' : 'adder', jmax, target: 'synth_xilinx (7-series)', logicLuts: r.luts, lutramLuts: r.lutram, ffs: r.ffs, ramb: r.bram };
    out.push(
      { metric: 'core.whole_luts_per_mac', value: (r.luts + r.lutram) / macs, unit: 'LUT', config: cfg },
      { metric: 'core.whole_ffs_per_mac', value: r.ffs / macs, unit: 'FF', config: cfg },
      { metric: 'core.whole_dsp', value: r.dsp, unit: 'DSP48', config: cfg },
    );
  }
  return out;
}

export async function lutArrayCost(R: number, C: number, log: (s: string) => void): Promise<BenchRecord[]> {
  const out: BenchRecord[] = [];
  const macs = R * C;
  const synth = netlistCost;
  log(`synth_xilinx: ternary_dot_r${R}_a8 (the core's column), for its depth`);
  const col = await synth('lut-ref-dot', emitDesign(ternaryDot({ rows: R, act: 8 })));
  const base = { rows: R, cols: C, target: 'synth_xilinx (7-series)' };
  out.push(
    { metric: 'core.column_lut_levels', value: col.depth.luts, unit: 'LUT levels', config: { ...base, part: `ternary_dot_r${R}_a8 (worst stage)`, carryChains: col.depth.chains, luts: col.luts, ffs: col.ffs } },
  );
  const variants: LutArrayParams[] = [
    { rows: R, cols: C, act: 8, fill: 9, pipe: 'cs' },
    { rows: R, cols: C, act: 8, fill: 9, pipe: 'out' },
    { rows: R, cols: C, act: 8, fill: 9, pipe: 'level' },
    { rows: R, cols: C, act: 8, fill: 16, pipe: 'cs' },
    { rows: R, cols: C, act: 4, fill: 9, pipe: 'cs' },
  ];
  for (const v of variants) {
    const d = emitDesign(lutArray(v));
    log(`synth_xilinx: ${d.manifest.top}`);
    const r = await synth(`lut-${v.act}-${v.fill}-${v.pipe}`, d);
    const cfg = { ...base, act: v.act, fill: v.fill, pipe: v.pipe, part: 'tables, writers, trees, pipeline, control', logicLuts: r.luts, lutramLuts: r.lutram, ffs: r.ffs };
    out.push(
      { metric: 'core.lut_array_luts_per_mac', value: (r.luts + r.lutram) / macs, unit: 'LUT', config: cfg },
      { metric: 'core.lut_array_ffs_per_mac', value: r.ffs / macs, unit: 'FF', config: cfg },
      { metric: 'core.lut_array_lutram_luts', value: r.lutram, unit: 'LUT', config: cfg },
      { metric: 'core.lut_array_lut_levels', value: r.depth.luts, unit: 'LUT levels', config: { ...cfg, carryChains: r.depth.chains, levelsPlusChains: r.depth.both } },
      { metric: 'core.lut_array_dsp', value: r.dsp + r.bram, unit: 'DSP48 + RAMB', config: cfg },
    );
  }
  return out;
}
