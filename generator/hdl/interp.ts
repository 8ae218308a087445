// A cycle-based interpreter of the IR, used as the oracle in differential tests and for
// fast unit tests. The design is flattened and compiled to JavaScript once: every signal
// gets a slot holding its raw bit pattern as a bigint (signed values in two's complement),
// combinational logic runs in dependency order, and a clock edge computes every register's
// next value from the settled state before committing them all, as non-blocking
// assignments do. Out-of-range memory reads return 0 (Verilog would give X).

import { HdlError } from './source.ts';
import { type Value } from './value.ts';
import { BIN_OPS, UN_OPS, OP_HELPERS, type OpText } from './ops.ts';
import { ModuleIR, Signal, Memory, pruneStmts, signalsRead, walkStmts, postOrder, deepCuts, children, stmtRoots, type Stmt } from './ir.ts';
import { isComb } from './checks.ts';
import { type Elaborated } from './module.ts';

interface Ctx {
  readonly path: string;
  readonly mod: ModuleIR;
  readonly slot: Map<Signal, number>;
  readonly memSlot: Map<Memory, number>;
}

interface CombNode {
  readonly target: number;
  readonly deps: number[];
  readonly code: string;
  /** Set when the node only copies another slot (port wiring, clock fan-out). */
  readonly aliasOf: number | undefined;
  readonly name: string;
}

interface SeqUnit {
  readonly clk: number;
  readonly code: string;
  readonly asyncReset?: { readonly slot: number; readonly rst: number; readonly activeHigh: boolean; readonly value: bigint };
}

const CHUNK = 250;

const helpers = OP_HELPERS;

function mask(w: number): string {
  return `0x${((1n << BigInt(w)) - 1n).toString(16)}n`;
}

export class Interpreter {
  private readonly s: bigint[] = [];
  private readonly mems: bigint[][] = [];
  private readonly names = new Map<string, { slot: number; width: number; signed: boolean }>();
  private readonly combChunks: ((s: bigint[], M: bigint[][], H: typeof helpers) => void)[] = [];
  private readonly edges = new Map<number, (s: bigint[], M: bigint[][], H: typeof helpers) => void>();
  private readonly asyncResets: NonNullable<SeqUnit['asyncReset']>[] = [];
  private readonly domainClk = new Map<string, number>();
  private readonly top: ModuleIR;
  /** Clock edges seen per domain. */
  readonly cycles = new Map<string, number>();
  /** Inputs or memories may have changed since the last settle. */
  private dirty = true;

