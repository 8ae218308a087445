// `bitnet-fpga serve`: load a model and a backend as `run` does, then answer OpenAI's HTTP API
// (host/serve/) with continuous batching over --parallel slots, on 127.0.0.1 unless told otherwise.

import * as os from 'node:os';
import type { BackendSpec } from '../../backends/select.ts';
import { DEFAULT_CTX } from '../../infer/transformer.ts';
import { KvCache } from '../../infer/kv-cache.ts';
import type { ActScheme, KvBits } from '../../infer/numerics-names.ts';
import { serveModel, type Server } from '../../serve/server.ts';
import { UsageError } from '../errors.ts';
import { openSession } from './session.ts';

export { serveModel, type Server };

/** `serve`'s options as the option table in main.ts parsed and bounded them. */
export interface ServeOptions {
  model: string;
  backend: BackendSpec;
  backendText?: string;
  backendFlag?: string;
  host: string;
  port: number;
  parallel: number;
  queue: number;
  /** Positions of each slot's KV cache (default: the model's, at most DEFAULT_CTX). */
  ctxSize?: number;
  batch: number;
  apiKey?: string;
  threads?: number;
  boardManifest?: string;
  force?: boolean;
  reload?: boolean;
  actScheme?: ActScheme;
  kvBits?: KvBits;
  /** Groups of sequences pipelined across the boards (default one per board). */
  pipelineGroups?: number;
  progress?: boolean;
}

/** Everything `serve` does but wait for a signal: check, load, upload, listen. */
export async function startServer(o: ServeOptions, out: { log?: (s: string) => void } = {}): Promise<Server> {
  // A group holds at least one sequence: more groups than slots would never all run.
  if (o.pipelineGroups !== undefined && o.pipelineGroups > o.parallel) throw new UsageError(`--pipeline-groups ${o.pipelineGroups}: more groups than the --parallel ${o.parallel} slots; a group needs a sequence of its own`);
  let ctx = 0;
  const { model, codec, backend } = await openSession(o, out, (m) => {
    const max = m.config.maxPositions;
    ctx = o.ctxSize ?? Math.min(DEFAULT_CTX, max);
    if (ctx > max) throw new UsageError(`-c/--ctx-size ${ctx}: the model's context is ${max}`);
    // Every slot's KV cache may fill: refuse what this machine cannot hold.
    const kvBytes = o.parallel * KvCache.bytesFull(m.config.layers, m.config.kvHeads * m.config.headDim, ctx);
    if (kvBytes > os.totalmem() / 2) throw new UsageError(`--parallel ${o.parallel} slots of ${ctx} tokens need ${(kvBytes / 2 ** 30).toFixed(1)} GiB of KV cache, more than half this machine's memory; pass a smaller --parallel or -c/--ctx-size`);
  });
  try {
    const server = await serveModel(model, codec, backend, { ...o, ctx, modelId: o.model });
    return {
      ...server,
      close: async () => {
        await server.close();
        await backend.close();
      },
    };
  } catch (e) {
    await backend.close();
    throw e;
  }
}

export async function serveCommand(o: ServeOptions): Promise<void> {
  const log = (s: string): void => void process.stderr.write(`${s}\n`);
  const server = await startServer({ ...o, progress: process.stderr.isTTY }, { log });
  log(`serving ${o.model} on ${server.url} (backend ${o.backendText ?? o.backend.kind}, ${o.parallel} slots, queue ${o.queue}, ${server.engine.schedule.groups} pipeline group${server.engine.schedule.groups === 1 ? '' : 's'}${o.apiKey ? ', API key required' : ''})`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  log('shutting down');
  await server.close();
}
