// `bitnet-fpga check`: everything we promise about an emitted design, for one design —
// Verilator -Wall lint, Icarus compile, Yosys synthesis, and the same random stimulus
// through the IR interpreter, Verilator and Icarus with cycle-by-cycle agreement.

import { mkdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { emitDesign, writeDesign, moduleTree, HdlError, type Elaborated } from '../../generator/hdl/index.ts';
import { lintVerilog } from '../toolchain/verilator.ts';
import { synthCheck } from '../toolchain/yosys.ts';
import { runInterpreter, runVerilator, runIcarus, firstMismatch, designStimulus, type Mismatch } from './harness.ts';
import { cacheRoot } from '../toolchain/cache.ts';

export interface CheckReport {
  readonly top: string;
  readonly lint: string[];
  readonly cycles: number;
  readonly seed: number;
  readonly mismatches: Mismatch[];
  readonly ms: { lint: number; synth: number; interp: number; verilator: number; icarus: number };
}

export async function checkDesign(e: Elaborated<unknown>, opts: { cycles?: number; seed?: number; log?: (s: string) => void } = {}): Promise<CheckReport> {
  const log = opts.log ?? (() => {});
  const cycles = opts.cycles ?? 500;
  const seed = opts.seed ?? 1;
  // The interpreter cannot run hand-written modules (the table-lookup array's LUT6_2/CARRY4
  // adders): refuse before minutes of lint and synthesis, naming the module.
  const box = moduleTree(e.ir).find((mod) => mod.blackBox);
  if (box) throw new HdlError(`check: ${e.ir.name} instantiates the hand-written module '${box.name}', which the IR interpreter cannot run, so the three-way check does not apply; its Verilator regression does (e.g. test/cores/ternary.test.ts for jmax > 0)`);
  const design = emitDesign(e);
  const dir = path.join(cacheRoot(), 'check', `${design.manifest.top}-${design.manifest.contentHash.slice(0, 12)}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const files = writeDesign(dir, design).filter((f) => f.endsWith('.v'));
  const top = design.manifest.top;
  const t = (): number => performance.now();

  let t0 = t();
  log(`lint       verilator --lint-only -Wall (${files.length} files)`);
  const lint = await lintVerilog(files, top);
  const msLint = t() - t0;
  t0 = t();
  // Yosys' generic flow maps memories to flip-flops; past a few kilobits that is minutes
  // and gigabytes for nothing a target flow would do (they map memories to block RAM:
  // `bitnet-fpga synth`), so large-memory designs stop before gate mapping.
  const memBits = moduleTree(e.ir).reduce((n, m) => n + m.memories.reduce((k, mem) => k + mem.shape.width * mem.depth, 0), 0);
  const level = memBits > 16384 ? 'coarse' : 'full';
  log(`synth      yosys synth${level === 'coarse' ? ` to word level (${Math.round(memBits / 1024)} Kbit of memories; gate mapping is in bitnet-fpga synth)` : ''}`);
  await synthCheck(files, top, { level });
  const msSynth = t() - t0;

  const stim = designStimulus(design, seed, cycles);
  log(`simulate   ${cycles} cycles of random stimulus (seed ${seed}) in the interpreter, Verilator and Icarus`);
  t0 = t();
  const ref = runInterpreter({ design, ir: e.ir }, stim);
  const msInterp = t() - t0;
  t0 = t();
  const v = await runVerilator(design, stim);
  const msV = t() - t0;
  t0 = t();
  const i = await runIcarus(design, stim);
  const msI = t() - t0;
  const mismatches = [firstMismatch(ref, v, 'verilator'), firstMismatch(ref, i, 'icarus')].filter((m): m is Mismatch => !!m);
  return { top, lint, cycles, seed, mismatches, ms: { lint: msLint, synth: msSynth, interp: msInterp, verilator: msV, icarus: msI } };
}
