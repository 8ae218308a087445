// Verilog-2005 for one module of the IR. Output is deterministic (same IR, same text) and
// written the way an engineer would: ANSI ports with clock and reset first, `assign` for
// plain combinational logic, one always block per group of registers that share their
// control structure, memories in the shape Yosys and Vivado infer as block RAM.

import { formatLoc, type SourceLoc } from './source.ts';
import { lit, type Value, type Shape, type EnumLike, type EnumLabel } from './value.ts';
import { enumOf } from './enum.ts';
import { ModuleIR, Signal, pruneStmts, walkStmts, moduleRoots, simplifyStmts, expressionReads, constantRegisters, type Stmt, type Domain, type Memory } from './ir.ts';
import { isComb } from './checks.ts';
import { ExprEmitter, constText, type CaseText } from './emit-expr.ts';
import { lowerAssignments } from './lower.ts';
import { RESERVED } from './names.ts';
import { breakLines, LINE_LIMIT } from './layout.ts';

export interface EmitOptions {
  /** Append `// file.ts:line` to declarations and processes. */
  sourceComments?: boolean;
}

export interface EmittedModule {
  readonly name: string;
  /** Module text without the file header. */
  readonly body: string;
}

const IND = '    ';
const CONST_REG_WHY = 'a register that never leaves its reset value: a constant';

export function emitModule(ir: ModuleIR, opts: EmitOptions = {}): EmittedModule {
  return new ModuleWriter(ir, opts).write();
}

class ModuleWriter {
  private readonly used = new Set<string>();
  private readonly ex: ExprEmitter;
  /** Signals that must be declared `reg` (assigned in an always block). */
  private readonly procedural = new Set<Signal>();
  /** Power-up values of memory read registers. */
  private readonly readPortInit = new Map<Signal, bigint>();
  /** inst-in wires folded straight into the instance's port connection. */
  private readonly inlined = new Map<Signal, Value>();
  /** Instance outputs nothing reads: left open in the port list instead of declared. */
  private readonly open = new Set<Signal>();

  /** The module's statements with constant conditions resolved. */
  private readonly stmtsIn: Stmt[];
  /** Registers that only ever hold their reset value (ir.ts constantRegisters), emitted as constants. */
  private readonly constRegs: Map<Signal, bigint>;

  constructor(
    private readonly ir: ModuleIR,
    private readonly opts: EmitOptions,
  ) {
    const simple = simplifyStmts(ir.stmts);
    this.constRegs = constantRegisters(ir, simple);
    // A constant register's assignments are all no-ops: drop them with the flip-flop.
    this.stmtsIn = this.constRegs.size ? pruneStmts(simple, (s) => !(s.k === 'assign' && this.constRegs.has(s.target))) : simple;
    for (const s of ir.signals) this.used.add(s.name);
    for (const m of ir.memories) this.used.add(m.name);
    for (const i of ir.instances) this.used.add(i.name);
    this.ex = new ExprEmitter(
      (base) => this.claim(base),
      (s) => s.name,
      (l: EnumLabel) => this.enumConst(l.enumType, l.member),
    );
  }

  /** Localparam names of the enum members this module prints, claimed at first use. */
  private readonly enumNames = new Map<EnumLike, Map<string, string>>();
  private enumConst(e: EnumLike, member: string): string {
    let names = this.enumNames.get(e);
    if (!names) this.enumNames.set(e, (names = new Map()));
    let n = names.get(member);
    if (n === undefined) names.set(member, (n = this.claim(`${e.prefix}${member}`)));
    return n;
  }

  /** A constant of `shape`: by name when the shape is an enum and the value one of its members. */
  private constOf(v: bigint, shape: Shape): string {
    const e = enumOf(shape);
    const member = e?.memberOf(v);
    return e && member !== undefined ? this.enumConst(e, member) : constText(v, shape.width);
  }

  /** One localparam per enum member used, in encoding order (unused ones would trip -Wall's UNUSEDPARAM). */
  private localparams(): string[] {
    const out: string[] = [];
    for (const [e, names] of this.enumNames) {
      const used = e.members.filter((m) => names.has(m)).map((m) => [names.get(m)!, e.encodingOf(m)] as const);
      used.sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
      const pad = Math.max(...used.map(([n]) => n.length));
      out.push(`${IND}// enum ${e.name}`);
      for (const [n, v] of used) out.push(`${IND}localparam ${e.width > 1 ? `[${e.width - 1}:0] ` : ''}${n.padEnd(pad)} = ${constText(v, e.width)};`);
    }
    return out;
  }

