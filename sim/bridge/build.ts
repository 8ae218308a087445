// Build a Verilated model into a shared library that Node loads with koffi.
//
// Two caches keep Verilator from being rebuilt on every run:
//   - the runtime (verilated.cpp, the trace writer, threads) is compiled once per
//     Verilator version and trace format;
//   - each model is keyed by its sources, parameters, flags, the glue and the Verilator
//     version, so an unchanged design loads in milliseconds.
// Both are built in private directories and renamed into place (sim/toolchain/cache.ts),
// so concurrent test processes building the same model are safe.

import { readFileSync, writeFileSync, readdirSync, existsSync, copyFileSync, statSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { fileURLToPath } from 'node:url';
import { cachedBuild, cacheKey, cacheRoot } from '../toolchain/cache.ts';
import { runTool, runProgramChecked, ToolFailure, extractDiagnostics } from '../toolchain/run.ts';
import { probe, requireTool, TOOLS, ToolchainError } from '../toolchain/tools.ts';
import { verilator } from '../toolchain/verilator.ts';
import { portsFromHeader, portsHeader, portsFromXml, type PortInfo } from './ports.ts';
// Types only: building a model never loads the generator (the inference path builds rtl/'s designs).
import type { EmittedDesign, Manifest } from '../../generator/hdl/design.ts';
import { MANIFEST_SUFFIX } from '../../common/manifest.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const GLUE = path.join(HERE, 'vb.cpp');
const PRINT_H = path.join(HERE, 'vb_print.h');
const AXI_MEM_H = path.join(HERE, 'vb_axi_mem.h');
/** ports.ts writes the port table compiled into each library: a change there is a new model. */
const PORTS_TS = path.join(HERE, 'ports.ts');
/** Route Verilator's printing through vb.cpp (see vb_print.h). */
const PRINT_FLAGS = ['-DVL_PRINTF=vb_printf', '-DVL_VPRINTF=vb_vprintf', '-include', PRINT_H];

export type WaveFormat = 'vcd' | 'fst';

export interface ModelSource {
  /** Top module name. */
  readonly top: string;
  /** Verilog/SystemVerilog files (absolute or relative to the working directory). */
  readonly files: readonly string[];
  readonly includeDirs?: readonly string[];
  /** Top-level parameter overrides (-G). */
  readonly params?: Readonly<Record<string, string | number | bigint>>;
  readonly defines?: Readonly<Record<string, string | number>>;
  /** Extra Verilator flags, e.g. ['-Wno-WIDTH']. */
  readonly flags?: readonly string[];
  /** Waveform format compiled into the model (default vcd; fst needs zlib1g-dev). */
  readonly waves?: WaveFormat;
  /** Our own designs: the manifest, checked against what Verilator sees. */
  readonly manifest?: Manifest;
  /**
   * GCC's optimization level for the model's evaluation code (default 2). Gate-level netlists
   * take 1: their flat evaluation functions cost GCC 84 s of CPU per 1.3 MB file at -O2 and
   * 6 s at -O1.
   */
  readonly cxxOpt?: 0 | 1 | 2;
}

export interface BuiltModel {
  readonly top: string;
  readonly library: string;
  readonly dir: string;
  readonly key: string;
  readonly ports: readonly PortInfo[];
  readonly waves: WaveFormat;
  readonly manifest?: Manifest;
  /** Whether this call built it (false: loaded from the cache). */
  readonly built: boolean;
  readonly buildSeconds: number;
}

export interface BuildOptions {
  /** Progress lines (default: stderr with a [sim] prefix). Pass () => {} to silence. */
  log?: (line: string) => void;
  jobs?: number;
}

/** A Verilog error from Verilator, with its own file:line lines. */
export class VerilogError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VerilogError';
  }
}

const defaultLog = (line: string): void => void process.stderr.write(`[sim] ${line}\n`);

function verilatorRoot(): string {
  const exe = requireTool('verilator');
  const envRoot = process.env.VERILATOR_ROOT;
  if (envRoot && existsSync(path.join(envRoot, 'include', 'verilated.h'))) return envRoot;
  for (const cand of ['/usr/share/verilator', '/usr/local/share/verilator', path.resolve(path.dirname(exe), '..', 'share', 'verilator')]) {
    if (existsSync(path.join(cand, 'include', 'verilated.h'))) return cand;
  }
  throw new ToolchainError(`cannot find Verilator's include/verilated.h (looked in $VERILATOR_ROOT, /usr/share/verilator, /usr/local/share/verilator); set VERILATOR_ROOT`);
}

