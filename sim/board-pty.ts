// board-sim behind a pseudo-terminal: socat makes a pty pair, BoardSim sits on one end,
// and the other end is a serial port any program can open. Used by `board-sim --pty`, the
// end-to-end demo and the tests. The SoC's manifest is written beside the pty so a host in
// another process can check the board's identity against it.
//
// socat reads its arguments as address specifications: `:` `,` `!!` quotes, brackets and
// backslashes are syntax, and `tty!!exec:CMD` runs CMD. So every path socat sees is checked
// against SOCAT_LITERAL first (ptyLinkProblem), and nothing else is escaped or guessed.
//
// The temporary directory (pty links, manifest) is `bitnet-board-sim-<pid>-XXXXXX`: removed
// on close and when the process ends (cleanup.ts), and by the next start when its process
// died without that (and, for the older name without a pid, when its socat is gone).

import { spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, existsSync, lstatSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BoardSim } from './board-sim.ts';
import { requireTool } from './toolchain/tools.ts';
import { killGroup, removeStale, trackChild, trackPath } from './toolchain/cleanup.ts';
import type { BuildOptions } from './bridge/build.ts';

const TMP_PREFIX = 'bitnet-board-sim-';
const STALE = /^bitnet-board-sim-(\d+)-[A-Za-z0-9]{6}$/;
/** The name before the pid was in it: whose it was can only be told by its links. */
const LEGACY = /^bitnet-board-sim-[A-Za-z0-9]{6}$/;
/** A legacy directory younger than this may be a board-sim still starting (socat not up yet). */
const LEGACY_MIN_AGE_MS = 3600_000;
/** Characters socat's address parser takes literally, in a `link=` option value. */
const SOCAT_LITERAL = /^[A-Za-z0-9._/+@-]+$/;
/** How long close() waits for socat to remove its links and exit. */
const SOCAT_EXIT_MS = 1000;

export interface BoardPty {
  /** The host's end: open it as a serial port. */
  readonly path: string;
  /** The identity hash the board reports. */
  readonly identity: string;
  /** The SoC's manifest (JSON), written next to the pty. */
  readonly manifestPath: string;
  readonly sim: BoardSim;
  close(): Promise<void>;
}

/** A path as an error message shows it: as given, or JSON-quoted when it holds anything unusual. */
export function showPath(p: string): string {
  return SOCAT_LITERAL.test(p) ? p : JSON.stringify(p);
}

/**
 * Why `link` cannot be where socat makes the pty link, or undefined when it can: it must
 * consist of characters socat takes literally, its directory must exist and be writable, and
 * nothing may be there yet (socat would replace a file), but a dangling symbolic link (a
 * board-sim that was killed) may be replaced.
 */
export function ptyLinkProblem(link: string): string | undefined {
  if (!SOCAT_LITERAL.test(link)) return "socat would read some of its characters as address syntax (it runs 'exec:' commands); expected a path of letters, digits and . _ - + @ / only";
  const dir = path.dirname(link);
  let st;
  try {
    st = statSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `the directory ${dir} does not exist` : code === 'ENOTDIR' ? `${dir} is not a directory (a part of it is a file)` : `cannot reach the directory ${dir} (${code})`;
  }
  if (!st.isDirectory()) return `${dir} is not a directory`;
  try {
    accessSync(dir, fsConstants.W_OK);
  } catch {
    return `the directory ${dir} is not writable`;
  }
  let own;
  try {
    own = lstatSync(link);
  } catch {
    return undefined; // nothing there: the normal case
  }
  if (own.isSymbolicLink()) {
    if (!existsSync(link)) return undefined;
    return 'already exists (a symbolic link to something that exists; another board-sim may be using it); expected a path that does not exist yet';
  }
  const what = own.isFile() ? 'a regular file' : own.isDirectory() ? 'a directory' : own.isCharacterDevice() ? 'a character device' : own.isFIFO() ? 'a FIFO' : own.isSocket() ? 'a socket' : 'not a symbolic link';
  return `already exists (${what}); expected a path that does not exist yet (socat would replace it)`;
}

/**
 * Remove legacy-named directories (no pid in the name) that are ours, over an hour old, and
 * whose board end no longer resolves: a live board-sim's socat keeps that link pointing at
 * its pty, and removes it when stopped; a dangling or missing one means socat is gone.
 */
