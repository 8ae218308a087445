// The cpu backend: the packed lookup-table kernel, in this process.

import { TernaryKernel } from '../infer/cpu-kernel.ts';
import type { PackedTernary } from '../model/ternary.ts';
import { BackendError, emptyStats, type BitLinearBackend } from './backend.ts';

export class CpuBackend implements BitLinearBackend {
  readonly name = 'cpu';
  readonly stats = emptyStats();
  private weights: readonly PackedTernary[] = [];
  private readonly kernel = new TernaryKernel();

  async load(weights: readonly PackedTernary[]): Promise<void> {
    this.weights = weights;
  }

  async matmul(index: number, x: Int8Array, M: number): Promise<Int32Array> {
    const w = this.weights[index];
    if (!w) throw new BackendError(`cpu: no weight ${index} (${this.weights.length} loaded)`);
    const t0 = performance.now();
    const y = this.kernel.matmul(w, x, M);
    this.stats.calls++;
    this.stats.macs += M * w.rows * w.cols;
    this.stats.ms += performance.now() - t0;
    return y;
  }

  async close(): Promise<void> {}
}
