// Yosys runs: a quick generic synthesis as a "does this synthesize" check, and the
// statistics of a target-specific synthesis for resource reports.

import { runToolChecked } from './run.ts';
import { ToolchainError } from './tools.ts';

/**
 * A path as a Yosys script string. Yosys splits a script at `;` and newlines and reads `"…"`
 * as one word, but has no reliable escape: `\"` followed by a space ends the string with the
 * backslash kept, so a path holding `"; write_verilog X; #` would run a command. Spaces, `;`,
 * `#` and `'` are literal inside the quotes; a double quote, a backslash or a control
 * character is refused.
 */
export function yosysPath(p: string): string {
  if (/["\\\x00-\x1f\x7f]/.test(p)) throw new ToolchainError(`Yosys cannot read ${JSON.stringify(p)}: its script syntax has no way to quote a path holding a double quote, a backslash or a control character; rename or move it`);
  return `"${p}"`;
}

/** `read_verilog -defer "f"; …` for the files, each quoted with yosysPath. */
export function readVerilog(files: readonly string[]): string {
  return files.map((f) => `read_verilog -defer ${yosysPath(f)}`).join('; ');
}

/**
 * Synthesize with Yosys' generic flow; throws a ToolFailure with Yosys' messages if it
 * cannot. 'coarse' stops before technology mapping (`synth -run :fine`: parsing, processes,
 * memories, word-level optimization), which proves the Verilog is synthesizable without
 * spending minutes gate-mapping hundreds of random wide multipliers.
 */
export async function synthCheck(files: readonly string[], top: string, opts: { cwd?: string; level?: 'full' | 'coarse' } = {}): Promise<void> {
  const reads = readVerilog(files);
  // `check` would flag the half-mapped intermediate state a partial flow leaves, so only the full flow runs it.
  const synth = opts.level === 'coarse' ? `synth -top ${top} -run :fine` : `synth -top ${top}; check -assert`;
  await runToolChecked('yosys', ['-q', '-p', `${reads}; ${synth}`], { cwd: opts.cwd, timeoutMs: 900_000 });
}

/** Cell counts by type after `synth_<family>`, e.g. { LUT6: 12, FDRE: 8 }. */
export async function synthStats(files: readonly string[], top: string, family: 'xilinx' | 'ice40', cwd?: string): Promise<Record<string, number>> {
  const reads = readVerilog(files);
  const r = await runToolChecked('yosys', ['-p', `${reads}; synth_${family} -top ${top}; stat`], { cwd, timeoutMs: 1_800_000 });
  const stats: Record<string, number> = {};
  const section = r.stdout.slice(r.stdout.lastIndexOf('Number of cells:'));
  for (const m of section.matchAll(/^\s+(\S+)\s+(\d+)\s*$/gm)) stats[m[1]!] = Number(m[2]);
  return stats;
}
