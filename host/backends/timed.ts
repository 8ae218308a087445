// A stand-in board, to measure schedules (serve's pipeline across boards) on a machine with
// none: a matmul's products are the cpu kernel's (exact, so === any board's), and the call
// returns no sooner than `seconds(weight, M)` after it started, the time a board would take
// (`bench serve` takes it from the cycle model, common/projection.ts runSeconds/linkSeconds).
// The time is waited out on the clock, not spent on the CPU, so calls to two stand-ins overlap
// as two boards' would while the host does its own work. Not a backend a user selects.

import type { CoreShape } from '../../common/core-layout.ts';
import type { PackedTernary } from '../model/ternary.ts';
import { BackendError, emptyStats } from './backend.ts';
import { CpuBackend } from './cpu.ts';
import type { SplitMember } from './layer-split.ts';

/**
 * Resolve at performance.now() >= t, on timers (a spin on setImmediate was no closer on a
 * loaded machine, about 1 ms late either way, and took a core other work needed). A timer
 * may fire a fraction of a millisecond early: then it waits again.
 */
async function until(t: number): Promise<void> {
  for (let left = t - performance.now(); left > 0; left = t - performance.now()) await new Promise((r) => setTimeout(r, Math.max(1, left)));
}

export class TimedBackend implements SplitMember {
  readonly stats = emptyStats();
  private readonly cpu = new CpuBackend();
  private weights: readonly PackedTernary[] = [];

  /** `shape` is the core the stand-in reports (a split sizes its layer ranges by its weight memory). */
  constructor(
    readonly name: string,
    private readonly shape: CoreShape,
    private readonly seconds: (w: PackedTernary, M: number) => number,
  ) {}

  connect(): Promise<CoreShape> {
    return Promise.resolve(this.shape);
  }

  async load(weights: readonly PackedTernary[]): Promise<void> {
    await this.cpu.load(weights);
    this.weights = weights;
  }

  async matmul(index: number, x: Int8Array, M: number): Promise<Int32Array> {
    const w = this.weights[index];
    if (!w) throw new BackendError(`${this.name}: no weight ${index} (${this.weights.length} loaded)`);
    const t0 = performance.now();
    const y = await this.cpu.matmul(index, x, M);
    await until(t0 + 1000 * this.seconds(w, M));
    this.stats.calls++;
    this.stats.macs += M * w.rows * w.cols;
    this.stats.ms += performance.now() - t0;
    return y;
  }

  close(): Promise<void> {
    return this.cpu.close();
  }
}
