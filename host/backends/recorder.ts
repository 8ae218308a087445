// A backend wrapper that digests every integer result it passes on, so two runs on
// different backends can be shown to have returned the same y_int for every BitLinear call,
// not only the same tokens.

import { createHash, type Hash } from 'node:crypto';
import type { BitLinearBackend, LoadOptions } from './backend.ts';
import type { PackedTernary } from '../model/ternary.ts';

export class RecordingBackend implements BitLinearBackend {
  private readonly hash: Hash = createHash('sha256');
  calls = 0;

  constructor(readonly inner: BitLinearBackend) {}

  get name(): string {
    return this.inner.name;
  }
  get stats() {
    return this.inner.stats;
  }
  // Several boards stay several through the wrapper: the serving engine's pipeline schedule keys on them.
  get boardNames(): readonly string[] | undefined {
    return this.inner.boardNames;
  }
  boardOf(index: number): number {
    return this.inner.boardOf?.(index) ?? 0;
  }

  load(weights: readonly PackedTernary[], opts?: LoadOptions): Promise<void> {
    return this.inner.load(weights, opts);
  }

  async matmul(index: number, x: Int8Array, M: number): Promise<Int32Array> {
    const y = await this.inner.matmul(index, x, M);
    this.calls++;
    this.hash.update(`${index}:${M};`).update(new Uint8Array(y.buffer, y.byteOffset, y.byteLength));
    return y;
  }

  /** Hex digest of every (index, M, y) so far, in call order. */
  digest(): string {
    return this.hash.copy().digest('hex');
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