function traceDefines(waves: WaveFormat): string[] {
  return ['-DVM_COVERAGE=0', '-DVM_SC=0', '-DVM_TRACE=1', `-DVM_TRACE_FST=${waves === 'fst' ? 1 : 0}`, `-DVM_TRACE_VCD=${waves === 'vcd' ? 1 : 0}`];
}

const CXXFLAGS = ['-std=gnu++17', '-fPIC', '-O2', '-faligned-new', '-fcf-protection=none', '-Wno-bool-operation', '-Wno-sign-compare', '-Wno-uninitialized', '-Wno-unused-but-set-variable', '-Wno-unused-parameter', '-Wno-unused-variable', '-Wno-shadow'];

function checkZlib(waves: WaveFormat): void {
  if (waves === 'fst' && !existsSync('/usr/include/zlib.h')) {
    throw new ToolchainError(`FST waveforms need zlib's headers: sudo apt-get install -y zlib1g-dev (or use waves: 'vcd')`);
  }
}

/** Verilator's runtime objects, compiled once per version and trace format. */
async function buildRuntime(root: string, waves: WaveFormat, vver: string, log: (s: string) => void): Promise<string[]> {
  checkZlib(waves);
  const sources = ['verilated.cpp', 'verilated_threads.cpp', waves === 'fst' ? 'verilated_fst_c.cpp' : 'verilated_vcd_c.cpp'];
  const flags = [...CXXFLAGS, ...traceDefines(waves), '-DVL_USER_FINISH', '-DVL_USER_STOP', '-DVL_USER_FATAL', ...PRINT_FLAGS, `-I${root}/include`, `-I${root}/include/vltstd`];
  const key = cacheKey([vver, waves, flags.join(' '), readFileSync(PRINT_H, 'utf8')]);
  const objs = sources.map((s) => s.replace(/\.cpp$/, '.o'));
  const { dir } = await cachedBuild('verilator-runtime', `v${vver}-${waves}`, key, objs[objs.length - 1]!, async (tmp) => {
    log(`compiling the Verilator ${vver} runtime (${waves}), once per machine`);
    const gxx = requireTool('g++');
    await Promise.all(sources.map((s, i) => runProgramChecked(gxx, [...flags, '-c', path.join(root, 'include', s), '-o', path.join(tmp, objs[i]!)], { timeoutMs: 600_000 })));
  });
  return objs.map((o) => path.join(dir, o));
}

/**
 * Verilator expands $VAR and $(VAR) in the file names it is given and drops control
 * characters from them: such a path would name another file (or none). Spaces, quotes and
 * `;` are fine (arguments, not a shell).
 */
function checkVerilatorPath(p: string, what: string): void {
  if (/[$\x00-\x1f\x7f]/.test(p)) throw new VerilogError(`${what} ${JSON.stringify(p)}: Verilator would read another path (it expands $VARIABLES in file names and drops control characters); rename or move it`);
}

/** GNU make, which builds the model, refuses a directory with white space in its path. */
function checkCacheRoot(): void {
  const root = cacheRoot();
  if (/\s/.test(root)) throw new ToolchainError(`the build cache ${JSON.stringify(root)} has white space in its path, where GNU make cannot build; set BITNET_FPGA_CACHE to another directory`);
}

function fileList(src: ModelSource): string[] {
  return src.files.map((f) => {
    const abs = path.resolve(f);
    checkVerilatorPath(abs, 'Verilog file');
    if (!existsSync(abs)) throw new VerilogError(`${f}: no such Verilog file (top '${src.top}')`);
    return abs;
  });
}

/** Files that can reach the build through include directories; they are part of the key. */
function includedFiles(dirs: readonly string[]): string[] {
  const out: string[] = [];
  for (const d of dirs) {
    checkVerilatorPath(d, 'include directory');
    if (!existsSync(d) || !statSync(d).isDirectory()) throw new VerilogError(`include directory ${d} does not exist`);
    for (const f of readdirSync(d).sort()) if (/\.(v|vh|sv|svh)$/.test(f)) out.push(path.join(d, f));
  }
  return out;
}

function paramFlags(src: ModelSource): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(src.params ?? {})) {
    if (!/^\w+$/.test(k)) throw new VerilogError(`parameter name '${k}' for top '${src.top}' is not a Verilog identifier`);
    out.push(`-G${k}=${typeof v === 'string' && !/^-?\d+$/.test(v) && !/^\d*'/.test(v) ? JSON.stringify(v) : String(v)}`);
  }
  for (const [k, v] of Object.entries(src.defines ?? {})) out.push(`+define+${k}=${v}`);
  return out;
}

