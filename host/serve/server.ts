// A server: the batching engine, its metrics and the HTTP app on one listening socket, for a
// model already loaded and a backend already holding its weights (the serve command loads
// them as run does; the tests and `bench serve` bring their own).

import type { FastifyInstance } from 'fastify';
import type { BitLinearBackend } from '../backends/backend.ts';
import type { BitNetModel } from '../model/model.ts';
import type { TextCodec } from '../model/tokenizer.ts';
import type { KvBits } from '../infer/numerics-names.ts';
import { Engine } from './engine.ts';
import { ServeMetrics } from './metrics.ts';
import { buildApp } from './http.ts';

export interface ServerOptions {
  readonly host: string;
  readonly port: number;
  readonly parallel: number;
  readonly queue: number;
  /** Prompt tokens per forward pass. */
  readonly batch: number;
  /** Positions of each slot's KV cache. */
  readonly ctx: number;
  /** The name /v1/models lists. */
  readonly modelId: string;
  readonly apiKey?: string;
  readonly kvBits?: KvBits;
  /** Groups of sequences pipelined across the boards (engine.ts); default one per board. */
  readonly pipelineGroups?: number;
}

/** The socket could not be opened: a user error, named by flag (the CLI prints it in one line). */
export class ServeError extends Error {
  constructor(message: string) {
    super(message);
    // host/cli/errors.ts prints errors of this name in one line, as bad input.
    this.name = 'ServeError';
  }
}

export interface Server {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly engine: Engine;
  /** Stop listening, finish the requests as cancelled, close the backend. */
  close(): Promise<void>;
}

/** One group per board (each board has a group to work on while the others' are elsewhere), at most one per slot. */
export const defaultPipelineGroups = (backend: BitLinearBackend, parallel: number): number => Math.min(parallel, backend.boardNames?.length ?? 1);

/** Serve a loaded model on an opened, loaded backend (tests give their own backend here). */
export async function serveModel(model: BitNetModel, codec: TextCodec | undefined, backend: BitLinearBackend, o: ServerOptions): Promise<Server> {
  const engine = new Engine(model, backend, { parallel: o.parallel, queueLimit: o.queue, ctx: o.ctx, batch: o.batch, kvBits: o.kvBits, groups: o.pipelineGroups ?? defaultPipelineGroups(backend, o.parallel) });
  const metrics = new ServeMetrics(engine, backend);
  const app = buildApp(engine, codec, metrics, { modelId: o.modelId, apiKey: o.apiKey, ctx: o.ctx, vocab: model.config.vocab });
  let url: string;
  try {
    url = await app.listen({ host: o.host, port: o.port });
  } catch (e) {
    engine.close();
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EADDRINUSE') throw new ServeError(`--port ${o.port}: the address ${o.host}:${o.port} is already in use`);
    if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') throw new ServeError(`--host ${o.host}: not an address of this machine (${err.code})`);
    if (err.code === 'EACCES') throw new ServeError(`--port ${o.port}: this user may not listen on it (EACCES)`);
    throw e;
  }
  return {
    url,
    app,
    engine,
    close: async () => {
      // Cancel first: fastify's close waits for the requests in flight, and a stream that is
      // not cancelled would generate to its max_tokens. Cancelled streams end at the next step.
      engine.close();
      await app.close();
      await engine.idle();
    },
  };
}

