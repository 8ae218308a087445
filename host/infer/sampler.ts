// Token sampling: greedy (temperature 0, ties to the lower id), or top-k, then temperature,
// then top-p (nucleus), then a seeded draw. The same seed gives the same tokens on every
// backend, since the logits are the same.

import { XorShift32 } from '../../common/rng.ts';

export interface SamplerOptions {
  readonly temperature?: number;
  readonly topK?: number;
  readonly topP?: number;
  readonly seed?: number;
}

/** The temperature of `run` and `serve` when none is given (llama.cpp's default). */
export const DEFAULT_TEMPERATURE = 0.8;

export class Sampler {
  private readonly rng: XorShift32;
  readonly temperature: number;
  readonly topK: number;
  readonly topP: number;
  private idx = new Int32Array(0);
  private prob = new Float64Array(0);

  constructor(o: SamplerOptions = {}) {
    this.temperature = o.temperature ?? 0;
    this.topK = o.topK ?? 40;
    this.topP = o.topP ?? 0.95;
    if (!(this.temperature >= 0)) throw new RangeError(`temperature ${o.temperature}: must be >= 0`);
    if (!Number.isInteger(this.topK) || this.topK < 0) throw new RangeError(`top-k ${o.topK}: must be a non-negative integer (0 = off)`);
    if (!(this.topP > 0 && this.topP <= 1)) throw new RangeError(`top-p ${o.topP}: must be in (0, 1]`);
    this.rng = new XorShift32(o.seed ?? 0x2545f491);
  }

  private uniform(): number {
    return this.rng.next() / 4294967296;
  }

  sample(logits: Float32Array): number {
    const V = logits.length;
    if (this.temperature === 0) return argmax(logits);
    if (this.idx.length < V) {
      this.idx = new Int32Array(V);
      this.prob = new Float64Array(V);
    }
    const n = this.topK > 0 ? Math.min(this.topK, V) : V;
    const order = this.idx;
    if (n < V) {
      // The k largest, best first, by insertion into a k-long list: one pass over the
      // vocabulary, no sort of all of it. Equal logits keep the lower id first.
      let len = 0;
      for (let i = 0; i < V; i++) {
        const v = logits[i]!;
        if (len === n && v <= logits[order[n - 1]!]!) continue;
        let j = len < n ? len++ : n - 1;
        while (j > 0 && logits[order[j - 1]!]! < v) {
          order[j] = order[j - 1]!;
          j--;
        }
        order[j] = i;
      }
    } else {
      for (let i = 0; i < V; i++) order[i] = i;
      order.sort((a, b) => logits[b]! - logits[a]! || a - b);
    }
    const mx = logits[order[0]!]!;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += this.prob[i] = Math.exp((logits[order[i]!]! - mx) / this.temperature);
    let keep = n;
    let cum = 0;
    for (let i = 0; i < n; i++) {
      cum += this.prob[i]! / sum;
      if (cum >= this.topP) {
        keep = i + 1;
        break;
      }
    }
    let total = 0;
    for (let i = 0; i < keep; i++) total += this.prob[i]!;
    let r = this.uniform() * total;
    for (let i = 0; i < keep; i++) {
      r -= this.prob[i]!;
      if (r < 0) return order[i]!;
    }
    return order[keep - 1]!;
  }
}

export function argmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i]! > x[best]!) best = i;
  return best;
}
