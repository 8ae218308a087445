// Where each BitLinear lives in a board's weight memory and how a matmul is cut into the
// board's runs. A weight of N x K becomes blocks: K is cut into chunks of at most kmax
// (partial products are summed on the host, exactly, in int32) and a chunk into n-tile
// ranges small enough for the memory. Blocks that fit stay resident ("pinned"); when the
// model is larger than the memory, the rest take turns in one scratch region. Layers run in
// a fixed cycle, and for a cyclic access pattern keeping a fixed set resident is optimal,
// where LRU would evict everything. The last tile holds the tag (see tag.ts).

import { kTiles, nTiles, type CoreShape } from '../../common/core-layout.ts';
import { getTrit, type PackedTernary } from '../model/ternary.ts';
import { BackendError } from './backend.ts';

export interface Block {
  readonly weight: number;
  /** Inputs k0 .. k0+K-1 and n-tiles nt0 .. nt0+NT-1 of that weight. */
  readonly k0: number;
  readonly K: number;
  readonly nt0: number;
  readonly NT: number;
  readonly tiles: number;
  /** First tile in weight memory; for scratch blocks, the scratch region's start. */
  readonly base: number;
  readonly pinned: boolean;
}

export interface Plan {
  readonly blocks: readonly Block[];
  /** Blocks of each weight, in the order their partial products are summed. */
  readonly byWeight: readonly (readonly Block[])[];
  readonly pinnedTiles: number;
  readonly scratchTiles: number;
  readonly tagTile: number;
  /** Every block resident at once: weights are sent once. */
  readonly resident: boolean;
}

export function planWeights(s: CoreShape, weights: readonly PackedTernary[]): Plan {
  const capacity = s.wdepth - 1;
  if (capacity < 1) throw new BackendError(`the board's weight memory holds ${s.wdepth} tile(s); at least 2 are needed (one for weights, one for the tag)`);
  const kChunk = Math.floor(s.kmax / s.rows) * s.rows;
  if (kChunk < 1) throw new BackendError(`the board's kmax ${s.kmax} is smaller than its ${s.rows} rows`);
  const raw: Omit<Block, 'base' | 'pinned'>[] = [];
  weights.forEach((w, wi) => {
    for (let k0 = 0; k0 < w.cols; k0 += kChunk) {
      const K = Math.min(kChunk, w.cols - k0);
      const KT = kTiles(s, K);
      if (KT > capacity) throw new BackendError(`${w.name}: one n-tile of ${KT} k-tiles does not fit the board's ${capacity} weight tiles`);
      const NTall = nTiles(s, w.rows);
      const per = Math.max(1, Math.floor(capacity / KT));
      for (let nt0 = 0; nt0 < NTall; nt0 += per) {
        const NT = Math.min(per, NTall - nt0);
        raw.push({ weight: wi, k0, K, nt0, NT, tiles: NT * KT });
      }
    }
  });
  const total = raw.reduce((a, b) => a + b.tiles, 0);
  const blocks: Block[] = [];
  let next = 0;
  if (total <= capacity) {
    for (const b of raw) {
      blocks.push({ ...b, base: next, pinned: true });
      next += b.tiles;
    }
  } else {
    // Pin a prefix while what is left still has room for its largest block.
    const maxFrom = new Array<number>(raw.length + 1).fill(0);
    for (let i = raw.length - 1; i >= 0; i--) maxFrom[i] = Math.max(maxFrom[i + 1]!, raw[i]!.tiles);
    let i = 0;
    while (i < raw.length && next + raw[i]!.tiles + maxFrom[i + 1]! <= capacity) {
      blocks.push({ ...raw[i]!, base: next, pinned: true });
      next += raw[i]!.tiles;
      i++;
    }
    for (; i < raw.length; i++) blocks.push({ ...raw[i]!, base: next, pinned: false });
  }
  const scratchTiles = blocks.filter((b) => !b.pinned).reduce((a, b) => Math.max(a, b.tiles), 0);
  const byWeight = weights.map((_, wi) => blocks.filter((b) => b.weight === wi));
  return { blocks, byWeight, pinnedTiles: next, scratchTiles, tagTile: s.wdepth - 1, resident: scratchTiles === 0 };
}

/** Weight tiles one BitLinear takes on a board of this shape (its K-chunks' n-tiles x k-tiles), before any tag. */
export function weightTiles(s: CoreShape, w: { readonly rows: number; readonly cols: number }): number {
  const kChunk = Math.max(s.rows, Math.floor(s.kmax / s.rows) * s.rows);
  let tiles = 0;
  for (let k0 = 0; k0 < w.cols; k0 += kChunk) tiles += nTiles(s, w.rows) * kTiles(s, Math.min(kChunk, w.cols - k0));
  return tiles;
}

/** The dense N x K sub-matrix of a block, for the tile packer. */
export function blockMatrix(w: PackedTernary, b: Block, s: CoreShape): { rows: number; cols: number; data: Int8Array } {
  const n0 = b.nt0 * s.cols;
  const N = Math.min(b.NT * s.cols, w.rows - n0);
  const data = new Int8Array(N * b.K);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < b.K; k++) data[n * b.K + k] = getTrit(w, n0 + n, b.k0 + k);
  }
  return { rows: N, cols: b.K, data };
}
