// Every core parameter once: its range, default and doc. The registry's specs (and so
// `generate --list` and resolveParams' messages), the range checks of the cores' own
// validate() functions, the board tops' defaults and the module names (naming.ts) are all
// derived from these tables; CHECKED_IN and the board tops list only values that differ.
// Checks that relate parameters to each other (kmax >= rows, baud <= clk/16, the
// accumulator width) stay with the core that needs them.

import { BAUD } from '../../common/protocol.ts';

export interface ParamSpec {
  readonly default: number;
  readonly min: number;
  readonly max: number;
  readonly doc: string;
  readonly powerOfTwo?: boolean;
  /** The only values allowed, when the range is not contiguous. */
  readonly oneOf?: readonly number[];
  /**
   * A feature a design opts into: at its default the parameter is left out of the resolved
   * parameters (registry.ts resolveParams), so designs that do not opt in keep the parameter
   * lists (Verilog headers, manifests) they had before the feature existed.
   */
  readonly optIn?: boolean;
}

export type ParamTable = Readonly<Record<string, ParamSpec>>;

/** What a value of `spec` must be, as messages say it: "an integer from 1 to 64, a power of two". */
export function rangeText(spec: ParamSpec): string {
  return spec.oneOf ? `one of ${spec.oneOf.join(', ')}` : `an integer from ${spec.min} to ${spec.max}${spec.powerOfTwo ? ', a power of two' : ''}`;
}

/** Is v allowed by spec? */
export function inRange(spec: ParamSpec, v: number): boolean {
  return Number.isSafeInteger(v) && v >= spec.min && v <= spec.max && !(spec.powerOfTwo && (v & (v - 1)) !== 0) && !(spec.oneOf && !spec.oneOf.includes(v));
}

/** Throws a RangeError naming the parameter, its doc and its range when v is not allowed. */
export function checkParam(table: ParamTable, key: string, v: number): void {
  const spec = table[key];
  if (!spec) throw new Error(`internal: no parameter '${key}' in the table`);
  if (!inRange(spec, v)) throw new RangeError(`${key}=${v}: ${key} (${spec.doc}) must be ${rangeText(spec)}`);
}

/** The defaults of a table, by name. */
export function defaultsOf(table: ParamTable): Record<string, number> {
  return Object.fromEntries(Object.entries(table).map(([k, s]) => [k, s.default]));
}

/** A table with other defaults (a board top's), optionally without the parameters it fixes. */
export function withDefaults(table: ParamTable, defaults: Readonly<Record<string, number>>, omit: readonly string[] = []): ParamTable {
  const out: Record<string, ParamSpec> = {};
  for (const [k, spec] of Object.entries(table)) if (!omit.includes(k)) out[k] = defaults[k] === undefined ? spec : { ...spec, default: defaults[k]! };
  return out;
}

export const COUNTER_PARAMS: ParamTable = {
  width: { default: 8, min: 1, max: 64, doc: 'counter width in bits' },
};

export const FIFO_PARAMS: ParamTable = {
  width: { default: 8, min: 1, max: 1024, doc: 'word width in bits' },
  depth: { default: 16, min: 2, max: 65536, doc: 'RAM entries (one more word fits in the output register)', powerOfTwo: true },
};

export const UART_PARAMS: ParamTable = {
  clk: { default: 12_000_000, min: 1000, max: 1_000_000_000, doc: 'clock frequency in Hz' },
  baud: { default: 115_200, min: BAUD.min, max: BAUD.max, doc: 'baud rate (at most clk/16)' },
  depth: { default: 16, min: 2, max: 4096, powerOfTwo: true, doc: 'FIFO depth on each side' },
};

/** Weights in board DRAM instead of block RAM (ternary core, board SoC and tops). */
export const DRAM_PARAMS: ParamTable = {
  dram: { default: 0, min: 0, max: 1024, oneOf: [0, 32, 64, 128, 256, 512, 1024], doc: 'weights in board DRAM through an AXI4 master of this data width (0 = on-chip block RAM)' },
  maddr: { default: 32, min: 12, max: 48, doc: 'with dram: AXI4 address bits' },
  mbase: { default: 0, min: 0, max: 2 ** 47, doc: 'with dram: byte address of weight tile 0 (4 KiB aligned)' },
  mburst: { default: 64, min: 1, max: 256, powerOfTwo: true, doc: 'with dram: longest read burst in beats' },
  ports: { default: 1, min: 1, max: 16, doc: 'with dram: AXI4 masters the weight tiles are split across (a share of each tile\'s bytes per master)' },
};

/** The ternary matmul core. */
export const TERNARY_PARAMS: ParamTable = {
  rows: { default: 16, min: 1, max: 64, powerOfTwo: true, doc: 'K lanes' },
  cols: { default: 16, min: 1, max: 64, doc: 'N lanes' },
  act: { default: 8, min: 4, max: 8, oneOf: [4, 8], doc: 'activation bits: 8, or 4 (BitNet a4.8)' },
  format: { default: 2, min: 2, max: 5, oneOf: [2, 5], doc: 'weight storage: 2 = 2 bits per weight, 5 = five trits per byte (1.6 bits)' },
  kmax: { default: 8192, min: 1, max: 1 << 20, doc: 'largest K a run may use (sets the accumulator width)' },
  mmax: { default: 16, min: 1, max: 4096, powerOfTwo: true, doc: 'largest M (tokens) per run' },
  wdepth: { default: 1024, min: 2, max: 2 ** 26, powerOfTwo: true, doc: 'weight memory depth in tiles (block RAM: at most 2^20)' },
  acc: { default: 0, min: 0, max: 32, doc: 'accumulator bits (0 = derived from kmax and act)' },
  jmax: { default: 0, min: 0, max: 64, powerOfTwo: true, doc: 'the table-lookup array, activation-stationary blocks of up to jmax n-tiles (0 = the adder-tree columns)' },
  dual4: { default: 0, min: 0, max: 1, optIn: true, doc: 'with act=8: an int4 mode chosen per run (CTRL.INT4), two tokens a lane, half the cycles (0 = int8 only)' },
  ...DRAM_PARAMS,
};

/** The link's own parameters on a board SoC. */
export const LINK_PARAMS: ParamTable = {
  stage: { default: 8, min: 1, max: 4096, powerOfTwo: true, doc: 'weight tiles per WRITE_WEIGHTS frame' },
  idle: { default: 65536, min: 16, max: 1 << 30, powerOfTwo: true, doc: 'quiet clock cycles after which a frame in progress is abandoned' },
  phy: { default: 1, min: 0, max: 1, doc: '1 = UART pins, 0 = byte streams (board-sim)' },
  clk: { default: 12_000_000, min: 1000, max: 1_000_000_000, doc: 'clock in Hz (UART timing)' },
  baud: { default: 115_200, min: BAUD.min, max: BAUD.max, doc: 'UART baud rate' },
};

/** The board SoC (and the board tops built around it, with their own defaults): a small core and the link. */
export const BOARD_PARAMS: ParamTable = {
  ...withDefaults(TERNARY_PARAMS, { rows: 8, cols: 8, kmax: 512, mmax: 4, wdepth: 256 }, ['jmax']),
  // The table-lookup array on a board: opt-in, so the boards built without it keep their Verilog
  // and identity. Its Xilinx primitives need the models in simulation (sim/elaborate.ts adds
  // them) and are refused on iCE40 tops (registry.ts).
  jmax: { ...TERNARY_PARAMS.jmax!, optIn: true },
  ...LINK_PARAMS,
};
