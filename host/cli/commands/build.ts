// `bitnet-fpga build --board NAME`: the board's top generated with its parameters, then
// the board's flow to a bitstream, with the manifest the host checks the board against.

import { existsSync, lstatSync } from 'node:fs';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { findCore, resolveParams, parseParamArgs, emitCore, CHECKED_IN, ParamError } from '../../../generator/cores/registry.ts';
import { writeDesign } from '../../../generator/hdl/index.ts';
import { BOARDS, type BoardTarget, type VivadoBoard } from '../../../generator/boards/targets.ts';
import { which } from '../../../sim/toolchain/tools.ts';
import { findManifest, rtlDir } from '../../../common/manifest.ts';
import { buildIce40, ice40Outputs, type Ice40Build } from '../../../sim/toolchain/ice40-flow.ts';
import { projectRoot } from '../paths.ts';
import { entries, isGenerated, makeDirs, replaceDir } from '../out-dir.ts';
import { PARAM_FLAGS, quoted, shown } from '../flags.ts';

/** As the option table parsed them (the seed bounded there). */
export interface BuildOptions {
  board?: string;
  param: string[];
  out?: string;
  seed?: number;
  json?: boolean;
  /** Reuse a bitstream built from the same sources and tool versions (tests; the command line builds afresh). */
  cache?: boolean;
}

export interface BuildResult extends Ice40Build {
  readonly board: string;
  readonly top: string;
  readonly manifest: string;
  readonly identity: string;
  readonly params: Record<string, number>;
  /** The parameters are rtl/<dir>'s, so the bitstream answers to the checked-in manifest. */
  readonly checkedIn: string | undefined;
}

/** The board --board names, or a one-line refusal listing the known ones. */
function boardTarget(board: string | undefined): BoardTarget {
  const names = Object.keys(BOARDS).join(', ');
  if (!board) throw new ParamError(`build: name a board with --board (known: ${names})`);
  const target = Object.hasOwn(BOARDS, board) ? BOARDS[board] : undefined;
  if (!target) throw new ParamError(`build: unknown board ${quoted(board)}; known boards: ${names}`);
  return target;
}

/** The iCE40 flow (Yosys, nextpnr-ice40, icepack), run here; the figures it measured. */
export async function build(o: BuildOptions): Promise<BuildResult> {
  const target = boardTarget(o.board);
  if (target.flow !== 'ice40') throw new ParamError(`build: --board ${target.name} is built by Vivado (vivadoBuild), not the iCE40 flow`);
  const seed = o.seed ?? 1;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new ParamError(`build: --seed ${seed}: expected a non-negative integer`);
  const core = findCore(target.core);
  const ref = CHECKED_IN.find((c) => c.core === target.core);
  const params = resolveParams(core, { ...ref?.params, ...parseParamArgs(o.param, PARAM_FLAGS) });
  const design = emitCore(core, params);
  const out = path.resolve(o.out ?? path.join('build', target.name));
  const rtl = path.join(out, 'rtl');
  checkBuildDir(out, o.out ?? path.join('build', target.name), design.manifest.top);
  const files = replaceDir(rtl, 'rtl', (dir) => writeDesign(dir, design)).filter((f) => f.endsWith('.v'));
  const r = await buildIce40(files, design.manifest.top, { device: target.device, package: target.package, pcf: path.join(projectRoot(), target.constraints), freqMHz: target.freqMHz }, out, { seed, cache: o.cache });
  // Defaults the checked-in entry leaves out count as given: compare resolved parameters.
  const refParams = ref && resolveParams(core, ref.params);
  const same = refParams && Object.entries(params).every(([k, v]) => refParams[k] === v);
  const extra = design.manifest.extra as { board?: { identity?: string } } | undefined;
  return {
    ...r,
    board: target.name,
    top: design.manifest.top,
    manifest: path.join(rtl, `${design.manifest.top}.manifest.json`),
    identity: extra?.board?.identity ?? '',
    params,
    checkedIn: same ? `rtl/${ref.dir}` : undefined,
  };
}

/**
 * Whether build may write into `out`: its rtl/ must be missing or hold only files this
 * project generated (a previous build), and on a first build there none of the flow's output
 * names may exist. Anything else is refused before a file is touched: `-o .` in a checkout
 * would otherwise replace the checkout's rtl/.
 */
