// The board SoC for the serial link: UART (or, with phy=0, the UART's byte streams
// brought out directly, which is what board-sim and the PCIe top use), the command engine,
// and the ternary matmul core. The identity the board reports is the core's manifest
// content hash, so a host can refuse a board built from other RTL.

import { defineModule, emitDesign, UInt, Bool, bundlePorts, connectBundle, streamSpec, axi4Spec, type Signal, type Bundle } from '../hdl/index.ts';
import { ternaryCore } from './ternary/core.ts';
import { derive, dramParams, pickTernary, validate as validateTernary, type TernaryParams } from './ternary/params.ts';
import { linkEngine, type EngineParams } from './link/engine.ts';
import { uart, validateUart } from './uart.ts';
import { nameWith, type NameTags } from './naming.ts';
import { BOARD_PARAMS, UART_PARAMS, checkParam, defaultsOf } from './param-table.ts';

/** The board's UART FIFOs: the UART core's default depth. */
export const UART_DEPTH = UART_PARAMS.depth!.default;

/** What a board's name (and its tops') carries besides the readable part (naming.ts). */
export const BOARD_TAGS: NameTags = [['act', 'a'], ['format', 'f'], ['kmax', 'k'], ['mmax', 'm'], ['wdepth', 'w'], ['acc', 'acc'], ['maddr', 'ma'], ['mbase', 'mb'], ['mburst', 'ml'], ['ports', 'p'], ['stage', 's'], ['idle', 'i'], ['dual4', 'dual']];
/** A board top's (its readable part is the board's name, so the shape is tagged too). */
export const TOP_TAGS: NameTags = [['rows', 'r'], ['cols', 'n'], ['dram', 'd'], ...BOARD_TAGS, ['baud', 'b']];
/** The UART's, which reach the body only with phy=1. */
export const UART_TAGS: NameTags = [['clk', 'c'], ['baud', 'b']];

/** A byte stream: what the UART, the engine and the board's byte-stream flavour pass. */
export const BYTES = streamSpec(UInt(8));

export interface BoardParams extends TernaryParams {
  /** Weight tiles per WRITE_WEIGHTS frame. */
  readonly stage: number;
  /** Quiet cycles after which the engine abandons a frame in progress (a power of two). */
  readonly idle: number;
  /** 1: rx/tx pins through the UART; 0: byte streams in and out (simulation). */
  readonly phy: number;
  readonly clk: number;
  readonly baud: number;
  [k: string]: number;
}

function coreParams(p: BoardParams): TernaryParams {
  return pickTernary(p);
}

/** The core's content hash: what IDENTIFY reports and the host checks. */
export function boardIdentity(p: BoardParams): string {
  return emitDesign(ternaryCore(coreParams(p))).manifest.contentHash;
}

/** Ports of either flavour: uartRx/uartTx with phy=1, rx/tx byte streams with phy=0. */
export interface BoardIO {
  readonly busy: Signal;
  readonly coreReset: Signal;
  readonly uartRx?: Signal;
  readonly uartTx?: Signal;
  readonly rx?: { readonly valid: Signal; readonly ready: Signal; readonly data: Signal };
  readonly tx?: { readonly valid: Signal; readonly ready: Signal; readonly data: Signal };
  /** With phy=0: high with the last byte of each response. */
  readonly txLast?: Signal;
  /** With dram > 0: the core's AXI4 master toward board DRAM (port 0's with ports > 1). */
  readonly axi?: Bundle<ReturnType<typeof axi4Spec>>;
  /** With dram > 0: every master, one per port (m_axi_*, or m_axi0_* … with ports > 1). */
  readonly axis?: readonly Bundle<ReturnType<typeof axi4Spec>>[];
}

export function validateBoard(p: BoardParams): void {
  validateTernary(coreParams(p));
  const d = derive(coreParams(p));
  if (d.wordBits % 8 || d.xBits % 8) throw new RangeError(`rows=${p.rows} cols=${p.cols} act=${p.act}: the link moves whole bytes; a weight tile (${d.wordBits} bits) and an activation beat (${d.xBits} bits) must be multiples of 8`);
  for (const k of ['stage', 'idle', 'phy'] as const) checkParam(BOARD_PARAMS, k, p[k]);
  if (p.phy) validateUart({ clk: p.clk, baud: p.baud, depth: UART_DEPTH });
}

