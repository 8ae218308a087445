// The float parts of a BitNet layer, on float32 storage (arithmetic in float64, stored as
// float32). Hot loops work in place on preallocated typed arrays.

/** out[m] = w * x[m] / sqrt(mean(x[m]^2) + eps), for M rows of n. */
export function rmsNorm(x: Float32Array, w: Float32Array, eps: number, M: number, out: Float32Array = x): Float32Array {
  const n = w.length;
  for (let m = 0; m < M; m++) {
    const o = m * n;
    let ss = 0;
    for (let i = 0; i < n; i++) ss += x[o + i]! * x[o + i]!;
    // The reciprocal root in float32, as the references (torch's rsqrt on a float32 tensor):
    // a float64 one differs in the last bit of some outputs, which moves a4.8's absmean scale
    // (a sum over the row) by an ulp.
    const r = Math.fround(1 / Math.sqrt(Math.fround(Math.fround(ss / n) + Math.fround(eps))));
    for (let i = 0; i < n; i++) out[o + i] = w[i]! * Math.fround(x[o + i]! * r);
  }
  return out;
}

/**
 * Rotary embedding tables (rotate-half convention): cos/sin[pos * half + i] for frequency i.
 * The table covers the positions used so far and grows (doubling, up to maxPos) as later ones
 * are asked for: a model's max_position_embeddings can be millions, a run uses what it needs.
 */
export class Rope {
  cos: Float32Array;
  sin: Float32Array;
  readonly half: number;
  private readonly inv: Float32Array;
  /** Positions the tables hold. */
  private cap = 0;
  constructor(
    headDim: number,
    readonly maxPos: number,
    theta: number,
    initial = Math.min(maxPos, 256),
  ) {
    this.half = headDim / 2;
    this.inv = new Float32Array(this.half);
    for (let i = 0; i < this.half; i++) this.inv[i] = Math.fround(1 / Math.fround(theta ** Math.fround((2 * i) / headDim)));
    this.cos = new Float32Array(0);
    this.sin = this.cos;
    this.reserve(initial);
  }
  /** Make the tables cover positions 0..n-1 (n at most maxPos). */
  reserve(n: number): void {
    if (n <= this.cap) return;
    if (n > this.maxPos) throw new RangeError(`rope: position ${n - 1} is past the context of ${this.maxPos}`);
    const cap = Math.min(this.maxPos, Math.max(n, 2 * this.cap));
    const h = this.half;
    const cos = new Float32Array(cap * h);
    const sin = new Float32Array(cap * h);
    cos.set(this.cos);
    sin.set(this.sin);
    for (let p = this.cap; p < cap; p++) {
      for (let i = 0; i < h; i++) {
        const a = Math.fround(p * this.inv[i]!);
        cos[p * h + i] = Math.cos(a);
        sin[p * h + i] = Math.sin(a);
      }
    }
    this.cos = cos;
    this.sin = sin;
    this.cap = cap;
  }
  /** Rotate `heads` vectors of headDim starting at x[o], at position pos, in place. */
  apply(x: Float32Array, o: number, heads: number, pos: number): void {
    if (pos >= this.cap) this.reserve(pos + 1);
    const h2 = this.half;
    const c0 = pos * h2;
    for (let h = 0; h < heads; h++) {
      const b = o + h * 2 * h2;
      for (let i = 0; i < h2; i++) {
        const c = this.cos[c0 + i]!;
        const s = this.sin[c0 + i]!;
        const a = x[b + i]!;
        const d = x[b + i + h2]!;
        x[b + i] = a * c - d * s;
        x[b + i + h2] = d * c + a * s;
      }
    }
  }
}

/** In-place softmax of x[0..n). */
export function softmax(x: Float32Array | Float64Array, n: number): void {
  let mx = -Infinity;
  for (let i = 0; i < n; i++) if (x[i]! > mx) mx = x[i]!;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.exp(x[i]! - mx);
    x[i] = e;
    sum += e;
  }
  for (let i = 0; i < n; i++) x[i] = x[i]! / sum;
}
