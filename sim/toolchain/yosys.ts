// Yosys runs: a quick generic synthesis as a "does this synthesize" check, and the
// statistics of a target-specific synthesis for resource reports.

import { runToolChecked } from './run.ts';

/** Synthesize with Yosys' generic flow; throws a ToolFailure with Yosys' messages if it cannot. */
export async function synthCheck(files: readonly string[], top: string, cwd?: string): Promise<void> {
  const reads = files.map((f) => `read_verilog -defer ${JSON.stringify(f)}`).join('; ');
  await runToolChecked('yosys', ['-q', '-p', `${reads}; synth -top ${top}; check -assert`], { cwd, timeoutMs: 900_000 });
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
