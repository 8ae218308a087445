// The cores `bitnet-fpga generate` knows, their parameters with allowed ranges, and the
// configurations whose RTL is checked in under rtl/ (a test fails when those are stale).

import { emitDesign, type Elaborated, type EmittedDesign } from '../hdl/index.ts';
import type { EmitOptions } from '../hdl/emit-verilog.ts';
import { counter } from './counter.ts';
import { fifo } from './fifo.ts';
import { ternaryCore, coreExtra } from './ternary/core.ts';
import { uart, validateUart, type UartParams } from './uart.ts';
import { board, boardIdentity, validateBoard, type BoardParams } from './board.ts';
import { validate as validateTernary, pickTernary, LUT_ARRAY_NOT_ON_ICE40, type TernaryParams } from './ternary/params.ts';
import { icebreakerTop, ICEBREAKER_CLK, ICEBREAKER_DEFAULTS } from '../boards/icebreaker.ts';
import { xdmaTop, XDMA_DEFAULTS, type XdmaParams } from '../boards/xdma.ts';
import { artyTop, ARTY_CLK, ARTY_DEFAULTS } from '../boards/arty.ts';
import { BOARD_PARAMS, COUNTER_PARAMS, FIFO_PARAMS, TERNARY_PARAMS, UART_PARAMS, withDefaults, type ParamSpec } from './param-table.ts';

export type { ParamSpec } from './param-table.ts';

export interface CoreEntry {
  readonly name: string;
  readonly description: string;
  readonly params: Readonly<Record<string, ParamSpec>>;
  build(p: Readonly<Record<string, number>>): Elaborated<unknown>;
  /** What the manifest's `extra` carries for the host. */
  extra?(p: Readonly<Record<string, number>>): Record<string, unknown>;
}

export class ParamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ParamError';
  }
}

/** What a board's manifest carries for the host: the core's shape and the link's identity. */
function boardExtra(p: Readonly<Record<string, number>>): Record<string, unknown> {
  return { ...coreExtra(pickTernary(p)), board: { identity: boardIdentity(p as unknown as BoardParams), stage: p.stage, idle: p.idle, phy: p.phy, clk: p.clk, baud: p.baud } };
}

/**
 * A board top: the SoC's parameters with the board's defaults, less those the board fixes (phy, clk, …).
 * `family` says whose primitives the fabric has: the table-lookup array (jmax) is built from
 * Xilinx LUT6_2/LUT5/CARRY4 cells, which an iCE40 does not have (and no generic fallback is built).
 */
function boardTop(name: string, description: string, o: { family: 'xilinx' | 'ice40'; defaults: Record<string, number>; fixed: Record<string, number>; more?: Record<string, ParamSpec>; top: (p: BoardParams) => Elaborated<unknown> }): CoreEntry {
  return {
    name,
    description,
    params: { ...withDefaults(BOARD_PARAMS, o.defaults, Object.keys(o.fixed)), ...o.more },
    build: (p) => {
      const full = { ...p, ...o.fixed } as unknown as BoardParams;
      try {
        validateBoard(full);
      } catch (e) {
        throw new ParamError(`core '${name}': ${(e as Error).message}`);
      }
      if (full.jmax && o.family === 'ice40') throw new ParamError(`core '${name}': jmax=${full.jmax}: ${LUT_ARRAY_NOT_ON_ICE40}; set jmax=0`);
      return o.top(full);
    },
    extra: (p) => boardExtra({ ...p, ...o.fixed }),
  };
}

