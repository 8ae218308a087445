// The BitNet b1.58 transformer on the CPU, with every BitLinear sent to a backend:
// pre-norm attention (RoPE, grouped-query, KV cache) with a sub-norm before o_proj, and a
// squared-ReLU gated FFN with a sub-norm before down_proj. A step takes M new tokens
// (prompt eval sends them to the backend as one M-row matmul per projection).

import { offloadLayout, type BitNetModel, type OffloadLayout, type Projection } from '../model/model.ts';
import type { BitLinearBackend } from '../backends/backend.ts';
import { rescaleRows } from './quant.ts';
import { quantizeStage, STAGE_QUANTIZERS } from './act-scheme.ts';
import { quantizeKv, type KvBits } from './kv-quant.ts';
import { rmsNorm, Rope } from './ops.ts';
import { attention } from './attention.ts';
import { readRow } from '../model/float-matrix.ts';
import { headLogits } from './head.ts';
import { blockScaledMatmul } from './block-scaled.ts';
import { KvCache } from './kv-cache.ts';

export interface TransformerOptions {
  /** Bits of the KV cache entries (kv-quant.ts): 32 keeps float32, as the fixtures' references. */
  readonly kvBits?: KvBits;
  /** Sees every stage's integer input before it is sent: layer, stage (model.ts STAGES), q, scales, M. */
  readonly onStage?: (layer: number, stage: number, xq: Int8Array, scales: Float32Array, M: number) => void;
}

/** Zero inputs of o_proj and down_proj (summed over layers) and the inputs counted, since the Transformer was made. */
export interface Sparsity {
  tokens: number;
  oZeros: number;
  oInputs: number;
  downZeros: number;
  downInputs: number;
}

/** The context when none is asked for (capped by the model's): enough for a long chat, 4096 x 8 x layers x kv width bytes at most. */
export const DEFAULT_CTX = 4096;

/** One sequence's part of a batched forward pass: its cache and the tokens it adds at positions cache.pos.. */
export interface Segment {
  readonly cache: KvCache;
  readonly tokens: readonly number[];
}

export class Transformer {
  readonly rope: Rope;
  private readonly layout: OffloadLayout;
  /** The KV cache `forward` uses; `forwardBatch` takes each sequence's own (newCache). */
  readonly cache: KvCache;
  /** Wall time in the backend's matmul calls, and everything else (ms). */
  readonly time = { offload: 0, cpu: 0 };
  readonly sparsity: Sparsity = { tokens: 0, oZeros: 0, oInputs: 0, downZeros: 0, downInputs: 0 };

  constructor(
    readonly model: BitNetModel,
    readonly backend: BitLinearBackend,
    readonly ctx = Math.min(DEFAULT_CTX, model.config.maxPositions),
    readonly opts: TransformerOptions = {},
  ) {
    const c = model.config;
    if (!Number.isSafeInteger(ctx) || ctx < 1) throw new RangeError(`context ${ctx}: expected an integer >= 1`);
    if (ctx > c.maxPositions) throw new RangeError(`context ${ctx} exceeds the model's max_position_embeddings ${c.maxPositions}`);
    this.rope = new Rope(c.headDim, ctx, c.ropeTheta);
    this.layout = offloadLayout(model);
    this.cache = this.newCache();
  }

  /** An empty KV cache for one more sequence, of at most `ctx` positions (this transformer's context by default). */
  newCache(ctx = this.ctx): KvCache {
    if (ctx > this.ctx) throw new RangeError(`context ${ctx} exceeds the transformer's ${this.ctx}`);
    return new KvCache(this.model.layers.length, this.model.config.kvHeads * this.model.config.headDim, ctx);
  }

  /** Tokens in `forward`'s KV cache. */
  get pos(): number {
    return this.cache.pos;
  }

  /** Positions `forward`'s KV cache holds now (it grows up to ctx). */
  get cacheCapacity(): number {
    return this.cache.capacity;
  }

  reset(): void {
    this.cache.pos = 0;
  }

