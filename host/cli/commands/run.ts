// `bitnet-fpga run`: load a model, pick a BitLinear backend, generate, print timings.

import * as os from 'node:os';
import type { BitNetConfig } from '../../model/config.ts';
import { TextCodec, TextStream } from '../../model/tokenizer.ts';
import { generate, type Generation } from '../../infer/generate.ts';
import { timingReport } from '../../infer/report.ts';
import { UsageError } from '../errors.ts';
import { shown } from '../flags.ts';
import type { KvBits } from '../../infer/numerics-names.ts';
import { openSession, type SessionOptions } from './session.ts';

export { withNumerics } from './session.ts';

/** `run`'s options as the option table in main.ts parsed and bounded them. */
export interface RunOptions extends SessionOptions {
  prompt?: string;
  tokens?: readonly number[];
  n: number;
  temp: number;
  topK: number;
  topP: number;
  seed?: number;
  batch: number;
  ctxSize?: number;
  chat?: boolean;
  json?: boolean;
  kvBits?: KvBits;
}

export interface RunResult {
  generation: Generation;
  loadMs: number;
  backend: string;
  seed: number;
  /** Digest of every integer BitLinear result, in call order (equal across backends). */
  resultsDigest: string;
}

/**
 * Everything `run` does except printing; the demo and the tests call it. What can be checked
 * without the model is checked first (the flags' values were checked by the option table), then
 * the backend spec against its board manifest and whether its serial port or XDMA device files
 * exist (session.ts), then what needs the model — all before the
 * backend opens, so a bad argument never costs a model load or a weight upload.
 */
export async function runModel(o: RunOptions, out: { text?: (s: string) => void; log?: (s: string) => void } = {}): Promise<RunResult> {
  if (o.tokens !== undefined && o.prompt !== undefined) throw new UsageError('pass either -p/--prompt or --tokens, not both');
  if (o.tokens === undefined && o.prompt === undefined) throw new UsageError('pass a prompt (-p "…") or token ids (--tokens 1,17,42)');
  if (o.chat && o.tokens !== undefined) throw new UsageError('--chat wraps a text prompt (-p) in the chat format; it does not apply to --tokens');
  let prompt: number[] = [];
  let ctx = 0;
  const s = await openSession(o, out, (model, codec, modelPath) => {
    const vocab = model.config.vocab;
    if (o.tokens !== undefined) {
      prompt = [...o.tokens];
      for (const t of prompt) if (t >= vocab) throw new UsageError(`--tokens: id ${t} is outside the vocabulary (0..${vocab - 1})`);
    } else {
      if (!codec) throw new UsageError(`${o.model}: no tokenizer (looked for ${TextCodec.expectedPath(modelPath)}${modelPath.endsWith('.gguf') ? ' and a vocabulary in the GGUF metadata' : ''}); pass token ids with --tokens`);
      prompt = codec.encode(o.chat ? codec.chat(o.prompt!) : o.prompt!);
      if (prompt.length === 0) throw new UsageError(`-p/--prompt ${shown(o.prompt!)}: the tokenizer makes no tokens of it; give some text`);
      // The tokenizer and the checkpoint are separate files and may disagree.
      for (const t of prompt) if (t >= vocab) throw new UsageError(`-p/--prompt: the tokenizer gave id ${t}, outside the model's vocabulary (0..${vocab - 1}); the tokenizer does not belong to this model`);
    }
    if (prompt.length > model.config.maxPositions) throw new UsageError(`the prompt has ${prompt.length} tokens; the model's context is ${model.config.maxPositions}`);
    ctx = o.ctxSize ?? Math.min(model.config.maxPositions, prompt.length + o.n);
    if (ctx > model.config.maxPositions) throw new UsageError(`-c/--ctx-size ${ctx}: the model's context is ${model.config.maxPositions}`);
    if (prompt.length > ctx) throw new UsageError(`the prompt has ${prompt.length} tokens; -c/--ctx-size is ${ctx}`);
    checkKvMemory(model.config, ctx, '-c/--ctx-size or -n');
  });
  const { model, codec, backend } = s;
  const seed = o.seed ?? (Math.random() * 2 ** 32) >>> 0;
  try {
    const stream = codec && out.text ? new TextStream(codec, out.text) : undefined;
    const generation = await generate(model, backend, prompt, {
      n: o.n,
      ctx,
      temperature: o.temp,
      topK: o.topK,
      topP: o.topP,
      seed,
      batch: o.batch,
      kvBits: o.kvBits,
      onToken: (id) => (stream ? stream.push(id) : out.text?.(`${id} `)),
    });
    return { generation, loadMs: s.loadMs, backend: backend.name, seed, resultsDigest: backend.digest() };
  } finally {
    await backend.close();
  }
}

/** The KV cache is float32 keys and values for every layer and position: refuse what this machine cannot hold. */
export function checkKvMemory(c: BitNetConfig, ctx: number, smaller: string): void {
  const kvBytes = 8 * c.layers * ctx * c.kvHeads * c.headDim;
  if (kvBytes > os.totalmem() / 2) throw new UsageError(`a context of ${ctx} tokens needs a ${(kvBytes / 2 ** 30).toFixed(1)} GiB KV cache, more than half this machine's memory; pass a smaller ${smaller}`);
}

export async function runCommand(o: RunOptions): Promise<void> {
  const log = (s: string): void => void process.stderr.write(`${s}\n`);
  if (o.json) {
    const r = await runModel({ ...o, progress: false }, { log });
    const g = r.generation;
    console.log(JSON.stringify({ model: o.model, backend: r.backend, seed: r.seed, prompt_ids: g.prompt, generated_ids: g.tokens, results_digest: r.resultsDigest, stopped_by: g.stoppedBy, act_scheme: o.actScheme ?? null, sparsity: sparsityJson(g), last_logits: Array.from(g.lastLogits), timings: { load_ms: r.loadMs, ...g.timings }, offload: g.offload, peak_rss_mb: process.resourceUsage().maxRSS / 1024 }));
    return;
  }
  const r = await runModel({ ...o, progress: process.stderr.isTTY }, { text: (s) => void process.stdout.write(s), log });
  process.stdout.write('\n');
  log(`\nseed = ${r.seed}, stopped by ${r.generation.stoppedBy}`);
  for (const line of timingReport(r.generation, r.loadMs, r.backend)) log(line);
}

/** Per token, how many inputs of o_proj and down_proj (all layers) were zero. */
function sparsityJson(g: Generation): Record<string, number> {
  const s = g.sparsity;
  const t = Math.max(1, s.tokens);
  return { tokens: s.tokens, o_proj_zero_per_token: s.oZeros / t, o_proj_inputs_per_token: s.oInputs / t, down_proj_zero_per_token: s.downZeros / t, down_proj_inputs_per_token: s.downInputs / t };
}
