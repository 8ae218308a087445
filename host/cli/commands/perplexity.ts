// `bitnet-fpga perplexity`: llama-perplexity's measurement (host/infer/perplexity.ts) on a text
// file, every BitLinear on the chosen backend; the running estimate per chunk, the final PPL
// with its uncertainty, and bits per byte; `--json` prints one object instead.

import * as fs from 'node:fs';
import { perplexity, chunkPlan, textTokens, textBytes, type PerplexityResult } from '../../infer/perplexity.ts';
import type { KvBits } from '../../infer/numerics-names.ts';
import { UsageError } from '../errors.ts';
import { openSession, type SessionOptions } from './session.ts';
import { checkKvMemory } from './run.ts';

export interface PerplexityCommandOptions extends SessionOptions {
  file: string;
  ctxSize?: number;
  chunks?: number;
  /** commander's --no-bos: false when given. */
  bos: boolean;
  scoreAll?: boolean;
  batch: number;
  kvBits?: KvBits;
  json?: boolean;
}

export interface PerplexityRun {
  result: PerplexityResult;
  /** The chunk size used, the tokens the text made, and the backend's name. */
  ctx: number;
  tokens: number;
  backend: string;
  /** The activation scheme used (the checkpoint's, or --act-scheme). */
  actScheme: string;
  loadMs: number;
  evalMs: number;
  /** Digest of every integer BitLinear result (equal across backends). */
  resultsDigest: string;
}

/** Texts larger than this are refused: a perplexity run over more would take days here, and the text is held in memory. */
const TEXT_MAX_BYTES = 256 * 2 ** 20;

/** Everything `perplexity` does except printing; the tests and `bench host` call it. */
export async function perplexityRun(o: PerplexityCommandOptions, out: { log?: (s: string) => void; chunk?: (r: PerplexityResult, ms: number, total: number) => void } = {}): Promise<PerplexityRun> {
  const size = fs.statSync(o.file).size;
  if (size > TEXT_MAX_BYTES) throw new UsageError(`-f/--file ${o.file}: ${size} bytes; at most ${TEXT_MAX_BYTES} are read`);
  const text = fs.readFileSync(o.file, 'utf8');
  let tokens: number[] = [];
  let ctx = 0;
  let bytesOf: (ids: readonly number[]) => number = () => 0;
  const s = await openSession(o, out, (model, codec, modelPath) => {
    if (!codec) throw new UsageError(`${o.model}: no tokenizer (looked for tokenizer.json beside ${modelPath}); perplexity needs one to read -f/--file`);
    const c = model.config;
    if (o.bos && c.bos === undefined) throw new UsageError(`${o.model}: the model has no bos_token_id; pass --no-bos`);
    ctx = o.ctxSize ?? Math.min(512, c.maxPositions);
    if (ctx > c.maxPositions) throw new UsageError(`-c/--ctx-size ${ctx}: the model's context is ${c.maxPositions}`);
    if (!o.scoreAll && ctx < 2) throw new UsageError(`-c/--ctx-size ${ctx}: llama-perplexity's scoring (the second half of each chunk) needs at least 2; or pass --score-all`);
    checkKvMemory(c, ctx, '-c/--ctx-size');
    tokens = textTokens(codec, text, c.bos);
    if (o.bos) tokens.unshift(c.bos!);
    const plan = chunkPlan(tokens.length, { ctx, scoreAll: o.scoreAll });
    if (plan.chunks < 1) throw new UsageError(`-f/--file ${o.file}: ${tokens.length} tokens, fewer than one chunk of -c/--ctx-size ${ctx}${o.scoreAll ? ' plus one' : ''}`);
    bytesOf = textBytes(codec);
  });
  const total = Math.min(chunkPlan(tokens.length, { ctx, scoreAll: o.scoreAll }).chunks, o.chunks ?? Infinity);
  out.log?.(`perplexity: tokenizing the input: ${tokens.length} tokens; calculating perplexity over ${total} chunks, n_ctx=${ctx}, batch_size=${o.batch}, scoring ${o.scoreAll ? 'every position' : 'the second half of each chunk'}${o.bos ? ', BOS first' : ', no BOS'}, on ${s.backend.name}`);
  try {
    const t0 = performance.now();
    const result = await perplexity(s.model, s.backend, tokens, {
      ctx,
      chunks: o.chunks,
      bos: o.bos ? s.model.config.bos : undefined,
      scoreAll: o.scoreAll,
      batch: o.batch,
      kvBits: o.kvBits,
      bytesOf,
      onChunk: (r, ms) => out.chunk?.(r, ms, total),
    });
    return { result, ctx, tokens: tokens.length, backend: s.backend.name, actScheme: s.model.config.actScheme, loadMs: s.loadMs, evalMs: performance.now() - t0, resultsDigest: s.backend.digest() };
  } finally {
    await s.backend.close();
  }
}