function verilogFailure(top: string, e: unknown): never {
  if (e instanceof ToolFailure) {
    const diag = extractDiagnostics(`${e.result.stderr}\n${e.result.stdout}`) || e.result.stderr.trim();
    throw new VerilogError(`Verilator rejected the design '${top}':\n${diag}`);
  }
  throw e;
}

/** The project's Verilator entry point, with a failure turned into a VerilogError. */
async function verilate(args: string[], cwd: string, top: string): Promise<void> {
  const r = await verilator(args, { cwd, timeoutMs: 1_200_000 });
  if (r.code !== 0) verilogFailure(top, new ToolFailure('verilator failed', r));
}

function checkAgainstManifest(ports: readonly PortInfo[], m: Manifest, top: string): PortInfo[] {
  const byName = new Map(ports.map((p) => [p.name, p]));
  for (const mp of m.ports) {
    const p = byName.get(mp.name);
    if (!p || p.direction !== mp.direction || p.width !== mp.width) {
      throw new VerilogError(`manifest of '${top}' says port ${mp.name} is ${mp.direction} [${mp.width}], Verilator sees ${p ? `${p.direction} [${p.width}]` : 'no such port'}; is rtl/ stale? (npx bitnet-fpga generate --all)`);
    }
  }
  // Signedness is the manifest's: the emitted Verilog declares it the same way.
  return ports.map((p) => ({ ...p, signed: m.ports.find((q) => q.name === p.name)?.signed ?? p.signed }));
}

