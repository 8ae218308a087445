// `bench serve`, the pipeline part: the server under 1..16 concurrent clients on stand-in
// boards (host/backends/timed.ts) whose calls take the time the cycle model gives a board
// (common/projection.ts runSeconds + linkSeconds), measured side by side in one run:
//   - one board holding every layer (one group: today's single batch);
//   - two boards, a layer range each, one group (a pass goes through board 0, then board 1);
//   - two boards, two groups (pipeline.ts: the boards work on different groups at once).
// The model is a make-model one of 2 layers at hidden 64 (one layer per board); each of its
// matmuls takes the time of the same matmul (q/k/v and gate/up fused, as sent) of 15 of
// BitNet-2B-4T's 30 layers on the board, so a token's board time is 2B-4T's. And the
// stand-ins run TIME_SCALE times slower than the board, the tokens/s reported are the measured
// ones times TIME_SCALE: a stand-in's time is waited out on timers, about 1 ms late on this
// loaded 2-core machine, so the calls must be long against that (7 to 38 ms at M = 1; 120
// calls of 0.1 to 0.6 ms took 2.2x their modelled time, 8 of 1.8 to 9.5 ms 1.6x). The host's
// own work is the small model's, far less than 2B-4T's (its attention, norms and head), and
// with the slow-down it counts TIME_SCALE times less again: these figures are the boards'
// schedule, not the host's.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CoreShape } from '../../common/core-layout.ts';
import { BITNET_2B_LAYERS, BITNET_2B_MATMULS, BITNET_2B_PROJECTIONS } from '../../common/perf.ts';
import { linkSeconds, runSeconds, textTable, type Board } from '../../common/projection.ts';
import { makeModel } from '../model/make-model.ts';
import { loadModel } from '../model/load.ts';
import { bitLinears, layerOfBitLinears, offloadLayout, STAGES, type BitNetModel } from '../model/model.ts';
import type { PackedTernary } from '../model/ternary.ts';
import { TextCodec } from '../model/tokenizer.ts';
import type { BitLinearBackend } from '../backends/backend.ts';
import { LayerSplitBackend } from '../backends/layer-split.ts';
import { TimedBackend } from '../backends/timed.ts';
import { selectBackend } from '../backends/select.ts';
import { serveModel, type Server } from '../serve/server.ts';
import { clientRounds, SERVE_CLIENTS } from './serve-bench.ts';
import type { BenchRecord } from '../../sim/bench/sim-bench.ts';

/** The stand-ins' slow-down against the modelled board. */
export const TIME_SCALE = 4;

/** Seconds a board takes for each of `model`'s weights at M rows: the 2B-4T matmul in its place (the board's runs of its projections, the link's one matmul), times 2B-4T's layers per layer of `model`. */
function standInSeconds(model: BitNetModel, b: Board, shape: CoreShape): (w: PackedTernary, M: number) => number {
  const per = (TIME_SCALE * BITNET_2B_LAYERS) / model.layers.length;
  const proj = new Map(BITNET_2B_PROJECTIONS.map((p) => [p.name, p]));
  const cost = new Map<PackedTernary, { runs: { K: number; N: number }[]; link: { K: number; N: number } }>();
  for (const stages of offloadLayout(model)) {
    stages.forEach((groups, st) => {
      for (const g of groups) {
        const runs = g.parts.map((p) => proj.get(p.proj)!);
        // A fused group is the stage's one matmul on the link; a lone projection is its own.
        const link = g.parts.length === STAGES[st]!.length && g.parts.length > 1 ? BITNET_2B_MATMULS[st]! : runs[0]!;
        cost.set(g.weight, { runs, link });
      }
    });
  }
  return (w, M) => {
    const c = cost.get(w);
    if (!c) throw new Error(`bench serve: weight ${w.name} is not in the model's layout`);
    return per * (c.runs.reduce((a, r) => a + runSeconds(b, shape, M, r.K, r.N).board, 0) + linkSeconds(b, shape, M, c.link.K, c.link.N));
  };
}

