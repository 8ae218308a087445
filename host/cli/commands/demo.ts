// `bitnet-fpga demo`: the project's main job at this stage, end to end — regenerate the
// checked-in example cores, lint them, synthesize them, simulate them three ways.

import { CHECKED_IN, findCore, resolveParams } from '../../../generator/cores/registry.ts';
import { checkDesign } from '../../../sim/equiv/check.ts';
import { doctorReport } from '../../../sim/toolchain/tools.ts';
import { generateCommand } from './generate.ts';
import { printCheck } from './check.ts';

export async function demoCommand(): Promise<void> {
  const doc = doctorReport();
  console.log(doc.lines.join('\n'));
  console.log('');
  await generateCommand(undefined, { param: [], all: true });
  for (const entry of CHECKED_IN) {
    const c = findCore(entry.core);
    const r = await checkDesign(c.build(resolveParams(c, entry.params)), { cycles: 1000, seed: Number(process.env.SEED ?? 1), log: (s) => console.log(`[${entry.core}] ${s}`) });
    printCheck(r);
  }
}
