// The float parts of a BitNet layer, on float32 storage (arithmetic in float64, stored as
// float32). Hot loops work in place on preallocated typed arrays.

/** out[m] = w * x[m] / sqrt(mean(x[m]^2) + eps), for M rows of n. */
export function rmsNorm(x: Float32Array, w: Float32Array, eps: number, M: number, out: Float32Array = x): Float32Array {
  const n = w.length;
  for (let m = 0; m < M; m++) {
    const o = m * n;
    let ss = 0;
    for (let i = 0; i < n; i++) ss += x[o + i]! * x[o + i]!;
    const r = 1 / Math.sqrt(Math.fround(ss / n) + eps);
    for (let i = 0; i < n; i++) out[o + i] = w[i]! * Math.fround(x[o + i]! * r);
  }
  return out;
}

/** Rotary embedding tables (rotate-half convention): cos/sin[pos * half + i] for frequency i. */
export class Rope {
  readonly cos: Float32Array;
  readonly sin: Float32Array;
  readonly half: number;
  constructor(headDim: number, maxPos: number, theta: number) {
    this.half = headDim / 2;
    this.cos = new Float32Array(maxPos * this.half);
    this.sin = new Float32Array(maxPos * this.half);
    for (let i = 0; i < this.half; i++) {
      const inv = Math.fround(1 / Math.fround(theta ** Math.fround((2 * i) / headDim)));
      for (let p = 0; p < maxPos; p++) {
        const a = Math.fround(p * inv);
        this.cos[p * this.half + i] = Math.cos(a);
        this.sin[p * this.half + i] = Math.sin(a);
      }
    }
  }
  /** Rotate `heads` vectors of headDim starting at x[o], at position pos, in place. */
  apply(x: Float32Array, o: number, heads: number, pos: number): void {
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
