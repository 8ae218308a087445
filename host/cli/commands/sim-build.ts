// `bitnet-fpga sim-build`: build a Verilated model into the cache (CI can pre-build) and
// show the ports a testbench will see, with widths and signedness.

import { buildModel, manifestSource, type ModelSource } from '../../../sim/bridge/build.ts';
import { ParamError } from '../../../generator/cores/registry.ts';
import { PARAM_FLAGS, shown } from '../flags.ts';

export async function simBuildCommand(files: string[], o: { top?: string; manifest?: string; param: string[]; include: string[]; waves: string; json?: boolean }): Promise<void> {
  if (o.waves !== 'vcd' && o.waves !== 'fst') throw new ParamError(`--waves ${o.waves}: expected vcd or fst`);
  const params: Record<string, string> = {};
  for (const p of o.param) {
    const m = /^(\w+)=(.+)$/.exec(p);
    if (!m) throw new ParamError(`${PARAM_FLAGS} ${shown(p)}: expected NAME=VALUE, e.g. -G WIDTH=8`);
    params[m[1]!] = m[2]!;
  }
  let src: ModelSource;
  if (o.manifest) {
    if (files.length) throw new ParamError('sim-build: give either --manifest or Verilog files, not both');
    src = manifestSource(o.manifest, { params, includeDirs: o.include, waves: o.waves });
  } else {
    if (!files.length) throw new ParamError('sim-build: name Verilog files (with --top) or a --manifest');
    if (!o.top) throw new ParamError('sim-build: --top <module> is required with Verilog files');
    src = { top: o.top, files, params, includeDirs: o.include, waves: o.waves };
  }
  const b = await buildModel(src);
  if (o.json) {
    console.log(JSON.stringify({ top: b.top, library: b.library, key: b.key, cached: !b.built, ports: b.ports }, null, 2));
    return;
  }
  console.log(`${b.top}: ${b.built ? `built in ${b.buildSeconds.toFixed(1)} s` : 'loaded from the cache'}: ${b.library}`);
  const w = Math.max(...b.ports.map((p) => p.name.length));
  for (const p of b.ports) console.log(`  ${p.direction === 'input' ? 'in ' : 'out'}  ${p.name.padEnd(w)}  ${p.signed ? 'signed ' : ''}[${p.width}]`);
}
