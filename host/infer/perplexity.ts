// Perplexity of a token sequence, as llama.cpp's llama-perplexity measures it, plus bits per
// byte. The text is cut into chunks of `ctx` tokens (chunk i starts at token i*ctx); each
// chunk runs from an empty KV cache. By default, as llama-perplexity:
//   - the chunk's first token is replaced by BOS (when the model has one and `bos` is set);
//   - only the second half is scored: the logits at positions first = floor(ctx/2) .. ctx-2
//     predict the chunk's own next token (ctx - 1 - first predictions per chunk);
//   - chunks: floor(tokens / ctx).
// With `scoreAll` every position is scored, the last one predicting the token after the
// chunk (ctx predictions per chunk, floor((tokens - 1) / ctx) chunks): with no BOS and
// ctx 128 this is the fortunes fixtures' protocol (shared/fixtures/tiny-fortunes/README.md).
//
// Each prediction's log-probability is log_softmax in float64 over the float32 logits
// (llama.cpp sums exp in double too); the final figure and its uncertainty are
// llama-perplexity's: PPL = exp(mean nll), +/- PPL * sqrt((mean nll^2 - mean nll^2) / (n - 1)).
// Bits per byte = sum of nll / ln 2 / the bytes of the scored tokens. Everything is a
// function of the logits in a fixed order, so backends that give equal logits (every backend
// does: equal integers) give equal numbers.

import type { BitLinearBackend } from '../backends/backend.ts';
import type { BitNetModel } from '../model/model.ts';
import { Transformer } from './transformer.ts';
import type { KvBits } from './numerics-names.ts';
import type { TextCodec } from '../model/tokenizer.ts';

export interface PerplexityOptions {
  /** Tokens per chunk (the context each chunk is run in). */
  readonly ctx: number;
  /** At most this many chunks (default: all the text holds). */
  readonly chunks?: number;
  /** Replace each chunk's first token by this id (llama-perplexity's BOS); undefined: no BOS. */
  readonly bos?: number;
  /** Score every position (the last predicts the token after the chunk), not llama's second half. */
  readonly scoreAll?: boolean;
  /** Tokens per forward pass. */
  readonly batch: number;
  readonly kvBits?: KvBits;
  /** The bytes of text these (scored, contiguous) tokens stand for. */
  readonly bytesOf: (ids: readonly number[]) => number;
  /** After each chunk, the running figures. */
  readonly onChunk?: (r: PerplexityResult, chunkMs: number) => void;
}

export interface PerplexityResult {
  readonly chunks: number;
  /** Predictions scored and the bytes their target tokens stand for. */
  readonly count: number;
  readonly bytes: number;
  /** Sum of -log p (nats) and of log p squared, over the scored predictions. */
  readonly nll: number;
  readonly nll2: number;
  readonly ppl: number;
  /** llama-perplexity's +/-: PPL times the standard error of the mean nll; undefined below 2 predictions. */
  readonly pplError: number | undefined;
  readonly bitsPerByte: number;
  /** The standard error of the mean nll carried to bits per byte. */
  readonly bitsPerByteError: number | undefined;
  /** The running PPL after each chunk (llama-perplexity's [1]…,[2]… line). */
  readonly running: readonly number[];
}

/** The chunks a text of n tokens gives (before --chunks caps them), and what each scores. */
export function chunkPlan(n: number, o: Pick<PerplexityOptions, 'ctx' | 'scoreAll'>): { chunks: number; first: number; scored: number } {
  const first = o.scoreAll ? 0 : Math.floor(o.ctx / 2);
  const chunks = o.scoreAll ? Math.floor(Math.max(0, n - 1) / o.ctx) : Math.floor(n / o.ctx);
  return { chunks, first, scored: o.scoreAll ? o.ctx : o.ctx - 1 - first };
}

/** log_softmax(logits)[target] in float64 (the row is vocab floats starting at `off`). */
export function logProb(logits: Float32Array, off: number, vocab: number, target: number): number {
  let max = -Infinity;
  for (let i = 0; i < vocab; i++) if (logits[off + i]! > max) max = logits[off + i]!;
  let sum = 0;
  for (let i = 0; i < vocab; i++) sum += Math.exp(logits[off + i]! - max);
  return logits[off + target]! - max - Math.log(sum);
}

export function summarize(s: { chunks: number; count: number; bytes: number; nll: number; nll2: number; running: number[] }): PerplexityResult {
  const mean = s.nll / s.count;
  const ppl = Math.exp(mean);
  const varNll = s.nll2 / s.count - mean * mean;
  const se = s.count > 1 && varNll > 0 ? Math.sqrt(varNll / (s.count - 1)) : undefined;
  const perByte = s.count / s.bytes / Math.LN2;
  return { ...s, running: [...s.running], ppl, pplError: se === undefined ? undefined : se * ppl, bitsPerByte: s.nll / Math.LN2 / s.bytes, bitsPerByteError: se === undefined ? undefined : se * perByte };
}

export async function perplexity(model: BitNetModel, backend: BitLinearBackend, tokens: readonly number[], o: PerplexityOptions): Promise<PerplexityResult> {
  const plan = chunkPlan(tokens.length, o);
  const chunks = Math.min(plan.chunks, o.chunks ?? plan.chunks);
  if (chunks < 1) throw new RangeError(`${tokens.length} tokens make no chunk of ${o.ctx}${o.scoreAll ? ' (plus the one token after it)' : ''}`);
  const vocab = model.config.vocab;
  const tr = new Transformer(model, backend, o.ctx, { kvBits: o.kvBits });
  const s = { chunks: 0, count: 0, bytes: 0, nll: 0, nll2: 0, running: [] as number[] };
  for (let c = 0; c < chunks; c++) {
    const t0 = performance.now();
    const start = c * o.ctx;
    const input = tokens.slice(start, start + o.ctx);
    if (o.bos !== undefined) input[0] = o.bos;
    tr.reset();
    for (let p = 0; p < o.ctx; p += o.batch) {
      const part = input.slice(p, p + o.batch);
      const logits = await tr.forward(part, { all: true });
      // Position j's logits predict tokens[start + j + 1]; positions first .. first+scored-1 count.
      for (let j = Math.max(p, plan.first); j < Math.min(p + part.length, plan.first + plan.scored); j++) {
        const lp = logProb(logits, (j - p) * vocab, vocab, tokens[start + j + 1]!);
        s.nll -= lp;
        s.nll2 += lp * lp;
      }
    }
    s.count += plan.scored;
    s.bytes += o.bytesOf(tokens.slice(start + plan.first + 1, start + plan.first + 1 + plan.scored));
    s.chunks++;
    s.running.push(Math.exp(s.nll / s.count));
    o.onChunk?.(summarize(s), performance.now() - t0);
  }
  return summarize(s);
}

/**
 * A text's token ids without the BOS a tokenizer's post-processor puts first (the caller adds
 * its own, as llama-perplexity does, or none).
 */
export function textTokens(codec: TextCodec, text: string, bos: number | undefined): number[] {
  const ids = codec.encode(text);
  const added = codec.encode('');
  return bos !== undefined && added.length === 1 && added[0] === bos && ids[0] === bos ? ids.slice(1) : ids;
}

/**
 * The bytes a run of scored tokens stands for: the UTF-8 length of its decoded text (special
 * tokens count none). Exact for byte-level vocabularies on ASCII text (the fixtures'); a
 * multi-byte character cut at the run's ends decodes to U+FFFD and counts its 3 bytes.
 */
export const textBytes =
  (codec: TextCodec) =>
  (ids: readonly number[]): number =>
    Buffer.byteLength(codec.decode(ids), 'utf8');
