// The model as the runtime holds it, whatever file it came from.

import type { BitNetConfig } from './config.ts';
import type { PackedTernary } from './ternary.ts';
import type { FloatMatrix } from './float-matrix.ts';

export const PROJECTIONS = ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] as const;
export type Projection = (typeof PROJECTIONS)[number];

export interface LayerWeights {
  readonly inputNorm: Float32Array;
  readonly postNorm: Float32Array;
  readonly attnSubNorm: Float32Array;
  readonly ffnSubNorm: Float32Array;
  readonly proj: Readonly<Record<Projection, PackedTernary>>;
}

export interface BitNetModel {
  readonly config: BitNetConfig;
  /** vocab x hidden, in the file's precision. */
  readonly embed: FloatMatrix;
  readonly norm: Float32Array;
  /** vocab x hidden; the embedding itself when tied (or its 8-bit form with --head-bits 8). */
  readonly lmHead: FloatMatrix;
  readonly layers: readonly LayerWeights[];
  readonly source: { readonly path: string; readonly format: string };
}

/** Every BitLinear of the model in execution order (layer-major, q k v o gate up down). */
export function bitLinears(m: BitNetModel): PackedTernary[] {
  return m.layers.flatMap((l) => PROJECTIONS.map((p) => l.proj[p]));
}

/** [out, in] of each projection. */
export function projectionShape(c: BitNetConfig, p: Projection): [number, number] {
  const q = c.heads * c.headDim;
  const kv = c.kvHeads * c.headDim;
  switch (p) {
    case 'q': return [q, c.hidden];
    case 'k':
    case 'v': return [kv, c.hidden];
    case 'o': return [c.hidden, q];
    case 'gate':
    case 'up': return [c.intermediate, c.hidden];
    case 'down': return [c.hidden, c.intermediate];
  }
}
