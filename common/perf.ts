// The core's analytic performance model, from the same cycle formula the regression
// checks against the RTL's CYCLES register: a run of M tokens (at most mmax) takes
// n-tiles x k-tiles x M steps plus the pipeline; a larger M is split into runs.

import { kTiles, nTiles, type CoreShape } from './core-layout.ts';
import { pipelineCycles } from './core-model.ts';
import { HEADER_BYTES, TRAILER_BYTES, MATMUL_ARGS_BYTES, MATMUL_ANSWER_OVERHEAD } from './protocol.ts';

export interface LayerFigures {
  /** Core cycles for the whole product. */
  cycles: number;
  /** Multiply-accumulates the product needs (M*N*K). */
  macs: number;
  /** Fraction of the array's peak (rows*cols MACs per cycle) used. */
  utilization: number;
  /** Cycles if the weight memory's bandwidth (one tile per cycle) were the only limit. */
  weightBoundCycles: number;
  /** weightBoundCycles / cycles: how close the run is to the weight-bandwidth bound. */
  weightBoundFraction: number;
  runs: number;
}

export function layerFigures(s: CoreShape, M: number, N: number, K: number): LayerFigures {
  const KT = kTiles(s, K);
  const NT = nTiles(s, N);
  const runs = Math.ceil(M / s.mmax);
  let cycles = 0;
  for (let r = 0; r < runs; r++) cycles += NT * KT * Math.min(s.mmax, M - r * s.mmax) + pipelineCycles(s.rows);
  const macs = M * N * K;
  // Every run reads every weight tile once: the least time the weight memory allows.
  const weightBoundCycles = NT * KT * runs;
  return { cycles, macs, utilization: macs / (cycles * s.rows * s.cols), weightBoundCycles, weightBoundFraction: weightBoundCycles / cycles, runs };
}

/** The BitNet b1.58 2B-4T projections, K x N. */
export const BITNET_2B_SHAPES: readonly { name: string; K: number; N: number }[] = [
  { name: 'attn q/o (2560x2560)', K: 2560, N: 2560 },
  { name: 'attn k/v (2560x640)', K: 2560, N: 640 },
  { name: 'ffn up/gate (2560x6912)', K: 2560, N: 6912 },
  { name: 'ffn down (6912x2560)', K: 6912, N: 2560 },
];

/** BitNet b1.58 2B-4T's transformer layers. */
export const BITNET_2B_LAYERS = 30;

/** Every BitLinear of one layer, in order: q, k, v, o, gate, up, down (K x N as BITNET_2B_SHAPES). */
const [QO, KV, UP, DOWN] = BITNET_2B_SHAPES.map((l) => ({ K: l.K, N: l.N }));
export const BITNET_2B_PROJECTIONS: readonly { name: string; K: number; N: number }[] = [
  { name: 'q', ...QO! },
  { name: 'k', ...KV! },
  { name: 'v', ...KV! },
  { name: 'o', ...QO! },
  { name: 'gate', ...UP! },
  { name: 'up', ...UP! },
  { name: 'down', ...DOWN! },
];

/** The matmuls the host sends per layer: q/k/v and gate/up each fused into one (host/model/model.ts fuseProjections). */
export const BITNET_2B_MATMULS: readonly { name: string; K: number; N: number }[] = [
  { name: 'qkv', K: QO!.K, N: QO!.N + 2 * KV!.N },
  { name: 'o', ...QO! },
  { name: 'gate/up', K: UP!.K, N: 2 * UP!.N },
  { name: 'down', ...DOWN! },
];

/** Bytes on the link for one MATMUL (host/link/PROTOCOL.md), against the least any protocol needs (activations in, int32 results out). */
export function matmulWireBytes(s: CoreShape, M: number, K: number, N: number): { wire: number; minimum: number } {
  const request = HEADER_BYTES + MATMUL_ARGS_BYTES + M * kTiles(s, K) * (s.xBits / 8) + TRAILER_BYTES;
  const response = HEADER_BYTES + nTiles(s, N) * M * s.cols * 4 + MATMUL_ANSWER_OVERHEAD + TRAILER_BYTES;
  return { wire: request + response, minimum: M * K * (s.act / 8) + M * N * 4 };
}