/** The command engine's parameters for a board: the core's shape and the identity hash. */
export function engineParams(p: BoardParams): EngineParams {
  const d = derive(coreParams(p));
  // IDENTIFY sends each word little-endian, so this makes the 32 bytes read as the hash.
  const bytes = Buffer.from(boardIdentity(p), 'hex');
  const h = Array.from({ length: 8 }, (_, i) => bytes.readUInt32LE(4 * i));
  return { rows: p.rows, cols: p.cols, act: p.act, format: p.format, kmax: p.kmax, mmax: p.mmax, wdepth: p.wdepth, wordBits: d.wordBits, xBits: d.xBits, stage: p.stage, idle: p.idle, ...(p.dual4 ? { dual4: p.dual4 } : {}), h0: h[0]!, h1: h[1]!, h2: h[2]!, h3: h[3]!, h4: h[4]!, h5: h[5]!, h6: h[6]!, h7: h[7]! };
}

export const board = defineModule(
  'board',
  (m, p: BoardParams) => {
    const cp = coreParams(p);
    const engine = m.instance('engine', linkEngine(engineParams(p)));
    const core = m.instance('core', ternaryCore(cp));
    m.set(core.reg.addr, engine.reg.addr);
    m.set(core.reg.wdata, engine.reg.wdata);
    m.set(core.reg.we, engine.reg.we);
    m.set(engine.reg.rdata, core.reg.rdata);
    m.set(engine.coreBusy, core.busy);
    for (const s of ['w', 'x'] as const) {
      m.set(core[s].valid, engine[s].valid);
      m.set(core[s].data, engine[s].data);
      m.set(engine[s].ready, core[s].ready);
    }
    m.set(engine.y.valid, core.y.valid);
    m.set(engine.y.data, core.y.data);
    m.set(core.y.ready, engine.y.ready);
    const busy = m.output('busy', Bool);
    m.set(busy, core.busy);
    // RESET resets the core (its registers and loaded activations; memories keep the
    // weights) once the answer has gone out. The pulse is also brought out, for an LED.
    m.set(m.portOf('core', 'rst'), m.sync.rst!.or(engine.coreReset));
    // Weights in board DRAM: the masters come out as the core names them (m_axi_*, or
    // m_axi0_* … with ports > 1); their units keep the hard reset.
    const dp = dramParams(cp);
    const axis = dp ? Array.from({ length: dp.ports }, (_, j) => bundlePorts(m, dp.ports === 1 ? 'm_axi' : `m_axi${j}`, axi4Spec(dp.addr, dp.data), 'source')) : [];
    const axi = axis[0];
    if (dp) {
      m.set(core.memRst!, m.sync.rst!);
      m.set(m.output('mem_error', Bool), core.memError!);
      axis.forEach((a, j) => connectBundle(m, axi4Spec(dp.addr, dp.data), a, core.axis![j]!));
    }
    const coreReset = m.output('core_reset', Bool);
    m.set(coreReset, engine.coreReset);
    if (p.phy) {
      const rx = m.input('uart_rx', Bool);
      const tx = m.output('uart_tx', Bool);
      const u = m.instance('serial', uart({ clk: p.clk, baud: p.baud, depth: UART_DEPTH }));
      m.set(u.rx, rx);
      m.set(tx, u.tx);
      connectBundle(m, BYTES, engine.rx, u.out);
      connectBundle(m, BYTES, u.in, engine.tx);
      // Link health, for LEDs or a debugger: framing errors, overruns, FIFO levels.
      const status = { frame_errors: u.frameErrors, overruns: u.overruns, rx_level: u.rxLevel, tx_level: u.txLevel };
      for (const [name, sig] of Object.entries(status)) m.set(m.output(`uart_${name}`, UInt(sig.width)), sig);
      return { uartRx: rx, uartTx: tx, busy, coreReset, axi, axis } as BoardIO;
    }
    const rx = bundlePorts(m, 'rx', BYTES, 'sink');
    const tx = bundlePorts(m, 'tx', BYTES, 'source');
    connectBundle(m, BYTES, engine.rx, rx);
    connectBundle(m, BYTES, tx, engine.tx);
    const txLast = m.output('tx_last', Bool);
    m.set(txLast, engine.txLast);
    return { rx, tx, txLast, busy, coreReset, axi, axis } as BoardIO;
  },
  {
    name: (p) => nameWith(`board_${p.rows}x${p.cols}_${p.phy ? 'uart' : 'bytes'}${p.dram ? `_axi${p.dram}` : ''}`, p, p.phy ? [...BOARD_TAGS, ...UART_TAGS] : BOARD_TAGS, defaultsOf(BOARD_PARAMS)),
    validate: (p) => validateBoard(p),
  },
);