  private claim(base: string): string {
    let name = RESERVED.has(base) ? `${base}_v` : base;
    for (let i = 2; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  private at(loc: SourceLoc | undefined): string {
    return this.opts.sourceComments && loc ? `  // ${formatLoc(loc)}` : '';
  }

  write(): EmittedModule {
    const ir = this.ir;
    const stmts = this.stmtsIn;
    const combAssigns: string[] = [];
    const seqBlocks: string[] = [];
    const memBlocks: string[] = [];
    const instBlocks: string[] = [];

    // Combinational signals: a single unconditional assignment becomes `assign`.
    const combTargets = ir.signals.filter(isComb);
    const single = new Map<Signal, Value>();
    const assignCount = new Map<Signal, number>();
    walkStmts(stmts, (s) => {
      if (s.k === 'assign') assignCount.set(s.target, (assignCount.get(s.target) ?? 0) + 1);
    });
    for (const st of stmts) {
      if (st.k === 'assign' && isComb(st.target) && assignCount.get(st.target) === 1 && !st.target.defaultValue) single.set(st.target, st.value);
    }
    for (const s of combTargets) {
      if (!single.has(s) && s.defaultValue && !assignCount.has(s)) single.set(s, s.defaultValue);
    }
    // Conditional combinational logic becomes one mux chain per signal (see lower.ts for why).
    for (const s of combTargets) {
      if (!single.has(s)) single.set(s, lowerAssignments(this.prune([s]), s, s.defaultValue ?? lit(0, s.shape)));
    }
    this.countRefs([...single.values()]);
    // Instance inputs driven by one plain expression and read nowhere else go into the port list.
    const readElsewhere = this.readSignals();
    for (const s of combTargets) {
      if (s.role === 'inst-in' && single.has(s) && !readElsewhere.has(s)) this.inlined.set(s, single.get(s)!);
    }
    for (const s of ir.signals) if (s.role === 'inst-out' && !readElsewhere.has(s)) this.open.add(s);
    for (const s of combTargets) {
      const v = single.get(s);
      if (!v || this.inlined.has(s)) continue;
      this.ex.target = s.name;
      const ct = this.ex.caseOf(v);
      if (ct) {
        // A select keyed by one signal reads best one arm a line (the byte-lane selects); see chainLines.
        combAssigns.push(`${IND}assign ${s.name} =${this.at(assignLoc(stmts, s) ?? s.loc)}\n${chainLines(ct, s.width, 2)};`);
      } else combAssigns.push(`${IND}assign ${s.name} = ${this.ex.expr(v)};${this.at(assignLoc(stmts, s) ?? s.loc)}`);
    }

    // Registers: grouped by domain, reset presence, enable and shared control structure.
    const regs = ir.signals.filter((s) => s.reg && !this.constRegs.has(s));
    for (const [r, v] of this.constRegs) {
      if (r.isPort) combAssigns.push(`${IND}assign ${r.name} = ${this.constOf(v, r.shape)};  // ${CONST_REG_WHY}`);
    }
    const byKey = new Map<string, Signal[]>();
    for (const r of regs) {
      const spec = r.reg!;
      const key = `${spec.domain.name}|${spec.reset !== undefined}|${spec.enable ? spec.enable.id : ''}`;
      byKey.set(key, [...(byKey.get(key) ?? []), r]);
    }
    for (const list of byKey.values()) {
      for (const group of this.groups(list)) {
        for (const s of group) this.procedural.add(s);
        seqBlocks.push(this.seqBlock(group));
      }
    }

    for (const m of ir.memories) memBlocks.push(this.memoryBlock(m));
    for (const inst of ir.instances) instBlocks.push(this.instanceBlock(inst));

    // Declarations come last to write but first in the file: the temps are known only now.
    const decls: string[] = [];
    for (const s of ir.signals) {
      if (s.isPort || this.inlined.has(s) || this.open.has(s)) continue;
      const constant = this.constRegs.get(s);
      if (constant !== undefined) {
        decls.push(`${IND}wire ${rangeText(s)}${s.name} = ${this.constOf(constant, s.shape)};  // ${CONST_REG_WHY}${this.at(s.loc)}`);
        continue;
      }
      const kind = this.procedural.has(s) ? 'reg ' : 'wire';
      // Every register states its power-up value (FPGA flip-flop INIT), so no simulator starts from X.
      const initValue = s.reg ? (s.reg.init ?? s.reg.reset ?? 0n) : this.readPortInit.get(s);
      const init = initValue !== undefined ? ` = ${this.constOf(initValue, s.shape)}` : '';
      decls.push(`${IND}${kind} ${rangeText(s)}${s.name}${init};${this.at(s.loc)}`);
    }
    const portLines = ir.ports.map((p) => `${IND}${this.portDecl(p)}`);
    decls.unshift(...this.localparams());
    for (const m of ir.memories) decls.push(...this.memoryDecl(m));
    const tempLines: string[] = [];
    for (const t of this.ex.temps) {
      if (t.caseText) {
        tempLines.push(`${IND}wire ${t.value.width > 1 ? `[${t.value.width - 1}:0] ` : ''}${t.name} =${this.at(t.value.loc)}\n${chainLines(t.caseText, t.value.width, 2)};`);
      } else tempLines.push(`${IND}wire ${t.value.width > 1 ? `[${t.value.width - 1}:0] ` : ''}${t.name} = ${t.text};${this.at(t.value.loc)}`);
      const unused = this.ex.unusedSelects(t);
      if (unused.length) {
        const u = this.claim(`unused_${t.name}`);
        tempLines.push(`${IND}wire ${u} = ^{${unused.join(', ')}};  // bits intentionally dropped`);
      }
    }
    // Clocks and resets that only constant registers used: say so, as for any input nothing reads.
    if (this.constRegs.size) {
      const used = expressionReads(moduleRoots(ir, () => true, stmts)).signals;
      for (const r of regs) {
        used.add(r.reg!.domain.clk);
        if (r.reg!.reset !== undefined && r.reg!.domain.rst) used.add(r.reg!.domain.rst);
      }
      for (const m of ir.memories) {
        if (pruneStmts(stmts, (s) => s.k === 'memwr' && s.mem === m).length) used.add(m.writeDomain.clk);
        for (const p of m.readPorts) used.add(p.domain.clk);
      }
      for (const d of ir.domains) {
        for (const s of [d.clk, d.rst]) {
          if (s && s.role === 'input' && !used.has(s) && !ir.unused.has(s)) {
            tempLines.push(`${IND}wire ${this.claim(`unused_${s.name}`)} = ^{${s.name}};  // its registers are all constants`);
          }
        }
      }
    }
    for (const [s, why] of ir.unused) tempLines.push(`${IND}wire ${this.claim(`unused_${s.name}`)} = ^{${s.name}};  // ${why.replace(/\s+/g, ' ')}`);
    // Instance outputs of which only some bits are read (a status word, one strobe of many).
    for (const s of ir.signals) {
      if (s.role !== 'inst-out' || this.open.has(s)) continue;
      const unused = this.ex.unusedSignalSelects(s);
      if (unused.length) tempLines.push(`${IND}wire ${this.claim(`unused_${s.name}`)} = ^{${unused.join(', ')}};  // bits intentionally dropped`);
    }

    const lines: string[] = [];
    lines.push(`module ${ir.name} (`);
    lines.push(portLines.join(',\n'));
    lines.push(');');
    const sections = [decls, tempLines, combAssigns, seqBlocks, memBlocks, instBlocks].filter((s) => s.length);
    for (const s of sections) {
      lines.push('');
      lines.push(s.join(s === decls || s === tempLines || s === combAssigns ? '\n' : '\n\n'));
    }
    lines.push('');
    lines.push('endmodule');
    // Long expressions are broken over lines at their brackets and operators (layout.ts).
    return { name: ir.name, body: breakLines(lines.join('\n')) + '\n' };
  }

  /** Count uses exactly as printed: combinational signals through their one value, the rest through the clocked statements. */
  private countRefs(combValues: readonly Value[]): void {
    const clocked = pruneStmts(this.stmtsIn, (s) => !(s.k === 'assign' && isComb(s.target)));
    this.ex.prepare([...moduleRoots(this.ir, () => false, clocked), ...combValues]);
  }

  /** Signals read other than through an instance input's auto-connection default. */
  private readSignals(): Set<Signal> {
    return expressionReads(moduleRoots(this.ir, (s) => s.role !== 'inst-in', this.stmtsIn)).signals;
  }

  /** Split registers into always blocks: registers assigned under one top-level statement share a block. */
  private groups(targets: Signal[]): Signal[][] {
    const set = new Set(targets);
    const parent = new Map<Signal, Signal>(targets.map((t) => [t, t]));
    const find = (s: Signal): Signal => {
      while (parent.get(s) !== s) s = parent.get(s)!;
      return s;
    };
    for (const st of this.stmtsIn) {
      const inside: Signal[] = [];
      walkStmts([st], (x) => {
        if (x.k === 'assign' && set.has(x.target)) inside.push(x.target);
      });
      for (const t of inside) parent.set(find(t), find(inside[0]!));
    }
    const byRoot = new Map<Signal, Signal[]>();
    for (const t of targets) byRoot.set(find(t), [...(byRoot.get(find(t)) ?? []), t]);
    return [...byRoot.values()];
  }

  private prune(targets: readonly Signal[]): Stmt[] {
    const set = new Set(targets);
    return pruneStmts(this.stmtsIn, (s) => s.k === 'assign' && set.has(s.target));
  }

  private seqBlock(group: Signal[]): string {
    const spec = group[0]!.reg!;
    const d = spec.domain;
    let body = this.stmts(this.prune(group), 2, '<=');
    this.ex.target = undefined;
    if (spec.enable) body = [`${IND}${IND}if (${this.ex.expr(spec.enable)}) begin`, ...indent(body), `${IND}${IND}end`];
    if (spec.reset !== undefined && d.rst) {
      const resets = group.map((r) => `${IND}${IND}${IND}${r.name} <= ${this.constOf(r.reg!.reset!, r.shape)};`);
      const cond = d.resetActive === 'high' ? d.rst.name : `!${d.rst.name}`;
      body = [`${IND}${IND}if (${cond}) begin`, ...resets, `${IND}${IND}end else begin`, ...indent(body), `${IND}${IND}end`];
    }
    return `${IND}always @(${sensitivity(d, spec.reset !== undefined)}) begin${this.at(group[0]!.loc)}\n${body.join('\n')}\n${IND}end`;
  }

  /**
   * FPGA memories power up to their INIT contents, zeros unless given: say so in the
   * Verilog too. The zero fill is for simulators only (block RAM is zero anyway), because
   * synthesis tools unroll the loop word by word: Yosys took minutes on a 1 Mbit buffer.
   */
  private memoryDecl(m: Memory): string[] {
    const out = [`${IND}reg ${m.shape.width > 1 ? `[${m.shape.width - 1}:0] ` : ''}${m.name} [0:${m.depth - 1}];${this.at(m.loc)}`];
    const init = m.init ?? [];
    const i = this.claim(`${m.name}_i`);
    out.push(`${IND}integer ${i};`);
    out.push(`${IND}initial begin`);
    out.push('`ifndef SYNTHESIS');
    out.push(`${IND}${IND}for (${i} = 0; ${i} < ${m.depth}; ${i} = ${i} + 1) ${m.name}[${i}] = ${constText(0n, m.shape.width)};`);
    out.push('`endif');
    init.forEach((v, a) => {
      if (v !== 0n) out.push(`${IND}${IND}${m.name}[${a}] = ${constText(v, m.shape.width)};`);
    });
    out.push(`${IND}end`);
    return out;
  }

  private memoryBlock(m: Memory): string {
    const blocks: string[] = [];
    const writes = pruneStmts(this.stmtsIn, (s) => s.k === 'memwr' && s.mem === m);
    if (writes.length) {
      blocks.push(`${IND}always @(posedge ${m.writeDomain.clk.name}) begin${this.at(m.loc)}\n${this.stmts(writes, 2, '<=').join('\n')}\n${IND}end`);
    }
    for (const p of m.readPorts) {
      this.procedural.add(p.data);
      this.readPortInit.set(p.data, p.init);
      this.ex.target = p.data.name;
      const rd = `${p.data.name} <= ${m.name}[${this.ex.simple(p.addr)}];`;
      const body = p.enable ? `${IND}${IND}if (${this.ex.expr(p.enable)}) ${rd}` : `${IND}${IND}${rd}`;
      blocks.push(`${IND}always @(posedge ${p.domain.clk.name}) begin${this.at(p.loc)}\n${body}\n${IND}end`);
    }
    return blocks.join('\n\n');
  }

  private instanceBlock(inst: ModuleIR['instances'][number]): string {
    const child = inst.module;
    const params = child.blackBox?.parameters;
    const paramText = params && Object.keys(params).length
      ? ` #(\n${Object.entries(params).map(([k, v]) => `${IND}${IND}.${k}(${typeof v === 'string' ? JSON.stringify(v) : v})`).join(',\n')}\n${IND})`
      : '';
    const conns = child.ports.map((p) => {
      const w = inst.ports.get(p.name)!;
      const v = this.inlined.get(w);
      this.ex.target = w.name;
      return `${IND}${IND}.${p.name}(${this.open.has(w) ? '' : v ? this.ex.expr(v) : w.name})`;
    });
    const text = `${IND}${child.name}${paramText} ${inst.name} (${this.at(inst.loc)}\n${conns.join(',\n')}\n${IND});`;
    // Outputs left open on purpose (debug and status ports nothing here reads).
    if (![...inst.ports.values()].some((w) => this.open.has(w))) return text;
    return `${IND}/* verilator lint_off PINCONNECTEMPTY */\n${text}\n${IND}/* verilator lint_on PINCONNECTEMPTY */`;
  }

  private portDecl(p: Signal): string {
    const dir = p.role === 'input' ? 'input ' : 'output';
    const reg = p.reg && !this.constRegs.has(p);
    const kind = p.role === 'output' && (reg || this.procedural.has(p)) ? 'reg ' : 'wire';
    const init = reg ? ` = ${this.constOf(p.reg!.init ?? p.reg!.reset ?? 0n, p.shape)}` : '';
    return `${dir} ${kind} ${rangeText(p)}${p.name}${init}`;
  }

  private stmts(list: readonly Stmt[], depth: number, op: '=' | '<='): string[] {
    const pad = IND.repeat(depth);
    const out: string[] = [];
    for (const s of list) {
      switch (s.k) {
        case 'assign': {
          this.ex.target = s.target.name;
          const ct = this.ex.caseOf(s.value);
          if (ct) out.push(...caseLines(s.target.name, ct, depth, op));
          else out.push(`${pad}${s.target.name} ${op} ${this.ex.expr(s.value)};`);
          break;
        }
        case 'memwr':
          this.ex.target = s.mem.name;
          out.push(`${pad}${s.mem.name}[${this.ex.simple(s.addr)}] <= ${this.ex.expr(s.data)};`);
          break;
        case 'if': {
          this.ex.target = undefined;
          out.push(`${pad}if (${this.ex.expr(s.cond)}) begin`);
          out.push(...this.stmts(s.then, depth + 1, op));
          let els = s.else;
          while (els.length === 1 && els[0]!.k === 'if') {
            const e = els[0] as Extract<Stmt, { k: 'if' }>;
            this.ex.target = undefined;
            out.push(`${pad}end else if (${this.ex.expr(e.cond)}) begin`);
            out.push(...this.stmts(e.then, depth + 1, op));
            els = e.else;
          }
          if (els.length) {
            out.push(`${pad}end else begin`);
            out.push(...this.stmts(els, depth + 1, op));
          }
          out.push(`${pad}end`);
          break;
        }
        case 'switch': {
          this.ex.target = undefined;
          out.push(`${pad}case (${this.ex.expr(s.sel)})`);
          const covered = s.cases.reduce((n, c) => n + c.values.length, 0);
          const complete = s.sel.width <= 30 && covered >= 2 ** s.sel.width;
          // A case that covers every value gets its last arm as `default`, so no tool sees a latch.
          const arms = complete ? s.cases.slice(0, -1) : s.cases;
          for (const c of arms) {
            out.push(`${pad}${IND}${c.values.map((v) => this.constOf(v, s.sel.shape)).join(', ')}: begin`);
            out.push(...this.stmts(c.body, depth + 2, op));
            out.push(`${pad}${IND}end`);
          }
          const dflt = complete ? s.cases[s.cases.length - 1]!.body : s.dflt;
          if (dflt.length) {
            out.push(`${pad}${IND}default: begin`);
            out.push(...this.stmts(dflt, depth + 2, op));
            out.push(`${pad}${IND}end`);
          } else {
            out.push(`${pad}${IND}default: ;`);
          }
          out.push(`${pad}endcase`);
          break;
        }
      }
    }
    return out;
  }
}

/** `case (sel) K: target op value; … default: …; endcase` at the given depth. */
function caseLines(target: string, c: CaseText, depth: number, op: '=' | '<='): string[] {
  const pad = IND.repeat(depth);
  const pad1 = pad + IND;
  const labelW = Math.min(24, Math.max(8, ...c.arms.map((a) => a.labels.length + 1)));
  const out = [`${pad}case (${c.sel})`];
  for (const a of c.arms) out.push(`${pad1}${`${a.labels}:`.padEnd(labelW)} ${target} ${op} ${a.value};`);
  out.push(`${pad1}${'default:'.padEnd(labelW)} ${target} ${op} ${c.dflt};`);
  out.push(`${pad}endcase`);
  return out;
}

/**
 * A combinational select, one arm a line, as a one-hot AND-OR:
 * `({8{lane == 2'd0}} & data[7:0]) | ({8{lane == 2'd1}} & data[15:8]) | …`, the default
 * under "no label matches" (left out when it is zero). The arms' labels are distinct
 * constants of one selector, so exactly one term is live and this equals the priority
 * chain it was built from. Why not `always @*` with a `case`: Verilator 5.006 orders two such
 * blocks wrongly when one reads the other's output (README, "Known tool bugs"; lower.ts),
 * and a continuous assignment is evaluated right by every simulator. Why not a `?:` chain:
 * it tells synthesis nothing about the arms being exclusive, so Yosys builds a priority mux
 * as deep as the chain (the iCEBreaker's link engine fell from 21.8 to 17.1 MHz). Registered
 * selects stay `case`s inside their clocked block.
 */
function chainLines(c: CaseText, width: number, depth: number): string {
  const pad = IND.repeat(depth);
  const open = width === 1 ? '((' : `({${width}{`;
  const close = width === 1 ? ')' : '}}';
  const room = LINE_LIMIT - pad.length - open.length - 8;
  const lines: string[] = [];
  // One term: its tests wrapped by hand (a term can list every value of the selector), then `& value)`.
  const term = (tests: string[], op: '||' | '&&', value: string): void => {
    const rows: string[] = [];
    for (const t of tests) {
      const last = rows.length - 1;
      if (last >= 0 && rows[last]!.length + t.length + 4 <= room) rows[last] += ` ${op} ${t}`;
      else rows.push(last < 0 ? t : `${op} ${t}`);
    }
    rows.forEach((r, i) => {
      const lead = i > 0 ? ' '.repeat(2 + open.length) : `${lines.length ? '| ' : '  '}${open}`;
      lines.push(`${pad}${lead}${r}${i === rows.length - 1 ? `${close} & ${value})` : ''}`);
    });
  };
  for (const a of c.arms) term(a.keys.map((k) => `${c.sel} == ${k}`), '||', a.value);
  // The default under "no label matches", left out when it is zero.
  if (!/^\d+'[bdh]0+$/.test(c.dflt)) term(c.arms.flatMap((a) => a.keys.map((k) => `${c.sel} != ${k}`)), '&&', c.dflt);
  return lines.join('\n');
}

function indent(lines: string[]): string[] {
  return lines.map((l) => IND + l);
}

function rangeText(s: { width: number; signed: boolean }): string {
  return `${s.signed ? 'signed ' : ''}${s.width > 1 ? `[${s.width - 1}:0] ` : ''}`;
}

function sensitivity(d: Domain, hasReset: boolean): string {
  const clk = `posedge ${d.clk.name}`;
  if (d.resetKind !== 'async' || !hasReset || !d.rst) return clk;
  return `${clk} or ${d.resetActive === 'high' ? 'posedge' : 'negedge'} ${d.rst.name}`;
}

function assignLoc(stmts: readonly Stmt[], s: Signal): SourceLoc | undefined {
  for (const st of stmts) if (st.k === 'assign' && st.target === s) return st.loc;
  return undefined;
}
