// Run one stimulus through the IR interpreter, Verilator and Icarus and return the three
// traces. Verilator builds go into a cache directory keyed by a hash of the sources, the
// harness, the Verilator version and the flags, so an unchanged design is never rebuilt.

import { mkdirSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { Interpreter, type EmittedDesign, type ModuleIR } from '../../generator/hdl/index.ts';
import { formatRows, parseRows, randomStimulus, Rng, COMPARE_FROM, UNDEFINED, type PortInfo, type Stimulus, type Trace } from './stimulus.ts';
import { runToolChecked, runProgramChecked } from '../toolchain/run.ts';
import { probe, requireTool, TOOLS } from '../toolchain/tools.ts';
import { cacheRoot, cacheKey, cachedBuild } from '../toolchain/cache.ts';

export interface HarnessDesign {
  readonly design: EmittedDesign;
  /** The elaborated top, for the interpreter. */
  readonly ir: ModuleIR;
}

function portsOf(d: EmittedDesign): { clk: string; inputs: PortInfo[]; outputs: PortInfo[] } {
  const m = d.manifest;
  if (m.clocks.length > 1) throw new Error(`equivalence harness: '${m.top}' has ${m.clocks.length} clock domains; it drives one`);
  const clk = m.clocks[0]?.clk ?? '';
  const inputs = m.ports.filter((p) => p.direction === 'input' && p.name !== clk);
  const outputs = m.ports.filter((p) => p.direction === 'output');
  return { clk, inputs, outputs };
}

/**
 * Reset inputs and their active level: the manifest's domain resets, plus ports named
 * rst, reset, arst (active high) or with an _n suffix (active low).
 */
export function resetPorts(d: EmittedDesign): Map<string, 'high' | 'low'> {
  const out = new Map<string, 'high' | 'low'>();
  for (const c of d.manifest.clocks) if (c.rst) out.set(c.rst, c.active);
  for (const p of d.manifest.ports) {
    const m = /^(a?rst|reset)(_n)?$/.exec(p.name);
    if (m && p.direction === 'input' && p.width === 1 && !out.has(p.name)) out.set(p.name, m[2] ? 'low' : 'high');
  }
  return out;
}

/** Seeded random stimulus for every input but the clock, resets asserted on cycle 0 and rarely after. */
export function designStimulus(d: EmittedDesign, seed: number, cycles: number): Stimulus {
  const { inputs } = portsOf(d);
  return randomStimulus(inputs, cycles, new Rng(seed), resetPorts(d));
}

export function runInterpreter(h: HarnessDesign, stim: Stimulus): Trace {
  const { inputs, outputs } = portsOf(h.design);
  const sim = new Interpreter(h.ir);
  const domain = h.design.manifest.clocks[0]?.domain;
  const rows: bigint[][] = [];
  for (const row of stim.values) {
    inputs.forEach((p, i) => sim.set(p.name, p.signed ? BigInt.asIntN(p.width, row[i]!) : row[i]!));
    sim.settle();
    rows.push(outputs.map((p) => sim.bits(p.name)));
    if (domain) sim.tick(domain);
  }
  return { outputs, values: rows };
}

function cppType(w: number): string {
  return w <= 8 ? 'CData' : w <= 16 ? 'SData' : w <= 32 ? 'IData' : w <= 64 ? 'QData' : 'VlWide';
}

function cppHarness(top: string, clk: string, inputs: PortInfo[], outputs: PortInfo[], resets: ReadonlyMap<string, 'high' | 'low'>): string {
  // Verilator is two-state and starts every input at 0: an active-low reset asserted on
  // cycle 0 would never see a negedge. Start resets inactive so asserting them is an edge,
  // as in a four-state simulator (x -> 0) and in hardware held in reset at power-up.
  const idle = [...resets].map(([name, level]) => `  top->${name} = ${level === 'low' ? 1 : 0};`).join('\n');
  const setters = inputs
    .map((p) => {
      const t = cppType(p.width);
      if (t === 'VlWide') return `    if (!read_tok(in, tok)) return short_input(cycle);\n    set_wide(top->${p.name}.data(), ${Math.ceil(p.width / 32)}, tok);`;
      return `    if (!read_tok(in, tok)) return short_input(cycle);\n    top->${p.name} = (${t})strtoull(tok, nullptr, 16);`;
    })
    .join('\n');
  const printers = outputs
    .map((p, i) => {
      const sep = i === outputs.length - 1 ? '\\n' : ' ';
      // Verilator does not promise clean bits above a port's width in its C++ container: mask.
      if (cppType(p.width) === 'VlWide') return `    print_wide(out, top->${p.name}.data(), ${Math.ceil(p.width / 32)}, ${p.width % 32 === 0 ? '0xffffffffu' : `0x${((1n << BigInt(p.width % 32)) - 1n).toString(16)}u`}, "${sep}");`;
      return `    fprintf(out, "%llx${sep}", (unsigned long long)top->${p.name} & 0x${((1n << BigInt(p.width)) - 1n).toString(16)}ULL);`;
    })
    .join('\n');
  const clkOn = clk ? `top->${clk} = 1; top->eval(); top->${clk} = 0; top->eval();` : '';
  return `// Generated equivalence harness: reads one line of hex inputs per cycle, writes outputs.
#include "V${top}.h"
#include "verilated.h"
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cstdint>

static bool read_tok(FILE* in, char* tok) { return fscanf(in, "%8191s", tok) == 1; }
static void set_wide(uint32_t* w, int n, const char* hex) {
  for (int i = 0; i < n; i++) w[i] = 0;
  int len = (int)strlen(hex);
  for (int i = 0; i < len; i++) {
    char c = hex[len - 1 - i];
    uint32_t d = (c >= '0' && c <= '9') ? c - '0' : (c | 32) - 'a' + 10;
    if (i / 8 < n) w[i / 8] |= d << (4 * (i % 8));
  }
}
static void print_wide(FILE* out, const uint32_t* w, int n, uint32_t top_mask, const char* sep) {
  int i = n - 1;
  while (i > 0 && (i == n - 1 ? (w[i] & top_mask) : w[i]) == 0) i--;
  fprintf(out, "%x", i == n - 1 ? (w[i] & top_mask) : w[i]);
  for (i = i - 1; i >= 0; i--) fprintf(out, "%08x", w[i]);
  fputs(sep, out);
}
static int short_input(long cycle) {
  fprintf(stderr, "stimulus ended early at cycle %ld\\n", cycle);
  return 3;
}

int main(int argc, char** argv) {
  if (argc < 4) { fprintf(stderr, "usage: %s IN OUT CYCLES\\n", argv[0]); return 2; }
  const long cycles = atol(argv[3]);
  VerilatedContext* ctx = new VerilatedContext;
  V${top}* top = new V${top}{ctx};
  FILE* in = fopen(argv[1], "r");
  FILE* out = fopen(argv[2], "w");
  if (!in || !out) { fprintf(stderr, "cannot open %s or %s\\n", argv[1], argv[2]); return 2; }
  static char tok[8192];
  ${clk ? `top->${clk} = 0;` : ''}
${idle}
  top->eval();
  for (long cycle = 0; cycle < cycles; cycle++) {
${setters}
    top->eval();
${printers}
    ${clkOn}
  }
  fclose(out);
  top->final();
  delete top;
  delete ctx;
  return 0;
}
`;
}

export interface VerilatorOptions {
  jobs?: number;
  log?: (s: string) => void;
  /**
   * Run Verilator's own optimizer (default). The HDL fuzzer turns it off: it checks how
   * Verilator reads our Verilog, and Verilator 5.006's optimizer miscompiles some XOR chains
   * and orders some always @(*) blocks wrongly (see README, "Known tool bugs").
   */
  optimize?: boolean;
}

/** Build (or reuse) the Verilator model with the equivalence harness; returns the binary path. */
export async function buildVerilatorHarness(d: EmittedDesign, opts: VerilatorOptions = {}): Promise<string> {
  const { clk, inputs, outputs } = portsOf(d);
  const top = d.manifest.top;
  const harness = cppHarness(top, clk, inputs, outputs, resetPorts(d));
  const vver = probe(TOOLS.find((t) => t.name === 'verilator')!).version ?? '?';
  const flags = ['--cc', '--exe', '--build', opts.optimize === false ? '-O0' : '-O2', '--x-assign', 'fast', '--x-initial', 'fast', '-Wno-fatal', '--top-module', top];
  const key = cacheKey([...d.files.flatMap((f) => [f.name, f.text]), harness, vver, flags.join(' ')]);
  const { dir } = await cachedBuild('verilator', top, key, path.join('obj_dir', `V${top}`), async (tmp) => {
    for (const f of d.files) writeFileSync(path.join(tmp, f.name), f.text);
    writeFileSync(path.join(tmp, 'harness.cpp'), harness);
    opts.log?.(`building Verilator model ${top} (${d.files.length} files)`);
    const jobs = opts.jobs ?? Math.max(1, os.availableParallelism());
    await runToolChecked('verilator', [...flags, '-j', String(jobs), '--Mdir', 'obj_dir', '-o', `V${top}`, ...d.files.map((f) => f.name), 'harness.cpp', '-CFLAGS', '-O1'], { cwd: tmp, timeoutMs: 1_200_000 });
  });
  const bin = path.join(dir, 'obj_dir', `V${top}`);
  return bin;
}

function workDir(tag: string): string {
  const dir = path.join(cacheRoot(), 'runs', `${tag}-${process.pid}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export async function runVerilator(d: EmittedDesign, stim: Stimulus, opts: VerilatorOptions = {}): Promise<Trace> {
  const { outputs } = portsOf(d);
  const bin = await buildVerilatorHarness(d, opts);
  const dir = workDir('verilator');
  const inFile = path.join(dir, 'stim.hex');
  const outFile = path.join(dir, 'trace.hex');
  writeFileSync(inFile, formatRows(stim.values));
  await runProgramChecked(bin, [inFile, outFile, String(stim.values.length)], { timeoutMs: 600_000 });
  const values = parseRows(readFileSync(outFile, 'utf8'), outputs, 'verilator');
  rmSync(dir, { recursive: true, force: true });
  return { outputs, values };
}

function icarusTestbench(top: string, clk: string, inputs: PortInfo[], outputs: PortInfo[], cycles: number, inFile: string, outFile: string): string {
  const decl = (p: PortInfo, kind: string): string => `  ${kind} ${p.width > 1 ? `[${p.width - 1}:0] ` : ''}${p.name};`;
  const conns = [...(clk ? [`.${clk}(${clk})`] : []), ...inputs.map((p) => `.${p.name}(${p.name})`), ...outputs.map((p) => `.${p.name}(${p.name})`)];
  return `\`timescale 1ns/1ps
module equiv_tb;
${clk ? `  reg ${clk} = 1'b0;` : ''}
${inputs.map((p) => decl(p, 'reg')).join('\n')}
${outputs.map((p) => decl(p, 'wire')).join('\n')}
  integer fin, fout, r, cycle;
  ${top} dut (${conns.join(', ')});
  initial begin
    fin = $fopen(${JSON.stringify(inFile)}, "r");
    fout = $fopen(${JSON.stringify(outFile)}, "w");
    for (cycle = 0; cycle < ${cycles}; cycle = cycle + 1) begin
${inputs.map((p) => `      r = $fscanf(fin, "%h", ${p.name});`).join('\n')}
      #1;
      $fwrite(fout, "${outputs.map(() => '%h').join(' ')}\\n"${outputs.map((p) => `, ${p.name}`).join('')});
${clk ? `      ${clk} = 1'b1; #1; ${clk} = 1'b0; #1;` : '      #1;'}
    end
    $fclose(fout);
    $finish;
  end
endmodule
`;
}

export async function runIcarus(d: EmittedDesign, stim: Stimulus): Promise<Trace> {
  const { clk, inputs, outputs } = portsOf(d);
  const dir = workDir('icarus');
  for (const f of d.files) writeFileSync(path.join(dir, f.name), f.text);
  const inFile = path.join(dir, 'stim.hex');
  const outFile = path.join(dir, 'trace.hex');
  writeFileSync(inFile, formatRows(stim.values));
  writeFileSync(path.join(dir, 'equiv_tb.v'), icarusTestbench(d.manifest.top, clk, inputs, outputs, stim.values.length, inFile, outFile));
  await runToolChecked('iverilog', ['-g2005', '-o', 'tb.vvp', '-s', 'equiv_tb', 'equiv_tb.v', ...d.files.map((f) => f.name)], { cwd: dir, timeoutMs: 600_000 });
  const vvp = path.join(path.dirname(requireTool('iverilog')), 'vvp');
  await runProgramChecked(vvp, ['-n', path.join(dir, 'tb.vvp')], { cwd: dir, timeoutMs: 600_000 });
  const values = parseRows(readFileSync(outFile, 'utf8'), outputs, 'icarus');
  rmSync(dir, { recursive: true, force: true });
  return { outputs, values };
}

export function hex(v: bigint): string {
  return v === UNDEFINED ? 'X' : `0x${v.toString(16)}`;
}

export function describeMismatch(m: Mismatch): string {
  return `${m.who}: cycle ${m.cycle}, port ${m.port}: interpreter ${hex(m.expected)}, ${m.who} ${hex(m.actual)}`;
}

export interface Mismatch {
  readonly cycle: number;
  readonly port: string;
  readonly expected: bigint;
  readonly actual: bigint;
  readonly who: string;
}

/** The first cycle and port where `actual` differs from `expected`, if any. */
export function firstMismatch(expected: Trace, actual: Trace, who: string, portFilter?: (name: string) => boolean): Mismatch | undefined {
  if (actual.values.length !== expected.values.length) {
    return { cycle: Math.min(actual.values.length, expected.values.length), port: '(trace length)', expected: BigInt(expected.values.length), actual: BigInt(actual.values.length), who };
  }
  for (let c = COMPARE_FROM; c < expected.values.length; c++) {
    for (let i = 0; i < expected.outputs.length; i++) {
      const name = expected.outputs[i]!.name;
      if (portFilter && !portFilter(name)) continue;
      if (expected.values[c]![i] !== actual.values[c]![i]) return { cycle: c, port: name, expected: expected.values[c]![i]!, actual: actual.values[c]![i]!, who };
    }
  }
  return undefined;
}
