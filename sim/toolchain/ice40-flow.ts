// A bitstream for an iCE40 board: Yosys synth_ice40, nextpnr-ice40 with the board's pin
// constraints, icepack. Each tool's full log is kept beside its output, and a run that
// does not fit, does not meet timing or leaves a pin unplaced fails with the tool's own
// lines rather than a bare exit code. With `cache`, a bitstream already built from the same
// sources, constraints, options and tool versions is copied from the build cache instead of
// being built again (the board test and the gate-level test of the same bitstream share one).

import { copyFileSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTool, ToolFailure, extractDiagnostics, type RunResult } from './run.ts';
import { readVerilog, yosysPath } from './yosys.ts';
import { cacheKey, cachedBuild } from './cache.ts';
import { toolVersion } from './tools.ts';

export interface Ice40Target {
  /** nextpnr-ice40 device flag: up5k, hx8k, … */
  readonly device: string;
  readonly package: string;
  /** Pin constraints (.pcf). */
  readonly pcf: string;
  /** The clock the design must meet, in MHz. */
  readonly freqMHz: number;
}

export interface Ice40Build {
  readonly bitstream: string;
  readonly bytes: number;
  /** Used / available per cell type, from nextpnr (ICESTORM_LC, ICESTORM_RAM, SB_IO, …). */
  readonly utilization: Record<string, { used: number; total: number }>;
  readonly fmaxMHz: number | undefined;
  /** How long each step took when it ran (from the cache: when it ran for the cached copy). */
  readonly seconds: { synth: number; pnr: number; pack: number };
  readonly logs: readonly string[];
  /** Copied from the build cache rather than built by this call. */
  readonly cached: boolean;
}

/** What nextpnr-ice40 reports: cells used of available per type, and the last Fmax it printed. */
export function parseNextpnrLog(log: string): { utilization: Record<string, { used: number; total: number }>; fmaxMHz: number | undefined } {
  const utilization: Record<string, { used: number; total: number }> = {};
  for (const m of log.matchAll(/Info:\s+(ICESTORM_\w+|SB_\w+):\s+(\d+)\/\s*(\d+)/g)) utilization[m[1]!] = { used: Number(m[2]), total: Number(m[3]) };
  const fmaxes = [...log.matchAll(/Max frequency for clock\s+'[^']*':\s+([\d.]+) MHz/g)].map((m) => Number(m[1]));
  return { utilization, fmaxMHz: fmaxes.length ? fmaxes[fmaxes.length - 1] : undefined };
}

async function step(name: string, args: readonly string[], log: string, cwd: string): Promise<{ r: RunResult; seconds: number }> {
  const t0 = performance.now();
  const r = await runTool(name, args, { cwd, timeoutMs: 1_800_000 });
  writeFileSync(log, `${r.stdout}\n${r.stderr}`);
  return { r, seconds: (performance.now() - t0) / 1000 };
}

function fail(what: string, r: RunResult, log: string): never {
  const text = `${r.stderr}\n${r.stdout}`;
  throw new ToolFailure(`${what} (full log: ${log}):\n${extractDiagnostics(text) || text.trim().split('\n').slice(-15).join('\n')}`, r);
}

const LOGS = ['yosys.log', 'nextpnr.log', 'icepack.log'];
/** The files the flow writes into its output directory. */
export const ice40Outputs = (top: string): string[] => [`${top}.json`, `${top}.asc`, `${top}.bin`, ...LOGS];
/** The figures of a cached build, beside its outputs (paths are re-rooted in the caller's directory). */
const RECORD = 'build.json';

export async function buildIce40(files: readonly string[], top: string, target: Ice40Target, outDir: string, opts: { seed?: number; cache?: boolean } = {}): Promise<Ice40Build> {
  // Absolute, so no path handed to nextpnr or icepack can start with '-' and read as an option.
  outDir = path.resolve(outDir);
  if (!opts.cache) return flow(files, top, target, outDir, opts.seed ?? 1);
  const key = cacheKey([
    top,
    ...files.flatMap((f) => [path.basename(f), readFileSync(f, 'utf8')]),
    target.device,
    target.package,
    readFileSync(target.pcf, 'utf8'),
    String(target.freqMHz),
    String(opts.seed ?? 1),
    ...['yosys', 'nextpnr-ice40', 'icepack'].map(toolVersion),
    readFileSync(fileURLToPath(import.meta.url), 'utf8'), // the flow itself: a changed script is a new build
  ]);
  // The flow runs in outDir as without the cache, so a failure's log stays where its message points.
  let fresh: Ice40Build | undefined;
  const { dir } = await cachedBuild('ice40', top, key, RECORD, async (tmp) => {
    fresh = await flow(files, top, target, outDir, opts.seed ?? 1);
    for (const f of ice40Outputs(top)) copyFileSync(path.join(outDir, f), path.join(tmp, f));
    const { bitstream: _b, logs: _l, ...figures } = fresh;
    writeFileSync(path.join(tmp, RECORD), JSON.stringify(figures));
  });
  if (fresh) return fresh;
  for (const f of ice40Outputs(top)) copyFileSync(path.join(dir, f), path.join(outDir, f));
  const figures = JSON.parse(readFileSync(path.join(dir, RECORD), 'utf8')) as Omit<Ice40Build, 'bitstream' | 'logs'>;
  return { ...figures, bitstream: path.join(outDir, `${top}.bin`), logs: LOGS.map((f) => path.join(outDir, f)), cached: true };
}

async function flow(files: readonly string[], top: string, target: Ice40Target, outDir: string, seed: number): Promise<Ice40Build> {
  const json = path.join(outDir, `${top}.json`);
  const asc = path.join(outDir, `${top}.asc`);
  const bin = path.join(outDir, `${top}.bin`);
  const logs = LOGS.map((f) => path.join(outDir, f));
  const reads = readVerilog(files);
  const y = await step('yosys', ['-p', `${reads}; synth_ice40 -top ${top} -json ${yosysPath(json)}`], logs[0]!, outDir);
  if (y.r.code !== 0) fail(`yosys could not synthesize ${top}`, y.r, logs[0]!);

  const pnrArgs = ['--' + target.device, '--package', target.package, '--json', json, '--pcf', path.resolve(target.pcf), '--asc', asc, '--freq', String(target.freqMHz), '--seed', String(seed)];
  const p = await step('nextpnr-ice40', pnrArgs, logs[1]!, outDir);
  const log = `${p.r.stderr}\n${p.r.stdout}`;
  const { utilization, fmaxMHz } = parseNextpnrLog(log);
  if (p.r.code !== 0) {
    const full = Object.entries(utilization).filter(([, u]) => u.used > u.total).map(([k, u]) => `${k} ${u.used}/${u.total}`);
    const why = full.length ? `${top} does not fit the ${target.device.toUpperCase()} (${full.join(', ')})` : /timing|frequency/i.test(log) ? `${top} does not meet ${target.freqMHz} MHz` : `nextpnr-ice40 could not place and route ${top}`;
    fail(why, p.r, logs[1]!);
  }

  const k = await step('icepack', [asc, bin], logs[2]!, outDir);
  if (k.r.code !== 0) fail('icepack could not pack the bitstream', k.r, logs[2]!);
  return {
    bitstream: bin,
    bytes: statSync(bin).size,
    utilization,
    fmaxMHz,
    seconds: { synth: y.seconds, pnr: p.seconds, pack: k.seconds },
    logs,
    cached: false,
  };
}
