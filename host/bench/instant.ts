// The host's own cost per token at BitNet-2B-4T shapes: a 30-layer model (one random layer's
// weights shared by all 30, so it is built in a second) run against a backend that answers
// every matmul at once with zeros. What is left is everything the host does around the
// BitLinears — embedding, norms, quantization, RoPE, attention and KV cache, rescaling, the
// output head, sampling — which must not be what limits a board.

import { PROJECTIONS, fuseProjections, projectionShape, type BitNetModel, type LayerWeights, type Projection } from '../model/model.ts';
import { emptyTernary, type PackedTernary } from '../model/ternary.ts';
import type { BitNetConfig } from '../model/config.ts';
import { floatMatrix } from '../model/float-matrix.ts';
import { f32ToBf16 } from '../model/dtypes.ts';
import { emptyStats, type BitLinearBackend } from '../backends/backend.ts';
import { XorShift32 } from '../../common/rng.ts';
import { BITNET_2B_4T } from './model-2b.ts';

const { context, ...shape } = BITNET_2B_4T;
export const BITNET_2B: BitNetConfig = { ...shape, maxPositions: context, tied: true, eos: [], linearClass: 'bitlinear', quantMode: 'offline', actScheme: 'b1.58' };

/** Random trits (about a third each of -1, 0, +1), four per byte. */
export function randomTernary(name: string, N: number, K: number, rng: XorShift32): PackedTernary {
  const w = emptyTernary(name, N, K, { op: 'div', value: Math.fround(Math.sqrt(K)) });
  const full = K >> 2;
  for (let n = 0; n < N; n++) {
    for (let j = 0; j < full; j++) {
      let b = 0;
      for (let i = 0; i < 4; i++) b |= (rng.next() % 3) << (2 * i);
      w.codes[n * w.stride + j] = b;
    }
  }
  return w;
}

/** BitNet-2B-4T's shapes with `layers` layers sharing one random layer, and a random BF16 embedding/head. */
export function sharedLayerModel(c: BitNetConfig = BITNET_2B, seed = 2026): BitNetModel {
  const rng = new XorShift32(seed);
  const ones = (n: number): Float32Array => new Float32Array(n).fill(1);
  const proj = Object.fromEntries(PROJECTIONS.map((p) => [p, randomTernary(p, ...projectionShape(c, p), rng)])) as Record<Projection, PackedTernary>;
  const layer: LayerWeights = fuseProjections({ inputNorm: ones(c.hidden), postNorm: ones(c.hidden), attnSubNorm: ones(c.heads * c.headDim), ffnSubNorm: ones(c.intermediate), proj }, 0);
  const emb = new Uint16Array(c.vocab * c.hidden);
  // A few thousand distinct values repeated: the head's cost is its bytes, not their values.
  const pool = Uint16Array.from({ length: 4093 }, () => f32ToBf16((rng.next() / 2 ** 32 - 0.5) * 0.1));
  for (let i = 0; i < emb.length; i++) emb[i] = pool[i % 4093]!;
  const embed = floatMatrix('bf16', c.vocab, c.hidden, new Uint8Array(emb.buffer));
  return { config: c, embed, norm: ones(c.hidden), lmHead: embed, layers: Array.from({ length: c.layers }, () => layer), source: { path: '(in memory)', format: `random ${c.layers}-layer 2B-4T shapes, one layer shared` } };
}

/** Answers every matmul at once (zeros): the host's time alone. */
export class InstantBackend implements BitLinearBackend {
  readonly name = 'instant (zeros)';
  readonly stats = emptyStats();
  private weights: readonly PackedTernary[] = [];
  async load(weights: readonly PackedTernary[]): Promise<void> {
    this.weights = weights;
  }
  async matmul(index: number, _x: Int8Array, M: number): Promise<Int32Array> {
    this.stats.calls++;
    return new Int32Array(M * this.weights[index]!.rows);
  }
  async close(): Promise<void> {}
}
