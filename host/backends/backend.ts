// What the transformer asks of a BitLinear backend. Every backend returns the exact int32
// products of the quantized activations with the ternary weights; the float rescaling stays
// on the host, so cpu, sim, uart and pcie results are compared with ===.

import type { PackedTernary } from '../model/ternary.ts';

export interface OffloadStats {
  /** Matmul calls and the multiply-accumulates they asked for (M x N x K). */
  calls: number;
  macs: number;
  /** Board figures (zero for cpu): link bytes, requests, retries, core cycles and stalls. */
  bytesOut: number;
  bytesIn: number;
  requests: number;
  retries: number;
  boardCycles: number;
  boardStalls: number;
  /** Weight tiles sent, and loads skipped because the board already held the weights. */
  weightTilesSent: number;
  weightBytesSent: number;
  weightsReused: boolean;
  /** Board runs in the int4-pairs mode (a dual4 board, activations that fit int4). */
  int4Runs: number;
  /** rows x cols of the board's array (0 for cpu), for utilization = macs / (cycles x lanes). */
  lanes: number;
  /** Wall time spent inside matmul calls. */
  ms: number;
}

export const emptyStats = (): OffloadStats => ({ calls: 0, macs: 0, bytesOut: 0, bytesIn: 0, requests: 0, retries: 0, boardCycles: 0, boardStalls: 0, int4Runs: 0, weightTilesSent: 0, weightBytesSent: 0, weightsReused: false, lanes: 0, ms: 0 });

export interface LoadProgress {
  (done: number, total: number, what: string): void;
}

export interface LoadOptions {
  readonly progress?: LoadProgress;
  /** The width the model quantizes BitLinear inputs to (a board must take at least that). */
  readonly actBits?: number;
  /**
   * The layer of each weight (same index as the weights): a backend that splits the model
   * across boards cuts only between layers, so a layer's matmuls stay on one board.
   */
  readonly layerOf?: readonly number[];
  /** One line on where the weights go (a board: resident, or how many tiles rotate per forward pass). */
  readonly log?: (line: string) => void;
}

export interface BitLinearBackend {
  /** "cpu", "sim (board 8x8 …)", "uart:/dev/ttyUSB1@115200" … */
  readonly name: string;
  /** Take the model's BitLinear weights (index = position in this list); boards upload them once. */
  load(weights: readonly PackedTernary[], opts?: LoadOptions): Promise<void>;
  /** Y (M x N int32) = X (M x K int8) W^T for weight `index`. */
  matmul(index: number, x: Int8Array, M: number): Promise<Int32Array>;
  readonly stats: OffloadStats;
  close(): Promise<void>;
  /**
   * A backend made of several boards (layer-split.ts): their names, and which one runs weight
   * `index` (loaded). Absent: one board (or the cpu), so every call goes to board 0. The
   * serving engine's pipeline schedule (host/serve/pipeline.ts) keys its per-board queues on it.
   */
  readonly boardNames?: readonly string[];
  boardOf?(index: number): number;
}

export class BackendError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackendError';
  }
}
