// Process-wide cleanup: the child process groups to kill and the temporary paths to remove
// when this process ends (normally, by an uncaught error, or by SIGINT/SIGTERM/SIGHUP), and
// the removal of stale temporary entries left by processes that died without it (SIGKILL,
// a crash, power loss). A leaf module (Node built-ins only): the build cache, the tool
// runner, board-sim and the host's native-kernel build all use it, and the inference path
// may load it without loading the HDL library.
//
// Signal handlers are installed only while something is tracked. Outside that, Node's
// default applies (a signal ends the process at once, even inside synchronous work), and a
// library user that never builds anything keeps its own signal handling.

import type { ChildProcess } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import * as path from 'node:path';

/** Exit codes of a process ended by these signals, as a shell reports them (128 + number). */
const SIGNAL_EXIT: Readonly<Record<string, number>> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

/** Process groups (pids of children spawned with `detached: true`, each its group's leader). */
const groups = new Set<number>();
const paths = new Set<string>();
const closers = new Set<{ fn: () => Promise<unknown>; graceMs: number }>();
let installed = false;
let stopping = false;

/**
 * Kill `child`'s whole process group when this process ends. The child must have been
 * spawned with `detached: true` (it then leads its own group, so make's compilers die with
 * make). Returns the function that stops tracking it (call it when the child has exited).
 */
export function trackChild(child: ChildProcess): () => void {
  const pid = child.pid;
  if (pid === undefined) return () => {};
  groups.add(pid);
  sync();
  const untrack = (): void => {
    groups.delete(pid);
    sync();
  };
  child.once('exit', untrack);
  return untrack;
}

/** Kill a tracked child's process group now (e.g. on a timeout). */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is gone already (ESRCH).
  }
}

/** Remove `p` (a file or a directory tree) when this process ends; returns the untrack function. */
export function trackPath(p: string): () => void {
  paths.add(p);
  sync();
  return () => {
    paths.delete(p);
    sync();
  };
}

/**
 * Run `fn` on the first SIGINT/SIGTERM/SIGHUP, then exit (130/143/129) when it settles or
 * after `graceMs`, whichever is first; a second signal exits at once. Tracked children are
 * killed and tracked paths removed on the way out in every case.
 */
export function onInterrupt(fn: () => Promise<unknown>, opts: { graceMs?: number } = {}): () => void {
  const entry = { fn, graceMs: opts.graceMs ?? 2000 };
  closers.add(entry);
  sync();
  return () => {
    closers.delete(entry);
    sync();
  };
}

let uninstallTimer: NodeJS.Timeout | undefined;

function sync(): void {
  const want = stopping || groups.size > 0 || paths.size > 0 || closers.size > 0;
  if (want) {
    clearTimeout(uninstallTimer);
    uninstallTimer = undefined;
    if (!installed) for (const sig of Object.keys(SIGNAL_EXIT)) process.on(sig, onSignal);
    installed = true;
  } else if (installed && uninstallTimer === undefined) {
    // Not at once: a signal that came during synchronous work (the native build's spawnSync)
    // is dispatched only at the event loop's next poll, and with no listener then it would be
    // lost and the process would carry on as if never interrupted. Not unref'd: a process
    // that would end now polls once more first (at most 100 ms later), so the signal counts.
    uninstallTimer = setTimeout(() => {
      uninstallTimer = undefined;
      installed = false;
      for (const sig of Object.keys(SIGNAL_EXIT)) process.off(sig, onSignal);
    }, 100);
  }
}

function onSignal(sig: NodeJS.Signals): void {
  const code = SIGNAL_EXIT[sig] ?? 1;
  if (stopping || closers.size === 0) process.exit(code); // the 'exit' handler below does the rest
  stopping = true;
  const steps = [...closers];
  const graceMs = Math.min(...steps.map((s) => s.graceMs));
  setTimeout(() => process.exit(code), graceMs);
  void Promise.allSettled(steps.map((s) => s.fn())).then(() => process.exit(code));
}

/** Synchronous: the only kind of work an 'exit' listener can do. */
function cleanupNow(): void {
  for (const pid of groups) {
    try {
      process.kill(-pid, 'SIGTERM'); // every tool we run dies on SIGTERM; socat removes its pty links on it
    } catch {
      // already gone
    }
  }
  groups.clear();
  for (const p of paths) {
    try {
      // A compiler just sent SIGTERM may still be writing here: retry on ENOTEMPTY/EBUSY.
      rmSync(p, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
    } catch {
      // Left for removeStale() at the next start.
    }
  }
  paths.clear();
}

process.on('exit', cleanupNow);

/** Whether a process with this pid exists (EPERM: it exists and belongs to someone else). */
export function pidAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove the entries of `dir` whose names match `pattern` (its first capture group is the
 * pid of the process that made them) when that process is dead, they belong to this user
 * and they are not symbolic links. Nothing else is touched. Returns the removed paths.
 */
export function removeStale(dir: string, pattern: RegExp): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const uid = process.getuid?.();
  const removed: string[] = [];
  for (const name of names) {
    const m = pattern.exec(name);
    if (!m || m[1] === undefined) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || pidAlive(pid)) continue;
    const p = path.join(dir, name);
    try {
      const st = lstatSync(p);
      if (st.isSymbolicLink() || (uid !== undefined && st.uid !== uid)) continue;
      rmSync(p, { recursive: true, force: true, maxRetries: 3 });
      removed.push(p);
    } catch {
      // Someone else removed it first, or it is not ours to remove.
    }
  }
  return removed;
}

/**
 * A fresh staging directory `DIR/.TAG.tmp-<pid>-XXXXXX` inside existing directory `dir`
 * (those of dead processes are removed first), removed when this process ends; `done()`
 * removes it now. Files written there and renamed into `dir` replace their targets atomically.
 */
export function stagingDir(dir: string, tag: string): { readonly dir: string; done(): void } {
  removeStale(dir, new RegExp(`^\\.${tag.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.tmp-(\\d+)-`));
  const stage = mkdtempSync(path.join(dir, `.${tag}.tmp-${process.pid}-`));
  const untrack = trackPath(stage);
  return {
    dir: stage,
    done: () => {
      rmSync(stage, { recursive: true, force: true });
      untrack();
    },
  };
}

/**
 * Write files into existing directory `dir` through a staging directory: `write` fills it,
 * then each file is renamed into place, so an interrupted or failed write leaves `dir` as it
 * was. Returns the names written.
 */
export function writeThroughStaging(dir: string, tag: string, write: (stage: string) => void): string[] {
  const s = stagingDir(dir, tag);
  try {
    write(s.dir);
    const names = readdirSync(s.dir);
    for (const f of names) renameSync(path.join(s.dir, f), path.join(dir, f));
    return names;
  } finally {
    s.done();
  }
}
