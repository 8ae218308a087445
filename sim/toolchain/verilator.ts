// The project's single entry point to Verilator.

import { runTool, runToolChecked, type RunOptions, type RunResult } from './run.ts';

export function verilator(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return runTool('verilator', args, opts);
}

export function verilatorChecked(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return runToolChecked('verilator', args, opts);
}

/** `verilator --lint-only -Wall` over files; returns the warnings (empty when clean). */
export async function lintVerilog(files: readonly string[], top: string, opts: RunOptions = {}): Promise<string[]> {
  const r = await verilator(['--lint-only', '-Wall', '--top-module', top, ...files], opts);
  const msgs = `${r.stderr}\n${r.stdout}`.split('\n').filter((l) => /^%(Warning|Error)/.test(l));
  if (r.code !== 0 && msgs.length === 0) msgs.push(`verilator exited with ${r.code}: ${r.stderr.trim()}`);
  return msgs;
}
