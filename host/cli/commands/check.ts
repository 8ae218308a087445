// `bitnet-fpga check`: lint, synthesize and simulate one core three ways.

import { findCore, resolveParams, parseParamArgs, ParamError } from '../../../generator/cores/registry.ts';
import { checkDesign, type CheckReport } from '../../../sim/equiv/check.ts';
import { describeMismatch } from '../../../sim/equiv/harness.ts';
import { CheckFailed } from '../errors.ts';
import { decimalInt, PARAM_FLAGS, SEED_MAX, shown } from '../flags.ts';

/** --cycles and --seed were bounded by the option table; $SEED is checked here, by its name. */
export async function checkCommand(core: string, o: { param: string[]; cycles: number; seed?: number }): Promise<void> {
  const c = findCore(core);
  const env = process.env.SEED;
  const seed = o.seed ?? (env === undefined ? 1 : decimalInt(env));
  if (seed === undefined || seed < 0 || seed > SEED_MAX) throw new ParamError(`$SEED ${shown(env ?? '')}: expected an integer from 0 to ${SEED_MAX} (or pass --seed)`);
  const report = await checkDesign(c.build(resolveParams(c, parseParamArgs(o.param, PARAM_FLAGS))), { cycles: o.cycles, seed, log: (s) => console.log(`[${core}] ${s}`) });
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