  constructor(design: ModuleIR | Elaborated<unknown>) {
    this.top = design instanceof ModuleIR ? design : design.ir;
    const ctxs: Ctx[] = [];
    const build = (mod: ModuleIR, path: string): Ctx => {
      if (mod.blackBox) throw new HdlError(`the interpreter cannot run black box '${mod.name}' (at ${path || 'top'}): its behaviour is hand-written Verilog`, mod.loc);
      const ctx: Ctx = { path, mod, slot: new Map(), memSlot: new Map() };
      for (const sig of mod.signals) {
        const k = this.s.length;
        this.s.push(BigInt.asUintN(sig.width, sig.reg?.init ?? sig.reg?.reset ?? 0n));
        ctx.slot.set(sig, k);
        this.names.set(path ? `${path}.${sig.name}` : sig.name, { slot: k, width: sig.width, signed: sig.signed });
      }
      for (const m of mod.memories) {
        for (const p of m.readPorts) this.s[ctx.slot.get(p.data)!] = p.init;
        ctx.memSlot.set(m, this.mems.length);
        const words = new Array<bigint>(m.depth).fill(0n);
        m.init?.forEach((v, i) => (words[i] = v));
        this.mems.push(words);
      }
      ctxs.push(ctx);
      return ctx;
    };
    const nodes: CombNode[] = [];
    const units: SeqUnit[] = [];
    const elaborate = (mod: ModuleIR, path: string): Ctx => {
      const ctx = build(mod, path);
      for (const inst of mod.instances) {
        const child = elaborate(inst.module, path ? `${path}.${inst.name}` : inst.name);
        for (const p of inst.module.ports) {
          const w = ctx.slot.get(inst.ports.get(p.name)!)!;
          const c = child.slot.get(p)!;
          const [to, from] = p.role === 'input' ? [c, w] : [w, c];
          nodes.push({ target: to, deps: [from], code: `s[${to}] = s[${from}];`, aliasOf: from, name: `${child.path}.${p.name}` });
        }
      }
      this.compileModule(ctx, nodes, units);
      return ctx;
    };
    elaborate(this.top, '');

    const order = topoSort(nodes, this.s.length);
    for (let i = 0; i < order.length; i += CHUNK) {
      const body = order.slice(i, i + CHUNK).map((n) => n.code).join('\n');
      this.combChunks.push(new Function('s', 'M', 'H', body) as (s: bigint[], M: bigint[][], H: typeof helpers) => void);
    }
    // Registers are clocked by the root of their clock's wiring (a top-level clock port).
    const alias = new Map<number, number>();
    for (const n of nodes) if (n.aliasOf !== undefined) alias.set(n.target, n.aliasOf);
    const root = (k: number): number => {
      while (alias.has(k)) k = alias.get(k)!;
      return k;
    };
    const byClk = new Map<number, string[]>();
    for (const u of units) {
      const r = root(u.clk);
      byClk.set(r, [...(byClk.get(r) ?? []), u.code]);
      if (u.asyncReset) this.asyncResets.push(u.asyncReset);
    }
    for (const d of this.top.domains) this.domainClk.set(d.name, this.names.get(d.clk.name)!.slot);
    const topClocks = new Set(this.domainClk.values());
    for (const [clk, codes] of byClk) {
      if (!topClocks.has(clk)) {
        const name = [...this.names].find(([, v]) => v.slot === clk)?.[0] ?? `slot ${clk}`;
        throw new HdlError(`the interpreter only runs clocks that come from top-level clock ports; '${name}' is driven by logic`, this.top.loc);
      }
      // Every next value is computed from the settled state first, then all are committed:
      // N and R hold (slot, value) pairs, W holds (memory, address, data) triples.
      const body = `const N = []; const W = []; const R = [];\n${codes.join('\n')}\nfor (let i = 0; i < N.length; i += 2) s[N[i]] = N[i + 1];\nfor (let i = 0; i < W.length; i += 3) { const m = M[W[i]]; if (W[i + 1] < m.length) m[W[i + 1]] = W[i + 2]; }\nfor (let i = 0; i < R.length; i += 2) s[R[i]] = R[i + 1];`;
      this.edges.set(clk, new Function('s', 'M', 'H', body) as (s: bigint[], M: bigint[][], H: typeof helpers) => void);
    }
    this.settle();
  }

