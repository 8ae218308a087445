// Differential fuzzing of the HDL library: many random circuits share one top module (and
// so one Verilator build), run by the IR interpreter, Verilator (its optimizer off: we test
// how it reads our Verilog, not its own optimizer's bugs) and Icarus on the same random
// stimulus. A circuit whose outputs disagree is shrunk and written out as a
// standalone reproducer directory.

import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { defineModule, emitDesign, writeDesign, Bool, type Elaborated, type Signal } from '../../generator/hdl/index.ts';
import { runInterpreter, runVerilator, runIcarus, firstMismatch, describeMismatch, designStimulus, type Mismatch } from '../../sim/equiv/harness.ts';
import { formatRows, Rng, type Stimulus } from '../../sim/equiv/stimulus.ts';
import { lintVerilog } from '../../sim/toolchain/verilator.ts';
import { synthCheck } from '../../sim/toolchain/yosys.ts';
import { randomRecipe, recipeModule, recipeShapes, shrinkCandidates, type Recipe } from './random-circuit.ts';

export interface FuzzOptions {
  seed: number;
  circuits: number;
  size: number;
  cycles: number;
  /** Where reproducers go. */
  outDir: string;
  log: (s: string) => void;
  /** Wall-clock budget for shrinking each failure. */
  shrinkMs?: number;
}

export interface FuzzResult {
  circuits: number;
  cycles: number;
  lint: string[];
  failures: { circuit: number; mismatch: Mismatch; reproducer: string; opsBefore: number; opsAfter: number }[];
}

/** Run one design three ways; the first disagreement (per simulator) or none. */
async function threeWay(e: Elaborated<unknown>, seed: number, cycles: number): Promise<{ design: ReturnType<typeof emitDesign>; stim: Stimulus; mismatches: Mismatch[]; traces: string[] }> {
  const design = emitDesign(e);
  const stim = designStimulus(design, seed, cycles);
  const ref = runInterpreter({ design, ir: e.ir }, stim);
  const v = await runVerilator(design, stim, { optimize: false });
  const i = await runIcarus(design, stim);
  const mismatches = [firstMismatch(ref, v, 'verilator'), firstMismatch(ref, i, 'icarus')].filter((m): m is Mismatch => !!m);
  return { design, stim, mismatches, traces: [formatRows(ref.values), formatRows(v.values), formatRows(i.values)] };
}

export async function fuzz(o: FuzzOptions): Promise<FuzzResult> {
  const rng = new Rng(o.seed);
  const recipes: Recipe[] = [];
  for (let i = 0; i < o.circuits; i++) recipes.push(randomRecipe(rng, `fz${i}`, o.size));
  const families = recipes.map(recipeModule);
  const top = defineModule(`fuzz_top`, (m) => {
    // One clock for all; one reset net per reset style, so no net is both a synchronous and
    // an asynchronous reset (Verilator's SYNCASYNCNET) and each is active at its own level.
    m.domain('sync', { rst: null }); // the clock every stateful circuit follows
    const resetNets = new Map<string, Signal>();
    const resetNet = (r: Recipe['reset']): Signal => {
      const name = `${r.kind === 'async' ? 'arst' : 'rst'}${r.active === 'low' ? '_n' : ''}`;
      if (!resetNets.has(name)) resetNets.set(name, m.input(name, Bool));
      return resetNets.get(name)!;
    };
    families.forEach((fam, i) => {
      const io = m.instance(`u${i}`, fam({}));
      for (const [name, w] of Object.entries(io)) {
        const port = fam({}).ir.port(name)!;
        if (port.role === 'input') {
          if (name === 'clk') continue;
          if (name === 'rst') {
            m.set(w, resetNet(recipes[i]!.reset));
            continue;
          }
          m.set(w, m.input(`c${i}_${name}`, port.shape));
        } else {
          const out = m.output(`c${i}_${name}`, port.shape);
          m.set(out, w);
        }
      }
    });
    return {};
  });
  const e = top({});
  const design = emitDesign(e);
  const dir = path.join(o.outDir, `fuzz-${o.seed}`);
  mkdirSync(dir, { recursive: true });
  const files = writeDesign(dir, design).filter((f) => f.endsWith('.v'));
  o.log(`seed ${o.seed}: ${o.circuits} circuits, ${design.files.length} modules, ${design.manifest.ports.length} top-level ports`);
  let t0 = Date.now();
  const lint = await lintVerilog(files, 'fuzz_top');
  o.log(`lint ${Date.now() - t0} ms`);
  t0 = Date.now();
  await synthCheck(files, 'fuzz_top', { level: 'coarse' });
  o.log(`yosys ${Date.now() - t0} ms`);

  const stim = designStimulus(design, o.seed, o.cycles);
  t0 = Date.now();
  const ref = runInterpreter({ design, ir: e.ir }, stim);
  o.log(`interpreter ${Date.now() - t0} ms`);
  t0 = Date.now();
  const ver = await runVerilator(design, stim, { optimize: false });
  o.log(`verilator (build + run) ${Date.now() - t0} ms`);
  t0 = Date.now();
  const traces = [ver, await runIcarus(design, stim)];
  o.log(`icarus ${Date.now() - t0} ms`);
  const failing = new Map<number, Mismatch>();
  for (const [t, who] of [
    [traces[0]!, 'verilator'],
    [traces[1]!, 'icarus'],
  ] as const) {
    for (let c = 0; c < o.circuits; c++) {
      if (failing.has(c)) continue;
      const m = firstMismatch(ref, t, who, (name) => name.startsWith(`c${c}_`));
      if (m) failing.set(c, m);
    }
  }
  const failures: FuzzResult['failures'] = [];
  for (const [c, mismatch] of [...failing].slice(0, 3)) {
    o.log(`circuit ${c} disagrees (${mismatch.who}, cycle ${mismatch.cycle}, ${mismatch.port}); shrinking`);
    const { recipe, reproducer } = await shrinkAndWrite(recipes[c]!, o, c);
    failures.push({ circuit: c, mismatch, reproducer, opsBefore: recipes[c]!.ops.length, opsAfter: recipe.ops.filter((x) => x.k !== 'const').length });
  }
  return { circuits: o.circuits, cycles: o.cycles, lint, failures };
}

