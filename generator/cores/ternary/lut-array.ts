// A table-lookup ternary array: rows x cols dot products per weight tile, built for one
// activation beat at a time. The arithmetic and the dataflow it needs are in README.md
// ("A table-lookup array").
//
// For each pair of lanes (i, j) = (2p, 2p+1) a table holds w_i*a_i + w_j*a_j for the
// 9 weight pairs (16 with fill=16). It is addressed directly by the two 2-bit weight codes
// of a column, so the "multiply" and the first adder level are one LUTRAM read, and every
// column reads the same table through its own read port. A table is 32 deep: the spare
// address bit selects one of two buffers, so the next beat's tables fill while tiles read
// the current ones. Yosys 0.23 maps each table (one write port, `cols` async read ports)
// onto RAM32M, three read ports of 2 bits per 4 LUTs.
//
// The writer of a pair is one register and one adder shared by all columns: the entries
// are written in an order where each differs from the one before by exactly +-a_i or
// +-a_j (a path through the 3x3 grid of weight pairs starting at (0, 0)), so the next
// value is v +- a with the sign as carry-in: one LUT per bit (writerAdd), no negation and
// no mux of four terms. A fill takes `fill` cycles.
//
// After the lookups, the rows/2 pair sums of a column are added by a tree of three-input
// adders: one LUT6_2 per bit on a CARRY4 chain (ternaryAdd), which Yosys does not build by
// itself from a + b + c (it makes two LUTs per bit), and binary adders where a level has
// two left over.
//
// Interface (all streams valid/ready, except y, which has a fixed latency):
//   x      one activation beat to build tables from, lane r at [r*act +: act], signed. It is
//          accepted (x_ready) in the last of the `fill` cycles that read it, so a source that
//          holds it while valid (the stream rule) keeps it stable for the whole fill. A fill
//          starts as soon as a buffer is free: at most one table set waits behind the one in use.
//   w      weight tiles, code (r, c) at [2*(r*cols + c) +: 2] (0: -1, 1: 0, 2: +1), as in the
//          core. Accepted while a table set is built; w_last releases the set to the next beat.
//   dot    cols dot products, column c at [c*dotBits +: dotBits], valid (y_valid) `latency`
//          cycles after the tile was accepted. With pipe=cs the dot product is dot + dot_c
//          (mod 2^dotBits), a carry-save pair for an accumulator that adds three operands.
// With fill=9, code 3 (no weight) makes the pair it belongs to read 0 for both lanes (those
// entries are never written and power up to 0); fill=16 writes them too, and code 3 reads
// as weight 0, as ternary_dot treats it.

import { defineModule, defineBlackBox, UInt, SInt, Bool, cat, mux, select, lit, type Value, type Signal, type Elaborated } from '../../hdl/index.ts';
import { log2ceil } from './params.ts';

export interface LutArrayParams {
  /** Lanes of an activation beat (even: two lanes share a table). */
  readonly rows: number;
  /** Dot products per tile (read ports on every table). */
  readonly cols: number;
  /** Activation bits (signed). */
  readonly act: number;
  /** Table entries written per beat: 9 (weights -1, 0, +1) or 16 (code 3 too, as weight 0). */
  readonly fill: number;
  /**
   * Pipeline registers: 'out' (one, at the output), 'level' (after every adder level), or 'cs'
   * (after every level but the last, which is a 3:2 compressor in the stage before it: the
   * output is a carry-save pair dot + dot_c, for a consumer whose accumulator adds both).
   */
  readonly pipe: string;
  [k: string]: number | string;
}

/** Bits of a signed value holding every integer in [lo, hi]. */
export function signedBits(lo: number, hi: number): number {
  let w = 1;
  while (lo < -(2 ** (w - 1)) || hi > 2 ** (w - 1) - 1) w++;
  return w;
}

/** Width of a column's dot product: the same as ternary_dot's, so the two are interchangeable. */
export function lutDotBits(p: Pick<LutArrayParams, 'rows' | 'act'>): number {
  return p.act + log2ceil(p.rows) + 1;
}

const weightOf = (code: number): number => (code === 0 ? -1 : code === 2 ? 1 : 0);

