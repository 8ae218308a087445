// Gate-level netlists to simulate: a design synthesized by Yosys into iCE40 cells, and an
// iCE40 bitstream (.asc) turned back into Verilog by icebox_vlog, with Yosys' Verilog models
// of the cells they instantiate. Both are cached by the content of their inputs and the
// tools' versions, so an unchanged design costs nothing the second time.

import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { cacheKey, cachedBuild } from './cache.ts';
import { runToolChecked } from './run.ts';
import { requireTool, toolVersion, ToolchainError } from './tools.ts';
import { readVerilog, yosysPath } from './yosys.ts';

/** A netlist file and the cell models (and defines) it needs to be simulated. */
export interface GateNetlist {
  readonly top: string;
  readonly netlist: string;
  readonly cellModels: readonly string[];
  readonly defines: Readonly<Record<string, number>>;
}

/**
 * Yosys' models of the iCE40 cells, found as Yosys finds its data: `share/yosys` beside the
 * `bin/` of the executable (`yosys-config --datdir` says the same but is in yosys-dev). The
 * define leaves out the ANSI port defaults (`input RE = 1'b0`) that are a syntax error to
 * Verilator 5.006; both netlists below connect every port.
 */
function ice40Cells(): Pick<GateNetlist, 'cellModels' | 'defines'> {
  const file = path.join(path.dirname(path.dirname(realpathSync(requireTool('yosys')))), 'share', 'yosys', 'ice40', 'cells_sim.v');
  if (!existsSync(file)) throw new ToolchainError(`Yosys' iCE40 cell models are missing (no ${file}); reinstall the yosys package`);
  return { cellModels: [file], defines: { NO_ICE40_DEFAULT_ASSIGNMENTS: 1 } };
}

/**
 * Synthesize `top` as the board flow does (`synth_ice40`, flattened), up to the cells before
 * placement: SB_LUT4, SB_CARRY, SB_DFF*, SB_RAM40_4K, written out by write_verilog. Yosys'
 * generic `synth` would do as well for a check of how Yosys reads the RTL, but it turns every
 * memory into flip-flops: the 4x4 core's weight memory and FIFOs became 11,600 of them,
 * 27,000 cells and 3.3 MB of Verilog, minutes of C++ to compile; synth_ice40 gives 2,700
 * cells, its memories in 12 block RAMs.
 */
export async function synthNetlist(files: readonly string[], top: string): Promise<GateNetlist> {
  const version = toolVersion('yosys'); // first: a missing Yosys is the message, not a missing file
  const script = `synth_ice40 -top ${top}; check -assert; write_verilog -noattr`;
  const key = cacheKey([top, script, ...files.flatMap((f) => [path.basename(f), readFileSync(f, 'utf8')]), version]);
  const file = `${top}.v`;
  const { dir } = await cachedBuild('netlist', top, key, file, async (tmp) => {
    const out = path.join(tmp, file);
    const r = await runToolChecked('yosys', ['-p', `${readVerilog(files)}; ${script} ${yosysPath(out)}`], { cwd: tmp, timeoutMs: 900_000 });
    writeFileSync(path.join(tmp, 'yosys.log'), r.stdout);
  });
  return { top, netlist: path.join(dir, file), ...ice40Cells() };
}

/**
 * The `set_io` lines of a .pcf as icebox_vlog reads them: `set_io NAME PIN`. Its parser takes
 * the word after set_io as the port, so an option (`-nowarn`, as nextpnr accepts) would be
 * read as the port's name and the name as a pin number.
 */
export function plainPcf(pcf: string): string {
  const lines: string[] = [];
  for (const raw of readFileSync(pcf, 'utf8').split('\n')) {
    const words = raw.replace(/#.*/, '').trim().split(/\s+/);
    if (words[0] !== 'set_io') continue;
    const [name, pin, ...rest] = words.slice(1).filter((w) => !w.startsWith('-'));
    if (!name || !pin || rest.length) throw new ToolchainError(`${pcf}: '${raw.trim()}': expected set_io [-options] NAME PIN`);
    lines.push(`set_io ${name} ${pin}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * icebox_vlog declares each port twice, in the ANSI header (`input CLK`) and again in a
 * `wire` list, which Icarus accepts and Verilator refuses ("Duplicate declaration"). The
 * second declaration is dropped; a port it declared as `reg` would need `output reg`, which
 * this does not do, so it is refused instead.
 */
export function fixPortRedeclarations(verilog: string): string {
  const header = /^module\s+\w+\s*\(([^)]*)\);/m.exec(verilog);
  if (!header) throw new ToolchainError('icebox_vlog wrote no module header');
  const ports = new Set(header[1]!.split(',').map((p) => p.trim().split(/\s+/).pop()!));
  return verilog.replace(/^(wire|reg) ([^;]*);$/gm, (line, kind: string, list: string) => {
    const names = list.split(',').map((n) => n.trim());
    const kept = names.filter((n) => !ports.has(n.split(/\s*=/)[0]!));
    if (kept.length === names.length) return line;
    if (kind === 'reg') throw new ToolchainError(`icebox_vlog declared a port as a reg (${line.slice(0, 80)}); fixPortRedeclarations cannot rewrite that`);
    return kept.length ? `wire ${kept.join(', ')};` : '';
  });
}

/**
 * An iCE40 bitstream as Verilog (module `chip`, ports named by the .pcf): logic cells as
 * assignments and always blocks, block RAMs as SB_RAM40_4K instances, simulated with Yosys'
 * ice40/cells_sim.v.
 */
export async function ascNetlist(asc: string, pcf: string): Promise<GateNetlist> {
  const version = toolVersion('icebox_vlog'); // first: a missing tool is the message, not a missing file
  const pins = plainPcf(pcf);
  const key = cacheKey([readFileSync(asc, 'utf8'), pins, fixPortRedeclarations.toString(), version]);
  const file = 'chip.v';
  const { dir } = await cachedBuild('netlist', path.basename(asc, '.asc'), key, file, async (tmp) => {
    const pinFile = path.join(tmp, 'pins.pcf');
    writeFileSync(pinFile, pins);
    // -s: no comments on every net; the LUT and FF comments (tile coordinates) stay.
    const r = await runToolChecked('icebox_vlog', ['-s', '-p', pinFile, path.resolve(asc)], { cwd: tmp, timeoutMs: 300_000 });
    writeFileSync(path.join(tmp, file), fixPortRedeclarations(r.stdout));
  });
  return { top: 'chip', netlist: path.join(dir, file), ...ice40Cells() };
}