  private compileModule(ctx: Ctx, nodes: CombNode[], units: SeqUnit[]): void {
    const mod = ctx.mod;
    const sl = (sig: Signal): number => ctx.slot.get(sig)!;
    for (const sig of mod.signals.filter(isComb)) {
      const stmts = pruneStmts(mod.stmts, (st) => st.k === 'assign' && st.target === sig);
      const deps = new Set<Signal>();
      walkStmts(stmts, (st) => collectReads(st, deps));
      if (sig.defaultValue) signalsRead(sig.defaultValue, deps);
      const k = sl(sig);
      const single = stmts.length === 1 && stmts[0]!.k === 'assign' ? stmts[0]!.value : stmts.length === 0 ? sig.defaultValue : undefined;
      const aliasOf = single && single.node.k === 'sig' ? sl(single.node.sig as Signal) : undefined;
      const cx = new JsExpr(ctx);
      if (sig.defaultValue) cx.prepare([sig.defaultValue]);
      const init = sig.defaultValue ? cx.expr(sig.defaultValue) : `s[${k}]`;
      const body = cx.stmts(stmts, (t, v) => (t === sig ? `v = ${v};` : ''));
      nodes.push({ target: k, deps: [...deps].map(sl), code: `{ ${cx.prelude()}let v = ${init};\n${body}\ns[${k}] = v; }`, aliasOf, name: `${ctx.path}.${sig.name}` });
    }
    for (const sig of mod.signals.filter((x) => x.reg)) {
      const spec = sig.reg!;
      const k = sl(sig);
      const cx = new JsExpr(ctx);
      const stmts = pruneStmts(mod.stmts, (st) => st.k === 'assign' && st.target === sig);
      let body = cx.stmts(stmts, (t, v) => (t === sig ? `v = ${v};` : ''));
      if (spec.enable) body = `if (${cx.expr(spec.enable)} !== 0n) {\n${body}\n}`;
      let asyncReset: SeqUnit['asyncReset'];
      if (spec.reset !== undefined && spec.domain.rst) {
        const rst = sl(spec.domain.rst);
        const active = spec.domain.resetActive === 'high' ? `s[${rst}] !== 0n` : `s[${rst}] === 0n`;
        body = `if (${active}) { v = ${spec.reset}n; } else {\n${body}\n}`;
        if (spec.domain.resetKind === 'async') asyncReset = { slot: k, rst, activeHigh: spec.domain.resetActive === 'high', value: spec.reset };
      }
      units.push({ clk: sl(spec.domain.clk), code: `{ ${cx.prelude()}let v = s[${k}];\n${body}\nN.push(${k}, v); }`, asyncReset });
    }
    for (const m of mod.memories) {
      const mi = ctx.memSlot.get(m)!;
      const writes = pruneStmts(mod.stmts, (st) => st.k === 'memwr' && st.mem === m);
      if (writes.length) {
        const cx = new JsExpr(ctx);
        const body = cx.stmts(writes, () => '');
        units.push({ clk: sl(m.writeDomain.clk), code: `{ ${cx.prelude()}${body} }` });
      }
      for (const p of m.readPorts) {
        const cx = new JsExpr(ctx);
        const rd = `R.push(${sl(p.data)}, M[${mi}][Number(${cx.expr(p.addr)})] ?? 0n);`;
        const code = p.enable ? `if (${cx.expr(p.enable)} !== 0n) { ${rd} }` : rd;
        units.push({ clk: sl(p.domain.clk), code: `{ ${cx.prelude()}${code} }` });
      }
    }
  }

  /** Propagate inputs through combinational logic (and asynchronous resets). */
  settle(): void {
    this.dirty = false;
    for (let pass = 0; pass < 8; pass++) {
      for (const f of this.combChunks) f(this.s, this.mems, helpers);
      let changed = false;
      for (const r of this.asyncResets) {
        const active = (this.s[r.rst] !== 0n) === r.activeHigh;
        if (active && this.s[r.slot] !== r.value) {
          this.s[r.slot] = r.value;
          changed = true;
        }
      }
      if (!changed) return;
    }
  }

  /** One rising edge of `domain`'s clock, then settle. */
  tick(domain = 'sync', cycles = 1): void {
    const clk = this.domainClk.get(domain);
    if (clk === undefined) throw new HdlError(`no clock domain '${domain}' in '${this.top.name}' (domains: ${[...this.domainClk.keys()].join(', ') || 'none'})`);
    const edge = this.edges.get(clk);
    for (let i = 0; i < cycles; i++) {
      if (this.dirty) this.settle();
      edge?.(this.s, this.mems, helpers);
      this.settle();
    }
    this.cycles.set(domain, (this.cycles.get(domain) ?? 0) + cycles);
  }

  private lookup(name: string): { slot: number; width: number; signed: boolean } {
    const e = this.names.get(name);
    if (!e) throw new HdlError(`no signal '${name}' in '${this.top.name}'`);
    return e;
  }