export interface FillStep {
  /** Codes (c_i, c_j) of the entry written in this step; its address is c_i*4 + c_j. */
  readonly ci: number;
  readonly cj: number;
  /** What the writer adds after writing, to reach the next step's entry: +-a of lane i or j. */
  readonly lane: 'i' | 'j';
  readonly neg: boolean;
}

/**
 * The order a writer fills its table in: every entry (codes 0..2, or 0..3 for fill=16)
 * once, starting at the zero entry (1, 1), each step changing one lane's weight by +-1 and
 * keeping the other's, so the writer only ever adds +-a_i or +-a_j. Found by depth-first
 * search; the last step's addend is unused (the writer clears instead).
 */
export function fillOrder(fill: number): FillStep[] {
  const codes = fill === 16 ? [0, 1, 2, 3] : [0, 1, 2];
  const all = codes.flatMap((ci) => codes.map((cj) => [ci, cj] as const));
  const path: (readonly [number, number])[] = [[1, 1]];
  const used = new Set(['1,1']);
  const step = (a: readonly [number, number], b: readonly [number, number]): boolean => {
    const di = weightOf(b[0]) - weightOf(a[0]);
    const dj = weightOf(b[1]) - weightOf(a[1]);
    return Math.abs(di) + Math.abs(dj) === 1;
  };
  const dfs = (): boolean => {
    if (path.length === all.length) return true;
    const last = path[path.length - 1]!;
    for (const e of all) {
      const k = `${e[0]},${e[1]}`;
      if (used.has(k) || !step(last, e)) continue;
      used.add(k);
      path.push(e);
      if (dfs()) return true;
      path.pop();
      used.delete(k);
    }
    return false;
  };
  if (!dfs()) throw new Error(`fillOrder: no +-a path through the ${all.length} entries`);
  return path.map(([ci, cj], s) => {
    const next = path[s + 1];
    if (!next) return { ci, cj, lane: 'i', neg: false };
    const di = weightOf(next[0]) - weightOf(ci);
    const dj = weightOf(next[1]) - weightOf(cj);
    return di !== 0 ? { ci, cj, lane: 'i', neg: di < 0 } : { ci, cj, lane: 'j', neg: dj < 0 };
  });
}

// LUT6_2 with I5 = 1: O6 = INIT[32 + {I4..I0}], O5 = INIT[{I4..I0}]. Inputs a, b, c, m (the
// carry-save carry from the bit below) on I0..I3, I4 = 0. O5 = maj(a, b, c) (0xE8 over I2..I0),
// O6 = a ^ b ^ c ^ m (0x6996 over I3..I0), each repeated where the pattern ignores inputs.
const TERNARY_LUT_INIT = "64'h6996_6996_E8E8_E8E8";

const ternaryBoxes = new Map<number, Elaborated<Record<string, Signal>>>();

/**
 * y = a + b + c (mod 2^width) at one LUT6_2 per bit on a CARRY4 chain (the 3:1 adder of
 * Xilinx's 7-series). Bit i's LUT computes the carry-save pair of a[i] + b[i] + c[i]: the
 * carry m[i+1] = maj on O5, fed to bit i+1's LUT, and on O6 the propagate a^b^c^m[i] of
 * the chain, which adds the sum bits to the carries. Where the propagate is 0 the two
 * addends' bits are equal, so m[i] is the generate (DI, through the slice's bypass input).
 * Hand-written Verilog: the primitives come from the synthesis library (Yosys's or
 * Vivado's); simulation needs models of LUT6_2 and CARRY4 (sim/vip/xilinx-prims.v).
 */
