// Running external tools with a time limit, captured output, and errors that carry the
// tool's own file:line diagnostics instead of a bare exit code.

import { spawn } from 'node:child_process';
import { requireTool, ToolchainError } from './tools.ts';
import { killGroup, trackChild } from './cleanup.ts';

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  cwd?: string;
  /** Milliseconds before the tool is killed (default 10 minutes). */
  timeoutMs?: number;
  /** Forward the tool's output to ours as it runs. */
  inherit?: boolean;
  env?: NodeJS.ProcessEnv;
}

export class ToolFailure extends Error {
  constructor(
    message: string,
    readonly result: RunResult,
  ) {
    super(message);
    this.name = 'ToolFailure';
  }
}

/** Run a tool found through the toolchain; resolves even on non-zero exit. */
export function runTool(name: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return runProgram(requireTool(name), args, opts);
}

/** Run any executable with a time limit; resolves even on non-zero exit. */
export function runProgram(exe: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const name = exe.split('/').pop()!;
  const timeoutMs = opts.timeoutMs ?? 600_000;
  return new Promise((resolve, reject) => {
    // Its own process group (detached), tracked: when we stop or time it out, the whole group
    // goes, so make's compilers do not outlive us. A terminal's Ctrl-C reaches only us then,
    // and our signal handler kills the group. The price: a SIGKILL of our own group (a CI job
    // cancelled with kill -9) cannot be caught and no longer reaches the tool, which runs to
    // its end (or dies on its next write to the closed pipe); the next start removes the
    // temporary directories it leaves (cleanup.ts removeStale).
    const child = spawn(exe, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    trackChild(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (opts.inherit) process.stdout.write(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (opts.inherit) process.stderr.write(d);
    });
    const timer = setTimeout(() => {
      killGroup(child, 'SIGKILL');
      reject(new ToolchainError(`${name} ${args.slice(0, 4).join(' ')}… did not finish within ${Math.round(timeoutMs / 1000)} s and was stopped`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new ToolchainError(`could not start ${name}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
}

/** Like runTool, but a non-zero exit becomes a ToolFailure carrying the tool's diagnostics. */
export async function runToolChecked(name: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return checked(name, await runTool(name, args, opts));
}

export async function runProgramChecked(exe: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return checked(exe.split('/').pop()!, await runProgram(exe, args, opts));
}

function checked(name: string, r: RunResult): RunResult {
  if (r.code !== 0) {
    const diag = extractDiagnostics(`${r.stderr}\n${r.stdout}`);
    throw new ToolFailure(`${name} failed (exit ${r.code}):\n${diag || (r.stderr || r.stdout).trim().split('\n').slice(-20).join('\n')}`, r);
  }
  return r;
}

/** The lines of a tool's output that name a file and line (Verilator, Icarus, Yosys styles). */
export function extractDiagnostics(text: string): string {
  return text
    .split('\n')
    .filter((l) => /%(Error|Warning)|:\d+(:\d+)?:|ERROR|error:|syntax error/i.test(l))
    .slice(0, 40)
    .join('\n');
}
