// The cpu backend: the native SIMD kernel on every core (host/native) when it can be built,
// else the packed lookup-table kernel in JavaScript. Both are exact; tests compare them with ===.

import { TernaryKernel } from '../infer/cpu-kernel.ts';
import { loadNative, nativeUnavailableReason, type NativeKernels } from '../native/native.ts';
import type { PackedTernary } from '../model/ternary.ts';
import { BackendError, emptyStats, type BitLinearBackend } from './backend.ts';

export interface CpuOptions {
  /** Threads for the native kernels (default: every core). */
  readonly threads?: number;
  /** 'js' forces the JavaScript kernel (tests, and to compare). */
  readonly kernel?: 'native' | 'js';
  readonly log?: (s: string) => void;
}

export class CpuBackend implements BitLinearBackend {
  readonly name: string;
  readonly stats = emptyStats();
  private weights: readonly PackedTernary[] = [];
  private readonly js = new TernaryKernel();
  private readonly native: NativeKernels | undefined;

  constructor(o: CpuOptions = {}) {
    this.native = o.kernel === 'js' ? undefined : loadNative({ threads: o.threads, log: o.log });
    if (!this.native && o.kernel !== 'js') o.log?.(`cpu: native kernels unavailable (${nativeUnavailableReason()}); using the JavaScript kernel`);
    this.name = this.native ? `cpu (${this.native.isa}, ${this.native.threads} threads)` : 'cpu (js)';
  }

  async load(weights: readonly PackedTernary[]): Promise<void> {
    this.weights = weights;
  }

  async matmul(index: number, x: Int8Array, M: number): Promise<Int32Array> {
    const w = this.weights[index];
    if (!w) throw new BackendError(`cpu: no weight ${index} (${this.weights.length} loaded)`);
    if (x.length < M * w.cols) throw new BackendError(`cpu: ${w.name}: ${x.length} activations for M=${M} rows of K=${w.cols}`);
    const t0 = performance.now();
    let y: Int32Array;
    if (this.native) {
      y = new Int32Array(M * w.rows);
      this.native.ternaryGemm(w.codes, w.rows, w.cols, w.stride, x.subarray(0, M * w.cols), M, y);
    } else {
      y = this.js.matmul(w, x, M);
    }
    this.stats.calls++;
    this.stats.macs += M * w.rows * w.cols;
    this.stats.ms += performance.now() - t0;
    return y;
  }

  async close(): Promise<void> {}
}