export function ternaryAdd(width: number): Elaborated<Record<string, Signal>> {
  const hit = ternaryBoxes.get(width);
  if (hit) return hit;
  const name = `ternary_add_w${width}`;
  const blocks = Math.ceil(width / 4);
  const padded = 4 * blocks;
  const hi = width - 1;
  const pad = padded > width ? [`    // The chain is whole CARRY4s: bits ${width}..${padded - 1} are padding (propagate 0, generate 0).`, `    assign p[${padded - 1}:${width}] = ${padded - width}'d0;`, `    assign g[${padded - 1}:${width}] = ${padded - width}'d0;`] : [];
  const verilog = [
    '// Hand-written by bitnet-fpga (generator/cores/ternary/lut-array.ts, ternaryAdd):',
    `// y = a + b + c mod 2^${width} at one LUT6_2 per bit on a CARRY4 chain.`,
    '`default_nettype none',
    '',
    `module ${name} (`,
    `    input  wire [${hi}:0] a,`,
    `    input  wire [${hi}:0] b,`,
    `    input  wire [${hi}:0] c,`,
    `    output wire [${hi}:0] y`,
    ');',
    `    wire [${width}:0] m;           // m[i+1] = maj(a[i], b[i], c[i]), the carry-save carry; m[0] = 0`,
    `    wire [${padded - 1}:0] p;           // chain propagate: a ^ b ^ c ^ m, the half-sum of the two addends`,
    `    wire [${padded - 1}:0] g;           // chain generate where p = 0: then both addends' bits equal m`,
    `    wire [${padded - 1}:0] s;           // chain sum`,
    `    wire [${padded - 1}:0] co;          // chain carries; co[4k+3] feeds the next CARRY4`,
    '    assign m[0] = 1\'b0;',
    ...pad,
    `    assign g[${hi}:0] = m[${hi}:0];`,
    `    assign y = s[${hi}:0];`,
    '',
    '    genvar i;',
    '    generate',
    `        for (i = 0; i < ${width}; i = i + 1) begin : bits`,
    `            LUT6_2 #(.INIT(${TERNARY_LUT_INIT})) lut (`,
    '                .O6(p[i]), .O5(m[i + 1]),',
    "                .I0(a[i]), .I1(b[i]), .I2(c[i]), .I3(m[i]), .I4(1'b0), .I5(1'b1)",
    '            );',
    '        end',
    `        for (i = 0; i < ${blocks}; i = i + 1) begin : chain`,
    '            CARRY4 carry (',
    '                .CO(co[4 * i + 3:4 * i]), .O(s[4 * i + 3:4 * i]),',
    "                .CI(i == 0 ? 1'b0 : co[4 * i - 1]), .CYINIT(1'b0),",
    '                .DI(g[4 * i + 3:4 * i]), .S(p[4 * i + 3:4 * i])',
    '            );',
    '        end',
    '    endgenerate',
    '',
    '    // Only each CARRY4\'s top carry goes on; the last one and the last carry-save carry go',
    '    // nowhere: the sum is taken mod 2^width.',
    '    /* verilator lint_off UNUSED */',
    `    wire unused_ok = &{1'b0, m[${width}], co, s[${padded - 1}:${hi}]};`,
    '    /* verilator lint_on UNUSED */',
    'endmodule',
    '',
    '`default_nettype wire',
    '',
  ].join('\n');
  const box = defineBlackBox(name, { a: { dir: 'in', shape: UInt(width) }, b: { dir: 'in', shape: UInt(width) }, c: { dir: 'in', shape: UInt(width) }, y: { dir: 'out', shape: UInt(width) } }, { verilog });
  ternaryBoxes.set(width, box);
  return box;
}

// LUT6_2 with I5 = 1 and I3 = I4 = 0: O6 = a ^ b ^ c (0x96), O5 = maj(a, b, c) (0xE8).
const CSA_LUT_INIT = "64'h9696_9696_E8E8_E8E8";

const csaBoxes = new Map<number, Elaborated<Record<string, Signal>>>();

/**
 * A 3:2 compressor, sum + carry = a + b + c (mod 2^width), one LUT6_2 per bit and no carry
 * chain: the sum bit on O6, the carry (one place up) on O5. Yosys would build two LUT3s a bit.
 */
