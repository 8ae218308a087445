// The layout's import rules (DESIGN.md, "Layout"), checked two ways. Statically: every
// import in common/, generator/, sim/ and host/ (static, re-export and `import('…')`) is
// resolved and held against the rules. At run time: `run` is loaded, and a real inference run
// through the sim backend, in a child process that records every module it resolves, and
// none may be the generator's (the inference path needs only rtl/ and the manifests).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { builtinModules } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CHECKED_IN, findCore, resolveParams } from '../generator/cores/registry.ts';
import { findManifest, rtlDir } from '../common/manifest.ts';
import { CHECKED_IN_BOARD } from '../sim/board-sim.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PARTS = ['common', 'generator', 'sim', 'host'] as const;
const RECORDER = path.join(ROOT, 'test/support/record-loads.mjs');
/** The project's build cache, so the children reuse the board model. */
const ENV = { ...process.env, BITNET_FPGA_CACHE: process.env.BITNET_FPGA_CACHE ?? path.join(ROOT, '.cache') };

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Every module specifier a TypeScript file names: import/export … from, bare import, import(). Comment lines are skipped. */
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => !/^\s*(\/\/|\*|\/\*)/.test(l))
    .join('\n');
  const out: string[] = [];
  for (const re of [/\b(?:import|export)\s[^'";]*?\bfrom\s*['"]([^'"]+)['"]/g, /\bimport\s*['"]([^'"]+)['"]/g, /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g]) {
    for (const m of text.matchAll(re)) out.push(m[1]!);
  }
  return out;
}

/** The top-level part (common, generator, sim, host, test, rtl…) a file is in, or undefined outside the project. */
const partOf = (abs: string): string | undefined => {
  const rel = path.relative(ROOT, abs);
  return rel.startsWith('..') || path.isAbsolute(rel) ? undefined : rel.split(path.sep)[0];
};

describe('layering: what each part may import', function () {
  it('common/ imports only node: builtins and common/; generator/ nothing from sim/ or host/; sim/ nothing from host/; host/ (but the CLI commands) nothing from generator/', () => {
    const offences: string[] = [];
    let files = 0;
    for (const part of PARTS) {
      for (const file of tsFiles(path.join(ROOT, part))) {
        files++;
        const rel = path.relative(ROOT, file);
        for (const spec of specifiers(file)) {
          const relative = spec.startsWith('.');
          const target = relative ? partOf(path.resolve(path.dirname(file), spec)) : undefined;
          let why: string | undefined;
          if (part === 'common') {
            if (relative ? target !== 'common' : !(spec.startsWith('node:') || builtinModules.includes(spec))) why = 'common/ imports only node: builtins and common/';
          } else if (part === 'generator' && (target === 'sim' || target === 'host')) why = 'generator/ imports nothing from sim/ or host/';
          else if (part === 'sim' && target === 'host') why = 'sim/ imports nothing from host/';
          else if (part === 'host' && target === 'generator' && !rel.startsWith(path.join('host', 'cli', 'commands') + path.sep)) why = 'host/ reaches generator/ only from the CLI commands (host/cli/commands/)';
          if (why) offences.push(`${rel} → ${spec} (${why})`);
        }
      }
    }
    assert.ok(files > 100, `scanned only ${files} files`);
    assert.deepEqual(offences, [], `imports against the layout:\n  ${offences.join('\n  ')}`);
  });

  it('the checked-in designs board-sim and xdma-sim build hold the generator defaults (a parameter not given means the same either way)', () => {
    const params = (dir: string): Record<string, unknown> => (JSON.parse(readFileSync(findManifest(rtlDir(dir)), 'utf8')) as { params: Record<string, unknown> }).params;
    const identity = (dir: string): string => (JSON.parse(readFileSync(findManifest(rtlDir(dir)), 'utf8')) as { extra: { board: { identity: string } } }).extra.board.identity;
    const bytes = CHECKED_IN.find((c) => c.dir === CHECKED_IN_BOARD);
    assert.ok(bytes, `generator/cores/registry.ts CHECKED_IN has no '${CHECKED_IN_BOARD}'`);
    assert.deepEqual(params(CHECKED_IN_BOARD), { ...resolveParams(findCore('board'), {}), phy: 0 });
    assert.deepEqual({ ...params('board'), phy: 0 }, params(CHECKED_IN_BOARD), 'rtl/board and its byte-stream flavour differ only in phy');
    assert.equal(identity(CHECKED_IN_BOARD), identity('board'), 'the sim backend reports the identity the host expects of rtl/board');
    const xdma = findCore('xdma');
    const x = params('xdma');
    const want = resolveParams(xdma, {}); // opt-in parameters at their default are left out (param-table.ts)
    assert.deepEqual(Object.fromEntries(Object.keys(want).map((k) => [k, x[k]])), want);
  });

  it("the sim backend's rtl/ fast path still refuses a phy the generator would refuse", async () => {
    const { resolveBoardParams } = await import('../sim/board-sim.ts');
    assert.deepEqual(await resolveBoardParams({ phy: '0' }), { phy: 0 });
    for (const phy of ['banana', '7']) await assert.rejects(resolveBoardParams({ phy }), /phy/);
  });
});

