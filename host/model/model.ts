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
  /**
   * Projections that read the same input, stored as one matrix (rows of q, k, v; of gate, up)
   * so a backend runs them as one matmul; `proj` then holds row views into it. Set by
   * fuseProjections(); absent when the parts cannot be fused (per-block scales).
   */
  readonly fused?: { readonly qkv?: PackedTernary; readonly gateUp?: PackedTernary };
}

export interface BitNetModel {
  readonly config: BitNetConfig;
  /** vocab x hidden, in the file's precision. */
  readonly embed: FloatMatrix;
  readonly norm: Float32Array;
  /** vocab x hidden; the embedding itself when tied (or its 8-bit form with --head-bits 8). */
  readonly lmHead: FloatMatrix;
  readonly layers: readonly LayerWeights[];
  /** Where it came from; `warnings` says what the file cannot tell and the loader assumed. */
  readonly source: { readonly path: string; readonly format: string; readonly warnings?: readonly string[] };
}

/** The stages of a layer whose projections share one input. */
export const STAGES = [['q', 'k', 'v'], ['o'], ['gate', 'up'], ['down']] as const satisfies readonly (readonly Projection[])[];

/** One matmul a backend runs: a weight and the projections whose rows it holds, in order. */
export interface OffloadGroup {
  readonly index: number;
  readonly weight: PackedTernary;
  readonly parts: readonly { readonly proj: Projection; readonly row0: number; readonly rows: number }[];
}

/** Per layer, per stage, the matmuls that compute it (one when fused). */
export type OffloadLayout = readonly (readonly (readonly OffloadGroup[])[])[];

const layouts = new WeakMap<BitNetModel, OffloadLayout>();

/** How the model's BitLinears are sent to a backend: fused groups where the layer has them. */
export function offloadLayout(m: BitNetModel): OffloadLayout {
  let lay = layouts.get(m);
  if (lay) return lay;
  let index = 0;
  lay = m.layers.map((l) =>
    STAGES.map((stage) => {
      const fused = stage.length === 3 ? l.fused?.qkv : stage.length === 2 ? l.fused?.gateUp : undefined;
      if (fused) {
        let row0 = 0;
        const parts = stage.map((p) => ({ proj: p, row0: (row0 += l.proj[p].rows) - l.proj[p].rows, rows: l.proj[p].rows }));
        return [{ index: index++, weight: fused, parts }];
      }
      return stage.map((p) => ({ index: index++, weight: l.proj[p], parts: [{ proj: p, row0: 0, rows: l.proj[p].rows }] }));
    }),
  );
  layouts.set(m, lay);
  return lay;
}

/** The weights as the backends receive them (index = OffloadGroup.index): q/k/v and gate/up fused where possible. */
export function bitLinears(m: BitNetModel): PackedTernary[] {
  return offloadLayout(m).flat(2).map((g) => g.weight);
}

/** The layer of each of bitLinears(m), in the same order (a split across boards cuts only between layers). */
export function layerOfBitLinears(m: BitNetModel): number[] {
  return offloadLayout(m).flatMap((stages, layer) => stages.flat().map(() => layer));
}

/**
 * Storage for one layer's projections, decoded in place: q, k, v one after the other in one
 * buffer, gate and up in another (so fuseProjections needs no copy), o and down alone.
 */
export function stageStorage(c: BitNetConfig): Record<Projection, Uint8Array> {
  const out = {} as Record<Projection, Uint8Array>;
  for (const stage of STAGES) {
    const sizes = stage.map((p) => {
      const [N, K] = projectionShape(c, p);
      return N * Math.ceil(K / 4);
    });
    const buf = new Uint8Array(sizes.reduce((a, b) => a + b, 0));
    let o = 0;
    stage.forEach((p, i) => {
      out[p] = buf.subarray(o, o + sizes[i]!);
      o += sizes[i]!;
    });
  }
  return out;
}

/**
 * Store q/k/v and gate/up of a layer as one matrix each (their rows one after the other, so
 * proj[p] becomes a view: no second copy). Weights with per-block scales stay apart: only
 * the host computes them.
 */
export function fuseProjections(l: LayerWeights, layer: number): LayerWeights {
  const fuse = (ps: readonly Projection[], name: string): PackedTernary | undefined => {
    const ws = ps.map((p) => l.proj[p]);
    if (ws.some((w) => w.blockScales || w.cols !== ws[0]!.cols || w.stride !== ws[0]!.stride)) return undefined;
    const rows = ws.reduce((a, w) => a + w.rows, 0);
    // The loader decodes the parts into one buffer already (stageStorage); otherwise copy.
    const first = ws[0]!.codes;
    const contiguous = ws.every((w, i) => w.codes.buffer === first.buffer && w.codes.byteOffset === first.byteOffset + ws.slice(0, i).reduce((a, v) => a + v.codes.length, 0));
    const codes = contiguous ? new Uint8Array(first.buffer, first.byteOffset, rows * ws[0]!.stride) : new Uint8Array(rows * ws[0]!.stride);
    let o = 0;
    for (const w of ws) {
      if (!contiguous) codes.set(w.codes, o);
      o += w.codes.length;
    }
    // The scale is per part: the host rescales each part's rows with proj[p].scale. The fused
    // matrix carries the first part's only so its digest is stable; never rescale with it.
    return { name, rows, cols: ws[0]!.cols, stride: ws[0]!.stride, codes, scale: ws[0]!.scale };
  };
  const qkv = fuse(['q', 'k', 'v'], `blk.${layer}.qkv`);
  const gateUp = fuse(['gate', 'up'], `blk.${layer}.gate_up`);
  const proj = { ...l.proj };
  for (const [f, ps] of [[qkv, ['q', 'k', 'v']], [gateUp, ['gate', 'up']]] as const) {
    if (!f) continue;
    let o = 0;
    for (const p of ps) {
      const w = proj[p];
      proj[p] = { ...w, codes: f.codes.subarray(o, o + w.codes.length) };
      o += w.codes.length;
    }
  }
  return { ...l, proj, fused: { qkv, gateUp } };
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
