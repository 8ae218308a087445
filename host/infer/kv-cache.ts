// One sequence's KV cache: per layer, keys (after RoPE) and values of positions 0..pos-1.
// A Transformer has one for `forward`; a server keeps one per running request and hands
// several to `forwardBatch`, so sequences share each step's matmuls but never their caches.

export class KvCache {
  /**
   * Per layer, kvd floats per position for positions 0..capacity-1. The cache grows by
   * doubling, up to ctx, as positions are used: ctx is a limit, not an allocation, so a large
   * one costs nothing until it is filled. The native attention reads these arrays directly; a
   * grown cache is a new array, copied once per doubling.
   */
  k: Float32Array[];
  v: Float32Array[];
  private cap = 0;
  /** Tokens in the cache. */
  pos = 0;

  constructor(
    readonly layers: number,
    /** Floats per position per layer (kvHeads x headDim). */
    readonly kvd: number,
    /** The most positions it may hold. */
    readonly ctx: number,
  ) {
    if (!Number.isSafeInteger(ctx) || ctx < 1) throw new RangeError(`context ${ctx}: expected an integer >= 1`);
    this.k = Array.from({ length: layers }, () => new Float32Array(0));
    this.v = Array.from({ length: layers }, () => new Float32Array(0));
  }

  /** Positions the cache holds now (it grows up to ctx). */
  get capacity(): number {
    return this.cap;
  }

  /** Bytes the cache would take when full: what a server's slot limit is measured in. */
  static bytesFull(layers: number, kvd: number, ctx: number): number {
    return 2 * 4 * layers * kvd * ctx;
  }

  /** Make the cache hold positions 0..n-1: doubling, so filling a context copies each entry about once. */
  reserve(n: number): void {
    if (n <= this.cap) return;
    const cap = Math.min(this.ctx, Math.max(n, 2 * this.cap, 16));
    const grow = (old: Float32Array): Float32Array => {
      const a = new Float32Array(cap * this.kvd);
      a.set(old.subarray(0, this.pos * this.kvd));
      return a;
    };
    this.k = this.k.map(grow);
    this.v = this.v.map(grow);
    this.cap = cap;
  }
}
