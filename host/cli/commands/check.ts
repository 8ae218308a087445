// `bitnet-fpga check`: lint, synthesize and simulate one core three ways.

import { findCore, resolveParams, parseParamArgs, ParamError } from '../../../generator/cores/registry.ts';
import { checkDesign, type CheckReport } from '../../../sim/equiv/check.ts';
import { describeMismatch } from '../../../sim/equiv/harness.ts';
import { CheckFailed } from '../errors.ts';

export async function checkCommand(core: string, o: { param: string[]; cycles: string; seed?: string }): Promise<void> {
  const c = findCore(core);
  const cycles = Number(o.cycles);
  if (!Number.isInteger(cycles) || cycles < 2) throw new ParamError(`--cycles ${o.cycles}: expected an integer >= 2`);
  const seed = Number(o.seed ?? process.env.SEED ?? 1);
  if (!Number.isInteger(seed)) throw new ParamError(`--seed ${o.seed}: expected an integer`);
  const report = await checkDesign(c.build(resolveParams(c, parseParamArgs(o.param))), { cycles, seed, log: (s) => console.log(`[${core}] ${s}`) });
  printCheck(report);
}

export function printCheck(r: CheckReport): void {
  const ms = (x: number): string => `${x.toFixed(0)} ms`;
  console.log(`[${r.top}] lint: ${r.lint.length ? `${r.lint.length} warnings` : 'clean'} (${ms(r.ms.lint)}), synthesis ok (${ms(r.ms.synth)})`);
  console.log(`[${r.top}] ${r.cycles} cycles, seed ${r.seed}: interpreter ${ms(r.ms.interp)}, verilator ${ms(r.ms.verilator)} (incl. build if not cached), icarus ${ms(r.ms.icarus)}`);
  for (const l of r.lint) console.log(`    ${l}`);
  for (const m of r.mismatches) console.log(`    MISMATCH ${describeMismatch(m)}`);
  if (r.lint.length || r.mismatches.length) throw new CheckFailed(`${r.top}: ${r.lint.length} lint warnings, ${r.mismatches.length} simulator disagreements (seed ${r.seed})`);
  console.log(`[${r.top}] interpreter, Verilator and Icarus agree on every output in every cycle`);
}
