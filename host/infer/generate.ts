// The generation loop: prompt eval in batches, then one token at a time, with the timings
// llama.cpp reports (load, prompt eval, eval, sampling) and the offload figures.

import type { BitLinearBackend, OffloadStats } from '../backends/backend.ts';
import { Transformer, type Sparsity } from './transformer.ts';
import type { KvBits } from './numerics-names.ts';
import type { SamplerOptions } from './sampler.ts';
import { Sequence, type StoppedBy } from './sequence.ts';
import type { BitNetModel } from '../model/model.ts';

export interface GenerateOptions extends SamplerOptions {
  /** Tokens to generate at most. */
  readonly n: number;
  /** The most positions the KV cache may hold (default: prompt + n, at most the model's context); it grows as they are used. */
  readonly ctx?: number;
  /** Prompt tokens per forward pass (the board runs them as one M-row matmul per projection). */
  readonly batch?: number;
  /** Stop at these ids (the model's eos by default). */
  readonly stop?: readonly number[];
  /** KV cache entry width (kv-quant.ts); 32 = float32. */
  readonly kvBits?: KvBits;
  /** Each new token as it is sampled. */
  readonly onToken?: (id: number) => void;
}

export interface Timings {
  promptMs: number;
  promptTokens: number;
  evalMs: number;
  evalRuns: number;
  sampleMs: number;
  sampleRuns: number;
  /** Time inside the backend's matmuls, prompt and eval together. */
  offloadMs: number;
  /** Backend matmul calls and link requests during prompt eval and eval (not the weight upload). */
  matmulCalls: number;
  linkRequests: number;
  /** Forward passes (prompt batches and eval steps). */
  forwardPasses: number;
}

export interface Generation {
  readonly prompt: readonly number[];
  readonly tokens: number[];
  /** Logits at the final position (after the last generated token was fed, or of the prompt). */
  lastLogits: Float32Array;
  readonly timings: Timings;
  readonly offload: OffloadStats;
  readonly stoppedBy: StoppedBy;
  /** Zero inputs of o_proj and down_proj over every forward pass (a4.8's top-50 % and ReLU² make them). */
  readonly sparsity: Sparsity;
}

export async function generate(model: BitNetModel, backend: BitLinearBackend, prompt: readonly number[], o: GenerateOptions): Promise<Generation> {
  if (prompt.length === 0) throw new RangeError('the prompt has no tokens');
  const ctx = o.ctx ?? Math.min(model.config.maxPositions, prompt.length + o.n);
  if (prompt.length > ctx) throw new RangeError(`the prompt has ${prompt.length} tokens; the context is ${ctx}`);
  const tr = new Transformer(model, backend, ctx, { kvBits: o.kvBits });
  const seq = new Sequence(prompt, tr.cache, { ...o, batch: o.batch ?? 32, stop: o.stop ?? model.config.eos });
  const t: Timings = { promptMs: 0, promptTokens: prompt.length, evalMs: 0, evalRuns: 0, sampleMs: 0, sampleRuns: 0, offloadMs: 0, matmulCalls: 0, linkRequests: 0, forwardPasses: 0 };
  const calls0 = backend.stats.calls;
  const requests0 = backend.stats.requests;
  let logits: Float32Array = new Float32Array(0);
  while (!seq.done) {
    const prompting = seq.inPrompt;
    const t0 = performance.now();
    logits = await tr.forward(seq.input());
    t.forwardPasses++;
    if (prompting) t.promptMs += performance.now() - t0;
    else {
      t.evalMs += performance.now() - t0;
      t.evalRuns++;
    }
    const id = seq.advance(logits);
    if (id !== undefined) o.onToken?.(id);
  }
  t.sampleMs = seq.sampleMs;
  t.sampleRuns = seq.sampleRuns;
  t.offloadMs = tr.time.offload;
  t.matmulCalls = backend.stats.calls - calls0;
  t.linkRequests = backend.stats.requests - requests0;
  return { prompt, tokens: seq.tokens, lastLogits: logits, timings: t, offload: { ...backend.stats }, stoppedBy: seq.stoppedBy!, sparsity: { ...tr.sparsity } };
}
