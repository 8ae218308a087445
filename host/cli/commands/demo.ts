// `bitnet-fpga demo`: the main job end to end on the simulated board. Regenerate rtl/,
// build the board SoC under Verilator and put it behind a pseudo-terminal (board-sim), make
// a small BitNet model, generate text through the uart backend over that pty (the host's
// real serial code), then run the same generation on the cpu backend and check that every
// integer BitLinear result and every token agree. `demo --hdl` runs the HDL checks instead.

import * as path from 'node:path';
import { doctorReport } from '../../../sim/toolchain/tools.ts';
import { runModel, type RunOptions } from './run.ts';
import { timingReport } from '../../infer/report.ts';
import { CheckFailed } from '../errors.ts';
import { projectRoot, rtlRoot } from '../paths.ts';
import { readBoardManifest, parseBackendSpec } from '../../backends/select.ts';
import { resolveModel } from '../../model/hub.ts';
import { loadModel } from '../../model/load.ts';
import { bitLinears } from '../../model/model.ts';
import { weightTiles } from '../../backends/plan.ts';
import { shapeFromIdentity } from '../../../common/core-layout.ts';

/** The model the demo runs unless -m says otherwise: tiny-fortunes, kept in the project so a fresh clone has it. */
export const DEMO_MODEL = (): string => path.join(projectRoot(), 'host', 'models', 'tiny-fortunes');

/** Weight tiles a model's BitLinears take on a board with these parameters. */
function modelTiles(model: string, p: Record<string, number>): number {
  const s = shapeFromIdentity({ rows: p.rows!, cols: p.cols!, act: p.act!, format: p.format!, kmax: p.kmax!, mmax: p.mmax!, wdepth: p.wdepth! });
  return bitLinears(loadModel(model)).reduce((a, w) => a + weightTiles(s, w), 0);
}

export interface DemoOptions {
  hdl?: boolean;
  model?: string;
  prompt: string;
  n: number;
  seed: number;
}

export async function demoCommand(o: DemoOptions): Promise<void> {
  if (o.hdl) {
    const { hdlDemo } = await import('./demo-hdl.ts');
    return hdlDemo();
  }
  const say = (s: string): void => console.log(s);
  // -m is looked up before the board is built (minutes), not after.
  const given = o.model === undefined ? undefined : await resolveModel(o.model);
  const doc = doctorReport();
  say(doc.lines.join('\n'));
  if (!doc.ok) throw new CheckFailed('the toolchain is incomplete (see above); run `npm run setup`');
  say('\n== 1. generate the RTL and compare it with the checked-in rtl/ (which is not rewritten)');
  const { compareCheckedIn } = await import('../../../generator/cores/checked-in.ts');
  const { CHECKED_IN } = await import('../../../generator/cores/registry.ts');
  const stale = compareCheckedIn(rtlRoot());
  say(`   ${CHECKED_IN.map((e) => e.dir).join(', ')}: ${stale.length ? 'generated' : 'generated, identical to rtl/'}`);
  for (const d of stale) say(`   rtl/${d.dir} differs from the generator (${d.files.join(', ')}); refresh it with: npx bitnet-fpga generate --all`);

  // The model first: the board's weight memory is sized so that all of its weights stay resident.
  const model = given ?? DEMO_MODEL();
  const tiles = modelTiles(model, readBoardManifest().params);
  say('\n== 2. build the board SoC under Verilator and start board-sim on a pseudo-terminal');
  const base = readBoardManifest().params;
  // rtl/board's SoC, with a weight memory (a power of two) that holds every weight and the tag
  // tile, 64 tiles per WRITE_WEIGHTS frame, and a 4,096-cycle frame timeout: board-sim runs a
  // quarter of `idle` quiet cycles after each frame, so rtl/board's 65,536 (right for a real
  // line) made the upload of 25,344 tiles 55 s; these make it about 2 s.
  const params: Record<string, number> = { ...base, wdepth: Math.max(2048, 2 ** Math.ceil(Math.log2(tiles + 1))), stage: 64, idle: 4096 };
  say(`   the model takes ${tiles} weight tiles of ${base.rows}x${base.cols}: wdepth=${params.wdepth} keeps them resident (sent once, not every token); stage=${params.stage} tiles per frame, idle=${params.idle} cycles`);
  const { startBoardPty } = await import('../../../sim/board-pty.ts');
  const board = await startBoardPty(params, { build: { log: (l) => say(`   ${l}`) } });
  try {
    say(`   board-sim: board ${params.rows}x${params.cols}, int${params.act} activations, ${params.wdepth} weight tiles; identity ${board.identity.slice(0, 16)}…`);
    say(`   listening on ${board.path} (manifest ${board.manifestPath})`);

    say('\n== 3. the model');
    say(`   ${model}${given ? '' : ' (tiny-fortunes: a small BitNet b1.58 trained on Debian\'s fortunes; see its README.md)'}`);

    const common: Omit<RunOptions, 'backend'> = { model, prompt: o.prompt, n: o.n, temp: 0.6, topK: 40, topP: 0.95, seed: o.seed, batch: 32, boardManifest: board.manifestPath, progress: false };
    say(`\n== 4. generate through the uart backend (uart:${board.path}), prompt ${JSON.stringify(o.prompt)}, seed ${o.seed}`);
    // The text starts on its own indented line once the upload's progress lines are done.
    let first = true;
    const text = (t: string): void => {
      process.stdout.write(`${first ? `   ${o.prompt}` : ''}${visible(t).replace(/\n/g, '\n   ')}`);
      first = false;
    };
    const uart = await runModel({ ...common, backend: parseBackendSpec(`uart:${board.path}`) }, { text, log: (l) => say(`   ${l}`) });
    say('');
    for (const line of timingReport(uart.generation, uart.loadMs, uart.backend)) say(`   ${line}`);

    say('\n== 5. the same generation on the cpu backend');
    const cpu = await runModel({ ...common, backend: parseBackendSpec('cpu') });
    for (const line of timingReport(cpu.generation, cpu.loadMs, cpu.backend).slice(0, 5)) say(`   ${line}`);
    const sameTokens = cpu.generation.tokens.join(',') === uart.generation.tokens.join(',');
    const sameInts = cpu.resultsDigest === uart.resultsDigest;
    const sameLogits = cpu.generation.lastLogits.every((v, i) => v === uart.generation.lastLogits[i]);
    say(`\n   tokens (${uart.generation.tokens.length}): ${sameTokens ? 'identical' : 'DIFFERENT'} on uart and cpu`);
    say(`   integer BitLinear results (${uart.generation.offload.calls} calls): ${sameInts ? 'identical' : 'DIFFERENT'} (digest ${uart.resultsDigest.slice(0, 16)}…)`);
    say(`   final logits: ${sameLogits ? 'bit-identical' : 'DIFFERENT'}`);
    if (!sameTokens || !sameInts || !sameLogits) throw new CheckFailed('the uart backend and the cpu backend disagree');
    say('\ndemo: OK — text generated with every BitLinear on the simulated board, equal to the CPU reference token for token');
  } finally {
    await board.close();
  }
}

/** Random models emit control bytes; show them as escapes rather than move the cursor. */
function visible(s: string): string {
  return s.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
