// The CPU BitLinear kernel: y[m][n] = sum_k x[m][k] * w[n][k], exact in int32, on weights
// kept packed (four 2-bit codes per byte, c = w + 1). It is a lookup-table kernel in the
// manner of T-MAC / bitnet.cpp's TL kernels: for each group of four activations, the 256
// possible dot products with four codes are tabulated once per token, and each output row
// then costs one table lookup per byte of weights, K/4 lookups instead of K multiplies.
// The tables are shared by all N rows, so building them is cheap next to the lookups.

import type { PackedTernary } from '../model/ternary.ts';

export class TernaryKernel {
  private table = new Int16Array(0);

  /** Y (M x N) = X (M x K int8) W^T. */
  matmul(w: PackedTernary, x: Int8Array, M: number, y = new Int32Array(M * w.rows)): Int32Array {
    const K = w.cols;
    const G = w.stride;
    const N = w.rows;
    if (x.length < M * K) throw new RangeError(`${w.name}: ${x.length} activations for M=${M} tokens of K=${K}`);
    if (this.table.length < G * 256) this.table = new Int16Array(G * 256);
    const T = this.table;
    const codes = w.codes;
    for (let m = 0; m < M; m++) {
      buildTables(T, x, m * K, K, G);
      const yo = m * N;
      for (let n = 0; n < N; n++) {
        let s0 = 0;
        let s1 = 0;
        let p = n * G;
        let g = 0;
        // Two accumulators let the two lookup chains overlap.
        for (; g + 1 < G; g += 2, p += 2) {
          s0 += T[(g << 8) | codes[p]!]!;
          s1 += T[((g + 1) << 8) | codes[p + 1]!]!;
        }
        if (g < G) s0 += T[(g << 8) | codes[p]!]!;
        y[yo + n] = s0 + s1;
      }
    }
    return y;
  }
}

/** T[g][c] = sum_i (code_i(c) - 1) * x[4g + i]; inputs past K count as 0; code 3 never occurs. */
function buildTables(T: Int16Array, x: Int8Array, o: number, K: number, G: number): void {
  for (let g = 0; g < G; g++) {
    const k = 4 * g;
    const a0 = k < K ? x[o + k]! : 0;
    const a1 = k + 1 < K ? x[o + k + 1]! : 0;
    const a2 = k + 2 < K ? x[o + k + 2]! : 0;
    const a3 = k + 3 < K ? x[o + k + 3]! : 0;
    const base = g << 8;
    for (let c3 = 0; c3 < 4; c3++) {
      const v3 = (c3 - 1) * a3;
      for (let c2 = 0; c2 < 4; c2++) {
        const v2 = v3 + (c2 - 1) * a2;
        for (let c1 = 0; c1 < 4; c1++) {
          const v1 = v2 + (c1 - 1) * a1;
          const i = base | (c3 << 6) | (c2 << 4) | (c1 << 2);
          T[i] = v1 - a0;
          T[i | 1] = v1;
          T[i | 2] = v1 + a0;
          T[i | 3] = v1 + 2 * a0;
        }
      }
    }
  }
}