export function carrySave(width: number): Elaborated<Record<string, Signal>> {
  const hit = csaBoxes.get(width);
  if (hit) return hit;
  const name = `csa32_w${width}`;
  const hi = width - 1;
  const verilog = [
    '// Hand-written by bitnet-fpga (generator/cores/ternary/lut-array.ts, carrySave):',
    `// a 3:2 compressor, sum + carry = a + b + c mod 2^${width}, one LUT6_2 per bit.`,
    '`default_nettype none',
    '',
    `module ${name} (`,
    `    input  wire [${hi}:0] a,`,
    `    input  wire [${hi}:0] b,`,
    `    input  wire [${hi}:0] c,`,
    `    output wire [${hi}:0] sum,`,
    `    output wire [${hi}:0] carry`,
    ');',
    `    wire [${hi}:0] m;           // maj(a[i], b[i], c[i]), worth 2^(i+1)`,
    `    assign carry = {m[${hi - 1 < 0 ? 0 : hi - 1}:0], 1'b0};`,
    '',
    '    genvar i;',
    '    generate',
    `        for (i = 0; i < ${width}; i = i + 1) begin : bits`,
    `            LUT6_2 #(.INIT(${CSA_LUT_INIT})) lut (`,
    '                .O6(sum[i]), .O5(m[i]),',
    "                .I0(a[i]), .I1(b[i]), .I2(c[i]), .I3(1'b0), .I4(1'b0), .I5(1'b1)",
    '            );',
    '        end',
    '    endgenerate',
    '',
    '    // The top carry is worth 2^width: the sum is taken mod 2^width.',
    '    /* verilator lint_off UNUSED */',
    `    wire unused_ok = &{1'b0, m[${hi}]};`,
    '    /* verilator lint_on UNUSED */',
    'endmodule',
    '',
    '`default_nettype wire',
    '',
  ].join('\n');
  const box = defineBlackBox(
    name,
    { a: { dir: 'in', shape: UInt(width) }, b: { dir: 'in', shape: UInt(width) }, c: { dir: 'in', shape: UInt(width) }, sum: { dir: 'out', shape: UInt(width) }, carry: { dir: 'out', shape: UInt(width) } },
    { verilog },
  );
  csaBoxes.set(width, box);
  return box;
}

