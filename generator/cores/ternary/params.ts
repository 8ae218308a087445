import { validateDram, type CoreDramParams } from './dram-layout.ts';
import { coreGeometry, accBitsNeeded, FORMAT_2BIT, FORMAT_TRIT5 } from '../../../common/core-layout.ts';
import { checkParam, TERNARY_PARAMS } from '../param-table.ts';

// Parameters of the ternary matmul core and what follows from them. Every number the
// host needs to drive the core (tile shapes, word widths, the register map) is derived
// here once and written into the manifest's `extra`, so host code never imports this.

// The formats and the geometry (coreGeometry) are in common/core-layout.ts: the host derives from IDENTIFY what this derives.
export { FORMAT_2BIT, FORMAT_TRIT5, accBitsNeeded };

export interface TernaryParams {
  /** K lanes: activations per cycle (a power of two). */
  readonly rows: number;
  /** N lanes: output columns per cycle. */
  readonly cols: number;
  /** Activation width: 8 (int8), or 4 (BitNet a4.8). */
  readonly act: number;
  /** Weight storage: 2 (2 bits per weight) or 5 (five trits per byte). */
  readonly format: number;
  /** Largest K a run may use; sets the accumulator width. */
  readonly kmax: number;
  /** Largest M (tokens) per run: depth of the accumulator memory. */
  readonly mmax: number;
  /** Weight memory depth in tiles (rows x cols weights each). */
  readonly wdepth: number;
  /** Accumulator bits; 0 = derived from kmax and act. A width that could overflow is refused. */
  readonly acc: number;
  // Optional, through the index signature (absent in on-chip configurations):
  //   dram    weights in board DRAM through an AXI4 master of this data width in bits (0 = block RAM)
  //   maddr   AXI4 address bits (default 32)
  //   mbase   byte address of weight tile 0, 4 KiB aligned (default 0)
  //   mburst  longest read burst in beats (default 64)
  //   ports   AXI4 masters each tile's bytes are split across (default 1)
  //   jmax    > 0: the table-lookup array (lut-path.ts) in blocks of up to jmax n-tiles (default 0: adder columns)
  //   dual4   1: the int4 mode beside int8, chosen per run (dual-int4.ts; default 0)
  [k: string]: number;
}

export interface Derived {
  readonly kTilesMax: number;
  /** Bits of one weight-memory word (one tile). */
  readonly wordBits: number;
  /** Bytes of one tile in the trit5 format. */
  readonly tileBytes: number;
  /** Bits of one activation beat (rows lanes). */
  readonly xBits: number;
  /** Activation buffer depth in beats: mmax * ceil(kmax / rows). */
  readonly xDepth: number;
  /** Width of one column's per-cycle dot product. */
  readonly dotBits: number;
  /** Accumulator width: |y| <= kmax * 2^(act-1) must fit signed. */
  readonly accBits: number;
}

/** The parameters that only mean something with dram > 0. */
const DRAM_KEYS = ['dram', 'maddr', 'mbase', 'mburst', 'ports'] as const;

/** The core's own parameters out of a larger set (a board's, a registry entry's); the DRAM ones only with dram > 0. */
export function pickTernary(p: Readonly<Record<string, number | undefined>>): TernaryParams {
  const out: Record<string, number> = {};
  for (const k of ['rows', 'cols', 'act', 'format', 'kmax', 'mmax', 'wdepth', 'acc']) out[k] = p[k] ?? 0;
  if (p.dram) for (const k of DRAM_KEYS) if (p[k] !== undefined) out[k] = p[k]!;
  if (p.jmax) out.jmax = p.jmax;
  if (p.dual4) out.dual4 = p.dual4;
  return out as TernaryParams;
}

/** The DRAM layout parameters of a core that keeps its weights in board DRAM, else undefined. */
export function dramParams(p: TernaryParams): CoreDramParams | undefined {
  if (!p.dram) return undefined;
  return { wordBits: derive(p).wordBits, data: p.dram, addr: p.maddr ?? 32, base: p.mbase ?? 0, wdepth: p.wdepth, burst: p.mburst ?? 64, ports: p.ports ?? 1 };
}

/** Why jmax > 0 cannot go on an iCE40 (the icebreaker top and `synth --target ice40` refuse it with this). */
export const LUT_ARRAY_NOT_ON_ICE40 = 'the table-lookup array is built from Xilinx LUT6_2/LUT5/CARRY4 cells, which the iCE40 does not have (no generic fallback is built)';

export function log2ceil(n: number): number {
  let b = 0;
  while (1 << b < n) b++;
  return b;
}

/**
 * The core's register and counter widths, one place for every path and the tests: K, M (and a
 * token index), a tile index (WBASE), an activation beat's address, a k-tile index.
 */
