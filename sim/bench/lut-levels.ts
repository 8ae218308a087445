// Logic depth of a synth_xilinx or synth_ice40 netlist, stage by stage: the most LUT levels and the most
// carry chains on any path between flip-flops (or ports). Yosys's own `ltp -noff` cannot say
// this: it does not know FDRE is a flip-flop (so it walks through registers unless they are
// deselected), it treats every cell as depending on all its inputs (so a RAM32M's write port
// looks combinational, and a LUT6_2 whose O5 ignores I3 looks like a ripple through every bit
// of a three-input adder), and it counts each CARRY4 of a chain as a level. Here each output
// depends on the inputs its function reads: a LUT's support from its INIT, a RAM32M/RAM64M
// read port on its own address only, a CARRY4 as one chain however many cells long. On
// iCE40 an SB_LUT4's support comes from its LUT_INIT, and a run of SB_CARRYs (the adder's
// sum LUTs hang off it) is one chain as CARRY4s are.

import { readFileSync } from 'node:fs';

type Bit = number | string;
interface Cell {
  type: string;
  parameters: Record<string, string>;
  port_directions: Record<string, 'input' | 'output'>;
  connections: Record<string, Bit[]>;
}

export interface Depth {
  /** Most LUT levels (LUTs, LUTRAM reads, inverters) on a path between flip-flops or ports. */
  luts: number;
  /** Most carry chains entered on such a path (a chain of CARRY4s counts once). */
  chains: number;
  /** Most LUT levels plus chains on one path. */
  both: number;
}

const SEQUENTIAL = /^(FD(RE|SE|CE|PE)|RAMB(18|36)E1|DSP48E1|SB_DFF\w*|SB_RAM40_4K\w*|SB_SPRAM256KA)$/;
const PASS = /^(IBUF|OBUF|BUFG|SB_GB)$/;

/** Inputs a LUT output depends on, from its truth table. */
function support(init: string, inputs: number): number[] {
  const table = init.padStart(2 ** inputs, '0'); // Yosys writes INIT as a binary string, MSB first
  const at = (i: number): string => table[table.length - 1 - i]!;
  const out: number[] = [];
  for (let k = 0; k < inputs; k++) {
    for (let i = 0; i < 2 ** inputs; i++) {
      if (!(i & (1 << k)) && at(i) !== at(i | (1 << k))) {
        out.push(k);
        break;
      }
    }
  }
  return out;
}