// LUT5: O = I0 ^ (I3 ? I2 : I1) ^ I4, i.e. v ^ (sel ? b : a) ^ neg.
const WRITER_LUT_INIT = (() => {
  let init = 0;
  for (let i = 0; i < 32; i++) if (((i & 1) ^ ((i >> 3) & 1 ? (i >> 2) & 1 : (i >> 1) & 1) ^ ((i >> 4) & 1)) === 1) init |= 1 << i;
  return `32'h${(init >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;
})();

const writerBoxes = new Map<number, Elaborated<Record<string, Signal>>>();

/**
 * A table writer's adder, y = v + (sel ? b : a) when neg = 0 and v - (sel ? b : a) when
 * neg = 1, at one LUT5 per bit on a CARRY4 chain: the LUT is the chain's propagate
 * v ^ (sel ? b : a) ^ neg, v is the generate, neg the carry-in. Hand-written because
 * Yosys 0.23 keeps the lane mux in LUTs of its own (2 LUTs a bit) in this design.
 */
export function writerAdd(width: number): Elaborated<Record<string, Signal>> {
  const hit = writerBoxes.get(width);
  if (hit) return hit;
  const name = `writer_add_w${width}`;
  const blocks = Math.ceil(width / 4);
  const padded = 4 * blocks;
  const hi = width - 1;
  const pad = padded > width ? [`    // The chain is whole CARRY4s: bits ${width}..${padded - 1} are padding.`, `    assign p[${padded - 1}:${width}] = ${padded - width}'d0;`, `    assign g[${padded - 1}:${width}] = ${padded - width}'d0;`] : [];
  const verilog = [
    '// Hand-written by bitnet-fpga (generator/cores/ternary/lut-array.ts, writerAdd):',
    `// y = v + (sel ? b : a) or v - (sel ? b : a) (neg) mod 2^${width}, one LUT5 per bit on a CARRY4 chain.`,
    '`default_nettype none',
    '',
    `module ${name} (`,
    `    input  wire [${hi}:0] v,`,
    `    input  wire [${hi}:0] a,`,
    `    input  wire [${hi}:0] b,`,
    '    input  wire sel,',
    '    input  wire neg,',
    `    output wire [${hi}:0] y`,
    ');',
    `    wire [${padded - 1}:0] p;           // chain propagate: v ^ (sel ? b : a) ^ neg`,
    `    wire [${padded - 1}:0] g;           // chain generate where p = 0: v`,
    `    wire [${padded - 1}:0] s;           // chain sum`,
    `    wire [${padded - 1}:0] co;          // chain carries; co[4k+3] feeds the next CARRY4`,
    ...pad,
    `    assign g[${hi}:0] = v;`,
    `    assign y = s[${hi}:0];`,
    '',
    '    genvar i;',
    '    generate',
    `        for (i = 0; i < ${width}; i = i + 1) begin : bits`,
    `            LUT5 #(.INIT(${WRITER_LUT_INIT})) lut (`,
    '                .O(p[i]), .I0(v[i]), .I1(a[i]), .I2(b[i]), .I3(sel), .I4(neg)',
    '            );',
    '        end',
    `        for (i = 0; i < ${blocks}; i = i + 1) begin : chain`,
    '            // ~x + 1 = -x: a subtraction carries 1 into bit 0.',
    '            CARRY4 carry (',
    '                .CO(co[4 * i + 3:4 * i]), .O(s[4 * i + 3:4 * i]),',
    "                .CI(i == 0 ? 1'b0 : co[4 * i - 1]), .CYINIT(i == 0 ? neg : 1'b0),",
    '                .DI(g[4 * i + 3:4 * i]), .S(p[4 * i + 3:4 * i])',
    '            );',
    '        end',
    '    endgenerate',
    '',
    '    // Only each CARRY4\'s top carry goes on, and the last goes nowhere: the sum is taken mod 2^width.',
    '    /* verilator lint_off UNUSED */',
    `    wire unused_ok = &{1'b0, co, s[${padded - 1}:${hi}]};`,
    '    /* verilator lint_on UNUSED */',
    'endmodule',
    '',
    '`default_nettype wire',
    '',
  ].join('\n');
  const box = defineBlackBox(
    name,
    { v: { dir: 'in', shape: UInt(width) }, a: { dir: 'in', shape: UInt(width) }, b: { dir: 'in', shape: UInt(width) }, sel: { dir: 'in', shape: Bool }, neg: { dir: 'in', shape: Bool }, y: { dir: 'out', shape: UInt(width) } },
    { verilog },
  );
  writerBoxes.set(width, box);
  return box;
}

interface Operand {
  readonly v: Value;
  readonly lo: number;
  readonly hi: number;
}

export function validateLutArray(p: LutArrayParams): void {
  if (!Number.isInteger(p.rows) || p.rows < 2 || p.rows > 64 || p.rows % 2 !== 0) throw new Error(`rows must be an even number from 2 to 64 (two lanes share a table), got ${p.rows}`);
  if (!Number.isInteger(p.cols) || p.cols < 1 || p.cols > 64) throw new Error(`cols must be an integer from 1 to 64, got ${p.cols}`);
  if (!Number.isInteger(p.act) || p.act < 2 || p.act > 16) throw new Error(`act must be an integer from 2 to 16 bits, got ${p.act}`);
  if (p.fill !== 9 && p.fill !== 16) throw new Error(`fill must be 9 (weights -1, 0, +1) or 16 (code 3 too), got ${p.fill}`);
  if (p.pipe !== 'out' && p.pipe !== 'level' && p.pipe !== 'cs') throw new Error(`pipe must be 'out', 'level' or 'cs', got ${JSON.stringify(p.pipe)}`);
}

/** Adder levels of the tree over rows/2 pair sums (three-input adders, a two-input one for a pair left over). */
export function lutTreeLevels(rows: number): number {
  let n = rows / 2;
  let l = 0;
  while (n > 1) {
    n = Math.ceil(n / 3);
    l++;
  }
  return l;
}

/** Cycles from an accepted tile to its y_valid. */
export function lutArrayLatency(p: Pick<LutArrayParams, 'rows' | 'pipe'>): number {
  const levels = lutTreeLevels(p.rows);
  return p.pipe === 'level' ? Math.max(1, levels) : p.pipe === 'cs' ? Math.max(1, levels - 1) : 1;
}

export const lutArray = defineModule(
  'lut_array',
  (m, p: LutArrayParams) => {
    const R = p.rows;
    const C = p.cols;
    const P = R / 2;
    const dotBits = lutDotBits(p);
    const x = m.input('x', UInt(R * p.act));
    const xValid = m.input('x_valid', Bool);
    const xReady = m.output('x_ready', Bool);
    const w = m.input('w', UInt(2 * R * C));
    const wValid = m.input('w_valid', Bool);
    const wLast = m.input('w_last', Bool);
    const wReady = m.output('w_ready', Bool);
    const dot = m.output('dot', UInt(C * dotBits));
    const yValid = m.output('y_valid', Bool);

    // ---- buffers -------------------------------------------------------------------------
    // rsel: the buffer tiles read. built: table sets filled and not yet released (0..2). A fill
    // writes the buffer after the built ones, rsel ^ built[0]; it only runs while built < 2,
    // and a release flips rsel and decrements built together, so that buffer stays the same
    // through a fill.
    const rsel = m.reg('rsel', Bool);
    const built = m.reg('built', UInt(2));
    const wbuf = m.let('wbuf', rsel.xor(built.bit(0)));

    // ---- the fill: one step a cycle while x is valid, `fill` steps a beat --------------------
    const order = fillOrder(p.fill);
    const stepW = log2ceil(p.fill);
    const step = m.reg('fill_step', UInt(stepW));
    const fillRun = m.let('fill_run', xValid.and(step.ne(0).or(built.lt(2))));
    const lastStep = m.let('fill_last', step.eq(p.fill - 1));
    // Each step's entry address (c_i*4 + c_j), decoded from the step counter, and the writer's
    // next addend (lane j or i, negated or not) from flip-flops loaded with the next step's
    // choice, so a writer's path is one LUT and its chain.
    const entry = m.let('fill_entry', select(step, order.map((s, i) => [i, lit(s.ci * 4 + s.cj, UInt(4))] as const), lit(0, UInt(4))));
    const waddr = m.let('fill_waddr', cat(wbuf, entry));
    const nextWhere = (f: (s: FillStep) => boolean): Value => {
      const hits = order.flatMap((_, i) => (f(order[(i + 1) % order.length]!) ? [step.eq(i)] : []));
      return hits.length ? hits.reduce((a, b) => a.or(b)) : lit(0, Bool);
    };
    const neg = m.reg('fill_neg', Bool, { reset: order[0]!.neg ? 1 : 0 });
    const useJ = m.reg('fill_lane_j', Bool, { reset: order[0]!.lane === 'j' ? 1 : 0 });
    m.when(fillRun, () => {
      m.set(neg, nextWhere((s) => s.neg));
      m.set(useJ, nextWhere((s) => s.lane === 'j'));
    });
    m.when(fillRun, () => m.set(step, mux(lastStep, 0, step.add(1))));
    const fillDone = m.let('fill_done', fillRun.and(lastStep));
    const clearV = m.let('fill_clear', fillDone.or(m.sync.rst!));
    m.set(xReady, fillDone);

    // ---- tiles ---------------------------------------------------------------------------------
    m.set(wReady, built.ne(0));
    const take = m.let('w_take', wValid.and(built.ne(0)));
    const release = m.let('w_release', take.and(wLast));
    m.when(release, () => m.set(rsel, rsel.not()));
    m.set(built, built.add(fillDone.zext(2)).sub(release.zext(2)));

    // ---- tables and their writers -----------------------------------------------------------------
    const amax = 2 ** (p.act - 1);
    const pairLo = -2 * amax;
    const pairHi = 2 * amax; // -128 * -1 twice
    const pairBits = signedBits(pairLo, pairHi);
    const lane = (r: number): Value => x.slice(r * p.act + p.act - 1, r * p.act).asSigned().sext(pairBits);
    const lookups: Value[][] = Array.from({ length: C }, () => []);
    for (let q = 0; q < P; q++) {
      const table = m.memory(`tab${q}`, { shape: UInt(pairBits), depth: 32 });
      // The entry written this step; then v +- a_i or v +- a_j (the sign as carry-in) is the next
      // step's entry. After the last step the writer is cleared to the first entry, 0.
      const v = m.reg(`tab${q}_v`, UInt(pairBits), { reset: null });
      // One carry chain, the lane mux and the xor in its LUTs, neg as the carry-in (writerAdd).
      const add = m.instance(`tab${q}_add`, writerAdd(pairBits));
      m.set(add.v!, v);
      m.set(add.a!, lane(2 * q).asUnsigned());
      m.set(add.b!, lane(2 * q + 1).asUnsigned());
      m.set(add.sel!, useJ);
      m.set(add.neg!, neg);
      const next = add.y!;
      m.when(fillRun, () => table.write(waddr, v));
      // Cleared by one synchronous clear (reset or the last step) so it maps onto the
      // flip-flops' reset pin; as a mux of 0 after the adder it cost a LUT a bit.
      m.when(clearV, () => m.set(v, 0)).elseWhen(fillRun, () => m.set(v, next));
      for (let c = 0; c < C; c++) {
        const code = (r: number): Value => w.slice(2 * (r * C + c) + 1, 2 * (r * C + c));
        const addr = m.let(`addr${q}_c${c}`, cat(rsel, code(2 * q), code(2 * q + 1)));
        lookups[c]!.push(table.read(addr).asSigned().named(`pair${q}_c${c}`));
      }
    }

    // ---- the tree of each column ----------------------------------------------------------------
    // 'level' registers after every adder level but the last (the output register is the last
    // level's); 'cs' stops at three operands and compresses them 3:2 in the stage of the level
    // before, so the output is a carry-save pair and every stage is one carry chain.
    const levels = lutTreeLevels(R);
    const cs = p.pipe === 'cs';
    const regAfter = (l: number): boolean => (p.pipe === 'level' && l < levels) || (cs && l < levels - 1);
    const registered = (name: string, v: Value): Value => {
      const r = m.reg(name, v.shape, { reset: null }); // data: y_valid says when it means something
      m.set(r, v);
      return r;
    };
    const sums: Value[] = [];
    const carries: Value[] = [];
    for (let c = 0; c < C; c++) {
      let level: Operand[] = lookups[c]!.map((v) => ({ v, lo: pairLo, hi: pairHi }));
      for (let l = 1; level.length > (cs ? 3 : 1); l++) {
        const next: Operand[] = [];
        for (let i = 0; i < level.length; i += 3) {
          const g = level.slice(i, i + 3);
          const lo = g.reduce((s, o) => s + o.lo, 0);
          const hi = g.reduce((s, o) => s + o.hi, 0);
          const bits = signedBits(lo, hi);
          const name = `c${c}_l${l}_${i / 3}`;
          let sum: Value;
          if (g.length === 3) {
            const add = m.instance(`${name}_add`, ternaryAdd(bits));
            m.set(add.a!, g[0]!.v.sext(bits).asUnsigned());
            m.set(add.b!, g[1]!.v.sext(bits).asUnsigned());
            m.set(add.c!, g[2]!.v.sext(bits).asUnsigned());
            sum = add.y!.asSigned();
          } else if (g.length === 2) sum = g[0]!.v.sext(bits).add(g[1]!.v.sext(bits));
          else sum = g[0]!.v;
          next.push({ v: regAfter(l) ? registered(name, sum) : sum.named(name), lo, hi });
        }
        level = next;
      }
      const ops = level.map((o) => o.v.sext(dotBits).asUnsigned());
      if (cs && ops.length === 3) {
        const csa = m.instance(`c${c}_csa`, carrySave(dotBits));
        m.set(csa.a!, ops[0]!);
        m.set(csa.b!, ops[1]!);
        m.set(csa.c!, ops[2]!);
        sums.push(csa.sum!);
        carries.push(csa.carry!);
      } else {
        sums.push(ops[0]!);
        if (cs) carries.push(ops[1] ?? lit(0, UInt(dotBits)));
      }
    }
    // One output register for all columns (two with 'cs'), and the valid bits beside the data.
    const dotReg = m.reg('dot_q', UInt(C * dotBits), { reset: null });
    m.set(dotReg, cat(...[...sums].reverse()));
    m.set(dot, dotReg);
    const dotC = cs ? m.output('dot_c', UInt(C * dotBits)) : undefined;
    if (dotC) {
      const carryReg = m.reg('dot_c_q', UInt(C * dotBits), { reset: null });
      m.set(carryReg, cat(...[...carries].reverse()));
      m.set(dotC, carryReg);
    }
    let valid: Value = take;
    const latency = lutArrayLatency(p);
    for (let s = 0; s < latency; s++) {
      const r = m.reg(`y_valid_${s}`, Bool);
      m.set(r, valid);
      valid = r;
    }
    m.set(yValid, valid);
    return { x, xValid, xReady, w, wValid, wLast, wReady, dot, dotC, yValid };
  },
  {
    name: (p) => `lut_array_r${p.rows}_c${p.cols}_a${p.act}_f${p.fill}_${p.pipe}`,
    validate: validateLutArray,
  },
);
