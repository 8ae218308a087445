// The integer reference for BitLinear: y[m][n] = sum_k x[m][k] * w[n][k], exact in int32.
// Every backend (cpu, sim, uart, pcie) must return exactly this.

export interface IntMatrix<T extends Int8Array | Int32Array = Int8Array> {
  readonly rows: number;
  readonly cols: number;
  /** Row-major. */
  readonly data: T;
}

export function matrix<T extends Int8Array | Int32Array>(rows: number, cols: number, data: T, what: string): IntMatrix<T> {
  if (data.length !== rows * cols) throw new RangeError(`${what}: ${data.length} values for a ${rows}x${cols} matrix`);
  return { rows, cols, data };
}

/** X (M x K, int8 or int4 values) times W^T (W is N x K, values -1/0/1): M x N int32. */
export function ternaryMatmul(x: IntMatrix, w: IntMatrix): IntMatrix<Int32Array> {
  if (x.cols !== w.cols) throw new RangeError(`ternaryMatmul: X is ${x.rows}x${x.cols} but W is ${w.rows}x${w.cols}; K must agree`);
  const M = x.rows;
  const N = w.rows;
  const K = x.cols;
  const y = new Int32Array(M * N);
  for (let n = 0; n < N; n++) {
    const wr = w.data.subarray(n * K, n * K + K);
    for (let m = 0; m < M; m++) {
      const xr = x.data.subarray(m * K, m * K + K);
      let s = 0;
      for (let k = 0; k < K; k++) {
        const wk = wr[k]!;
        if (wk === 1) s += xr[k]!;
        else if (wk === -1) s -= xr[k]!;
      }
      y[m * N + n] = s;
    }
  }
  return { rows: M, cols: N, data: y };
}
