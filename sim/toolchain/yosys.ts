// Yosys runs: a quick generic synthesis as a "does this synthesize" check, and the
// statistics of a target-specific synthesis for resource reports.

import { runToolChecked } from './run.ts';

/**
 * Synthesize with Yosys' generic flow; throws a ToolFailure with Yosys' messages if it
 * cannot. 'coarse' stops before technology mapping (`synth -run :fine`: parsing, processes,
 * memories, word-level optimization), which proves the Verilog is synthesizable without
 * spending minutes gate-mapping hundreds of random wide multipliers.
 */
export async function synthCheck(files: readonly string[], top: string, opts: { cwd?: string; level?: 'full' | 'coarse' } = {}): Promise<void> {
  const reads = files.map((f) => `read_verilog -defer ${JSON.stringify(f)}`).join('; ');
  // `check` would flag the half-mapped intermediate state a partial flow leaves, so only the full flow runs it.
  const synth = opts.level === 'coarse' ? `synth -top ${top} -run :fine` : `synth -top ${top}; check -assert`;
  await runToolChecked('yosys', ['-q', '-p', `${reads}; ${synth}`], { cwd: opts.cwd, timeoutMs: 900_000 });
}

/** Cell counts by type after `synth_<family>`, e.g. { LUT6: 12, FDRE: 8 }. */
export async function synthStats(files: readonly string[], top: string, family: 'xilinx' | 'ice40', cwd?: string): Promise<Record<string, number>> {
  const reads = files.map((f) => `read_verilog -defer ${JSON.stringify(f)}`).join('; ');
  const r = await runToolChecked('yosys', ['-p', `${reads}; synth_${family} -top ${top}; stat`], { cwd, timeoutMs: 1_800_000 });
  const stats: Record<string, number> = {};
  const section = r.stdout.slice(r.stdout.lastIndexOf('Number of cells:'));
  for (const m of section.matchAll(/^\s+(\S+)\s+(\d+)\s*$/gm)) stats[m[1]!] = Number(m[2]);
  return stats;
}