export async function perplexityCommand(o: PerplexityCommandOptions): Promise<void> {
  const log = (s: string): void => void process.stderr.write(`${s}\n`);
  if (o.json) {
    const r = await perplexityRun({ ...o, progress: false }, { log });
    console.log(JSON.stringify(runJson(o, r)));
    return;
  }
  let line = 0;
  const r = await perplexityRun(
    { ...o, progress: process.stderr.isTTY },
    {
      log,
      chunk: (p, ms, total) => {
        // llama-perplexity: the time of the first pass and an ETA, then "[1]12.3456,[2]…".
        if (p.chunks === 1) log(`perplexity: ${(ms / 1000).toFixed(2)} seconds per pass - ETA ${eta((ms * (total - 1)) / 1000)}`);
        process.stdout.write(`[${p.chunks}]${p.running.at(-1)!.toFixed(4)},`);
        if (++line % 16 === 0) process.stdout.write('\n');
      },
    },
  );
  const p = r.result;
  process.stdout.write('\n');
  console.log(`Final estimate: PPL = ${p.ppl.toFixed(4)}${p.pplError === undefined ? '' : ` +/- ${p.pplError.toFixed(5)}`}`);
  console.log(`bits per byte = ${p.bitsPerByte.toFixed(4)}${p.bitsPerByteError === undefined ? '' : ` +/- ${p.bitsPerByteError.toFixed(5)}`} (${p.count} predictions, ${p.bytes} bytes, ${p.chunks} chunks of ${r.ctx})`);
  log(`perplexity: load ${r.loadMs.toFixed(0)} ms, eval ${(r.evalMs / 1000).toFixed(2)} s (${((1000 * p.chunks * r.ctx) / r.evalMs).toFixed(1)} tokens/s) on ${r.backend}; results digest ${r.resultsDigest.slice(0, 16)}`);
}

function eta(s: number): string {
  const m = Math.floor(s / 60);
  return m > 0 ? `${m} minutes ${Math.round(s - 60 * m)} seconds` : `${s.toFixed(2)} seconds`;
}

/** The --json object (snake_case, as run's). */
export function runJson(o: PerplexityCommandOptions, r: PerplexityRun): Record<string, unknown> {
  const p = r.result;
  return { model: o.model, file: o.file, backend: r.backend, act_scheme: r.actScheme, kv_bits: o.kvBits ?? 32, n_ctx: r.ctx, bos: o.bos, score_all: !!o.scoreAll, tokens: r.tokens, chunks: p.chunks, predictions: p.count, bytes: p.bytes, ppl: p.ppl, ppl_error: p.pplError ?? null, bits_per_byte: p.bitsPerByte, bits_per_byte_error: p.bitsPerByteError ?? null, nll_sum: p.nll, running_ppl: p.running, results_digest: r.resultsDigest, load_ms: r.loadMs, eval_ms: r.evalMs };
}
