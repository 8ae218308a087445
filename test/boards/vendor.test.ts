// What can be checked of the boards whose flow needs Vivado (it cannot run here): the
// constraint files name exactly the ports of the generated tops, the KC705 PCIe glue
// lints clean against rtl/xdma with port-only stand-ins for the Xilinx cells, and the
// Tcl scripts read the RTL and constraints that exist.

import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { lintVerilog } from '../../sim/toolchain/verilator.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const rel = (p: string): string => path.join(ROOT, p);
const text = (p: string): string => readFileSync(rel(p), 'utf8');
const rtl = (dir: string): string[] => readdirSync(rel(`rtl/${dir}`)).filter((f) => f.endsWith('.v')).map((f) => rel(`rtl/${dir}/${f}`));
/** Port names in an XDC, without bus indices. */
const xdcPorts = (xdc: string): string[] => [...new Set([...xdc.matchAll(/get_ports\s+\{?\s*([^}\]]+?)\s*\}?\]/g)].flatMap((m) => m[1]!.split(/\s+/)).map((p) => p.replace(/\[.*$/, '')))].sort();
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
});
