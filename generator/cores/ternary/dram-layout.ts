// Where weight tiles live in board DRAM, shared by the AXI4 read and write units, the
// manifest and the host: tile t occupies `stride` bytes at base + t * stride, its word
// little-endian from the first byte, padded with beats nobody reads. The stride is a
// power-of-two number of bus beats, so tiles never straddle a 4 KiB page and a burst of
// whole tiles is always legal AXI.

import { UInt, lit, type Value } from '../../hdl/index.ts';
import { log2ceil } from './params.ts';
import { DRAM_PARAMS } from '../param-table.ts';
import type { NameTags } from '../naming.ts';

/** What the DRAM units' names carry besides word and bus width (naming.ts), and the values left out. */
export const DRAM_UNIT_TAGS: NameTags = [['addr', 'a'], ['base', 'o'], ['wdepth', 'w'], ['burst', 'l'], ['ktMax', 'k'], ['cols', 'c']];
export const DRAM_UNIT_DEFAULTS: Readonly<Record<string, number>> = { addr: DRAM_PARAMS.maddr!.default, base: DRAM_PARAMS.mbase!.default, burst: DRAM_PARAMS.mburst!.default };

export interface DramParams {
  /** Bits of one weight tile. */
  readonly wordBits: number;
  /** AXI4 data width in bits. */
  readonly data: number;
  /** AXI4 address width in bits. */
  readonly addr: number;
  /** Byte address of tile 0 (4 KiB aligned). */
  readonly base: number;
  /** Tiles in the region. */
  readonly wdepth: number;
  /** Longest read burst in beats (a power of two, at most 256). */
  readonly burst: number;
  [k: string]: number;
}

export interface DramLayout {
  /** Beats that carry a tile's bits. */
  readonly beatsPerTile: number;
  /** Beats a tile occupies (beatsPerTile rounded up to a power of two). */
  readonly beatsPerSlot: number;
  /** Bytes from one tile to the next. */
  readonly stride: number;
  /** Tiles in one read burst at most: bounded by `burst` beats and by a 4 KiB page. */
  readonly burstTiles: number;
  /** Tiles between two points at which a burst must end (a 4 KiB page, or the region's end). */
  readonly edgeTiles: number;
}

export function dramLayout(p: DramParams): DramLayout {
  const beatsPerTile = Math.ceil(p.wordBits / p.data);
  const beatsPerSlot = 2 ** log2ceil(beatsPerTile);
  const stride = (beatsPerSlot * p.data) / 8;
  const edgeTiles = Math.min(4096 / stride, p.wdepth);
  const burstTiles = Math.max(1, Math.min(p.burst / beatsPerSlot, edgeTiles));
  return { beatsPerTile, beatsPerSlot, stride, burstTiles, edgeTiles };
}

/** RangeError naming the parameter when a DRAM configuration cannot work. */
export function validateDram(p: DramParams): void {
  const need = (ok: boolean, msg: string): void => {
    if (!ok) throw new RangeError(msg);
  };
  need([32, 64, 128, 256, 512, 1024].includes(p.data), `dram=${p.data}: the AXI4 data width must be 32, 64, 128, 256, 512 or 1024 bits (0 keeps the weights in on-chip block RAM)`);
  need(Number.isInteger(p.addr) && p.addr >= 12 && p.addr <= 48, `maddr=${p.addr}: the AXI4 address width must be from 12 to 48 bits`);
  need(Number.isSafeInteger(p.base) && p.base >= 0 && p.base % 4096 === 0, `mbase=${p.base}: the weight region must start on a 4 KiB boundary`);
  need([1, 2, 4, 8, 16, 32, 64, 128, 256].includes(p.burst), `mburst=${p.burst}: the longest read burst must be a power of two from 1 to 256 beats`);
  const l = dramLayout(p);
  need(l.stride <= 4096, `a ${p.wordBits}-bit tile takes ${l.stride} bytes on a ${p.data}-bit bus; a tile must fit in a 4 KiB page`);
  need(l.beatsPerSlot <= p.burst, `mburst=${p.burst}: a tile takes ${l.beatsPerSlot} beats on a ${p.data}-bit bus; the burst must hold at least one tile`);
  const end = p.base + p.wdepth * l.stride;
  need(end <= 2 ** p.addr, `the weight region [0x${p.base.toString(16)}, 0x${end.toString(16)}) (${p.wdepth} tiles of ${l.stride} bytes) does not fit a ${p.addr}-bit address space`);
}

/** The byte address of tile `index` (a hardware value): base + index * stride. */
export function tileAddress(p: DramParams, index: Value): Value {
  const offset = index.zext(p.addr).shl(Math.log2(dramLayout(p).stride));
  return p.base ? offset.add(lit(p.base, UInt(p.addr))) : offset;
}
