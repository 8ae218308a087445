// The board's command engine: the link protocol (host/link/PROTOCOL.md) on the ternary
// core. Bytes come in and go out as valid/ready streams, so the same engine sits behind the
// UART or a PCIe stream. It is two modules joined by two bundles (framer.ts's requestSpec
// and answerSpec, valid/ready in the Chisel style):
//   framer.ts    link_framer_<index bits>b: sync search, header, length and CRC of requests;
//                framing and CRC of answers
//   executor.ts  link_exec_<sizing>: IDENTIFY, READ_REG, WRITE_REG, WRITE_WEIGHTS, MATMUL,
//                RESET and the run rules (PROTOCOL.md "Runs")
// This file holds the protocol's constants, the engine's parameters and the module a board
// instantiates, link_engine_<sizing>_id_<hash>: the two connected, with the board's
// identity hash wired in as a constant, so the framer and executor of one sizing are the
// same modules on every board.

import { defineModule, UInt, Bool, lit, cat, bundlePorts, connectBundle, streamSpec } from '../../hdl/index.ts';
import { linkFramer, requestSpec, answerSpec, indexBits } from './framer.ts';
import { linkExecutor, bodyMax } from './executor.ts';
import { nameWith, type NameTags } from '../naming.ts';
import { BOARD_PARAMS, defaultsOf } from '../param-table.ts';

// The protocol's numbers (version, opcodes, status codes, the payload limit) live in
// common/protocol.ts, which the host and the simulators import too: one definition for both
// ends of the link. Re-exported here for the generator's users.
export { PROTOCOL_VERSION, OP, STATUS, MAX_PAYLOAD } from '../../../common/protocol.ts';
import { PROTOCOL_VERSION, IDENTITY_INT4_PAIRS } from '../../../common/protocol.ts';
import { resultBeatBits } from '../../../common/core-layout.ts';

/** What shapes the engine's body: the core's shape and limits, and the link's own sizes. */
export interface EngineSizing {
  rows: number;
  cols: number;
  act: number;
  format: number;
  kmax: number;
  mmax: number;
  wdepth: number;
  /** Bits of one weight tile (the core's wordBits) and of one activation beat (xBits); both whole bytes. */
  wordBits: number;
  xBits: number;
  /** Weight tiles one WRITE_WEIGHTS frame may carry (the staging buffer, a power of two). */
  stage: number;
  /** Clock cycles without a byte after which a frame in progress is abandoned (a power of two; the framer's, absent for the executor). */
  idle: number;
  // Optional, through the index signature: dual4 (1: the core has the int4-pairs mode; MATMUL_INT4 is decoded, result beats carry two tokens).
  [k: string]: number;
}

/** The engine's parameters with the identity: the hash, 8 words of 32 bits (the core's manifest content hash). */
export interface EngineParams extends EngineSizing {
  h0: number; h1: number; h2: number; h3: number; h4: number; h5: number; h6: number; h7: number;
}

/** The IDENTIFY payload after the status byte. */
export function identityBytes(p: EngineParams): number[] {
  const u32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
  const hash = [p.h0, p.h1, p.h2, p.h3, p.h4, p.h5, p.h6, p.h7].flatMap(u32);
  return [PROTOCOL_VERSION, ...hash, p.rows, p.cols, p.dual4 ? p.act | IDENTITY_INT4_PAIRS : p.act, p.format, ...u32(p.kmax), ...u32(p.mmax), ...u32(p.wdepth), ...u32(p.stage)];
}


const SIZING = ['rows', 'cols', 'act', 'format', 'kmax', 'mmax', 'wdepth', 'wordBits', 'xBits', 'stage', 'idle'] as const;
/** What an engine's name carries besides its shape (naming.ts); wordBits and xBits follow from the shape. */
const ENGINE_TAGS: NameTags = [['kmax', 'k'], ['mmax', 'm'], ['wdepth', 'w'], ['stage', 's'], ['idle', 'i'], ['dual4', 'dual']];
const engineName = (p: EngineSizing): string => nameWith(`link_engine_${p.rows}x${p.cols}_a${p.act}_f${p.format}`, p, ENGINE_TAGS, defaultsOf(BOARD_PARAMS));

