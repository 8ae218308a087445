// What can be checked of the boards whose flow needs Vivado (it cannot run here): the
// constraint files name exactly the ports of the generated tops, the KC705 PCIe glue
// lints clean against rtl/xdma with port-only stand-ins for the Xilinx cells, and the
// Tcl scripts read the RTL and constraints that exist.

import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync, mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { lintVerilog } from '../../sim/toolchain/verilator.ts';
import { BOARDS } from '../../generator/boards/targets.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const rel = (p: string): string => path.join(ROOT, p);
const text = (p: string): string => readFileSync(rel(p), 'utf8');
const rtl = (dir: string): string[] => readdirSync(rel(`rtl/${dir}`)).filter((f) => f.endsWith('.v')).map((f) => rel(`rtl/${dir}/${f}`));
/** Port names in an XDC, without bus indices. */
const xdcPorts = (xdc: string): string[] => [...new Set([...xdc.matchAll(/get_ports\s+\{?\s*([^}\]]+?)\s*\}?\]/g)].flatMap((m) => m[1]!.split(/\s+/)).map((p) => p.replace(/\[.*$/, '')))].sort();
const BIN = rel('host/cli/bin.js');
const cli = (args: string[], env: NodeJS.ProcessEnv = process.env) => spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
const manifestPorts = (file: string): string[] => (JSON.parse(text(file)).ports as { name: string }[]).map((p) => p.name).sort();

describe('vendor boards (Vivado flows; checked without Vivado)', () => {
  it('arty-a7.xdc constrains exactly the ports of rtl/arty', () => {
    assert.deepEqual(xdcPorts(text('constraints/arty-a7/arty-a7.xdc')), manifestPorts('rtl/arty/arty_top.manifest.json'));
  });

  it('the KC705 glue lints clean against rtl/xdma, and kc705.xdc constrains its ports', async () => {
    const files = [...rtl('xdma'), rel('constraints/kc705/kc705_xdma_top.v'), rel('test/boards/stubs/xilinx_cells.v')];
    assert.deepEqual(await lintVerilog(files, 'kc705_xdma_top'), []);
    const top = text('constraints/kc705/kc705_xdma_top.v');
    const ports = [...top.matchAll(/^\s+(?:input|output)\s+wire\s+(?:\[[^\]]+\]\s+)?(\w+)/gm)].map((m) => m[1]!);
    const pinned = xdcPorts(text('constraints/kc705/kc705.xdc'));
    // The PCIe lanes are placed by the XDMA IP, not by the XDC.
    assert.deepEqual(pinned, ports.filter((p) => !p.startsWith('pci_exp_')).sort());
    assert.match(top, /board_16x16_xdma64 soc/, 'the glue instantiates the checked-in SoC');
  });

  it('the Tcl scripts read RTL and constraints that exist', () => {
    for (const [tcl, dir, top] of [['constraints/arty-a7/build.tcl', 'arty', 'arty_top'], ['constraints/kc705/build.tcl', 'xdma', 'kc705_xdma_top']] as const) {
      const s = text(tcl);
      assert.match(s, new RegExp(`glob \\$root/rtl/${dir}/\\*\\.v`));
      assert.match(s, new RegExp(`synth_design -top ${top}`));
      for (const m of s.matchAll(/read_(?:xdc|verilog) \$here\/(\S+)/g)) assert.ok(existsSync(rel(path.join(path.dirname(tcl), m[1]!))), `${tcl} reads ${m[1]}`);
    }
  });

  it('build knows every board of constraints/, and the README has a section for each', () => {
    const folders = readdirSync(rel('constraints'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
    const used = [...new Set(Object.values(BOARDS).map((b) => b.constraints.split('/')[1]!))].sort();
    assert.deepEqual(used, folders, 'generator/boards/targets.ts names a board for every constraints/ folder');
    const readme = text('constraints/README.md');
    for (const b of Object.values(BOARDS)) {
      assert.ok(existsSync(rel(b.constraints)), `${b.name}: ${b.constraints} exists`);
      if (b.flow === 'vivado') assert.ok(existsSync(rel(b.script)), `${b.name}: ${b.script} exists`);
      assert.match(readme, new RegExp(`\\| \`${b.name}\` \\|`), `constraints/README.md's table lists ${b.name}`);
    }
  });

  it('build --board for a Vivado board: without Vivado one line with the exact command, parameters refused; with it the script runs', () => {
    const noVivado = { ...process.env, PATH: path.dirname(process.execPath) };
    const a = cli(['build', '--board', 'arty-a7'], noVivado);
    assert.equal(a.status, 1, a.stdout);
    assert.equal(a.stderr, 'error: build: --board arty-a7 needs Vivado, which is not on PATH; with Vivado installed: vivado -mode batch -source constraints/arty-a7/build.tcl -tclargs xc7a35ticsg324-1L build/arty-a7\n');
    const g = cli(['build', '--board', 'kc705', '-G', 'rows=4'], noVivado);
    assert.equal(g.status, 1, g.stdout);
    assert.match(g.stderr, /^error: build: -G\/--param rows=4: --board kc705 builds the checked-in rtl\/xdma with Vivado's script \(constraints\/kc705\/build\.tcl\), which takes no parameters/);
    // A stand-in vivado on PATH shows what build runs: the script, its arguments, the output directory as its working directory.
    const bin = mkdtempSync(path.join(os.tmpdir(), 'fake-vivado-'));
    writeFileSync(path.join(bin, 'vivado'), '#!/bin/sh\necho "vivado $*"; pwd\n');
    chmodSync(path.join(bin, 'vivado'), 0o755);
    const out = path.join(bin, 'out');
    const r = cli(['build', '--board', 'kc705', '-o', out], { ...process.env, PATH: `${bin}:${process.env.PATH}` });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stdout.includes(`vivado -mode batch -source ${rel('constraints/kc705/build.tcl')} -tclargs ${out}\n${out}\n`), r.stdout);
    assert.match(r.stdout, /--backend pcie:\/dev\/xdma0 --board-manifest rtl\/xdma\/\S+\.manifest\.json/);
  });
});
