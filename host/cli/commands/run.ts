// `bitnet-fpga run`: load a model, pick a BitLinear backend, generate, print timings.

import * as os from 'node:os';
import { SingleBar, Presets } from 'cli-progress';
import { loadModel } from '../../model/load.ts';
import type { BitNetConfig } from '../../model/config.ts';
import { resolveModel } from '../../model/hub.ts';
import { bitLinears, layerOfBitLinears } from '../../model/model.ts';
import { TextCodec, TextStream } from '../../model/tokenizer.ts';
import { prepareBackend, openBackend, BackendSpecError, type BackendSpec, type PreparedBackend } from '../../backends/select.ts';
import { generate, type Generation } from '../../infer/generate.ts';
import { timingReport } from '../../infer/report.ts';
import { RecordingBackend } from '../../backends/recorder.ts';
import { UsageError } from '../errors.ts';
import { shown } from '../flags.ts';
import { quantizeHead } from '../../infer/head.ts';
import { Q8_BLOCK } from '../../model/float-matrix.ts';
import { loadNative } from '../../native/native.ts';
import { schemeBits } from '../../infer/act-scheme.ts';
import type { ActScheme, KvBits } from '../../infer/numerics-names.ts';
import type { BitNetModel } from '../../model/model.ts';
import type { BitLinearBackend } from '../../backends/backend.ts';

