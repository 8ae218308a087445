// `bitnet-fpga serve`: load a model and a backend as `run` does, then answer OpenAI's HTTP API
// (host/serve/) with continuous batching over --parallel slots, on 127.0.0.1 unless told otherwise.

import * as os from 'node:os';
import type { FastifyInstance } from 'fastify';
import { openBackend, type BackendSpec } from '../../backends/select.ts';
import type { BitLinearBackend } from '../../backends/backend.ts';
import type { BitNetModel } from '../../model/model.ts';
import type { TextCodec } from '../../model/tokenizer.ts';
import { DEFAULT_CTX } from '../../infer/transformer.ts';
import { KvCache } from '../../infer/kv-cache.ts';
import type { ActScheme, KvBits } from '../../infer/numerics-names.ts';
import { Engine } from '../../serve/engine.ts';
import { ServeMetrics } from '../../serve/metrics.ts';
import { buildApp } from '../../serve/http.ts';
import { UsageError } from '../errors.ts';
import { prepareInference, uploadWeights } from './run.ts';

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
  progress?: boolean;
}

export interface Server {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly engine: Engine;
  /** Stop listening, finish the requests as cancelled, close the backend. */
  close(): Promise<void>;
}

/** Serve a loaded model on an opened, loaded backend (tests give their own backend here). */
export async function serveModel(model: BitNetModel, codec: TextCodec | undefined, backend: BitLinearBackend, o: Pick<ServeOptions, 'host' | 'port' | 'parallel' | 'queue' | 'batch' | 'apiKey' | 'kvBits'> & { ctx: number; modelId: string }): Promise<Server> {
  const engine = new Engine(model, backend, { parallel: o.parallel, queueLimit: o.queue, ctx: o.ctx, batch: o.batch, kvBits: o.kvBits });
  const metrics = new ServeMetrics(engine, backend);
  const app = buildApp(engine, codec, metrics, { modelId: o.modelId, apiKey: o.apiKey, ctx: o.ctx, vocab: model.config.vocab });
  let url: string;
  try {
    url = await app.listen({ host: o.host, port: o.port });
  } catch (e) {
    engine.close();
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EADDRINUSE') throw new UsageError(`--port ${o.port}: the address ${o.host}:${o.port} is already in use`);
    if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') throw new UsageError(`--host ${o.host}: not an address of this machine (${err.code})`);
    if (err.code === 'EACCES') throw new UsageError(`--port ${o.port}: this user may not listen on it (EACCES)`);
    throw e;
  }
  return {
    url,
    app,
    engine,
    close: async () => {
      await app.close();
      await engine.idle();
    },
  };
}

/** Everything `serve` does but wait for a signal: check, load, upload, listen. */
export async function startServer(o: ServeOptions, out: { log?: (s: string) => void } = {}): Promise<Server> {
  const { model, codec, prepared } = await prepareInference(o, out);
  const max = model.config.maxPositions;
  const ctx = o.ctxSize ?? Math.min(DEFAULT_CTX, max);
  if (ctx > max) throw new UsageError(`-c/--ctx-size ${ctx}: the model's context is ${max}`);
  // Every slot's KV cache may fill: refuse what this machine cannot hold.
  const kvBytes = o.parallel * KvCache.bytesFull(model.config.layers, model.config.kvHeads * model.config.headDim, ctx);
  if (kvBytes > os.totalmem() / 2) throw new UsageError(`--parallel ${o.parallel} slots of ${ctx} tokens need ${(kvBytes / 2 ** 30).toFixed(1)} GiB of KV cache, more than half this machine's memory; pass a smaller --parallel or -c/--ctx-size`);
  const backend = await openBackend(prepared, { force: o.force, reload: o.reload, log: out.log, threads: o.threads });
  try {
    await uploadWeights(backend, model, o.progress);
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
  log(`serving ${o.model} on ${server.url} (backend ${o.backendText ?? o.backend.kind}, ${o.parallel} slots, queue ${o.queue}${o.apiKey ? ', API key required' : ''})`);
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