describe('layering: the inference path loads no generator code', function () {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'layering-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  /** Run node with tsx and the recorder; the project files it resolved, relative to ROOT. */
  function recorded(args: string[], name: string, timeout = 300_000): { code: number | null; out: string; err: string; loaded: string[] } {
    const log = path.join(scratch, `${name}.loads`);
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', pathToFileURL(RECORDER).href, ...args], { cwd: ROOT, env: { ...ENV, RECORD_LOADS: log }, encoding: 'utf8', timeout, killSignal: 'SIGKILL' });
    const urls = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter((u) => u.startsWith('file:')) : [];
    const loaded = [...new Set(urls.map((u) => path.relative(ROOT, fileURLToPath(u))).filter((p) => !p.startsWith('..') && !p.startsWith('node_modules')))].sort();
    return { code: r.status, out: r.stdout, err: r.stderr, loaded };
  }
  const generatorFiles = (loaded: readonly string[]): string[] => loaded.filter((p) => p.split(path.sep)[0] === 'generator');

  it('importing host/cli/commands/run.ts loads nothing under generator/', () => {
    const r = recorded(['--input-type=module', '-e', `await import(${JSON.stringify(pathToFileURL(path.join(ROOT, 'host/cli/commands/run.ts')).href)});`], 'import-run');
    assert.equal(r.code, 0, r.err);
    assert.ok(r.loaded.includes(path.join('host', 'cli', 'commands', 'run.ts')), `the recorder saw: ${r.loaded.join(', ')}`);
    assert.deepEqual(generatorFiles(r.loaded), []);
  });

  it('importing board-sim and xdma-sim (what the sim backend and board-sim use) loads nothing under generator/', () => {
    const imports = ['sim/board-sim.ts', 'sim/xdma-sim.ts', 'sim/board-pty.ts', 'host/backends/sim.ts'].map((f) => `await import(${JSON.stringify(pathToFileURL(path.join(ROOT, f)).href)});`).join(' ');
    const r = recorded(['--input-type=module', '-e', imports], 'import-sims');
    assert.equal(r.code, 0, r.err);
    assert.ok(r.loaded.includes(path.join('sim', 'xdma-sim.ts')));
    assert.deepEqual(generatorFiles(r.loaded), []);
  });

  it('xdma-sim with rtl/xdma\'s parameters builds rtl/xdma, and the pcie backend connects to it, with no generator code loaded', function () {
    this.timeout(900_000);
    const url = (f: string): string => JSON.stringify(pathToFileURL(path.join(ROOT, f)).href);
    const script = [
      `const { XdmaSim } = await import(${url('sim/xdma-sim.ts')});`,
      `const { readBoardManifest, DEFAULT_PCIE_MANIFEST } = await import(${url('host/backends/select.ts')});`,
      `const { pcieBackend } = await import(${url('host/backends/pcie.ts')});`,
      `const sim = await XdmaSim.create(readBoardManifest(DEFAULT_PCIE_MANIFEST()).params, ${JSON.stringify(path.join(scratch, 'xdma'))}, { log: () => {} });`,
      `const backend = await pcieBackend(sim.prefix, { expectedHash: readBoardManifest(DEFAULT_PCIE_MANIFEST()).identity });`,
      `const id = await backend.client.identify();`,
      `console.log(JSON.stringify({ top: sim.manifest.top, rows: id.rows, cols: id.cols }));`,
      `await backend.close(); await sim.close(); process.exit(0);`,
    ].join('\n');
    const r = recorded(['--input-type=module', '-e', script], 'xdma-sim', 900_000);
    assert.equal(r.code, 0, r.err);
    const out = JSON.parse(r.out) as { top: string; rows: number; cols: number };
    assert.equal(`${out.top}.manifest.json`, path.basename(findManifest(rtlDir('xdma'))));
    assert.deepEqual([out.rows, out.cols], [16, 16]);
    assert.deepEqual(generatorFiles(r.loaded), []);
    assert.ok(!r.loaded.includes(path.join('sim', 'elaborate.ts')), 'xdma-sim elaborated instead of building rtl/xdma');
  });

  it('run --backend sim on a tiny model: the board is built from rtl/, and no generator code (generator/hdl included) is loaded', function () {
    this.timeout(900_000);
    const model = path.join(scratch, 'model');
    const main = path.join(ROOT, 'host/cli/main.ts');
    const mm = spawnSync(process.execPath, ['--import', 'tsx', main, 'make-model', '--out', model, '--hidden', '32', '--layers', '1', '--heads', '2', '--kv-heads', '1', '--intermediate', '64', '--seed', '4'], { cwd: ROOT, env: ENV, encoding: 'utf8', timeout: 120_000 });
    assert.equal(mm.status, 0, mm.stderr);
    const cpu = spawnSync(process.execPath, ['--import', 'tsx', main, 'run', '-m', model, '--tokens', '1,2,3', '-n', '2', '--temp', '0', '--json', '--backend', 'cpu'], { cwd: ROOT, env: ENV, encoding: 'utf8', timeout: 120_000 });
    assert.equal(cpu.status, 0, cpu.stderr);
    const r = recorded([main, 'run', '-m', model, '--tokens', '1,2,3', '-n', '2', '--temp', '0', '--json', '--backend', 'sim'], 'run-sim', 900_000);
    assert.equal(r.code, 0, r.err);
    type Out = { generated_ids: number[]; results_digest: string };
    const sim = JSON.parse(r.out) as Out;
    const ref = JSON.parse(cpu.stdout) as Out;
    assert.deepEqual(sim.generated_ids, ref.generated_ids, 'the sim backend generates what the cpu backend does');
    assert.equal(sim.results_digest, ref.results_digest, 'every BitLinear result equal to the cpu backend\'s');
    assert.ok(r.loaded.includes(path.join('sim', 'board-sim.ts')), 'the sim backend ran through board-sim');
    assert.deepEqual(generatorFiles(r.loaded), []);
    assert.ok(!r.loaded.includes(path.join('sim', 'elaborate.ts')), 'board-sim elaborated instead of building rtl/');
  });
});
