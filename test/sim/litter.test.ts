// Nothing left behind: an interrupted build kills its make/g++ process group and removes its
// private build directory; the next build removes those of builds whose process died;
// SIGINT is bounded even when a graceful step hangs, and a second one exits at once; paths
// handed to Yosys cannot break out of its script syntax.

import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, rmSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cachedBuild } from '../../sim/toolchain/cache.ts';
import { synthCheck } from '../../sim/toolchain/yosys.ts';
import { removeAbandoned } from '../../host/bench/model-2b.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'host/cli/bin.js');
const CLEANUP = path.join(ROOT, 'sim/toolchain/cleanup.ts');

function deadPid(): number {
  return spawnSync('true').pid!;
}

/** Processes whose working directory or command line lies under `dir`. */
function processesUnder(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cwd.startsWith(dir) || cmd.includes(dir)) found.push(`${pid} ${cmd.slice(0, 120)}`);
    } catch {
      // exited, or not ours to read
    }
  }
  return found;
}

function exitOf(child: ChildProcess, limitMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.on('exit', (code, signal) => {
      clearTimeout(t);
      resolve({ code, signal });
    });
  });
}

async function until(what: string, cond: () => boolean, limitMs: number): Promise<void> {
  for (const t0 = Date.now(); !cond(); ) {
    if (Date.now() - t0 > limitMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('litter: interrupted builds, signals, stale temporary files', function () {
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

  it('SIGINT during a Verilator model build: exit 130, no make/g++ left running, no build directory left', async () => {
    const work = scratch('litter-build-');
    const cache = path.join(work, 'cache');
    // The runtime from the project's cache when there is one, so the build reaches make quickly.
    const runtime = path.join(ROOT, '.cache', 'verilator-runtime');
    if (existsSync(runtime)) cpSync(runtime, path.join(cache, 'verilator-runtime'), { recursive: true, filter: (s) => !/\.tmp-/.test(s) });
    // Enough logic that the C++ compile takes a few seconds.
    const regs = Array.from({ length: 400 }, (_, i) => `  reg [31:0] r${i}; always @(posedge clk) r${i} <= r${i} * ${i + 3} + (d ^ ${i * 7919});`);
    writeFileSync(path.join(work, 'busy.v'), `module busy(input clk, input [31:0] d, output [31:0] q);\n${regs.join('\n')}\n  assign q = ${regs.map((_, i) => `r${i}`).join(' ^ ')};\nendmodule\n`);
    const child = spawn(process.execPath, [BIN, 'sim-build', path.join(work, 'busy.v'), '--top', 'busy'], { cwd: work, env: { ...process.env, BITNET_FPGA_CACHE: cache }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = exitOf(child, 120_000);
    try {
      // Wait for a compiler working in the private build directory, then interrupt node alone.
      await until('a compiler in the build directory', () => processesUnder(cache).some((p) => /\b(cc1plus|g\+\+|make)\b/.test(p)), 120_000);
      child.kill('SIGINT');
      const r = await exited;
      assert.deepEqual(r, { code: 130, signal: null }, err);
      const left = processesUnder(cache);
      assert.deepEqual(left, [], `still running after the interrupted build:\n${left.join('\n')}`);
      const models = path.join(cache, 'models');
      const litter = existsSync(models) ? readdirSync(models).filter((f) => f.includes('.tmp-')) : [];
      assert.deepEqual(litter, [], 'the private build directory is removed');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('SIGINT during the native kernel build: exit 130 once g++ is done (a synchronous spawn), no g++ left, no build directory left', async () => {
    const cache = scratch('litter-native-');
    const script = `import { loadNative } from ${JSON.stringify(path.join(ROOT, 'host/native/native.ts'))}; loadNative({ log: () => {} });`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, env: { ...process.env, BITNET_FPGA_CACHE: cache, BITNET_NATIVE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = exitOf(child, 120_000);
    try {
      await until('g++ building into the cache', () => processesUnder(cache).some((p) => /\b(cc1plus|g\+\+)\b/.test(p)), 60_000);
      child.kill('SIGINT');
      assert.deepEqual(await exited, { code: 130, signal: null }, err);
      assert.deepEqual(processesUnder(cache), []);
      const native = path.join(cache, 'native');
      assert.deepEqual(existsSync(native) ? readdirSync(native).filter((f) => f.includes('.tmp-')) : [], []);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('the next build removes private build directories of dead processes, and only those', async () => {
    const cache = scratch('litter-stale-');
    const kind = path.join(cache, 'models');
    mkdirSync(kind);
    const dead = path.join(kind, `t-0123456789abcdef0123.tmp-${deadPid()}-1796166227713-907129`);
    const live = path.join(kind, `t-0123456789abcdef0123.tmp-${process.pid}-1796166227713-1`);
    const foreign = path.join(kind, 'notes.tmp-keep');
    for (const d of [dead, live, foreign]) mkdirSync(path.join(d, 'obj'), { recursive: true });
    const saved = process.env.BITNET_FPGA_CACHE;
    process.env.BITNET_FPGA_CACHE = cache;
    try {
      const r = await cachedBuild('models', 'other', 'ffff', 'done', async (tmp) => writeFileSync(path.join(tmp, 'done'), ''));
      assert.ok(r.built && existsSync(path.join(r.dir, 'done')));
    } finally {
      if (saved === undefined) delete process.env.BITNET_FPGA_CACHE;
      else process.env.BITNET_FPGA_CACHE = saved;
    }
    assert.equal(existsSync(dead), false, 'a dead process\'s build directory is removed');
    assert.ok(existsSync(live), 'a live process\'s build directory is kept');
    assert.ok(existsSync(foreign), 'a name not of our pattern is kept');
  });

  it("the 2B-shaped bench model: only `<file>.tmp-<dead pid>-<time>` files are removed", () => {
    const dir = scratch('litter-gguf-');
    const file = path.join(dir, 'bitnet-2b-shape-tq2_0-L1-s1-abc.gguf');
    const dead = `${file}.tmp-${deadPid()}-1796166227713`;
    const keep = [`${file}.tmp-${process.pid}-1796166227713`, `${file}.tmp-notes`, `${file}.tmp-`, path.join(dir, `other.gguf.tmp-${deadPid()}-1`)];
    for (const f of [dead, ...keep]) writeFileSync(f, 'x');
    removeAbandoned(file);
    assert.equal(existsSync(dead), false);
    for (const f of keep) assert.ok(existsSync(f), `${path.basename(f)} kept`);
  });

  /** A process with a graceful step that never finishes and a tracked temporary directory. */
  function hangingCloser(graceMs: number, tmp: string): ChildProcess {
    const script = `import { onInterrupt, trackPath } from ${JSON.stringify(CLEANUP)};
      import { mkdirSync } from 'node:fs';
      mkdirSync(${JSON.stringify(tmp)});
      trackPath(${JSON.stringify(tmp)});
      onInterrupt(() => new Promise(() => {}), { graceMs: ${graceMs} });
      setInterval(() => {}, 1000);
      console.log('ready');`;
    return spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  }

  async function ready(child: ChildProcess): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => /ready/.test(d.toString()) && resolve());
      child.on('exit', () => reject(new Error('exited before it was ready')));
    });
  }

  it('the first SIGINT exits (130) once the grace period is over even when the graceful step hangs; tracked paths are removed', async () => {
    const tmp = path.join(scratch('litter-sig-'), 'tracked');
    const child = hangingCloser(300, tmp);
    const exited = exitOf(child, 30_000);
    await ready(child);
    assert.ok(existsSync(tmp));
    child.kill('SIGINT');
    assert.deepEqual(await exited, { code: 130, signal: null });
    assert.equal(existsSync(tmp), false);
  });

  it('a second SIGINT exits at once, without waiting for the graceful step or its grace period', async () => {
    const tmp = path.join(scratch('litter-sig2-'), 'tracked');
    const child = hangingCloser(600_000, tmp);
    const exited = exitOf(child, 30_000); // far below the 10-minute grace period
    await ready(child);
    child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(child.exitCode, null, 'the first SIGINT waits for the graceful step');
    child.kill('SIGINT');
    assert.deepEqual(await exited, { code: 130, signal: null });
    assert.equal(existsSync(tmp), false);
  });

  it('Verilator and make: a path Verilator would expand ($VAR, control characters) or a cache make cannot build in is refused in one line; quotes, ; and spaces in a Verilog path work', () => {
    const dir = scratch('litter-vpath-');
    const v = 'module t(input a, output b); assign b = a; endmodule\n';
    const cache = path.join(dir, 'cache');
    const runtime = path.join(ROOT, '.cache', 'verilator-runtime');
    if (existsSync(runtime)) cpSync(runtime, path.join(cache, 'verilator-runtime'), { recursive: true, filter: (s) => !/\.tmp-/.test(s) });
    const sim = (file: string, c = cache): { code: number | null; err: string } => {
      const r = spawnSync(process.execPath, [BIN, 'sim-build', file, '--top', 't'], { cwd: dir, env: { ...process.env, BITNET_FPGA_CACHE: c }, encoding: 'utf8', timeout: 300_000 });
      return { code: r.status, err: r.stderr };
    };
    for (const name of ['$HOME', '$(HOME)', 'new\nline']) {
      mkdirSync(path.join(dir, name));
      writeFileSync(path.join(dir, name, 't.v'), v);
      const r = sim(path.join(dir, name, 't.v'));
      assert.equal(r.code, 1, r.err);
      assert.match(r.err, /^error: Verilog file ".*\/t\.v": Verilator would read another path \(it expands \$VARIABLES in file names and drops control characters\); rename or move it\n$/);
    }
    writeFileSync(path.join(dir, 't.v'), v);
    const spaced = sim(path.join(dir, 't.v'), path.join(dir, 'my cache'));
    assert.equal(spaced.code, 1, spaced.err);
    assert.match(spaced.err, /^error: the build cache ".*my cache" has white space in its path, where GNU make cannot build; set BITNET_FPGA_CACHE to another directory\n$/);
    const odd = path.join(dir, `a b;c'd"e`);
    mkdirSync(odd);
    writeFileSync(path.join(odd, 't.v'), v);
    const ok = sim(path.join(odd, 't.v'));
    assert.equal(ok.code, 0, ok.err);
  });

  it('Yosys: a path that could end the quoted string is refused by name and runs nothing; spaces, ; # and quotes work', async () => {
    const dir = scratch('litter-yosys-');
    const v = 'module t(input a, output b); assign b = a; endmodule\n';
    // Yosys ends the string at `\" ` (the backslash stays in the name), reads `x\`, then runs
    // `write_verilog PWNED`; the `#` comments out the rest of the line.
    writeFileSync(path.join(dir, 'x\\'), v);
    const evil = path.join(dir, 'x"; write_verilog PWNED; #');
    mkdirSync(evil);
    writeFileSync(path.join(evil, 't.v'), v);
    await assert.rejects(synthCheck([path.join(evil, 't.v')], 't', { cwd: dir, level: 'coarse' }), (e: Error) => e.name === 'ToolchainError' && /^Yosys cannot read ".*x\\"; write_verilog PWNED; #\/t\.v": its script syntax has no way to quote/.test(e.message));
    assert.equal(existsSync(path.join(dir, 'PWNED')), false);
    const nl = path.join(dir, 'new\nline');
    mkdirSync(nl);
    writeFileSync(path.join(nl, 't.v'), v);
    await assert.rejects(synthCheck([path.join(nl, 't.v')], 't', { cwd: dir, level: 'coarse' }), /Yosys cannot read ".*new\\nline\/t\.v"/);
    const odd = path.join(dir, "a b; c#d 'e'");
    mkdirSync(odd);
    writeFileSync(path.join(odd, 't.v'), v);
    await synthCheck([path.join(odd, 't.v')], 't', { cwd: dir, level: 'coarse' });
    assert.equal(existsSync(path.join(dir, 'PWNED')), false);
  });
});