function removeLegacy(root: string): void {
  let names: string[];
  try {
    names = readdirSync(root).filter((n) => LEGACY.test(n));
  } catch {
    return;
  }
  for (const name of names) {
    const p = path.join(root, name);
    try {
      const st = lstatSync(p);
      if (!st.isDirectory() || st.uid !== process.getuid?.() || Date.now() - st.mtimeMs < LEGACY_MIN_AGE_MS || existsSync(path.join(p, 'board'))) continue;
      rmSync(p, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // gone already, or not ours
    }
  }
}

/**
 * The board's end of the pty pair, as a plain byte pump. This is not the host's serial
 * transport (host/link/serial.ts, which sim/ does not import): the board end needs no link
 * errors, only bytes in and out, and a failing write is dropped as a wire drops it.
 */
async function openBoardEnd(tty: string): Promise<{ write(bytes: Uint8Array): Promise<void>; onData(cb: (bytes: Uint8Array) => void): void; close(): Promise<void> }> {
  const { SerialPort } = await import('serialport');
  const port = new SerialPort({ path: tty, baudRate: 115200, autoOpen: false });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`board-sim: ${tty} did not open within 5000 ms`)), 5000);
    port.open((err) => {
      clearTimeout(timer);
      if (err) reject(new Error(`board-sim: cannot open the pty's board end ${tty}: ${err.message}`));
      else resolve();
    });
  });
  // socat gone (board-sim stopping) ends the port with an error nobody needs to hear.
  port.on('error', () => {});
  return {
    write: (bytes) => new Promise<void>((resolve, reject) => void port.write(Buffer.from(bytes), (err) => (err ? reject(err) : port.drain((e) => (e ? reject(e) : resolve()))))),
    onData: (cb) => void port.on('data', (d: Buffer) => cb(new Uint8Array(d))),
    close: () => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve())),
  };
}

export async function startBoardPty(params: Record<string, number>, opts: { link?: string; build?: BuildOptions; onExit?: (why: string) => void; line?: { hostBaud?: number } } = {}): Promise<BoardPty> {
  if (opts.link !== undefined) {
    const why = ptyLinkProblem(opts.link);
    if (why) throw new Error(`board-sim: --link ${showPath(opts.link)}: ${why}`);
  }
  const tmpRoot = os.tmpdir();
  if (!SOCAT_LITERAL.test(tmpRoot)) throw new Error(`board-sim: the temporary directory ${JSON.stringify(tmpRoot)} (TMPDIR) has characters socat would read as address syntax; set TMPDIR to a path of letters, digits and . _ - + @ / only, or pass --link`);
  removeStale(tmpRoot, STALE);
  removeLegacy(tmpRoot);
  const dir = mkdtempSync(path.join(tmpRoot, `${TMP_PREFIX}${process.pid}-`));
  const untrackDir = trackPath(dir);
  const hostEnd = opts.link ?? path.join(dir, 'tty');
  const boardEnd = path.join(dir, 'board');
  // Its own process group, tracked: it goes when we do, and removes its links on SIGTERM.
  const socat = spawn(requireTool('socat'), [`pty,raw,echo=0,link=${hostEnd}`, `pty,raw,echo=0,link=${boardEnd}`], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  trackChild(socat);
  let socatErr = '';
  socat.stderr.on('data', (d: Buffer) => (socatErr += d.toString()));
  const socatExited = new Promise<void>((resolve) => socat.once('exit', () => resolve()));
  const stopSocat = async (): Promise<void> => {
    if (socat.exitCode !== null || socat.signalCode !== null) return;
    killGroup(socat, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([socatExited, new Promise<void>((r) => (timer = setTimeout(r, SOCAT_EXIT_MS)))]);
    clearTimeout(timer);
    killGroup(socat, 'SIGKILL');
  };
  const removeDir = (): void => {
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    untrackDir();
  };
  const abandon = async (e: unknown): Promise<never> => {
    await stopSocat();
    removeDir();
    throw e;
  };
  for (let i = 0; i < 250 && socat.exitCode === null && !(existsSync(hostEnd) && existsSync(boardEnd)); i++) await new Promise((r) => setTimeout(r, 20));
  if (!existsSync(hostEnd) || !existsSync(boardEnd)) {
    await stopSocat(); // first, so its last words are in socatErr
    removeDir();
    throw new Error(`board-sim: socat did not create the pseudo-terminal ${hostEnd} within 5 s: ${socatErr.trim() || 'no message'}`);
  }
  const port = await openBoardEnd(boardEnd).catch(abandon);
  let sim: BoardSim;
  try {
    const { BoardSim } = await import('./board-sim.ts');
    sim = await BoardSim.create(params, (bytes) => void port.write(bytes).catch(() => {}), opts.build, opts.line);
  } catch (e) {
    await port.close();
    return abandon(e);
  }
  port.onData((bytes) => sim.receive(bytes));
  const manifestPath = path.join(dir, 'board.manifest.json');
  writeFileSync(manifestPath, JSON.stringify(sim.manifest, null, 2));
  let closed = false;
  socat.on('exit', () => {
    if (!closed) opts.onExit?.(`socat exited: ${socatErr.trim() || 'no message'}`);
  });
  return {
    path: hostEnd,
    identity: (sim.manifest.extra as { board: { identity: string } }).board.identity,
    manifestPath,
    sim,
    async close() {
      if (closed) return;
      closed = true;
      await port.close().catch(() => {});
      await stopSocat();
      removeDir(); // before sim.close(), which waits for the simulation
      await sim.close();
    },
  };
}
