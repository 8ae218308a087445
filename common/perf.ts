// The core's analytic performance model, from the same cycle formula the regression
// checks against the RTL's CYCLES register (runCycles, core-model.ts, for either array): a
// run takes M tokens (at most mmax); a larger M is split into runs.

import { kTiles, nTiles, type CoreShape } from './core-layout.ts';
import { runCycles } from './core-model.ts';
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

/** `int4`: in a dual4 core's int4 mode, whose peak is two int4 MACs per PE per cycle (two tokens a lane). */
export function layerFigures(s: CoreShape, M: number, N: number, K: number, int4 = false): LayerFigures {
  const KT = kTiles(s, K);
  const NT = nTiles(s, N);
  const runs = Math.ceil(M / s.mmax);
  let cycles = 0;
  for (let r = 0; r < runs; r++) cycles += runCycles(s, KT, NT, Math.min(s.mmax, M - r * s.mmax), int4);
  const macs = M * N * K;
  // Every run reads every weight tile once: the least time the weight memory allows.
  const weightBoundCycles = NT * KT * runs;
  const peak = s.rows * s.cols * (int4 ? 2 : 1);
  return { cycles, macs, utilization: macs / (cycles * peak), weightBoundCycles, weightBoundFraction: weightBoundCycles / cycles, runs };
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

/** The a4.8 scheme's activation width of each matmul the host sends (BITNET_2B_MATMULS): q/k/v and gate/up take int4, o and down int8. */
export const A48_INT4_MATMULS: ReadonlySet<string> = new Set(['qkv', 'gate/up']);

/**
 * Core cycles per token of BitNet-2B-4T's BitLinears (every layer, the LM head excluded) for M
 * tokens at a time under the a4.8 scheme: with the int4 inputs in the int4 mode where the core
 * has it (dual4), and with every matmul in int8 lanes (what a core without it runs).
 */
export function a48CyclesPerToken(s: CoreShape, M: number): { int4Mode: number; int8Lanes: number } {
  let int4Mode = 0;
  let int8Lanes = 0;
  for (const mm of BITNET_2B_MATMULS) {
    const int8 = layerFigures(s, M, mm.N, mm.K).cycles;
    int8Lanes += int8;
    int4Mode += s.dual4 && A48_INT4_MATMULS.has(mm.name) ? layerFigures(s, M, mm.N, mm.K, true).cycles : int8;
  }
  return { int4Mode: (int4Mode * BITNET_2B_LAYERS) / M, int8Lanes: (int8Lanes * BITNET_2B_LAYERS) / M };
}

/** Bytes on the link for one MATMUL (host/link/PROTOCOL.md), against the least any protocol needs (activations in, int32 results out). */
export function matmulWireBytes(s: CoreShape, M: number, K: number, N: number): { wire: number; minimum: number } {
  const request = HEADER_BYTES + MATMUL_ARGS_BYTES + M * kTiles(s, K) * (s.xBits / 8) + TRAILER_BYTES;
  const response = HEADER_BYTES + nTiles(s, N) * M * s.cols * 4 + MATMUL_ANSWER_OVERHEAD + TRAILER_BYTES;
  return { wire: request + response, minimum: M * K * (s.act / 8) + M * N * 4 };
}