export const CORES: Readonly<Record<string, CoreEntry>> = {
  counter: {
    name: 'counter',
    description: 'up-counter with enable, clear and wrap flag (example core)',
    params: COUNTER_PARAMS,
    build: (p) => counter({ width: p.width! }),
  },
  fifo: {
    name: 'fifo',
    description: 'synchronous valid/ready FIFO on block RAM (example core)',
    params: FIFO_PARAMS,
    build: (p) => fifo({ width: p.width!, depth: p.depth! }),
  },
  uart: {
    name: 'uart',
    description: '8N1 UART: transmitter and 16x-oversampling receiver behind FIFOs (the board link)',
    params: UART_PARAMS,
    build: (p) => {
      const up = p as unknown as UartParams;
      try {
        validateUart(up);
      } catch (e) {
        throw new ParamError(`core 'uart': ${(e as Error).message}`);
      }
      return uart(up);
    },
  },
  board: {
    name: 'board',
    description: 'board SoC: UART (or byte streams), link command engine, ternary matmul core',
    params: BOARD_PARAMS,
    build: (p) => {
      const bp = p as unknown as BoardParams;
      try {
        validateBoard(bp);
      } catch (e) {
        throw new ParamError(`core 'board': ${(e as Error).message}`);
      }
      return board(bp);
    },
    extra: boardExtra,
  },
  // The largest SoC that places on the UP5K with room to spare (constraints/README.md).
  icebreaker: boardTop('icebreaker', 'iCEBreaker (iCE40UP5K) top: the board SoC on the USB serial port, power-on and button reset, LEDs', {
    family: 'ice40',
    defaults: ICEBREAKER_DEFAULTS,
    fixed: { phy: 1, clk: ICEBREAKER_CLK },
    top: icebreakerTop,
  }),
  arty: boardTop('arty', 'Arty A7 (XC7A35T/100T, 100 MHz) top: the board SoC on the USB serial bridge, RESET button, LEDs', {
    family: 'xilinx',
    defaults: ARTY_DEFAULTS,
    fixed: { phy: 1, clk: ARTY_CLK },
    top: artyTop,
  }),
  xdma: boardTop('xdma', 'PCIe top: the board SoC behind the Xilinx XDMA IP (AXI4-Lite registers, AXI4-Stream H2C/C2H)', {
    family: 'xilinx',
    defaults: XDMA_DEFAULTS,
    // No UART: clk and baud only satisfy the SoC's checks.
    fixed: { phy: 0, clk: 125_000_000, baud: 115_200 },
    more: { axis: { default: XDMA_DEFAULTS.axis!, min: 32, max: 256, oneOf: [32, 64, 128, 256], doc: "the XDMA IP's AXI data width (tdata bits)" } },
    top: (p) => xdmaTop(p as XdmaParams),
  }),
  ternary: {
    name: 'ternary',
    description: 'systolic matmul core: int8/int4 activations x ternary weights, exact int32 results',
    params: TERNARY_PARAMS,
    build: (p) => {
      const tp = pickTernary(p);
      try {
        validateTernary(tp);
      } catch (e) {
        throw new ParamError(`core 'ternary': ${(e as Error).message}`);
      }
      return ternaryCore(tp);
    },
    extra: (p) => coreExtra(pickTernary(p)),
  },
};

export function findCore(name: string): CoreEntry {
  const c = Object.hasOwn(CORES, name) ? CORES[name] : undefined;
  if (!c) throw new ParamError(`unknown core ${/^[\w.-]{1,40}$/.test(name) ? `'${name}'` : shortValue(name)}; available: ${Object.keys(CORES).join(', ')} (see 'bitnet-fpga generate --list')`);
  return c;
}

/**
 * The entries of `params` that are `core`'s own parameters. A manifest's parameters also hold
 * those its top fixes (phy, clk): this keeps what can be passed back to resolveParams.
 */
export function ownParams<T>(core: CoreEntry, params: Readonly<Record<string, T>>): Record<string, T> {
  return Object.fromEntries(Object.entries(params).filter(([k]) => Object.hasOwn(core.params, k)));
}

/**
 * Validated parameters, defaults filled in. A name must be the core's own (Object.hasOwn: a
 * `constructor` or `__proto__` is no parameter), and a string value a plain decimal integer
 * (Number() would also take '0x10', '1e1', ' 8' and '8.0').
 */
