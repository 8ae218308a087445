// The designs rtl/ holds, for the simulators: board-sim and xdma-sim build a checked-in
// design when the parameters asked for are its own, and elaborate one (sim/elaborate.ts,
// which loads the generator) only otherwise. So the inference path (the sim backend with
// rtl/'s parameters) needs only rtl/ and its manifests, never the generator's code.

import { existsSync } from 'node:fs';
import { findManifest, rtlDir } from '../common/manifest.ts';
import { manifestSource, type ModelSource } from './bridge/build.ts';

/**
 * rtl/<name>'s design when every parameter in `params` (but those in `ignore`, which the
 * caller fixes itself) is the manifest's own with the same value; undefined otherwise, or
 * when the folder is missing. A parameter not given counts as the manifest's: the folders
 * this is used for hold the generator's defaults (test/layering.test.ts checks that).
 */
export function checkedInSource(name: string, params: Readonly<Record<string, number>>, ignore: readonly string[] = []): ModelSource | undefined {
  const dir = rtlDir(name);
  if (!existsSync(dir)) return undefined;
  const src = manifestSource(findManifest(dir));
  const own = src.manifest!.params as Readonly<Record<string, unknown>>;
  for (const [k, v] of Object.entries(params)) {
    if (ignore.includes(k)) continue;
    if (!Object.hasOwn(own, k) || own[k] !== v) return undefined;
  }
  return src;
}