/** `run`'s options as the option table in main.ts parsed and bounded them. */
export interface RunOptions {
  model: string;
  backend: BackendSpec;
  /** The spec as given, for messages. */
  backendText?: string;
  /** What the spec came from, for messages: the flag's names, or $BITNET_ARG_BACKEND. */
  backendFlag?: string;
  prompt?: string;
  tokens?: readonly number[];
  n: number;
  temp: number;
  topK: number;
  topP: number;
  seed?: number;
  batch: number;
  threads?: number;
  ctxSize?: number;
  headBits?: 16 | 8;
  chat?: boolean;
  json?: boolean;
  boardManifest?: string;
  force?: boolean;
  reload?: boolean;
  progress?: boolean;
  /** Overrides the checkpoint's activation scheme. */
  actScheme?: ActScheme;
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
 * exist (prepareBackend, and the pcie check below), then what needs the model — all before the
 * backend opens, so a bad argument never costs a model load or a weight upload.
 */
export async function runModel(o: RunOptions, out: { text?: (s: string) => void; log?: (s: string) => void } = {}): Promise<RunResult> {
  if (o.tokens !== undefined && o.prompt !== undefined) throw new UsageError('pass either -p/--prompt or --tokens, not both');
  if (o.tokens === undefined && o.prompt === undefined) throw new UsageError('pass a prompt (-p "…") or token ids (--tokens 1,17,42)');
  if (o.chat && o.tokens !== undefined) throw new UsageError('--chat wraps a text prompt (-p) in the chat format; it does not apply to --tokens');
  const t0 = performance.now();
  const { model, codec, modelPath, prepared } = await prepareInference(o, out);
  const vocab = model.config.vocab;
  let prompt: number[];
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
  const seed = o.seed ?? (Math.random() * 2 ** 32) >>> 0;
  const n = o.n;
  const ctx = o.ctxSize ?? Math.min(model.config.maxPositions, prompt.length + n);
  if (ctx > model.config.maxPositions) throw new UsageError(`-c/--ctx-size ${ctx}: the model's context is ${model.config.maxPositions}`);
  if (prompt.length > ctx) throw new UsageError(`the prompt has ${prompt.length} tokens; -c/--ctx-size is ${ctx}`);
  // The KV cache is float32 keys and values for every layer and position: refuse what this machine cannot hold.
  const kvBytes = 8 * model.config.layers * ctx * model.config.kvHeads * model.config.headDim;
  if (kvBytes > os.totalmem() / 2) throw new UsageError(`a context of ${ctx} tokens needs a ${(kvBytes / 2 ** 30).toFixed(1)} GiB KV cache, more than half this machine's memory; pass a smaller -c/--ctx-size or -n`);
  const backend = new RecordingBackend(await openBackend(prepared, { force: o.force, reload: o.reload, log: out.log, threads: o.threads }));
  try {
    await uploadWeights(backend, model, o.progress);
    const loadMs = performance.now() - t0;
    const stream = codec && out.text ? new TextStream(codec, out.text) : undefined;
    const generation = await generate(model, backend, prompt, {
      n,
      ctx,
      temperature: o.temp,
      topK: o.topK,
      topP: o.topP,
      seed,
      batch: o.batch,
      kvBits: o.kvBits,
      onToken: (id) => (stream ? stream.push(id) : out.text?.(`${id} `)),
    });
    return { generation, loadMs, backend: backend.name, seed, resultsDigest: backend.digest() };
  } finally {
    await backend.close();
  }
}

/** What `run` and `serve` share up to the backend's opening: the spec checked, the model and tokenizer loaded. */
export interface PreparedInference {
  model: BitNetModel;
  codec: TextCodec | undefined;
  modelPath: string;
  prepared: PreparedBackend;
}

/**
 * The backend spec against its board manifest and whether its serial port or XDMA device
 * files exist (prepareBackend, and the pcie check below), then the model: all before the
 * backend opens, so a bad argument never costs a weight upload.
 */
export async function prepareInference(o: Pick<RunOptions, 'model' | 'backend' | 'backendText' | 'backendFlag' | 'boardManifest' | 'threads' | 'headBits' | 'actScheme' | 'progress'>, out: { log?: (s: string) => void }): Promise<PreparedInference> {
  const headBits = o.headBits ?? 16;
  let prepared: PreparedBackend;
  const refused = (why: string): UsageError => new UsageError(`${o.backendFlag ?? '-dev/--device/--backend'} ${shown(o.backendText ?? o.backend.kind)}: ${why}`);
  try {
    prepared = await prepareBackend(o.backend, { boardManifest: o.boardManifest });
  } catch (e) {
    throw e instanceof BackendSpecError ? refused(e.message) : e;
  }
  if (o.threads !== undefined) loadNative({ threads: o.threads, log: out.log });
  // A local path is used as it is; owner/name[@rev][:file] comes from the Hugging Face cache or hub.
  const modelPath = await resolveModel(o.model, { log: out.log, progress: o.progress });
  const loaded = loadModel(modelPath);
  for (const w of loaded.source.warnings ?? []) out.log?.(`warning: ${w}`);
  if (headBits === 8 && loaded.config.hidden % Q8_BLOCK) throw new UsageError(`--head-bits 8: the hidden size ${loaded.config.hidden} is not a multiple of ${Q8_BLOCK}`);
  const model = withNumerics(headBits === 8 ? { ...loaded, lmHead: quantizeHead(loaded.lmHead) } : loaded, o.actScheme);
  const codec = TextCodec.load(modelPath);
  return { model, codec, modelPath, prepared };
}

/** Upload the model's weights to an opened backend (a progress bar on a terminal). */
export async function uploadWeights(backend: BitLinearBackend, model: BitNetModel, progress: boolean | undefined): Promise<void> {
  const bar = progress ? new SingleBar({ format: 'uploading weights [{bar}] {percentage}% | {value}/{total} tiles | {what}', hideCursor: true, clearOnComplete: true, stream: process.stderr }, Presets.shades_classic) : undefined;
  let started = false;
  await backend.load(bitLinears(model), {
    actBits: schemeBits(model.config.actScheme),
    layerOf: layerOfBitLinears(model),
    progress: (done, total, what) => {
      if (!bar) return;
      if (!started) bar.start(total, 0, { what });
      started = true;
      bar.update(done, { what });
    },
  });
  bar?.stop();
}

/** The model with --act-scheme in place of its checkpoint's scheme (the config is the one place the scheme is read from). */
export function withNumerics<M extends { config: BitNetConfig }>(m: M, actScheme: ActScheme | undefined): M {
  return actScheme === undefined || actScheme === m.config.actScheme ? m : { ...m, config: { ...m.config, actScheme } };
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
