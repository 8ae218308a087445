// `bitnet-fpga generate`: elaborate a core and write Verilog + manifest.

import { readdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { CORES, CHECKED_IN, findCore, resolveParams, parseParamArgs, emitCore } from '../../../generator/cores/registry.ts';
import { writeDesign } from '../../../generator/hdl/index.ts';
import { rtlRoot } from '../paths.ts';
import { ParamError } from '../../../generator/cores/registry.ts';

export async function generateCommand(core: string | undefined, o: { out?: string; param: string[]; list?: boolean; all?: boolean; sourceComments?: boolean }): Promise<void> {
  if (o.list) {
    for (const c of Object.values(CORES)) {
      console.log(`${c.name}  ${c.description}`);
      for (const [k, p] of Object.entries(c.params)) {
        console.log(`    ${k.padEnd(8)} default ${String(p.default).padEnd(6)} ${p.min}..${p.max}${p.powerOfTwo ? ' (power of two)' : ''}  ${p.doc}`);
      }
    }
    return;
  }
  if (o.all) {
    for (const entry of CHECKED_IN) {
      const dir = path.join(rtlRoot(), entry.dir);
      writeCore(entry.core, entry.params, dir, false, true);
    }
    return;
  }
  if (!core) throw new ParamError("generate: name a core (see 'bitnet-fpga generate --list') or pass --all");
  if (!o.out) throw new ParamError('generate: --out DIR is required');
  const c = findCore(core);
  writeCore(core, resolveParams(c, parseParamArgs(o.param)), o.out, !!o.sourceComments, false);
}

function writeCore(core: string, params: Record<string, number>, dir: string, sourceComments: boolean, clean: boolean): void {
  const c = findCore(core);
  const design = emitCore(c, resolveParams(c, params), { sourceComments });
  if (clean) {
    for (const f of safeList(dir)) if (f.endsWith('.v') || f.endsWith('.manifest.json') || f.endsWith('.ports.ts')) rmSync(path.join(dir, f));
  }
  const written = writeDesign(dir, design);
  for (const w of design.manifest.warnings) console.error(w);
  console.log(`${core}: ${written.length} files in ${path.relative(process.cwd(), dir) || '.'} (content hash ${design.manifest.contentHash.slice(0, 16)})`);
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
