// Where the checked-in RTL lives and how a folder of it names its design. A folder under
// rtl/ holds one design: its Verilog files and one `<top>.manifest.json`, named after the top
// module, which the generator names (and may rename): so readers find the manifest by its
// suffix, never by a file name written down here.

import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const MANIFEST_SUFFIX = '.manifest.json';

/** rtl/ of this checkout. */
export const RTL_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../rtl');

/** rtl/<name>: a checked-in design's folder (board, xdma, …, as generator/cores/registry.ts's CHECKED_IN names them). */
export function rtlDir(name: string): string {
  return path.join(RTL_ROOT, name);
}

/** The manifest of the design in `dir`: its one *.manifest.json. Throws naming the folder when there is none or more than one. */
export function findManifest(dir: string): string {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith(MANIFEST_SUFFIX));
  } catch (e) {
    throw new Error(`${dir}: cannot list the folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); regenerate rtl/ with npx bitnet-fpga generate --all`);
  }
  if (names.length !== 1) throw new Error(`${dir}: expected one *${MANIFEST_SUFFIX}, found ${names.length ? names.sort().join(', ') : 'none'}; regenerate rtl/ with npx bitnet-fpga generate --all`);
  return path.join(dir, names[0]!);
}