function checkBuildDir(out: string, given: string, top: string): void {
  const rtl = path.join(out, 'rtl');
  const refuse = (why: string): never => {
    throw new ParamError(`build: -o/--out ${given}: ${why}; refusing to replace it (choose a new directory, or one an earlier build wrote)`);
  };
  let st;
  try {
    st = lstatSync(rtl);
  } catch {
    st = undefined;
  }
  if (st) {
    if (!st.isDirectory()) refuse(`${path.join(given, 'rtl')} is not a directory`);
    const foreign = entries(rtl).filter((f) => !isGenerated(path.join(rtl, f)));
    if (foreign.length) refuse(`${path.join(given, 'rtl')} holds ${foreign.length === 1 ? 'a file' : 'files'} bitnet-fpga did not generate (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''})`);
    return;
  }
  const clash = ice40Outputs(top).filter((f) => existsSync(path.join(out, f)));
  if (clash.length) refuse(`it holds ${clash.join(', ')} but no rtl/ from an earlier build`);
}

/**
 * A Vivado board: its batch script, run as it is (no shell) when Vivado is on PATH. The
 * script reads the checked-in rtl/<dir>, so parameters cannot apply and are refused; without
 * Vivado (these machines have none) the refusal gives the exact command to run elsewhere.
 */
async function vivadoBuild(target: VivadoBoard, o: BuildOptions): Promise<void> {
  const dir = CHECKED_IN.find((c) => c.core === target.core)?.dir ?? target.core;
  if (o.param.length) throw new ParamError(`build: ${PARAM_FLAGS} ${shown(o.param[0]!)}: --board ${target.name} builds the checked-in rtl/${dir} with Vivado's script (${target.script}), which takes no parameters; regenerate rtl/ instead`);
  if (o.json) throw new ParamError(`build: --json: --board ${target.name} is a Vivado flow; its figures are Vivado's reports (utilization.rpt, timing.rpt in the output directory)`);
  const out = path.resolve(o.out ?? path.join('build', target.name));
  const script = path.join(projectRoot(), target.script);
  const args = ['-mode', 'batch', '-source', script, '-tclargs', ...target.tclargs, out];
  const vivado = which('vivado');
  if (!vivado) {
    const shown = ['vivado', ...args.map((a) => path.relative(process.cwd(), a) || a)].join(' ');
    throw new ParamError(`build: --board ${target.name} needs Vivado, which is not on PATH; with Vivado installed: ${shown}`);
  }
  makeDirs(out);
  // Vivado writes its journal and log into its working directory: the output directory.
  const child = spawn(vivado, args, { cwd: out, stdio: 'inherit' });
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c) => resolve(c ?? 1));
  });
  if (code !== 0) throw new ParamError(`build: vivado exited with status ${code}; its log is in ${path.relative(process.cwd(), out) || '.'}`);
  console.log(`${target.name}: built by ${target.script} into ${path.relative(process.cwd(), out) || '.'}; then run: npx bitnet-fpga run -m MODEL --backend ${target.backend} --board-manifest ${path.relative(process.cwd(), findManifest(rtlDir(dir)))} -p "..."`);
}

export async function buildCommand(o: BuildOptions): Promise<void> {
  const target = boardTarget(o.board);
  if (target.flow === 'vivado') return vivadoBuild(target, o);
  const r = await build(o);
  if (o.json) {
    console.log(JSON.stringify(r, null, 2));
    return;
  }
  const rel = (f: string): string => path.relative(process.cwd(), f) || '.';
  const lc = r.utilization.ICESTORM_LC;
  const ram = r.utilization.ICESTORM_RAM;
  const pct = (u: { used: number; total: number } | undefined): string => (u ? `${u.used.toLocaleString('en-US')} / ${u.total.toLocaleString('en-US')} (${Math.round((100 * u.used) / u.total)} %)` : '?');
  const p = r.params;
  console.log(`${r.board}: ${r.top}, ${p.rows}x${p.cols} core, int${p.act} activations, kmax ${p.kmax}, mmax ${p.mmax}, ${p.wdepth} weight tiles, ${p.baud} baud`);
  console.log(`  logic cells ${pct(lc)}   block RAM ${pct(ram)}   Fmax ${r.fmaxMHz?.toFixed(1) ?? '?'} MHz (needs ${target.freqMHz})`);
  console.log(`  synth ${r.seconds.synth.toFixed(1)} s, place and route ${r.seconds.pnr.toFixed(1)} s, pack ${r.seconds.pack.toFixed(1)} s; logs in ${rel(path.dirname(r.logs[0]!))}`);
  console.log(`  bitstream ${rel(r.bitstream)} (${r.bytes.toLocaleString('en-US')} bytes)`);
  console.log(`  identity ${r.identity.slice(0, 16)}… ${r.checkedIn ? `(the parameters of ${r.checkedIn})` : '(parameters differ from the checked-in RTL)'}`);
  console.log('');
  console.log(`program it:  ${target.program} ${rel(r.bitstream)}`);
  console.log(`then run:    npx bitnet-fpga run -m MODEL --backend uart:${target.serial}@${p.baud} --board-manifest ${rel(r.manifest)} -p "..."`);
}
