// Content-addressed build cache shared by every Verilator build in the project. A build
// runs in a private directory and is renamed into place, so two processes building the
// same model never see half a build; the loser of the race discards its copy. The private
// directory is named `<name>-<key>.tmp-<pid>-…`: it is removed when this process ends
// (cleanup.ts), and a later build removes those whose process died without that (SIGKILL).

import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { removeStale, trackPath } from './cleanup.ts';

export function cacheRoot(): string {
  return process.env.BITNET_FPGA_CACHE ?? path.join(process.cwd(), '.cache');
}

/** A short stable key over any number of strings (NUL-separated, so ['ab','c'] ≠ ['a','bc']). */
export function cacheKey(parts: readonly string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex').slice(0, 20);
}

/** A private build directory of cachedBuild; group 1 is the pid of the process building it. */
const STALE = /^[\w.-]+-[0-9a-f]+\.tmp-(\d+)-\d+-\d+$/;

/**
 * Return `<cacheRoot>/<kind>/<name>-<key>`, building it with `build(tmpDir)` first when absent.
 * `marker` is a path inside the directory whose presence means the build completed.
 */
export async function cachedBuild(kind: string, name: string, key: string, marker: string, build: (dir: string) => Promise<void>): Promise<{ dir: string; built: boolean }> {
  const dir = path.join(cacheRoot(), kind, `${name}-${key}`);
  if (existsSync(path.join(dir, marker))) return { dir, built: false };
  removeStale(path.dirname(dir), STALE);
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  mkdirSync(tmp, { recursive: true });
  const untrack = trackPath(tmp);
  try {
    await build(tmp);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    untrack();
    throw e;
  }
  if (existsSync(dir) && !existsSync(path.join(dir, marker))) rmSync(dir, { recursive: true, force: true }); // an interrupted old build
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another process finished first; use theirs
  }
  untrack();
  return { dir, built: true };
}
