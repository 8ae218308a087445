// Is rtl/ what the generator emits today? One comparison for the staleness test and for
// the demo, which reports it and never rewrites checked-in files behind the user's back.

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { CHECKED_IN, emitCore, findCore, resolveParams } from './registry.ts';
import { designOutputs } from '../hdl/index.ts';

export interface RtlDifference {
  readonly dir: string;
  /** Files that differ, are missing, or should not be there. */
  readonly files: readonly string[];
}

/** Differences between rtl/<dir> and the generator's output, for every checked-in design (empty when up to date). */
export function compareCheckedIn(rtlRoot: string): RtlDifference[] {
  const out: RtlDifference[] = [];
  for (const entry of CHECKED_IN) {
    const c = findCore(entry.core);
    const expected = designOutputs(emitCore(c, resolveParams(c, entry.params)));
    const dir = path.join(rtlRoot, entry.dir);
    const present = existsSync(dir) ? readdirSync(dir) : [];
    const files = [
      ...[...expected].filter(([name, text]) => !present.includes(name) || readFileSync(path.join(dir, name), 'utf8') !== text).map(([name]) => name),
      ...present.filter((f) => !expected.has(f)).map((f) => `${f} (not generated)`),
    ];
    if (files.length) out.push({ dir: entry.dir, files });
  }
  return out;
}