export function resolveParams(core: CoreEntry, given: Readonly<Record<string, string | number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(given)) {
    if (!Object.hasOwn(core.params, k)) throw new ParamError(`core '${core.name}' has no parameter '${k}'; its parameters: ${Object.keys(core.params).join(', ')}`);
  }
  for (const [k, spec] of Object.entries(core.params)) {
    const raw = Object.hasOwn(given, k) ? given[k] : undefined;
    const v = raw === undefined ? spec.default : typeof raw === 'number' ? raw : /^-?\d{1,16}$/.test(raw) ? Number(raw) : NaN;
    const range = spec.oneOf ? `one of ${spec.oneOf.join(', ')}` : `an integer from ${spec.min} to ${spec.max}${spec.powerOfTwo ? ', a power of two' : ''}`;
    if (!Number.isSafeInteger(v) || v < spec.min || v > spec.max || (spec.powerOfTwo && (v & (v - 1)) !== 0) || (spec.oneOf && !spec.oneOf.includes(v))) {
      throw new ParamError(`core '${core.name}': parameter ${k}=${shortValue(raw)} is not allowed; ${k} (${spec.doc}) must be ${range}`);
    }
    if (spec.optIn && v === spec.default) continue;
    out[k] = v;
  }
  return out;
}

/** A value as an error quotes it: one line, at most 40 characters. */
const shortValue = (raw: string | number | undefined): string => {
  const s = String(raw);
  const cut = s.length > 40 ? `${s.slice(0, 40)}…` : s;
  return /^[\w.+=-]+$/.test(cut) ? cut : JSON.stringify(cut);
};

/**
 * `NAME=VALUE` strings into a record with no prototype, so a `__proto__=1` is an entry
 * (that resolveParams then refuses by name) instead of a silently ignored assignment. A name
 * given twice is refused: which one was meant is not ours to guess.
 */
export function parseParamArgs(args: readonly string[], flag = '-G/--param'): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const a of args) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(a);
    if (!m) throw new ParamError(`${flag} ${shortValue(a)}: expected NAME=VALUE, e.g. ${flag.split('/').pop()} width=8`);
    if (Object.hasOwn(out, m[1]!)) throw new ParamError(`${flag} ${shortValue(a)}: ${m[1]} is given twice`);
    out[m[1]!] = m[2]!;
  }
  return out;
}

/** RTL kept in the repository: rtl/<dir>/ holds the design generated from core + params. */
/** Elaborate and emit a core with validated parameters, its manifest `extra` filled in. */
export function emitCore(core: CoreEntry, params: Readonly<Record<string, number>>, opts: EmitOptions = {}): EmittedDesign {
  return emitDesign(core.build(params), { ...opts, extra: core.extra?.(params) });
}

/**
 * The designs checked in under rtl/: a core and the parameters that differ from its
 * defaults (an entry with none is the default configuration).
 */
export const CHECKED_IN: readonly { core: string; params: Record<string, number>; dir: string }[] = [
  { core: 'counter', params: {}, dir: 'counter' },
  { core: 'fifo', params: {}, dir: 'fifo' },
  { core: 'uart', params: {}, dir: 'uart' },
  { core: 'board', params: {}, dir: 'board' },
  // rtl/board's SoC as byte streams (no UART; the same identity): what board-sim and the sim
  // backend build, so they need no generator.
  { core: 'board', params: { phy: 0 }, dir: 'board_bytes' },
  { core: 'icebreaker', params: {}, dir: 'icebreaker' },
  { core: 'arty', params: {}, dir: 'arty' },
  { core: 'xdma', params: {}, dir: 'xdma' },
  // The PCIe top with its weights in board DRAM: 2^23 tiles of 64 bytes (512 MiB, a whole
  // BitNet-2B-4T) behind a 512-bit AXI4 master, which is the KC705 MIG's DDR3 width at 4:1.
  { core: 'xdma', params: { kmax: 8192, wdepth: 2 ** 23, dram: 512, maddr: 30 }, dir: 'xdma_ddr' },
  { core: 'ternary', params: {}, dir: 'ternary_core' },
];