  /** Drive a top-level input (takes effect at the next settle or tick). */
  set(name: string, value: bigint | number): void {
    const e = this.lookup(name);
    const port = this.top.port(name);
    if (!port || port.role !== 'input') throw new HdlError(`'${name}' is not an input port of '${this.top.name}'`);
    const v = BigInt(value);
    const min = e.signed ? -(1n << BigInt(e.width - 1)) : 0n;
    const max = e.signed ? (1n << BigInt(e.width - 1)) - 1n : (1n << BigInt(e.width)) - 1n;
    if (v < min || v > max) throw new HdlError(`value ${v} does not fit input '${name}' (${e.signed ? 'signed' : 'unsigned'} ${e.width} bits)`);
    this.s[e.slot] = BigInt.asUintN(e.width, v);
    this.dirty = true;
  }

  /** Read any signal by hierarchical name ('count', 'u_fifo.level'); signed signals read as signed. */
  get(name: string): bigint {
    const e = this.lookup(name);
    const raw = this.s[e.slot]!;
    return e.signed ? BigInt.asIntN(e.width, raw) : raw;
  }

  /** The raw bit pattern of a signal (two's complement for signed signals). */
  bits(name: string): bigint {
    return this.s[this.lookup(name).slot]!;
  }

  memory(path: string): bigint[] {
    let i = 0;
    const find = (mod: ModuleIR, prefix: string): number | undefined => {
      for (const m of mod.memories) {
        if ((prefix ? `${prefix}.${m.name}` : m.name) === path) return i;
        i++;
      }
      for (const inst of mod.instances) {
        const r = find(inst.module, prefix ? `${prefix}.${inst.name}` : inst.name);
        if (r !== undefined) return r;
      }
      return undefined;
    };
    const k = find(this.top, '');
    if (k === undefined) throw new HdlError(`no memory '${path}' in '${this.top.name}'`);
    this.dirty = true; // the caller may write words through the returned array
    return this.mems[k]!;
  }

  signalNames(): string[] {
    return [...this.names.keys()];
  }
}

function collectReads(st: Stmt, into: Set<Signal>): void {
  for (const r of stmtRoots(st)) signalsRead(r, into);
}

/** Orders combinational nodes so each runs after the nodes producing its inputs. */
function topoSort(nodes: CombNode[], slots: number): CombNode[] {
  const producer = new Array<CombNode | undefined>(slots);
  for (const n of nodes) producer[n.target] = n;
  const state = new Map<CombNode, number>();
  const out: CombNode[] = [];
  for (const start of nodes) {
    if (state.has(start)) continue;
    // Iterative DFS: a 4,096-PE array is deeper than the JS call stack likes.
    const stack: [CombNode, number][] = [[start, 0]];
    state.set(start, 1);
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const [n, i] = top;
      if (i < n.deps.length) {
        top[1]++;
        const p = producer[n.deps[i]!];
        if (!p) continue;
        const st = state.get(p);
        if (st === 1) throw new HdlError(`combinational loop through '${p.name}' in the flattened design`);
        if (st === undefined) {
          state.set(p, 1);
          stack.push([p, 0]);
        }
      } else {
        state.set(n, 2);
        out.push(n);
        stack.pop();
      }
    }
  }
  return out;
}

/** JavaScript for IR expressions and statements in one module context; shared nodes become consts. */
class JsExpr {
  private readonly lines: string[] = [];
  private readonly memo = new Map<Value, string>();
  private readonly seen = new Set<Value>();
  private readonly multi = new Set<Value>();

  constructor(private readonly ctx: Ctx) {}

  prelude(): string {
    return this.lines.length ? this.lines.join('\n') + '\n' : '';
  }

  stmts(list: readonly Stmt[], onAssign: (t: Signal, v: string) => string): string {
    const roots: Value[] = [];
    walkStmts(list, (st) => roots.push(...stmtRoots(st)));
    this.prepare(roots);
    return this.emit(list, onAssign);
  }

