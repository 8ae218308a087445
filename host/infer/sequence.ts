// One generation's state between forward passes: which prompt tokens are still to be fed,
// the sampler, the stop ids and the limits. `generate` drives one of these alone; the server
// drives many, one row group each in a shared batched forward pass (Transformer.forwardBatch),
// so a request gives the same tokens whether it runs alone, batched, or as `run`.

import type { KvCache } from './kv-cache.ts';
import { Sampler, type SamplerOptions } from './sampler.ts';

export type StoppedBy = 'n' | 'stop' | 'context';

export interface SequenceOptions extends SamplerOptions {
  /** Tokens to generate at most. */
  readonly n: number;
  /** Prompt tokens per forward pass (run's -b/--batch-size). */
  readonly batch: number;
  /** Stop at these ids. */
  readonly stop: readonly number[];
}

export class Sequence {
  readonly tokens: number[] = [];
  stoppedBy: StoppedBy | undefined;
  /** Prompt tokens already fed. */
  private fed = 0;
  /** Tokens handed out by input() and not yet accounted by advance(). */
  private inFlight = 0;
  private readonly sampler: Sampler;
  private readonly stop: Set<number>;
  /** Time in the sampler (ms), and its calls. */
  sampleMs = 0;
  sampleRuns = 0;

  constructor(
    readonly prompt: readonly number[],
    readonly cache: KvCache,
    readonly o: SequenceOptions,
  ) {
    if (prompt.length === 0) throw new RangeError('the prompt has no tokens');
    if (prompt.length > cache.ctx) throw new RangeError(`the prompt has ${prompt.length} tokens; the context is ${cache.ctx}`);
    this.sampler = new Sampler(o);
    this.stop = new Set(o.stop);
    // Nothing to generate: the prompt is still evaluated (its logits are the result).
  }

  get done(): boolean {
    return this.stoppedBy !== undefined;
  }

  /** Whether the next input is prompt tokens (prompt eval) rather than the last sampled token. */
  get inPrompt(): boolean {
    return this.fed < this.prompt.length;
  }

  /** Prompt tokens not yet fed. */
  get promptLeft(): number {
    return this.prompt.length - this.fed;
  }

  /** The tokens this sequence adds to the next forward pass: a prompt chunk of at most `batch`, or the token just sampled. */
  input(): readonly number[] {
    if (this.done) throw new Error('input(): the sequence has finished');
    const t = this.inPrompt ? this.prompt.slice(this.fed, this.fed + this.o.batch) : [this.tokens.at(-1)!];
    this.inFlight = t.length;
    return t;
  }

  /**
   * After a forward pass took input(): the logits of its last row. Once the prompt is in, a
   * token is sampled and returned, and the limits are checked (stop id, n, the context).
   */
  advance(logits: Float32Array): number | undefined {
    if (this.inPrompt) this.fed += this.inFlight;
    this.inFlight = 0;
    if (this.inPrompt) return undefined;
    if (this.tokens.length >= this.o.n) {
      this.stoppedBy = 'n';
      return undefined;
    }
    const t0 = performance.now();
    const id = this.sampler.sample(logits);
    this.sampleMs += performance.now() - t0;
    this.sampleRuns++;
    this.tokens.push(id);
    if (this.stop.has(id)) this.stoppedBy = 'stop';
    else if (this.tokens.length === this.o.n) this.stoppedBy = 'n';
    else if (this.cache.pos >= this.cache.ctx) this.stoppedBy = 'context';
    return id;
  }
}