export function coreWidths(p: TernaryParams, d: Derived): { kW: number; mW: number; wA: number; xA: number; ktW: number } {
  return { kW: log2ceil(p.kmax + 1), mW: Math.max(1, log2ceil(p.mmax + 1)), wA: log2ceil(p.wdepth), xA: log2ceil(d.xDepth), ktW: Math.max(1, log2ceil(d.kTilesMax + 1)) };
}

export function derive(p: TernaryParams): Derived {
  const { kTilesMax, wordBits, tileBytes, xBits, xDepth, accBits } = coreGeometry(p);
  const dotBits = p.act + log2ceil(p.rows) + 1;
  // This key order is the manifest's (extra.ternary).
  return { kTilesMax, wordBits, tileBytes, xBits, xDepth, dotBits, accBits };
}

/** Throws RangeError naming the parameter and the allowed range. */
export function validate(p: TernaryParams): void {
  const need = (ok: boolean, msg: string): void => {
    if (!ok) throw new RangeError(msg);
  };
  // Ranges from the one table (param-table.ts); what relates parameters to each other here.
  for (const k of ['rows', 'cols', 'act', 'format', 'kmax', 'mmax', 'wdepth'] as const) checkParam(TERNARY_PARAMS, k, p[k]);
  if (p.acc) checkParam(TERNARY_PARAMS, 'acc', p.acc);
  if (p.dram) for (const k of DRAM_KEYS) if (p[k] !== undefined) checkParam(TERNARY_PARAMS, k, p[k]);
  if (p.jmax !== undefined) checkParam(TERNARY_PARAMS, 'jmax', p.jmax);
  if (p.dual4 !== undefined) checkParam(TERNARY_PARAMS, 'dual4', p.dual4);
  if (p.dual4) {
    need(p.act === 8, `dual4=${p.dual4} with act=${p.act}: the int4 mode packs two int4 tokens into an int8 lane, so it needs act=8`);
    need(!p.jmax, `dual4=${p.dual4} with jmax=${p.jmax}: the int4 mode is built on the adder columns only (the table-lookup array's tables would need two tokens' sums); set jmax=0`);
    need(!p.dram, `dual4=${p.dual4} with dram=${p.dram}: the int4 mode reads weights from block RAM only (not implemented with DRAM weights); set dram=0`);
    need(p.mmax >= 2, `dual4=${p.dual4} with mmax=${p.mmax}: the accumulators hold token pairs, so mmax must be at least 2`);
  }
  if (p.jmax) {
    // What the table-lookup path does not implement is refused by name.
    need(!p.dram, `jmax=${p.jmax} with dram=${p.dram}: the table-lookup array reads its weights from block RAM only (weights in DRAM need the n-block-major layout, not implemented); set jmax=0 or dram=0`);
    need(p.rows >= 2, `jmax=${p.jmax} with rows=${p.rows}: the table-lookup array pairs lanes, so rows must be at least 2`);
  }
  need(p.kmax >= p.rows, `kmax=${p.kmax}: must be from rows (${p.rows}) to ${TERNARY_PARAMS.kmax!.max}`);
  // Block RAM holds at most a million tiles; DRAM up to 2^26 (4 GiB of 2-bit 16x16 tiles).
  const wmax = p.dram ? TERNARY_PARAMS.wdepth!.max : 2 ** 20;
  need(p.wdepth <= wmax, `wdepth=${p.wdepth}: must be a power of two from 2 to ${wmax}${p.dram ? '' : ' in block RAM (set dram for board DRAM)'}`);
  const needBits = accBitsNeeded(p.kmax, p.act);
  if (p.acc) {
    need(Number.isInteger(p.acc) && p.acc >= needBits, `acc=${p.acc}: an accumulator of ${p.acc} bits could overflow at K=kmax=${p.kmax} with int${p.act} activations (|y| up to ${p.kmax * 2 ** (p.act - 1)}); it needs at least ${needBits} bits, or lower kmax to ${Math.floor((2 ** (p.acc - 1) - 1) / 2 ** (p.act - 1))}`);
    need(p.acc <= 32, `acc=${p.acc}: results are int32, so the accumulator is at most 32 bits`);
  }
  // Results leave the core as int32: the accumulator must not need more.
  need(needBits <= 32, `kmax=${p.kmax} with act=${p.act} needs a ${needBits}-bit accumulator; results are int32, so kmax must be at most ${Math.floor((2 ** 31 - 1) / 2 ** (p.act - 1))}`);
  const dp = dramParams(p);
  if (dp) validateDram(dp);
  const d = derive(p);
  need(d.xDepth >= 2, `mmax * ceil(kmax / rows) = ${d.xDepth}: the activation buffer needs at least 2 beats`);
}

/** The register map, as the manifest describes it (word addresses on the reg port): in common/, shared with the host and the simulators. */
export { REGISTERS, REG, isReadable, isWritable, type RegisterName, type ReadableRegister, type WritableRegister } from '../../../common/core-registers.ts';
