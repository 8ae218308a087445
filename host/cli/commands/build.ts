// `bitnet-fpga build --board NAME`: the board's top generated with its parameters, then
// the board's flow to a bitstream, with the manifest the host checks the board against.

import { mkdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { findCore, resolveParams, parseParamArgs, emitCore, CHECKED_IN, ParamError } from '../../../generator/cores/registry.ts';
import { writeDesign } from '../../../generator/hdl/index.ts';
import { BOARDS } from '../../../generator/boards/targets.ts';
import { buildIce40, type Ice40Build } from '../../../sim/toolchain/ice40-flow.ts';
import { projectRoot } from '../paths.ts';

export interface BuildOptions {
  board?: string;
  param: string[];
  out?: string;
  seed?: string;
  json?: boolean;
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

export async function build(o: BuildOptions): Promise<BuildResult> {
  const names = Object.keys(BOARDS).join(', ');
  if (!o.board) throw new ParamError(`build: name a board with --board (known: ${names})`);
  const target = BOARDS[o.board];
  if (!target) throw new ParamError(`build: unknown board '${o.board}'; known boards: ${names}`);
  const core = findCore(target.core);
  const ref = CHECKED_IN.find((c) => c.core === target.core);
  const params = resolveParams(core, { ...ref?.params, ...parseParamArgs(o.param) });
  const design = emitCore(core, params);
  const out = path.resolve(o.out ?? path.join('build', target.name));
  const rtl = path.join(out, 'rtl');
  rmSync(rtl, { recursive: true, force: true });
  mkdirSync(rtl, { recursive: true });
  const files = writeDesign(rtl, design).filter((f) => f.endsWith('.v'));
  const seed = o.seed === undefined ? 1 : Number(o.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new ParamError(`build: --seed ${o.seed}: expected a non-negative integer`);
  const r = await buildIce40(files, design.manifest.top, { device: target.device, package: target.package, pcf: path.join(projectRoot(), target.constraints), freqMHz: target.freqMHz }, out, { seed });
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

export async function buildCommand(o: BuildOptions): Promise<void> {
  const r = await build(o);
  if (o.json) {
    console.log(JSON.stringify(r, null, 2));
    return;
  }
  const target = BOARDS[r.board]!;
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
  console.log(`then run:    npx bitnet-fpga run -m MODEL -b uart:${target.serial}@${p.baud} --board-manifest ${rel(r.manifest)} -p "..."`);
}
