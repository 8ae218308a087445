// Where weight tiles live in board DRAM, shared by the AXI4 read and write units, the
// manifest and the host: tile t occupies `stride` bytes at base + t * stride, its word
// little-endian from the first byte, padded with beats nobody reads. The stride is a
// power-of-two number of bus beats, so tiles never straddle a 4 KiB page and a burst of
// whole tiles is always legal AXI.
//
// With `ports` P > 1 the tile's bytes are split into P equal slices, slice j (bytes
// [j * portBytes, (j + 1) * portBytes) of the word) carried by AXI4 master j, whose region
// starts at base + j * region (region = wdepth * stride, at least a 4 KiB page, so every
// region starts on a page as its fetcher's burst edges assume). Each port is laid out as
// above with a portBits-wide tile, so every port reads the same tile indices in the same
// order and the core joins the P slices back into one tile per cycle. Distinct regions make
// the same RTL right whether the P masters share one memory (HP ports into one DDR
// controller) or each own one (HBM pseudo-channels in one address map).

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

/** A core's DRAM parameters: a read or write unit's (DramParams, one master) and how many masters share each tile. */
export interface CoreDramParams extends DramParams {
  readonly ports: number;
}

export interface DramLayout {
  /** Bits of a tile each port carries (the whole tile with one port). */
  readonly portBits: number;
  /** Beats that carry a port's share of a tile. */
  readonly beatsPerTile: number;
  /** Beats a tile occupies (beatsPerTile rounded up to a power of two). */
  readonly beatsPerSlot: number;
  /** Bytes from one tile to the next. */
  readonly stride: number;
  /** Tiles in one read burst at most: bounded by `burst` beats and by a 4 KiB page. */
  readonly burstTiles: number;
  /** Tiles between two points at which a burst must end (a 4 KiB page, or the region's end). */
  readonly edgeTiles: number;
  /** Bytes of one port's region (wdepth tiles, at least 4 KiB: a power of two); port j's starts at base + j * region. */
  readonly region: number;
  /** Bytes of weights in one tile (its word, every port together). */
  readonly wordBytes: number;
  /** Bytes read from DRAM per tile, every port together: a read moves whole slots. */
  readonly movedBytes: number;
  /** wordBytes / movedBytes: the share of the DRAM traffic that is weights (1 = no padding). */
  readonly fill: number;
}

/** The layout of a core's tiles (CoreDramParams) or of one unit's (DramParams: one port). */
export function dramLayout(p: DramParams): DramLayout {
  const ports = p.ports ?? 1;
  const portBits = Math.ceil(p.wordBits / ports);
  const beatsPerTile = Math.ceil(portBits / p.data);
  const beatsPerSlot = 2 ** log2ceil(beatsPerTile);
  const stride = (beatsPerSlot * p.data) / 8;
  const edgeTiles = Math.min(4096 / stride, p.wdepth);
  const burstTiles = Math.max(1, Math.min(p.burst / beatsPerSlot, edgeTiles));
  const wordBytes = Math.ceil(p.wordBits / 8);
  const movedBytes = ports * stride;
  // This key order is the manifest's (extra.ternary.dram).
  return { portBits, beatsPerTile, beatsPerSlot, stride, burstTiles, edgeTiles, region: Math.max(p.wdepth * stride, 4096), wordBytes, movedBytes, fill: wordBytes / movedBytes };
}

/** What read and write unit j of a core sees: a one-port layout of its slice of every tile, in its own region. */
export function portParams(p: CoreDramParams, j: number): DramParams {
  const l = dramLayout(p);
  return { wordBits: l.portBits, data: p.data, addr: p.addr, base: p.base + j * l.region, wdepth: p.wdepth, burst: p.burst };
}

/** RangeError naming the parameter when a DRAM configuration cannot work. */
export function validateDram(p: CoreDramParams): void {
  const ports = p.ports;
  const need = (ok: boolean, msg: string): void => {
    if (!ok) throw new RangeError(msg);
  };
  need([32, 64, 128, 256, 512, 1024].includes(p.data), `dram=${p.data}: the AXI4 data width must be 32, 64, 128, 256, 512 or 1024 bits (0 keeps the weights in on-chip block RAM)`);
  need(Number.isInteger(p.addr) && p.addr >= 12 && p.addr <= 48, `maddr=${p.addr}: the AXI4 address width must be from 12 to 48 bits`);
  need(Number.isSafeInteger(p.base) && p.base >= 0 && p.base % 4096 === 0, `mbase=${p.base}: the weight region must start on a 4 KiB boundary`);
  need([1, 2, 4, 8, 16, 32, 64, 128, 256].includes(p.burst), `mburst=${p.burst}: the longest read burst must be a power of two from 1 to 256 beats`);
  // Equal byte slices: each port's unit writes its slice with whole-byte strobes, and every port has the same layout.
  need(ports === 1 || p.wordBits % (8 * ports) === 0, `ports=${ports}: a ${p.wordBits}-bit tile does not split into ${ports} equal byte slices, one per AXI4 master (its ${p.wordBits / 8} bytes must be a multiple of ports)`);
  const l = dramLayout(p);
  const slice = ports === 1 ? `a ${p.wordBits}-bit tile` : `a port's ${l.portBits}-bit share of a tile`;
  need(l.stride <= 4096, `${slice} takes ${l.stride} bytes on a ${p.data}-bit bus; it must fit in a 4 KiB page`);
  need(l.beatsPerSlot <= p.burst, `mburst=${p.burst}: ${slice} takes ${l.beatsPerSlot} beats on a ${p.data}-bit bus; the burst must hold at least one`);
  const end = p.base + ports * l.region;
  const what = ports === 1 ? `${p.wdepth} tiles of ${l.stride} bytes` : `${ports} ports x ${p.wdepth} tiles of ${l.stride} bytes`;
  need(end <= 2 ** p.addr, `the weight region [0x${p.base.toString(16)}, 0x${end.toString(16)}) (${what}) does not fit a ${p.addr}-bit address space`);
}

/** The byte address of tile `index` (a hardware value): base + index * stride. */
export function tileAddress(p: DramParams, index: Value): Value {
  const offset = index.zext(p.addr).shl(Math.log2(dramLayout(p).stride));
  return p.base ? offset.add(lit(p.base, UInt(p.addr))) : offset;
}
