// `bitnet-fpga synth`: a core through Yosys for 7-series (synth_xilinx) or iCE40
// (synth_ice40 + nextpnr-ice40 on an UP5K), with LUTs, flip-flops, carry cells, block RAM
// and DSPs, and for iCE40 Fmax and utilization.

import * as path from 'node:path';
import { findCore, resolveParams, parseParamArgs, emitCore, ParamError } from '../../../generator/cores/registry.ts';
import { writeDesign } from '../../../generator/hdl/index.ts';
import { cacheRoot } from '../../../sim/toolchain/cache.ts';
import { PARAM_FLAGS, DEFAULT_PLACER_SEED } from '../flags.ts';
import { LUT_ARRAY_NOT_ON_ICE40 } from '../../../generator/cores/ternary/params.ts';
import { synthXilinx, synthIce40, type SynthReport } from '../../../sim/toolchain/synth.ts';
import { netlistDepth, stageDepths, ice40FmaxBound } from '../../../sim/bench/lut-levels.ts';

export interface SynthOptions {
  target: string;
  param: string[];
  json?: boolean;
  rows?: string;
  cols?: string;
  act?: string;
  format?: string;
  kmax?: string;
  mmax?: string;
  wdepth?: string;
  fmax?: number;
  seed?: number;
}

export async function synthesize(core: string, params: Record<string, string | number>, target: string, fmax?: number, placerSeed?: number): Promise<SynthReport> {
  if (target !== 'xilinx' && target !== 'ice40') throw new ParamError(`--target ${target}: expected xilinx (7-series, synth_xilinx) or ice40 (UP5K, synth_ice40 + nextpnr-ice40)`);
  if (fmax !== undefined && target !== 'ice40') throw new ParamError(`--fmax ${fmax}: needs --target ice40 (only nextpnr-ice40 times the design here; synth_xilinx gives no Fmax)`);
  if (placerSeed !== undefined && target !== 'ice40') throw new ParamError(`--seed ${placerSeed}: needs --target ice40 (it is nextpnr-ice40's placer seed; synth_xilinx does not place)`);
  const c = findCore(core);
  const p = resolveParams(c, params);
  if (target === 'ice40' && p.jmax) throw new ParamError(`--target ice40 with jmax=${p.jmax}: ${LUT_ARRAY_NOT_ON_ICE40}; use --target xilinx or jmax=0`);
  const d = emitCore(c, p);
  const dir = path.join(cacheRoot(), 'synth', `${d.manifest.top}-${d.manifest.contentHash.slice(0, 12)}`);
  const files = writeDesign(dir, d).filter((f) => f.endsWith('.v'));
  if (target === 'xilinx') return synthXilinx(files, d.manifest.top);
  const clk = d.manifest.clocks[0]?.clk ?? 'clk';
  const seed = placerSeed ?? DEFAULT_PLACER_SEED;
  // One directory per seed, so sweeps run side by side do not share nextpnr's files.
  const work = path.join(dir, `ice40-seed${seed}`);
  // A request the synthesized logic depth cannot reach under any placement is refused before
  // place and route (minutes on a full UP5K); one it might reach goes to nextpnr-ice40, whose
  // own static timing of the routed design decides. Either way the deepest stage
  // (lut-levels.ts on the synthesized netlist) says what limits it.
  // The counts come from the one deepest stage, so the text and the bound describe the same path.
  const deepest = (json: string) => {
    const stage = stageDepths(json, 'fit_top')[0];
    const depth = stage?.depth ?? netlistDepth(json, 'fit_top');
    return { depth, text: `its deepest stage being ${depth.luts} LUT levels and ${depth.chains} carry chain(s) (${depth.both} in all on one path, into ${stage?.end ?? 'a port'})` };
  };
  /** The depth, or why it cannot be had (a cell type lut-levels.ts has no timing arcs for). */
  const tryDeepest = (json: string): ReturnType<typeof deepest> | string => {
    try {
      return deepest(json);
    } catch (e) {
      if (e instanceof Error && /no timing arcs known/.test(e.message)) return e.message;
      throw e;
    }
  };
  const beforePnr = (json: string) => {
    if (fmax === undefined) return;
    const found = tryDeepest(json);
    // Without the depth no clock can be ruled out here: nextpnr-ice40's timing decides, and the report says why.
    if (typeof found === 'string') {
      console.error(`synth: --fmax ${fmax}: no check before place and route (${found})`);
      return;
    }
    const { depth, text } = found;
    const bound = ice40FmaxBound(depth);
    if (fmax > bound) throw new ParamError(`--fmax ${fmax}: ${d.manifest.top} cannot meet it on the iCE40 UP5K, refused before place and route: ${text}, at most ${bound.toFixed(1)} MHz by nextpnr-ice40's cell and shortest-wire delays`);
  };
  const r = await synthIce40(files, d.manifest.top, d.manifest.ports, work, { clk, seed, beforePnr, ...(fmax !== undefined ? { freqMHz: fmax } : {}) });
  if (fmax !== undefined && (r.fmaxMHz === undefined || r.fmaxMHz < fmax)) {
    const reached = r.fmaxMHz === undefined ? 'no Fmax was reported' : `it reaches ${r.fmaxMHz.toFixed(1)} MHz`;
    const found = tryDeepest(path.join(work, 'fit_top.json'));
    throw new ParamError(`--fmax ${fmax}: ${d.manifest.top} cannot meet it on the iCE40 UP5K: ${reached} in nextpnr-ice40 (seed ${seed})${typeof found === 'string' ? '' : `, ${found.text}`}`);
  }
  return r;
}

export async function synthCommand(core: string | undefined, o: SynthOptions): Promise<void> {
  const name = core ?? 'ternary';
  const params: Record<string, string> = parseParamArgs(o.param, PARAM_FLAGS);
  for (const k of ['rows', 'cols', 'act', 'format', 'kmax', 'mmax', 'wdepth'] as const) if (o[k] !== undefined) params[k] = o[k]!;
  const r = await synthesize(name, params, o.target, o.fmax, o.seed);
  if (o.json) {
    console.log(JSON.stringify(r, null, 2));
    return;
  }
  console.log(`${r.top} (${r.target}, ${r.seconds.toFixed(1)} s)`);
  console.log(`  LUTs ${r.luts}${r.lutram ? ` (+${r.lutram} as distributed RAM)` : ''}   flip-flops ${r.ffs}   carry ${r.carry}   block RAM ${r.bram}${r.target === 'xilinx' ? ' (18 Kbit units)' : ''}${r.spram ? `   SPRAM ${r.spram}` : ''}   DSP ${r.dsp}`);
  if (r.fmaxMHz !== undefined) console.log(`  Fmax ${r.fmaxMHz.toFixed(1)} MHz (nextpnr-ice40, UP5K, seed ${o.seed ?? DEFAULT_PLACER_SEED})`);
  for (const [k, u] of Object.entries(r.utilization ?? {})) console.log(`  ${k.padEnd(16)} ${String(u.used).padStart(6)} / ${u.total} (${((100 * u.used) / u.total).toFixed(0)} %)`);
}