  /** Shared nodes become consts; deep chains are cut into consts bottom up (bounded recursion). */
  prepare(roots: readonly Value[]): void {
    const order = postOrder(roots);
    for (const r of roots) this.count(r);
    for (const v of order) for (const c of children(v)) this.count(c);
    for (const v of deepCuts(order)) {
      this.multi.add(v);
      this.expr(v);
    }
  }

  private count(v: Value): void {
    if (this.seen.has(v)) this.multi.add(v);
    else this.seen.add(v);
  }

  private emit(list: readonly Stmt[], onAssign: (t: Signal, v: string) => string): string {
    const out: string[] = [];
    for (const st of list) {
      if (st.k === 'assign') out.push(onAssign(st.target, this.expr(st.value)));
      else if (st.k === 'memwr') out.push(`W.push(${this.ctx.memSlot.get(st.mem)}, Number(${this.expr(st.addr)}), ${this.expr(st.data)});`);
      else if (st.k === 'if') {
        out.push(`if (${this.expr(st.cond)} !== 0n) {\n${this.emit(st.then, onAssign)}\n} else {\n${this.emit(st.else, onAssign)}\n}`);
      } else {
        const sel = this.expr(st.sel);
        const arms = st.cases.map((c) => `${c.values.map((v) => `S === ${v}n`).join(' || ')}) {\n${this.emit(c.body, onAssign)}\n}`);
        out.push(`{ const S = ${sel};\n${arms.length ? `if (${arms.join(' else if (')} else ` : ''}{\n${this.emit(st.dflt, onAssign)}\n} }`);
      }
    }
    return out.join('\n');
  }

  expr(v: Value): string {
    const hit = this.memo.get(v);
    if (hit) return hit;
    const code = this.raw(v);
    if (this.multi.has(v) && v.node.k !== 'sig' && v.node.k !== 'const') {
      const name = `t${this.lines.length}`;
      this.lines.push(`const ${name} = ${code};`);
      this.memo.set(v, name);
      return name;
    }
    return code;
  }

  private raw(v: Value): string {
    const n = v.node;
    const w = v.width;
    switch (n.k) {
      case 'const':
        return `${n.value}n`;
      case 'sig':
        return `s[${this.ctx.slot.get(n.sig as Signal)}]`;
      case 'cast':
        return this.expr(n.a);
      case 'memrd':
        return `(M[${this.ctx.memSlot.get(n.mem as Memory)}][Number(${this.expr(n.addr)})] ?? 0n)`;
      case 'mux':
        return `(${this.expr(n.c)} !== 0n ? ${this.expr(n.t)} : ${this.expr(n.f)})`;
      case 'slice':
        return `((${this.expr(n.a)} >> ${n.lo}n) & ${mask(w)})`;
      case 'ext':
        return n.a.signed ? `BigInt.asUintN(${w}, BigInt.asIntN(${n.a.width}, ${this.expr(n.a)}))` : this.expr(n.a);
      case 'cat': {
        let shift = w;
        const parts = n.parts.map((p) => {
          shift -= p.width;
          return shift ? `(${this.expr(p)} << ${shift}n)` : this.expr(p);
        });
        return `(${parts.join(' | ')})`;
      }
      case 'un':
      case 'bin': {
        // The operator's one definition (ops.ts), with this node's widths pasted in.
        const t: OpText = {
          a: this.expr(n.a),
          b: n.k === 'bin' ? this.expr(n.b) : '',
          w: String(w),
          wa: String(n.a.width),
          m: mask(w),
          ma: mask(n.a.width),
          signed: n.a.signed,
        };
        return n.k === 'bin' ? BIN_OPS[n.op].js(t) : UN_OPS[n.op].js(t);
      }
    }
    throw new Error(`interpreter: unhandled node ${(n as { k: string }).k}`);
  }
}
