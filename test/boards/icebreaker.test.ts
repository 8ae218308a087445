// `build --board icebreaker` makes a real bitstream: Yosys, nextpnr-ice40 and icepack on
// the checked-in iCEBreaker top, with pin constraints. What a user would check before
// programming a board: it fits, meets 12 MHz, has the UP5K's bitstream size, and
// answers to the checked-in manifest. Bad requests fail fast with one clear message.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from '../../host/cli/commands/build.ts';
import { readBoardManifest } from '../../host/backends/select.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'host/cli/bin.js');
const cli = (args: string[], env: NodeJS.ProcessEnv = process.env) => spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 300_000 });

describe('build --board icebreaker', () => {
  it('places, routes and packs the checked-in SoC: a UP5K bitstream that answers to rtl/icebreaker', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'icebreaker-'));
    // Cached by its sources, constraints and tool versions: netlist.test.ts simulates this same bitstream without building it again.
    const r = await build({ board: 'icebreaker', param: [], out, cache: true });
    const lc = r.utilization.ICESTORM_LC!;
    const ram = r.utilization.ICESTORM_RAM!;
    console.log(`      ${r.top}: ${lc.used}/${lc.total} logic cells, ${ram.used}/${ram.total} block RAMs, Fmax ${r.fmaxMHz} MHz, ${r.bytes} bytes; synth ${r.seconds.synth.toFixed(1)} s, pnr ${r.seconds.pnr.toFixed(1)} s${r.cached ? ' (when it was built; from the build cache)' : ''}`);
    assert.equal(r.bytes, 104_090, 'an iCE40UP5K configuration image is 104,090 bytes');
    assert.ok(lc.used <= lc.total && ram.used <= ram.total);
    assert.ok(r.fmaxMHz! >= 12, `Fmax ${r.fmaxMHz} MHz below the 12 MHz oscillator`);
    assert.equal(r.checkedIn, 'rtl/icebreaker');
    const checked = readBoardManifest(path.join(ROOT, 'rtl/icebreaker/icebreaker_top.manifest.json'));
    assert.equal(r.identity, checked.identity);
    assert.equal(readBoardManifest(r.manifest).identity, checked.identity);
    // The pins are the constraint file's: every set_io name is a port of the placed top.
    const asc = readFileSync(path.join(out, 'icebreaker_top.asc'), 'utf8');
    assert.match(asc, /^\.device 5k/m);
    const pcf = readFileSync(path.join(ROOT, 'constraints/icebreaker/icebreaker.pcf'), 'utf8');
    const pins = [...pcf.matchAll(/^set_io\s+(?:-\S+\s+)*(\w+)\s+(\d+)/gm)].map((m) => m[1]);
    const ports = JSON.parse(readFileSync(r.manifest, 'utf8')).ports.map((p: { name: string }) => p.name);
    assert.deepEqual([...pins].sort(), [...ports].sort());
  });

  it('an SoC too large for the UP5K is refused with the resource that overflowed', () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'icebreaker-big-'));
    const r = cli(['build', '--board', 'icebreaker', '-G', 'wdepth=16384', '--out', out]);
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stderr, /icebreaker_top\w* does not fit the UP5K \(ICESTORM_RAM \d+\/30\) \(full log: .*nextpnr\.log\)/);
  });

  it('unknown boards, bad parameters and a missing toolchain are one line each', () => {
    const cases: [string[], RegExp, NodeJS.ProcessEnv?][] = [
      [['build', '--board', 'nosuch'], /unknown board 'nosuch'; known boards: icebreaker/],
      [['build', '--board', 'icebreaker', '-G', 'rows=3'], /core 'icebreaker': parameter rows=3 is not allowed/],
      [['build', '--board', 'icebreaker', '-G', 'clk=50000000'], /core 'icebreaker' has no parameter 'clk'/],
      [['build', '--board', 'icebreaker', '--out', mkdtempSync(path.join(os.tmpdir(), 'icebreaker-path-'))], /yosys not found.*\n.*apt-get install -y yosys/, { ...process.env, PATH: '/nonexistent' }],
    ];
    for (const [args, message, env] of cases) {
      const r = cli(args, env);
      assert.equal(r.status, 1, `${args.join(' ')}: ${r.stdout}`);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
    }
  });
});