/** Combinational arcs of one cell: output port/bit -> the input bits it depends on. */
function arcs(c: Cell): { out: Bit; ins: Bit[]; lut: number; chain: 'enter' | 'carry' | 'none' }[] {
  const con = c.connections;
  const one = (p: string): Bit[] => con[p] ?? [];
  const t = c.type;
  const lut = /^LUT([1-6])$/.exec(t);
  if (lut) {
    const n = Number(lut[1]);
    const ins = support(c.parameters.INIT ?? '', n).flatMap((k) => one(`I${k}`));
    return [{ out: one('O')[0]!, ins, lut: 1, chain: 'none' }];
  }
  if (t === 'LUT6_2') {
    const init = (c.parameters.INIT ?? '').padStart(64, '0');
    const o6 = support(init, 6).flatMap((k) => one(`I${k}`));
    const o5 = support(init.slice(32), 5).flatMap((k) => one(`I${k}`));
    return [
      { out: one('O6')[0]!, ins: o6, lut: 1, chain: 'none' },
      { out: one('O5')[0]!, ins: o5, lut: 1, chain: 'none' },
    ];
  }
  if (t === 'SB_LUT4') {
    const ins = support(c.parameters.LUT_INIT ?? '', 4).flatMap((k) => one(`I${k}`));
    return [{ out: one('O')[0]!, ins, lut: 1, chain: 'none' }];
  }
  if (t === 'SB_CARRY') return [{ out: one('CO')[0]!, ins: [...one('I0'), ...one('I1'), ...one('CI')], lut: 0, chain: 'carry' }];
  if (t === 'INV') return [{ out: one('O')[0]!, ins: one('I'), lut: 1, chain: 'none' }];
  if (t === 'RAM32M' || t === 'RAM64M') {
    return ['A', 'B', 'C', 'D'].flatMap((k) => one(`DO${k}`).map((b) => ({ out: b, ins: one(`ADDR${k}`), lut: 1, chain: 'none' as const })));
  }
  if (t === 'RAM32X1D' || t === 'RAM64X1D') {
    const a = ['A0', 'A1', 'A2', 'A3', 'A4', 'A5'].flatMap(one);
    const d = ['DPRA0', 'DPRA1', 'DPRA2', 'DPRA3', 'DPRA4', 'DPRA5'].flatMap(one);
    return [
      { out: one('SPO')[0]!, ins: a, lut: 1, chain: 'none' },
      { out: one('DPO')[0]!, ins: d, lut: 1, chain: 'none' },
    ];
  }
  if (t === 'CARRY4') {
    const s = one('S');
    const di = one('DI');
    const ci = [...one('CI'), ...one('CYINIT')];
    const res: { out: Bit; ins: Bit[]; lut: number; chain: 'enter' | 'carry' | 'none' }[] = [];
    for (let k = 0; k < 4; k++) {
      // CI continues a chain; S and DI enter one. Both kinds of input appear in every arc.
      res.push({ out: one('O')[k]!, ins: [...s.slice(0, k + 1), ...di.slice(0, k), ...ci], lut: 0, chain: 'carry' });
      res.push({ out: one('CO')[k]!, ins: [...s.slice(0, k + 1), ...di.slice(0, k + 1), ...ci], lut: 0, chain: 'carry' });
    }
    return res;
  }
  if (t === 'MUXF7' || t === 'MUXF8') return [{ out: one('O')[0]!, ins: [...one('I0'), ...one('I1'), ...one('S')], lut: 0, chain: 'none' }];
  if (PASS.test(t)) {
    const i = Object.keys(con).find((p) => c.port_directions[p] === 'input')!;
    const o = Object.keys(con).find((p) => c.port_directions[p] === 'output')!;
    return con[o]!.map((b, k) => ({ out: b, ins: [con[i]![k]!], lut: 0, chain: 'none' as const }));
  }
  if (SEQUENTIAL.test(t)) return [];
  throw new Error(`lut-levels: no timing arcs known for cell type ${t}`);
}

interface Netlist {
  modules: Record<string, { cells: Record<string, Cell>; netnames: Record<string, { bits: Bit[]; hide_name?: number }> }>;
}

/** Depth of every combinational bit of a netlist's top module, from the flip-flops and ports that feed it. */
function depths(jsonPath: string, top: string): { mod: Netlist['modules'][string]; depth: (b: Bit) => Depth; driven: Iterable<Bit> } {
  const j = JSON.parse(readFileSync(jsonPath, 'utf8')) as Netlist;
  const mod = j.modules[top];
  if (!mod) throw new Error(`lut-levels: no module ${top} in ${jsonPath}`);
  type Arc = ReturnType<typeof arcs>[number] & { carryIns: Set<Bit> };
  const driver = new Map<Bit, Arc>();
  const carryOut = new Set<Bit>();
  const CHAIN = /^(CARRY4|SB_CARRY)$/;
  for (const c of Object.values(mod.cells)) if (CHAIN.test(c.type)) for (const b of c.connections.CO ?? []) carryOut.add(b);
  for (const c of Object.values(mod.cells)) {
    for (const a of arcs(c)) {
      if (typeof a.out !== 'number') continue;
      const carryIns = new Set<Bit>(CHAIN.test(c.type) ? [...(c.connections.CI ?? [])].filter((b) => carryOut.has(b)) : []);
      driver.set(a.out, { ...a, carryIns });
    }
  }
  const memo = new Map<Bit, Depth>();
  const busy = new Set<Bit>();
  const depth = (b: Bit): Depth => {
    const hit = memo.get(b);
    if (hit) return hit;
    const a = driver.get(b);
    if (!a) return { luts: 0, chains: 0, both: 0 }; // a flip-flop output, a port, a constant
    if (busy.has(b)) throw new Error(`lut-levels: combinational loop through bit ${b}`);
    busy.add(b);
    const d: Depth = { luts: 0, chains: 0, both: 0 };
    for (const i of a.ins) {
      const s = depth(i);
      // Entering a chain from a LUT (S, DI) starts one; coming from the CARRY4 below (CI) does not.
      const newChain = a.chain === 'carry' && !a.carryIns.has(i) ? 1 : 0;
      d.luts = Math.max(d.luts, s.luts + a.lut);
      d.chains = Math.max(d.chains, s.chains + newChain);
      d.both = Math.max(d.both, s.both + a.lut + newChain);
    }
    if (a.ins.length === 0) {
      d.luts = a.lut;
      d.both = a.lut;
    }
    busy.delete(b);
    memo.set(b, d);
    return d;
  };
  return { mod, depth, driven: driver.keys() };
}

