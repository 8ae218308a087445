// `bench serve`: the server under 1, 2, 4, 8 and 16 concurrent clients on 127.0.0.1, cpu
// backend, one small made model: aggregate generated tokens/s over the wall time of the
// round, and each client's own tokens/s (its tokens over its request's time, prompt eval
// included), averaged. The board's side of batching is sim/bench/board-projection.ts's
// batchProjection, which the bench command adds.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeModel } from '../model/make-model.ts';
import { loadModel } from '../model/load.ts';
import { bitLinears } from '../model/model.ts';
import { TextCodec } from '../model/tokenizer.ts';
import { CpuBackend } from '../backends/cpu.ts';
import { serveModel } from '../serve/server.ts';
import type { BenchRecord } from '../../sim/bench/sim-bench.ts';

export const SERVE_CLIENTS = [1, 2, 4, 8, 16] as const;

/** One round of concurrent clients: generated tokens, the round's wall time, each client's own tokens/s averaged. */
export interface ClientRound {
  readonly clients: number;
  readonly tokens: number;
  readonly wall: number;
  readonly perStream: number;
}

/**
 * After a warm-up request (unless warmUp is false), a round of C concurrent completion
 * requests (n tokens each, prompt 'bench client i: ', a seed per client and round) for each C
 * of `rounds`; `before` runs right before each round (to read counters), `after` right after it.
 */
export async function clientRounds(url: string, n: number, rounds: readonly number[], hooks: { warmUp?: boolean; before?: () => void; after?: (r: ClientRound) => void } = {}): Promise<ClientRound[]> {
  const one = async (i: number, round: number): Promise<{ tokens: number; ms: number }> => {
    const t0 = performance.now();
    const r = await fetch(`${url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'bench', prompt: `bench client ${i}: `, max_tokens: n, seed: round * 100 + i }) });
    const j = (await r.json()) as { usage?: { completion_tokens: number }; error?: { message: string } };
    if (!j.usage) throw new Error(`bench serve: ${r.status} ${j.error?.message ?? ''}`);
    return { tokens: j.usage.completion_tokens, ms: performance.now() - t0 };
  };
  if (hooks.warmUp !== false) await one(0, 0); // warm-up: the native kernels' first call, the JIT
  const out: ClientRound[] = [];
  for (const C of rounds) {
    hooks.before?.();
    const t0 = performance.now();
    const rs = await Promise.all(Array.from({ length: C }, (_, i) => one(i, C)));
    const wall = (performance.now() - t0) / 1000;
    const r: ClientRound = { clients: C, tokens: rs.reduce((a, x) => a + x.tokens, 0), wall, perStream: rs.reduce((a, x) => a + x.tokens / (x.ms / 1000), 0) / C };
    hooks.after?.(r);
    out.push(r);
  }
  return out;
}

export async function serveBench(opts: { tokens?: number; log?: (s: string) => void } = {}): Promise<BenchRecord[]> {
  const n = opts.tokens ?? 32;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bitnet-bench-serve-'));
  const out: BenchRecord[] = [];
  try {
    makeModel(dir, { seed: 1 });
    const model = loadModel(dir);
    const backend = new CpuBackend();
    await backend.load(bitLinears(model));
    const parallel = Math.max(...SERVE_CLIENTS);
    const ctx = Math.min(model.config.maxPositions, 256);
    const s = await serveModel(model, TextCodec.load(dir), backend, { host: '127.0.0.1', port: 0, parallel, queue: 0, batch: 32, ctx, modelId: 'bench' });
    const cfg = { model: `make-model seed 1 (hidden ${model.config.hidden}, ${model.config.layers} layers, FFN ${model.config.intermediate})`, backend: backend.name, prompt: 'bench client N: ', max_tokens: n, temperature: 0.8, parallel };
    try {
      for (const r of await clientRounds(s.url, n, SERVE_CLIENTS)) {
        const { clients: C, tokens, wall } = r;
        out.push({ metric: 'serve.cpu.aggregate_tokens_per_s', value: tokens / wall, unit: 'tokens/s', config: { ...cfg, clients: C, tokens, wall_s: wall } });
        out.push({ metric: 'serve.cpu.per_stream_tokens_per_s', value: r.perStream, unit: 'tokens/s', config: { ...cfg, clients: C } });
        opts.log?.(`serve: ${C} clients, ${tokens} tokens in ${wall.toFixed(2)} s`);
      }
    } finally {
      await s.close();
      await backend.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
