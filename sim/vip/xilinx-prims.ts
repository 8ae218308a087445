// Where the behavioural models of the Xilinx primitives the table-lookup array instantiates
// (LUT6_2, LUT5, CARRY4) live, for every Verilator file list that builds it.

import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const XILINX_PRIMS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'xilinx-prims.v');

/** A design with the table-lookup array (jmax > 0) instantiates the primitives: their models join its file list. */
export function withXilinxPrims<S extends { readonly files: readonly string[] }>(src: S, p: Readonly<Record<string, number | undefined>>): S {
  return p.jmax ? { ...src, files: [...src.files, XILINX_PRIMS] } : src;
}