/** Greedy shrinking: keep any simplification that still disagrees, within the time budget. */
async function shrinkAndWrite(original: Recipe, o: FuzzOptions, index: number): Promise<{ recipe: Recipe; reproducer: string }> {
  const deadline = Date.now() + (o.shrinkMs ?? 120_000);
  let n = 0;
  const standalone = (r: Recipe): Elaborated<unknown> => recipeModule({ ...r, name: `repro${n++}` })({});
  let best = original;
  let bestRun = await threeWay(standalone(best), o.seed, o.cycles);
  if (bestRun.mismatches.length === 0) {
    o.log(`circuit ${index} agrees when run alone; writing it unshrunk`);
  } else {
    let progress = true;
    while (progress && Date.now() < deadline) {
      progress = false;
      const shapes = recipeShapes(best);
      for (const cand of shrinkCandidates(best, shapes)) {
        if (Date.now() > deadline) break;
        let run;
        try {
          run = await threeWay(standalone(cand), o.seed, o.cycles);
        } catch {
          continue; // a candidate the library rejects is not a smaller reproducer
        }
        if (run.mismatches.length) {
          best = cand;
          bestRun = run;
          progress = true;
          break;
        }
      }
    }
  }
  const dir = path.join(o.outDir, `fuzz-repro-seed${o.seed}-c${index}`);
  mkdirSync(dir, { recursive: true });
  writeDesign(dir, bestRun.design);
  writeFileSync(path.join(dir, 'recipe.json'), JSON.stringify(best, null, 1) + '\n');
  writeFileSync(path.join(dir, 'stimulus.hex'), formatRows(bestRun.stim.values));
  writeFileSync(path.join(dir, 'interpreter.hex'), bestRun.traces[0]!);
  writeFileSync(path.join(dir, 'verilator.hex'), bestRun.traces[1]!);
  writeFileSync(path.join(dir, 'icarus.hex'), bestRun.traces[2]!);
  writeFileSync(
    path.join(dir, 'README.txt'),
    [
      `Reproducer for HDL fuzz seed ${o.seed}, circuit ${index} (${bestRun.mismatches.map(describeMismatch).join('; ')}).`,
      `Inputs per cycle in stimulus.hex (ports in manifest order), outputs of each simulator in *.hex.`,
      `Replay:  npx tsx test/support/fuzz-replay.ts ${dir} ${o.cycles}`,
      '',
    ].join('\n'),
  );
  return { recipe: best, reproducer: dir };
}

export async function replay(dir: string, cycles: number, seed: number): Promise<Mismatch[]> {
  const { readFileSync } = await import('node:fs');
  const recipe = JSON.parse(readFileSync(path.join(dir, 'recipe.json'), 'utf8')) as Recipe;
  const run = await threeWay(recipeModule(recipe)({}), seed, cycles);
  return run.mismatches;
}
