// Lane masking of the last k-tile, shared by both arrays: lanes past K read as zero, so stale
// activations in the beat buffer never count.

import { cat, type ModuleBuilder, type Value } from '../../hdl/index.ts';
import { log2ceil } from './params.ts';

/** Bit r is set when lane r of k-tile `kt` holds one of K's activations (kW, ktW: the widths of K and kt). */
export function kTileLaneMask(m: ModuleBuilder, rows: number, K: Value, kt: Value, kW: number, ktW: number): Value {
  const w = kW + ktW + log2ceil(rows);
  const kBase = m.let('k_base', kt.zext(kW + ktW).shlWide(log2ceil(rows)));
  const lanesLeft = m.let('lanes_left', K.zext(w).sub(kBase.zext(w)));
  return m.let('lane_mask', cat(...Array.from({ length: rows }, (_, r) => lanesLeft.gt(rows - 1 - r))));
}