function worstOf(ds: Iterable<Depth>): Depth {
  const worst: Depth = { luts: 0, chains: 0, both: 0 };
  for (const d of ds) {
    worst.luts = Math.max(worst.luts, d.luts);
    worst.chains = Math.max(worst.chains, d.chains);
    worst.both = Math.max(worst.both, d.both);
  }
  return worst;
}

/** The depth of the top module of a Yosys JSON netlist (write_json after synth_xilinx -flatten or synth_ice40). */
export function netlistDepth(jsonPath: string, top: string): Depth {
  const { depth, driven } = depths(jsonPath, top);
  return worstOf([...driven].map(depth));
}

/**
 * The stages of a netlist by the register they end in, deepest first: for each flip-flop (named
 * by the net its Q drives, the bit index dropped) or block RAM (by its name, its banks
 * together), the worst depth into any of its inputs. This is what says which stage of a design
 * limits it.
 */
export function stageDepths(jsonPath: string, top: string): { end: string; depth: Depth }[] {
  const { mod, depth } = depths(jsonPath, top);
  // A readable name for a bit: of the public nets (no '$') that carry it, one the source
  // named rather than one Yosys named after a cell (`x_SB_LUT4_O`), the shortest.
  const names = new Map<Bit, string>();
  const rank = (n: string) => (n.includes('_SB_') ? 1e6 : 0) + n.length;
  for (const [n, net] of Object.entries(mod.netnames)) {
    if (net.hide_name || n.includes('$')) continue;
    for (const [i, b] of net.bits.entries()) {
      const name = net.bits.length > 1 ? `${n}[${i}]` : n;
      const had = names.get(b);
      if (had === undefined || rank(name) < rank(had)) names.set(b, name);
    }
  }
  const byEnd = new Map<string, Depth[]>();
  const add = (end: string, d: Depth) => {
    const list = byEnd.get(end);
    if (list) list.push(d);
    else byEnd.set(end, [d]);
  };
  for (const [cellName, c] of Object.entries(mod.cells)) {
    if (!SEQUENTIAL.test(c.type)) continue;
    // A block RAM by its own name, its banks together (Yosys names them `mem.0.0`, `mem.0.1`, ...).
    const outBit = Object.entries(c.connections).find(([p]) => c.port_directions[p] === 'output')?.[1][0];
    const ram = /^(RAMB|SB_RAM|SB_SPRAM)/.test(c.type);
    const end = ram ? cellName.replace(/(\.\d+)+(_\w+)?$/, '') : (outBit !== undefined && names.get(outBit)) || cellName;
    const group = end.replace(/\[\d+\]$/, '');
    for (const [p, bits] of Object.entries(c.connections)) if (c.port_directions[p] === 'input') for (const b of bits) add(group, depth(b));
  }
  return [...byEnd.entries()].map(([end, ds]) => ({ end, depth: worstOf(ds) })).sort((a, b) => b.depth.both - a.depth.both || b.depth.luts - a.depth.luts || a.end.localeCompare(b.end));
}

/**
 * An upper bound on the Fmax nextpnr-ice40 can reach on an UP5K for a netlist of this depth,
 * from its own delay model (the figures its critical-path reports print): a flip-flop's clock
 * to Q 1.4 ns, then on the deepest path every LUT level or carry chain entered at least 0.9 ns
 * of cell (a LUT's fastest input; a chain's first SB_CARRY is 0.7 ns and its sum LUT a level of
 * its own) plus 0.6 ns of wire (between neighbouring tiles, the shortest hop). Real paths have
 * longer wires and longer chains, so a design reaches well below this; a request above it
 * cannot be met whatever the placement.
 */
export function ice40FmaxBound(d: Depth): number {
  const ns = 1.4 + d.both * (0.9 + 0.6);
  return 1000 / ns;
}