export async function buildModel(src: ModelSource, opts: BuildOptions = {}): Promise<BuiltModel> {
  const log = opts.log ?? defaultLog;
  const t0 = performance.now();
  if (!/^[A-Za-z_]\w*$/.test(src.top)) throw new VerilogError(`top module name '${src.top}' is not a plain Verilog identifier`);
  const files = fileList(src);
  checkCacheRoot();
  const incDirs = [...new Set([...(src.includeDirs ?? []).map((d) => path.resolve(d)), ...files.map((f) => path.dirname(f))])];
  const waves = src.waves ?? 'vcd';
  const vver = probe(TOOLS.find((t) => t.name === 'verilator')!).version ?? '?';
  requireTool('verilator');
  const root = verilatorRoot();
  const vflags = ['--cc', waves === 'fst' ? '--trace-fst' : '--trace', '-O3', '--x-assign', 'fast', '--x-initial', 'fast', '--timescale', '1ps/1ps', '-Wno-fatal', '-Wno-lint', '-Wno-style', '--top-module', src.top, ...paramFlags(src), ...(src.flags ?? []), ...incDirs.map((d) => `-I${d}`), '-CFLAGS', `-fPIC ${PRINT_FLAGS.join(' ')}`];
  const glue = readFileSync(GLUE, 'utf8');
  const inputs = [...new Set([...files, ...includedFiles(incDirs)])];
  const optFast = `-O${src.cxxOpt ?? 2}`;
  // The level joins the key only when chosen, so the models already cached keep their keys.
  const key = cacheKey([...inputs.flatMap((f) => [path.basename(f), readFileSync(f, 'utf8')]), glue, readFileSync(PRINT_H, 'utf8'), readFileSync(AXI_MEM_H, 'utf8'), readFileSync(PORTS_TS, 'utf8'), vver, vflags.join(' '), CXXFLAGS.join(' '), ...(src.cxxOpt === undefined ? [] : [optFast])]);
  const lib = `libvb_${src.top}.so`;
  let ports: PortInfo[] = [];
  const { dir, built } = await cachedBuild('models', src.top, key, lib, async (tmp) => {
    const step = (s: string): void => log(`${src.top} [${key.slice(0, 8)}]: ${s} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    step(`verilating ${files.length} file(s)`);
    // Only the flags added above for the C++ model are dropped: a source's own (`--trace-depth 1`) keeps its value.
    await verilate(['--xml-only', '--xml-output', 'ports.xml', '--Mdir', 'xml', ...vflags.filter((f) => f !== '--cc' && f !== '--trace' && f !== '--trace-fst' && f !== '-CFLAGS' && !f.startsWith('-fPIC')), ...files], tmp, src.top);
    await verilate([...vflags, '--Mdir', 'obj', ...files], tmp, src.top);
    ports = portsFromHeader(readFileSync(path.join(tmp, 'obj', `V${src.top}.h`), 'utf8'), `top module '${src.top}' (${src.files.join(', ')})`, portsFromXml(readFileSync(path.join(tmp, 'ports.xml'), 'utf8'), src.top));
    writeFileSync(path.join(tmp, 'ports.json'), JSON.stringify(ports, null, 1));
    writeFileSync(path.join(tmp, 'obj', 'vb_ports.h'), portsHeader(src.top, ports));
    copyFileSync(GLUE, path.join(tmp, 'obj', 'vb.cpp'));
    copyFileSync(AXI_MEM_H, path.join(tmp, 'obj', 'vb_axi_mem.h'));
    const runtime = await buildRuntime(root, waves, vver, log);
    const jobs = opts.jobs ?? Math.max(1, os.availableParallelism());
    const nCpp = readdirSync(path.join(tmp, 'obj')).filter((f) => f.endsWith('.cpp')).length;
    step(`compiling ${nCpp} C++ files with ${jobs} job(s)`);
    const make = await runTool('make', ['-C', 'obj', '-f', `V${src.top}.mk`, '-j', String(jobs), `V${src.top}__ALL.a`, `OPT_FAST=${optFast}`, 'OPT_SLOW=-O1', 'OPT_GLOBAL=-O1'], { cwd: tmp, timeoutMs: 1_800_000 });
    if (make.code !== 0) throw new ToolFailure(`compiling the Verilated model of ${src.top} failed:\n${extractDiagnostics(make.stderr + make.stdout) || make.stderr.slice(-2000)}`, make);
    step('linking');
    const gxx = requireTool('g++');
    await runProgramChecked(gxx, ['-shared', ...CXXFLAGS, ...traceDefines(waves), ...PRINT_FLAGS, `-I${root}/include`, `-I${root}/include/vltstd`, '-Iobj', 'obj/vb.cpp', `obj/V${src.top}__ALL.a`, ...runtime, '-pthread', ...(waves === 'fst' ? ['-lz'] : []), '-o', lib], { cwd: tmp, timeoutMs: 600_000 });
    step('done');
  });
  if (!built) ports = JSON.parse(readFileSync(path.join(dir, 'ports.json'), 'utf8')) as PortInfo[];
  if (src.manifest) ports = checkAgainstManifest(ports, src.manifest, src.top);
  return { top: src.top, library: path.join(dir, lib), dir, key, ports, waves, manifest: src.manifest, built, buildSeconds: (performance.now() - t0) / 1000 };
}

/**
 * A design emitted in this process (a test's configuration, a benchmark's netlist): its
 * Verilog and manifest written into the cache under its content hash, then read back like
 * any manifest. The design is data (files and manifest), so this needs none of the
 * generator's code; the port types `generate` also writes are for testbench sources only.
 */
export function emittedSource(d: EmittedDesign, extra: Omit<ModelSource, 'top' | 'files' | 'manifest'> = {}): ModelSource {
  const dir = path.join(cacheRoot(), 'designs', `${d.manifest.top}-${d.manifest.contentHash.slice(0, 12)}`);
  mkdirSync(dir, { recursive: true });
  for (const f of d.files) writeFileSync(path.join(dir, f.name), f.text);
  const manifestPath = path.join(dir, `${d.manifest.top}${MANIFEST_SUFFIX}`);
  writeFileSync(manifestPath, JSON.stringify(d.manifest, null, 2) + '\n');
  return manifestSource(manifestPath, extra);
}

/** The model of a design we generated: `<dir>/<top>.manifest.json` and its Verilog files. */
export function manifestSource(manifestPath: string, extra: Omit<ModelSource, 'top' | 'files' | 'manifest'> = {}): ModelSource {
  if (!existsSync(manifestPath)) throw new VerilogError(`${manifestPath}: no such manifest (generate it with npx bitnet-fpga generate)`);
  let m: Manifest;
  try {
    m = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
  } catch (e) {
    throw new VerilogError(`${manifestPath}: not valid JSON (${(e as Error).message})`);
  }
  if (m.format !== 'bitnet-fpga-manifest/1') throw new VerilogError(`${manifestPath}: field 'format' is ${JSON.stringify(m.format)}, expected "bitnet-fpga-manifest/1"`);
  const dir = path.dirname(manifestPath);
  return { ...extra, top: m.top, files: m.files.map((f) => path.join(dir, f)), manifest: m };
}
