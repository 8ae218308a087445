// `bitnet-fpga generate`: elaborate a core and write Verilog + manifest.

import { existsSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { CORES, CHECKED_IN, findCore, resolveParams, parseParamArgs, emitCore } from '../../../generator/cores/registry.ts';
import { writeDesign, designOutputs, type EmittedDesign } from '../../../generator/hdl/index.ts';
import { entries, isGenerated, writeStaged } from '../out-dir.ts';
import { PARAM_FLAGS, quoted } from '../flags.ts';
import { rtlRoot } from '../paths.ts';
import { ParamError } from '../../../generator/cores/registry.ts';

export async function generateCommand(core: string | undefined, o: { out?: string; param: string[]; list?: boolean; all?: boolean; sourceComments?: boolean }): Promise<void> {
  // Flags another mode would ignore are refused, not dropped.
  const extra = (mode: string): void => {
    // --all too: the checked-in rtl/ has no source comments (a test compares it with the generator).
    const given = [core !== undefined && `core (${quoted(core)})`, o.out !== undefined && '-o/--out', o.param.length > 0 && PARAM_FLAGS, mode === '--list' && o.all && '--all', o.sourceComments && '--source-comments'].filter(Boolean);
    if (given.length) throw new ParamError(`generate ${mode} takes no ${given.join(', ')}`);
  };
  if (o.list) {
    extra('--list');
    for (const c of Object.values(CORES)) {
      console.log(`${c.name}  ${c.description}`);
      for (const [k, p] of Object.entries(c.params)) {
        console.log(`    ${k.padEnd(8)} default ${String(p.default).padEnd(6)} ${p.min}..${p.max}${p.powerOfTwo ? ' (power of two)' : ''}  ${p.doc}`);
      }
    }
    return;
  }
  if (o.all) {
    // rtl/<dir> is the project's own: it is regenerated in place, stale designs removed.
    extra('--all');
    for (const entry of CHECKED_IN) {
      const dir = path.join(rtlRoot(), entry.dir);
      const c = findCore(entry.core);
      const design = emitCore(c, resolveParams(c, entry.params));
      for (const f of entries(dir)) if (f.endsWith('.v') || f.endsWith('.manifest.json') || f.endsWith('.ports.ts')) rmSync(path.join(dir, f));
      report(entry.core, design, writeDesign(dir, design), dir);
    }
    return;
  }
  if (!core) throw new ParamError("generate: name a core (see 'bitnet-fpga generate --list') or pass --all");
  if (!o.out) throw new ParamError('generate: --out DIR is required');
  const c = findCore(core);
  const design = emitCore(c, resolveParams(c, parseParamArgs(o.param, PARAM_FLAGS)), { sourceComments: !!o.sourceComments });
  const dir = o.out;
  // Only files this generator wrote are replaced; a hand-written fifo.v of the same name is not.
  for (const name of designOutputs(design).keys()) {
    const p = path.join(dir, name);
    if (existsSync(p) && !isGenerated(p)) throw new ParamError(`generate: -o/--out ${dir}: ${name} exists and was not written by bitnet-fpga; refusing to overwrite it (move it, or choose another directory)`);
  }
  report(core, design, writeStaged(dir, 'generate', (stage) => writeDesign(stage, design)), dir);
}

function report(core: string, design: EmittedDesign, written: string[], dir: string): void {
  for (const w of design.manifest.warnings) console.error(w);
  console.log(`${core}: ${written.length} files in ${path.relative(process.cwd(), dir) || '.'} (content hash ${design.manifest.contentHash.slice(0, 16)})`);
}