/** The sizing part of an engine's parameters. */
export function engineSizing(p: EngineSizing): EngineSizing {
  return { ...(Object.fromEntries(SIZING.map((k) => [k, p[k]])) as EngineSizing), ...(p.dual4 ? { dual4: p.dual4 } : {}) };
}

/** Bits of a result beat from the core: cols int32, two tokens' worth with dual4. */
export const engineResultBits = (p: EngineSizing): number => resultBeatBits({ cols: p.cols, dual4: p.dual4 ?? 0 });

/** The executor's parameters: the sizing but `idle`, which only the framer uses. */
const withoutIdle = (p: EngineSizing): EngineSizing => Object.fromEntries(Object.entries(p).filter(([k]) => k !== 'idle')) as EngineSizing;

/**
 * The engine a board instantiates: the framer and the executor connected by their request
 * and answer bundles, and the board's identity hash (what IDENTIFY reports) as a constant.
 */
export const linkEngine = defineModule(
  'link_engine_id',
  (m, p: EngineParams) => {
    const sizing = engineSizing(p);
    const index = indexBits(bodyMax(sizing));
    const f = m.instance('framer', linkFramer({ index, idle: p.idle }));
    const e = m.instance('exec', linkExecutor(withoutIdle(sizing)));
    connectBundle(m, requestSpec(), e.req, f.req);
    connectBundle(m, answerSpec(index), f.ans, e.ans);
    // The identity ROM: the board's hash, a constant here, so the framer and executor are
    // the same modules on every board of this sizing.
    const hash = [p.h0, p.h1, p.h2, p.h3, p.h4, p.h5, p.h6, p.h7].map((h) => lit(h >>> 0, UInt(32)));
    m.set(e.idHash, cat(...hash.reverse()));
    const bytes = streamSpec(UInt(8));
    const rx = bundlePorts(m, 'rx', bytes, 'sink');
    const tx = bundlePorts(m, 'tx', bytes, 'source');
    connectBundle(m, bytes, f.rx, rx);
    connectBundle(m, bytes, tx, f.tx);
    // Marks an answer's last byte, for links that carry frames as packets (AXI4-Stream tlast).
    const txLast = m.output('tx_last', Bool);
    m.set(txLast, f.txLast);
    const reg = { addr: m.output('reg_addr', UInt(4)), wdata: m.output('reg_wdata', UInt(32)), we: m.output('reg_we', Bool), rdata: m.input('reg_rdata', UInt(32)) };
    m.set(reg.addr, e.reg.addr);
    m.set(reg.wdata, e.reg.wdata);
    m.set(reg.we, e.reg.we);
    m.set(e.reg.rdata, reg.rdata);
    const coreReset = m.output('core_reset', Bool);
    m.set(coreReset, e.coreReset);
    const coreBusy = m.input('core_busy', Bool);
    m.set(e.coreBusy, coreBusy);
    const w = bundlePorts(m, 'w', streamSpec(UInt(p.wordBits)), 'source');
    const x = bundlePorts(m, 'x', streamSpec(UInt(p.xBits)), 'source');
    const y = bundlePorts(m, 'y', streamSpec(UInt(engineResultBits(p))), 'sink');
    connectBundle(m, streamSpec(UInt(p.wordBits)), w, e.w);
    connectBundle(m, streamSpec(UInt(p.xBits)), x, e.x);
    connectBundle(m, streamSpec(UInt(engineResultBits(p))), e.y, y);
    return { rx, tx, txLast, reg, coreReset, coreBusy, w, x, y };
  },
  {
    // Named by the hash's first 8 hex digits, as the manifest writes it (two boards of one
    // sizing whose hashes agree there are a 1 in 4e9 chance; test/rtl-names.test.ts would see it).
    name: (p) => `${engineName(p)}_id_${[0, 8, 16, 24].map((s) => ((p.h0 >>> s) & 0xff).toString(16).padStart(2, '0')).join('')}`,
  },
);
