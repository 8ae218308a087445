// Differential fuzzing of the HDL library: random circuits, run by the IR interpreter,
// Verilator and Icarus on the same stimulus, must agree in every cycle. FUZZ_CIRCUITS
// (default 150: the suite's time budget; soaks run more) and FUZZ_BATCHES (default 1) scale it up; SEED picks the batch.

import assert from 'node:assert/strict';
import * as path from 'node:path';
import { fuzz } from '../support/fuzz.ts';
import { describeMismatch } from '../../sim/equiv/harness.ts';
import { cacheRoot } from '../../sim/toolchain/cache.ts';
import { emitDesign } from '../../generator/hdl/index.ts';
import { LINE_LIMIT } from '../../generator/hdl/layout.ts';
import { randomRecipe, recipeModule } from '../support/random-circuit.ts';
import { Rng } from '../../sim/equiv/stimulus.ts';

const seed = Number(process.env.SEED ?? 20261123);
const circuits = Number(process.env.FUZZ_CIRCUITS ?? 150);
const batches = Number(process.env.FUZZ_BATCHES ?? 1);

// A random circuit can compute a comparison whose result its own structure fixes (x >= x,
// a value shifted out of range); Verilator rightly reports those as constant comparisons
// about that circuit's logic. The library folds the cases it can prove; any other lint
// message is a failure.
const CONSTANT_COMPARISON = /^%Warning-(UNSIGNED|CMPCONST):/;

describe('hdl differential fuzzing: interpreter vs Verilator vs Icarus', () => {
  it(`random circuits (larger ones too) emit no line longer than ${LINE_LIMIT} characters, and use case and enum constructs (SEED=${seed})`, () => {
    const rng = new Rng(seed);
    let cases = 0;
    let enums = 0;
    for (let i = 0; i < 150; i++) {
      const text = emitDesign(recipeModule(randomRecipe(rng, `ll${i}`, i % 3 === 0 ? 80 : 25))({})).files.map((f) => f.text).join('\n');
      for (const l of text.split('\n')) assert.ok(l.length <= LINE_LIMIT, `circuit ${i}: ${l.length} characters: ${l}`);
      if (/\bcase \(/.test(text)) cases++;
      if (/\blocalparam\b/.test(text)) enums++;
    }
    assert.ok(cases > 10 && enums > 10, `the fuzzer should draw case chains and enums (${cases} and ${enums} of 150 circuits)`);
  });

  for (let b = 0; b < batches; b++) {
    const s = seed + b;
    it(`${circuits} random circuits agree cycle by cycle (SEED=${s})`, async () => {
      const r = await fuzz({ seed: s, circuits, size: 25, cycles: 60, outDir: path.join(cacheRoot(), 'fuzz'), log: (m) => console.log(`      ${m}`), shrinkMs: 90_000 });
      const lint = r.lint.filter((l) => /^%Warning/.test(l));
      const constant = lint.filter((l) => CONSTANT_COMPARISON.test(l));
      const other = lint.filter((l) => !CONSTANT_COMPARISON.test(l));
      console.log(`      ${r.circuits} circuits x ${r.cycles} cycles; lint: ${constant.length} constant comparisons in random logic, ${other.length} other warnings; disagreements: ${r.failures.length}`);
      assert.deepEqual(other, [], `lint warnings on emitted Verilog (seed ${s}):\n${other.join('\n')}`);
      const detail = r.failures.map((f) => `circuit ${f.circuit}: ${describeMismatch(f.mismatch)}; shrunk ${f.opsBefore} -> ${f.opsAfter} ops; reproducer: ${f.reproducer}`);
      assert.deepEqual(detail, [], `simulators disagree (re-run with SEED=${s}):\n${detail.join('\n')}`);
    });
  }
});