export async function pipelineBench(board: Board, shape: CoreShape, opts: { tokens?: number; log?: (s: string) => void } = {}): Promise<BenchRecord[]> {
  const n = opts.tokens ?? 16;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bitnet-bench-pipeline-'));
  const out: BenchRecord[] = [];
  try {
    makeModel(dir, { seed: 1, layers: 2 });
    const model = loadModel(dir);
    const codec = TextCodec.load(dir);
    const seconds = standInSeconds(model, board, shape);
    const standIn = (i: number): TimedBackend => new TimedBackend(`${board.name} stand-in ${i}`, shape, seconds);
    const runs: { name: string; boards: number; groups: number; open: () => Promise<BitLinearBackend> }[] = [
      { name: '1 board', boards: 1, groups: 1, open: async () => standIn(0) },
      { name: '2 boards, 1 group', boards: 2, groups: 1, open: async () => new LayerSplitBackend([standIn(0), standIn(1)]) },
      { name: '2 boards, 2 groups', boards: 2, groups: 2, open: async () => new LayerSplitBackend([standIn(0), standIn(1)]) },
    ];
    const parallel = Math.max(...SERVE_CLIENTS);
    const ctx = Math.min(model.config.maxPositions, 256);
    // Every schedule's server is up at once, and each client count runs on each in turn, so
    // the machine's load (shared, it moves) falls on all three alike.
    const up: { r: (typeof runs)[number]; backend: BitLinearBackend; s: Server }[] = [];
    try {
      for (const r of runs) {
        const backend = await r.open();
        await backend.load(bitLinears(model), { layerOf: layerOfBitLinears(model) });
        up.push({ r, backend, s: await serveModel(model, codec, backend, { host: '127.0.0.1', port: 0, parallel, queue: 0, batch: 32, ctx, modelId: 'bench', pipelineGroups: r.groups }) });
        await clientRounds(up.at(-1)!.s.url, 1, []); // warm-up
      }
      for (const C of SERVE_CLIENTS) {
        for (const { r, s } of up) {
          const cfg = { model: `make-model seed 1 (hidden ${model.config.hidden}, ${model.config.layers} layers), each layer's matmuls timed as 15 BitNet-2B-4T layers' (x${TIME_SCALE} slow, tokens/s x${TIME_SCALE})`, board: board.name, schedule: r.name, boards: r.boards, pipeline_groups: r.groups, prompt: 'bench client N: ', max_tokens: n, temperature: 0.8, parallel };
          const sched = s.engine.schedule;
          let busy0: number[] = [];
          await clientRounds(s.url, n, [C], {
            warmUp: false,
            before: () => (busy0 = [...sched.busyMs]),
            after: ({ clients, tokens, wall, perStream }) => {
              const busy = sched.busyMs.map((ms, b) => (ms - busy0[b]!) / 1000 / wall);
              out.push({ metric: 'serve.pipeline.aggregate_tokens_per_s', value: (TIME_SCALE * tokens) / wall, unit: 'tokens/s', config: { ...cfg, clients, tokens, wall_s: wall, time_scale: TIME_SCALE, per_stream_tokens_per_s: TIME_SCALE * perStream, board_busy: busy.map((x) => x.toFixed(2)).join(' ') } });
              opts.log?.(`serve pipeline, ${r.name}: ${clients} clients, ${tokens} tokens in ${wall.toFixed(2)} s`);
            },
          });
        }
      }
    } finally {
      for (const { s, backend } of up) {
        await s.close();
        await backend.close();
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

/**
 * The schedule on two simulated boards (`-dev sim,sim`: the board SoC under Verilator, a layer
 * each), one group against two: tokens/s and each board's busy fraction (a call in flight).
 * Both simulations run on this process's one thread, so their calls overlap in time but not
 * in work: this shows the schedule, not a speed (the stand-ins above model that).
 */
export async function simPipelineBench(opts: { clients?: number; tokens?: number; log?: (s: string) => void } = {}): Promise<BenchRecord[]> {
  const C = opts.clients ?? 2;
  const n = opts.tokens ?? 4;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bitnet-bench-pipeline-sim-'));
  const out: BenchRecord[] = [];
  try {
    makeModel(dir, { seed: 1 });
    const model = loadModel(dir);
    const codec = TextCodec.load(dir);
    for (const groups of [1, 2]) {
      const backend = await selectBackend('sim,sim', { log: () => {} });
      try {
        await backend.load(bitLinears(model), { layerOf: layerOfBitLinears(model) });
        const s = await serveModel(model, codec, backend, { host: '127.0.0.1', port: 0, parallel: C, queue: 0, batch: 32, ctx: Math.min(model.config.maxPositions, 256), modelId: 'bench', pipelineGroups: groups });
        try {
          const sched = s.engine.schedule;
          let busy0: number[] = [];
          await clientRounds(s.url, n, [C], {
            warmUp: false,
            before: () => (busy0 = [...sched.busyMs]),
            after: ({ tokens, wall }) => {
              const busy = sched.busyMs.map((ms, b) => (ms - busy0[b]!) / 1000 / wall);
              out.push({ metric: 'serve.pipeline.sim_tokens_per_s', value: tokens / wall, unit: 'tokens/s', config: { model: `make-model seed 1 (hidden ${model.config.hidden}, ${model.config.layers} layers)`, backend: backend.name, pipeline_groups: groups, clients: C, max_tokens: n, tokens, wall_s: wall, board_busy: busy.map((x) => x.toFixed(2)).join(' ') } });
              opts.log?.(`serve pipeline on sim,sim, ${groups} group(s): ${tokens} tokens in ${wall.toFixed(1)} s`);
            },
          });
        } finally {
          await s.close();
        }
      } finally {
        await backend.close();
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

/** The pipeline records as a table: aggregate tokens/s per schedule and client count, each board's busy fraction. */
export function pipelineTable(records: readonly BenchRecord[]): string[] {
  const rows = records.filter((r) => r.metric === 'serve.pipeline.aggregate_tokens_per_s');
  if (!rows.length) return [];
  const clients = [...new Set(rows.map((r) => r.config.clients as number))];
  const schedules = [...new Set(rows.map((r) => String(r.config.schedule)))];
  const cell = (sch: string, C: number, f: (r: BenchRecord) => string): string => {
    const r = rows.find((x) => x.config.schedule === sch && x.config.clients === C);
    return r ? f(r) : '';
  };
  const head = ['clients', ...schedules.map((s) => `${s}: tok/s (busy)`)];
  const body = clients.map((C) => [String(C), ...schedules.map((s) => cell(s, C, (r) => `${r.value.toFixed(1)} (${String(r.config.board_busy)})`))]);
  const sim = records.filter((r) => r.metric === 'serve.pipeline.sim_tokens_per_s');
  const simLines = sim.length ? ['', `serve on sim,sim (${String(sim[0]!.config.clients)} clients, ${String(sim[0]!.config.max_tokens)} tokens each; both simulations on one thread: the schedule, not a speed):`, ...textTable(['pipeline groups', 'tok/s', 'board busy'], sim.map((r) => [String(r.config.pipeline_groups), r.value.toFixed(2), String(r.config.board_busy)]))] : [];
  return ['', `serve on stand-in boards, ${String(rows[0]!.config.board)}, each layer's matmuls timed as 15 of BitNet-2B-4T's on it (measured, in board time; busy: each board's fraction of the wall time):`, ...textTable(head, body), ...simLines];
}