  /**
   * The BitLinears of one stage of a layer (projections that read the same input): the
   * integer matmul of each group on the backend, then each projection's rows rescaled in
   * float32 with its own scale into its output.
   */
  private async stage(layer: number, stage: number, xq: Int8Array, scales: Float32Array, M: number, outs: Partial<Record<Projection, Float32Array>>): Promise<void> {
    for (const g of this.layout[layer]![stage]!) {
      if (g.weight.blockScales) {
        blockScaledMatmul(g.weight, xq, scales, M, outs[g.parts[0]!.proj]!);
        continue;
      }
      const t0 = performance.now();
      const acc = await this.backend.matmul(g.index, xq, M);
      this.time.offload += performance.now() - t0;
      for (const part of g.parts) rescaleRows(acc, M, g.weight.rows, part.row0, part.rows, this.model.layers[layer]!.proj[part.proj].scale, scales, outs[part.proj]!);
    }
  }

  /**
   * Run `tokens` at positions pos.. and return logits: of the last token, or of every token
   * with `all` (vocab floats per token).
   */
  forward(tokens: readonly number[], opts: { all?: boolean } = {}): Promise<Float32Array> {
    return this.forwardBatch([{ cache: this.cache, tokens }], opts);
  }

  /**
   * One forward pass over several sequences: their tokens are the rows of one M-row matmul per
   * projection (so a board reads each weight once per step for all of them), while RoPE, the
   * KV cache and attention are each segment's own. Every row's result is what the sequence
   * alone would get: quantization, rescaling and norms are per row, the integer matmul is
   * exact, and the native float kernels give a row the same operations whatever M is.
   * Returns the logits of each segment's last token (segments x vocab), or of every row with `all`.
   */
  async forwardBatch(segs: readonly Segment[], opts: { all?: boolean } = {}): Promise<Float32Array> {
    const t0 = performance.now();
    const off0 = this.time.offload;
    const { config: c, layers } = this.model;
    if (segs.length === 0) throw new RangeError('forward: no sequences');
    let M = 0;
    for (const s of segs) {
      if (s.tokens.length === 0) throw new RangeError('forward: no tokens');
      if (s.cache.pos + s.tokens.length > s.cache.ctx) throw new RangeError(`context full: ${s.cache.pos} + ${s.tokens.length} tokens exceed the context of ${s.cache.ctx}`);
      if (s.cache.ctx > this.ctx) throw new RangeError(`a KV cache of ${s.cache.ctx} positions exceeds the transformer's context of ${this.ctx}`);
      s.cache.reserve(s.cache.pos + s.tokens.length);
      this.rope.reserve(s.cache.capacity);
      M += s.tokens.length;
    }
    const tokens = segs.length === 1 ? segs[0]!.tokens : segs.flatMap((s) => s.tokens);
    const H = c.hidden;
    const qd = c.heads * c.headDim;
    const kvd = c.kvHeads * c.headDim;
    const I = c.intermediate;
    const h = new Float32Array(M * H);
    tokens.forEach((t, m) => {
      if (!Number.isInteger(t) || t < 0 || t >= c.vocab) throw new RangeError(`token id ${t} is outside the vocabulary (0..${c.vocab - 1})`);
      readRow(this.model.embed, t, h, m * H);
    });
    const xn = new Float32Array(M * Math.max(H, qd, I));
    const xq = new Int8Array(M * Math.max(H, qd, I));
    const sc = new Float32Array(M);
    const q = new Float32Array(M * qd);
    const k = new Float32Array(M * kvd);
    const v = new Float32Array(M * kvd);
    const attn = new Float32Array(M * qd);
    const proj = new Float32Array(M * H);
    const gate = new Float32Array(M * I);
    const up = new Float32Array(M * I);
    const scale = 1 / Math.sqrt(c.headDim);
    const quant = STAGE_QUANTIZERS[c.actScheme];
    const kvBits = this.opts.kvBits ?? 32;
    const sp = this.sparsity;
    const zeros = (n: number): number => {
      let z = 0;
      for (let i = 0; i < n; i++) if (xq[i] === 0) z++;
      return z;
    };
    const input = (l: number, st: number, K: number): void => {
      quantizeStage(quant[st]!, xn, M, K, xq, sc);
      this.opts.onStage?.(l, st, xq, sc, M);
    };
    for (let l = 0; l < layers.length; l++) {
      const L = layers[l]!;
      // attention
      rmsNorm(h, L.inputNorm, c.eps, M, xn);
      input(l, 0, H);
      await this.stage(l, 0, xq, sc, M, { q, k, v });
      let r0 = 0;
      for (const seg of segs) {
        const Ms = seg.tokens.length;
        const kc = seg.cache.k[l]!;
        const vc = seg.cache.v[l]!;
        for (let m = r0; m < r0 + Ms; m++) {
          const p = seg.cache.pos + m - r0;
          this.rope.apply(q, m * qd, c.heads, p);
          this.rope.apply(k, m * kvd, c.kvHeads, p);
          // What the cache holds is what a kvBits-wide cache would give back (keys after RoPE).
          if (kvBits !== 32) {
            quantizeKv(k, m * kvd, c.kvHeads, c.headDim, kvBits);
            quantizeKv(v, m * kvd, c.kvHeads, c.headDim, kvBits);
          }
          kc.set(k.subarray(m * kvd, m * kvd + kvd), p * kvd);
          vc.set(v.subarray(m * kvd, m * kvd + kvd), p * kvd);
        }
        const shape = { M: Ms, heads: c.heads, kvHeads: c.kvHeads, headDim: c.headDim, pos: seg.cache.pos, scale };
        if (segs.length === 1) attention(q, kc, vc, shape, attn);
        else attention(q.subarray(r0 * qd, (r0 + Ms) * qd), kc, vc, shape, attn.subarray(r0 * qd, (r0 + Ms) * qd));
        r0 += Ms;
      }
      rmsNorm(attn, L.attnSubNorm, c.eps, M, xn);
      input(l, 1, qd);
      sp.oZeros += zeros(M * qd);
      sp.oInputs += M * qd;
      await this.stage(l, 1, xq, sc, M, { o: proj });
      for (let i = 0; i < M * H; i++) h[i] = h[i]! + proj[i]!;
      // feed-forward
      rmsNorm(h, L.postNorm, c.eps, M, xn);
      input(l, 2, H);
      await this.stage(l, 2, xq, sc, M, { gate, up });
      for (let i = 0; i < M * I; i++) {
        const g = gate[i]! > 0 ? gate[i]! : 0;
        gate[i] = Math.fround(g * g) * up[i]!;
      }
      rmsNorm(gate, L.ffnSubNorm, c.eps, M, xn);
      input(l, 3, I);
      sp.downZeros += zeros(M * I);
      sp.downInputs += M * I;
      await this.stage(l, 3, xq, sc, M, { down: proj });
      for (let i = 0; i < M * H; i++) h[i] = h[i]! + proj[i]!;
    }
    for (const seg of segs) seg.cache.pos += seg.tokens.length;
    sp.tokens += M;
    rmsNorm(h, this.model.norm, c.eps, M);
    let logits: Float32Array;
    if (opts.all || segs.length === 1) {
      const first = opts.all ? 0 : M - 1;
      logits = new Float32Array((M - first) * c.vocab);
      headLogits(this.model.lmHead, h.subarray(first * H), M - first, logits);
    } else {
      // Each segment's last row, gathered so the head reads its weights once for all of them.
      const last = new Float32Array(segs.length * H);
      let r = 0;
      segs.forEach((seg, i) => {
        r += seg.tokens.length;
        last.set(h.subarray((r - 1) * H, r * H), i * H);
      });
      logits = new Float32Array(segs.length * c.vocab);
      headLogits(this.model.lmHead, last, segs.length, logits);
    }
    this.time.cpu += performance.now() - t0 - (this.time.offload - off0);
    return logits;
  }
}
