// The external tools the project drives, how to find them, how to tell their versions,
// and the one message that says how to install what is missing. Everything that runs
// Verilator, Yosys, Icarus or nextpnr goes through here, so a missing tool always gives
// the same actionable error instead of a spawn ENOENT from somewhere deep.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';

export interface ToolSpec {
  /** Executable name. */
  readonly name: string;
  /** Debian package that provides it. */
  readonly pkg: string;
  /** What the project uses it for. */
  readonly purpose: string;
  readonly versionArgs: readonly string[];
  readonly versionPattern: RegExp;
  readonly minVersion?: string;
  /** The tool prints no version: report its Debian package's version instead. */
  readonly versionFromPackage?: boolean;
  /** Required for the default test run; optional tools only enable extra commands. */
  readonly required: boolean;
}

export const TOOLS: readonly ToolSpec[] = [
  { name: 'verilator', pkg: 'verilator', purpose: 'lint and simulate the RTL', versionArgs: ['--version'], versionPattern: /Verilator (\d+\.\d+)/, minVersion: '5.006', required: true },
  { name: 'iverilog', pkg: 'iverilog', purpose: 'second simulator for differential tests', versionArgs: ['-V'], versionPattern: /version (\d+\.\d+)/, required: true },
  { name: 'yosys', pkg: 'yosys', purpose: 'synthesis checks and resource reports', versionArgs: ['-V'], versionPattern: /Yosys (\d+\.\d+)/, required: true },
  { name: 'nextpnr-ice40', pkg: 'nextpnr-ice40', purpose: 'place and route for iCE40 boards', versionArgs: ['--version'], versionPattern: /Version ([\d.]+)/, required: true },
  { name: 'icepack', pkg: 'fpga-icestorm', purpose: 'iCE40 bitstream packing', versionArgs: ['-h'], versionPattern: /(Usage: \S*icepack)/, versionFromPackage: true, required: true },
  { name: 'icebox_vlog', pkg: 'fpga-icestorm', purpose: 'turn an iCE40 bitstream back into Verilog for gate-level simulation', versionArgs: ['-h'], versionPattern: /(Usage: \S*icebox_vlog)/, versionFromPackage: true, required: true },
  { name: 'socat', pkg: 'socat', purpose: 'pseudo-terminal plumbing for board-sim', versionArgs: ['-V'], versionPattern: /socat version ([\d.]+)/, required: true },
  { name: 'g++', pkg: 'g++', purpose: 'compiles Verilated models', versionArgs: ['--version'], versionPattern: /(\d+\.\d+\.\d+)/, required: true },
  { name: 'make', pkg: 'make', purpose: 'drives Verilator builds', versionArgs: ['--version'], versionPattern: /Make (\d+\.\d+)/, required: true },
];

export interface ToolStatus {
  readonly spec: ToolSpec;
  readonly path: string | undefined;
  readonly version: string | undefined;
  /** Why it cannot be used, when it cannot. */
  readonly problem: string | undefined;
}

export class ToolchainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ToolchainError';
  }
}

/** The first `exe` on PATH, or undefined (no shell involved). */
export function which(exe: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, exe);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** Compare dotted versions numerically: -1, 0 or 1. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d) return Math.sign(d);
  }
  return 0;
}

function locate(spec: ToolSpec): string | undefined {
  if (spec.name === 'verilator' && process.env.VERILATOR_ROOT) {
    const p = path.join(process.env.VERILATOR_ROOT, 'bin', 'verilator');
    if (existsSync(p)) return p;
  }
  return which(spec.name);
}

const cache = new Map<string, ToolStatus>();

export function probe(spec: ToolSpec): ToolStatus {
  const hit = cache.get(spec.name);
  if (hit) return hit;
  const p = locate(spec);
  let status: ToolStatus;
  if (!p) {
    status = { spec, path: undefined, version: undefined, problem: 'not found' };
  } else {
    const r = spawnSync(p, spec.versionArgs, { encoding: 'utf8', timeout: 15000 });
    const text = `${r.stdout ?? ''}${r.stderr ?? ''}`;
    let version = spec.versionPattern.exec(text)?.[1];
    if (version && spec.versionFromPackage) {
      const q = spawnSync('dpkg-query', ['-W', '-f', '${Version}', spec.pkg], { encoding: 'utf8', timeout: 15000 });
      version = q.status === 0 && q.stdout.trim() ? q.stdout.trim() : 'present';
    }
    let problem: string | undefined;
    if (!version) problem = `could not read its version from '${path.basename(p)} ${spec.versionArgs.join(' ')}'`;
    else if (spec.minVersion && compareVersions(version, spec.minVersion) < 0) problem = `version ${version} is older than the required ${spec.minVersion}`;
    status = { spec, path: p, version, problem };
  }
  cache.set(spec.name, status);
  return status;
}

export function installCommand(pkgs: readonly string[]): string {
  const prefix = process.getuid?.() === 0 ? '' : 'sudo ';
  return `${prefix}apt-get install -y ${[...new Set(pkgs)].join(' ')}`;
}

/** The path of a usable tool, or a ToolchainError saying exactly what to install. */
export function requireTool(name: string): string {
  const spec = TOOLS.find((t) => t.name === name);
  if (!spec) throw new ToolchainError(`unknown tool '${name}'`);
  const st = probe(spec);
  if (st.path && !st.problem) return st.path;
  const where = spec.name === 'verilator' ? ' (looked in PATH and $VERILATOR_ROOT/bin)' : ' (looked in PATH)';
  throw new ToolchainError(
    `${spec.name} ${st.problem}${st.problem === 'not found' ? where : ''}; it is needed to ${spec.purpose}.\n` +
      `Install it with:  ${installCommand([spec.pkg])}\n` +
      `or run 'npx bitnet-fpga doctor' to check the whole toolchain.`,
  );
}

/** The version of a usable tool (requireTool's message when it is not), for cache keys. */
export function toolVersion(name: string): string {
  requireTool(name);
  return probe(TOOLS.find((t) => t.name === name)!).version!;
}

export function doctorReport(): { lines: string[]; ok: boolean } {
  const statuses = TOOLS.map(probe);
  const lines: string[] = [];
  const width = Math.max(...TOOLS.map((t) => t.name.length));
  for (const s of statuses) {
    const state = s.problem ? `MISSING  (${s.problem})` : `ok       ${s.version ?? ''}`.trimEnd();
    lines.push(`${s.spec.name.padEnd(width)}  ${state.padEnd(30)}  ${s.path ?? ''}${s.problem ? '' : ''}`.trimEnd());
  }
  const node = process.versions.node;
  const nodeOk = compareVersions(node, '20.19') >= 0;
  lines.push(`${'node'.padEnd(width)}  ${(nodeOk ? `ok       ${node}` : `MISSING  (version ${node} is older than 20.19)`).padEnd(30)}  ${process.execPath}`);
  const missing = statuses.filter((s) => s.problem && s.spec.required);
  if (missing.length) {
    lines.push('');
    lines.push(`missing: ${missing.map((s) => s.spec.name).join(', ')}`);
    lines.push(`install with:  ${installCommand(missing.map((s) => s.spec.pkg))}`);
    lines.push(`(or run 'npm run setup', which does this when run as root)`);
  }
  return { lines, ok: missing.length === 0 && nodeOk };
}
