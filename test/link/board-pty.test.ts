// `board-sim --pty` as a user runs it, in a child process: hostile --link paths are refused
// before socat sees them (socat's address syntax would run `exec:` commands), bad flags and
// unknown parameters are one line each, and SIGINT stops it promptly with nothing left behind
// (its temporary directory, its pty link, stale directories of dead board-sims).

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, rmSync, symlinkSync, utimesSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSerial } from '../../host/link/serial.ts';
import { LinkClient } from '../../host/link/client.ts';
import { OP, MAX_PAYLOAD } from '../../common/protocol.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'host/cli/bin.js');
/** The project's build cache, so a child in a temporary cwd reuses the board model. */
const ENV = { ...process.env, BITNET_FPGA_CACHE: process.env.BITNET_FPGA_CACHE ?? path.join(ROOT, '.cache') };

function cli(args: string[], cwd: string, env: NodeJS.ProcessEnv = ENV): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, env, encoding: 'utf8', timeout: 120_000, killSignal: 'SIGKILL' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function oneLine(text: string, re: RegExp): void {
  const lines = text.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line, got:\n${text}`);
  assert.match(lines[0]!, re);
}

/** A pid that certainly belonged to a process that has exited. */
function deadPid(): number {
  const r = spawnSync('true');
  return r.pid!;
}

describe('board-sim --pty from the command line', function () {
  // The tests' own scratch directories go too: these tests are about leaving nothing behind.
  const scratches: string[] = [];
  const scratch = (prefix: string): string => {
    const d = mkdtempSync(path.join(os.tmpdir(), prefix));
    scratches.push(d);
    return d;
  };
  after(() => {
    for (const d of scratches) rmSync(d, { recursive: true, force: true });
  });

  it('refuses --link paths socat would interpret, naming --link, and nothing runs or is created', () => {
    for (const link of ['tty!!exec:touch PWNED', 'a,b', 'a:b', "'x'", 'a b', 'a\nb', 'x"y', 'a\\b', '(x)', '{x}', '[x]']) {
      const cwd = scratch('pty-hostile-');
      const r = cli(['board-sim', '--pty', '--link', link], cwd);
      assert.equal(r.code, 1, `--link ${JSON.stringify(link)}: exit ${r.code}\n${r.out}${r.err}`);
      oneLine(r.err, /^error: board-sim: --link .*: .*(letters|characters)/);
      assert.deepEqual(readdirSync(cwd), [], `--link ${JSON.stringify(link)} created ${readdirSync(cwd).join(', ')}`);
      assert.equal(existsSync(path.join(cwd, 'PWNED')), false);
    }
  });

  it('--link in a missing directory, on an existing file or directory: one line naming --link', () => {
    const cwd = scratch('pty-link-');
    writeFileSync(path.join(cwd, 'notes.txt'), 'keep me');
    mkdirSync(path.join(cwd, 'somedir'));
    for (const [link, re] of [
      ['/nonexistent/dir/tty', /^error: board-sim: --link \/nonexistent\/dir\/tty: the directory \/nonexistent\/dir does not exist/],
      ['notes.txt', /^error: board-sim: --link notes\.txt: already exists \(a regular file\)/],
      ['somedir', /^error: board-sim: --link somedir: already exists \(a directory\)/],
      ['notes.txt/tty', /^error: board-sim: --link notes\.txt\/tty: .*notes\.txt is not a directory/],
    ] as const) {
      const r = cli(['board-sim', '--pty', '--link', link], cwd);
      assert.equal(r.code, 1, `${link}: ${r.out}${r.err}`);
      oneLine(r.err, re);
    }
    assert.equal(readFileSync(path.join(cwd, 'notes.txt'), 'utf8'), 'keep me');
  });

  it('refuses an unknown or out-of-range board parameter by name', () => {
    const cwd = scratch('pty-param-');
    let r = cli(['board-sim', '--pty', '-G', 'bogus=1'], cwd);
    assert.equal(r.code, 1, r.out + r.err);
    oneLine(r.err, /^error: board-sim: -G bogus=1: core 'board' has no parameter 'bogus'; its parameters: rows, cols/);
    r = cli(['board-sim', '--pty', '-G', 'rows=3'], cwd);
    assert.equal(r.code, 1, r.out + r.err);
    oneLine(r.err, /^error: board-sim: -G rows=3: .*rows \(K lanes\) must be an integer from 1 to 64, a power of two/);
    r = cli(['board-sim', '--xdma', path.join(cwd, 'x'), '-G', 'bogus=1'], cwd);
    assert.equal(r.code, 1, r.out + r.err);
    oneLine(r.err, /^error: board-sim: -G bogus=1: core 'xdma' has no parameter 'bogus'/);
    assert.deepEqual(readdirSync(cwd), []);
  });

  it('serves on --link, and on SIGINT exits promptly (130) leaving no temporary directory, no link, no stale directory of a dead board-sim', async function () {
    const tmp = scratch('pty-tmpdir-');
    const cwd = scratch('pty-cwd-');
    const dead = deadPid();
    const stale = path.join(tmp, `bitnet-board-sim-${dead}-AbC123`);
    mkdirSync(stale);
    writeFileSync(path.join(stale, 'board.manifest.json'), '{}');
    const live = path.join(tmp, `bitnet-board-sim-${process.pid}-XyZ789`); // a live owner: kept
    mkdirSync(live);
    const other = path.join(tmp, 'bitnet-board-sim-notes'); // not our naming pattern: kept
    mkdirSync(other);
    // The older name without a pid: removed when over an hour old and its board end dangles.
    const hourAgo = new Date(Date.now() - 2 * 3600_000);
    const legacyDead = path.join(tmp, 'bitnet-board-sim-OldDed');
    mkdirSync(legacyDead);
    symlinkSync('/dev/pts/nonexistent-pty', path.join(legacyDead, 'board'));
    const legacyLive = path.join(tmp, 'bitnet-board-sim-OldLiv'); // socat alive: its link resolves
    mkdirSync(legacyLive);
    symlinkSync('/dev/null', path.join(legacyLive, 'board'));
    const legacyYoung = path.join(tmp, 'bitnet-board-sim-NewOne'); // may be starting up
    mkdirSync(legacyYoung);
    for (const d of [legacyDead, legacyLive]) utimesSync(d, hourAgo, hourAgo);
    const child = spawn(process.execPath, [BIN, 'board-sim', '--pty', '--link', 'tty'], { cwd, env: { ...ENV, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    try {
      // The manifest line is the last one board-sim prints at start (stdout may arrive in pieces).
      for (let i = 0; i < 6000 && !/board-sim: manifest \S+/.test(out) && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
      assert.match(out, /board-sim: listening on tty/, `${out}${err}`);
      const manifest = /board-sim: manifest (\S+)/.exec(out)![1]!;
      const dir = path.dirname(manifest);
      assert.equal(path.dirname(dir), tmp);
      assert.match(path.basename(dir), new RegExp(`^bitnet-board-sim-${child.pid}-`));
      assert.ok(lstatSync(path.join(cwd, 'tty')).isSymbolicLink());
      assert.match(readlinkSync(path.join(cwd, 'tty')), /^\/dev\/pts\//);
      assert.equal(existsSync(stale), false, 'the stale directory of a dead board-sim is removed at start');
      assert.ok(existsSync(live) && existsSync(other));
      assert.equal(existsSync(legacyDead), false, 'a legacy directory whose socat is gone is removed');
      assert.ok(existsSync(legacyLive) && existsSync(legacyYoung));
      child.kill('SIGINT');
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const r = await exited;
      clearTimeout(t);
      assert.deepEqual(r, { code: 130, signal: null }, `board-sim did not stop on SIGINT:\n${out}${err}`);
      assert.equal(existsSync(dir), false, `${dir} left behind`);
      assert.deepEqual(readdirSync(cwd), [], 'the pty link is removed');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('the issue\'s register-started run is refused, and a SIGINT while the simulation is busy exits at once, leaving nothing', async function () {
    const tmp = scratch('pty-wedge-');
    const child = spawn(process.execPath, [BIN, 'board-sim', '--pty'], { cwd: ROOT, env: { ...ENV, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    let client: LinkClient | undefined;
    try {
      for (let i = 0; i < 6000 && !/manifest /.test(out) && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
      const tty = /board-sim: listening on (\S+)/.exec(out)?.[1];
      assert.ok(tty, `${out}${err}`);
      client = new LinkClient(await openSerial(tty, 115200), { timeoutMs: 2000, retries: 0 });
      const u32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
      // K=64, N=2^31-1, M=2, WBASE=0, then CTRL=1: the start is refused (runs begin only
      // through a checked MATMUL), so the run that wedged board-sim never begins.
      for (const [addr, v] of [[2, 64], [3, 2 ** 31 - 1], [4, 2], [5, 0]] as const) await client.request(OP.WRITE_REG, Uint8Array.from([addr, ...u32(v)]));
      await assert.rejects(client.request(OP.WRITE_REG, Uint8Array.from([0, ...u32(1)])), /status 3 \(bad arguments\)/);
      // Keep the simulation busy when the signal comes: a 1 MiB frame is a million cycles of work.
      void client.request(OP.IDENTIFY, new Uint8Array(MAX_PAYLOAD)).catch(() => {});
      await new Promise((r) => setTimeout(r, 300));
      const dir = path.dirname(/board-sim: manifest (\S+)/.exec(out)![1]!);
      child.kill('SIGINT');
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const r = await exited;
      clearTimeout(t);
      assert.deepEqual(r, { code: 130, signal: null }, `board-sim did not stop on SIGINT:\n${out}${err}`);
      assert.equal(existsSync(dir), false, `${dir} left behind`);
      assert.deepEqual(readdirSync(tmp).filter((f) => f.startsWith('bitnet-board-sim-')), []);
    } finally {
      await client?.close();
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
