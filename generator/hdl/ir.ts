// The IR between elaboration and emission: a module is a list of typed signals, a tree of
// conditional statements (last assignment wins, as in Chisel and Amaranth), memories and
// instances. The emitter, the checks and the interpreter all read this and nothing else.

import { type SourceLoc } from './source.ts';
import { Value, type Shape, type SignalLike, type MemoryLike } from './value.ts';

export type SignalRole = 'input' | 'output' | 'wire' | 'reg' | 'inst-in' | 'inst-out' | 'mem-rdata';

export interface Domain {
  readonly name: string;
  readonly clk: Signal;
  readonly rst: Signal | undefined;
  /** 'sync': reset sampled on the clock edge; 'async': reset acts immediately. */
  readonly resetKind: 'sync' | 'async';
  readonly resetActive: 'high' | 'low';
}

export interface RegSpec {
  readonly domain: Domain;
  /** Value loaded while the domain's reset is active; undefined = no reset. */
  readonly reset: bigint | undefined;
  /** Power-up value (an FPGA bitstream initializer); undefined = none. */
  readonly init: bigint | undefined;
  /** Clock enable: the register keeps its value when this is 0. */
  readonly enable: Value | undefined;
}

export class Signal extends Value implements SignalLike {
  readonly name: string;
  readonly role: SignalRole;
  readonly owner: ModuleIR;
  readonly reg: RegSpec | undefined;
  /** For comb wires: value taken on paths that do not assign it. */
  defaultValue: Value | undefined;
  /** Extra explanation for errors about this signal (e.g. why a reset was not auto-connected). */
  hint: string | undefined;
  /** For instance port wires: the instance and the child's port. */
  readonly instance: { readonly inst: Instance; readonly port: Signal } | undefined;

  constructor(
    owner: ModuleIR,
    name: string,
    shape: Shape,
    role: SignalRole,
    loc: SourceLoc | undefined,
    extra: { reg?: RegSpec; instance?: { inst: Instance; port: Signal } } = {},
  ) {
    super(shape, { k: 'sig', sig: undefined as unknown as SignalLike }, loc);
    (this.node as { sig: SignalLike }).sig = this;
    this.owner = owner;
    this.name = name;
    this.role = role;
    this.reg = extra.reg;
    this.instance = extra.instance;
    this.defaultValue = undefined;
    this.hint = undefined;
  }

  get isPort(): boolean {
    return this.role === 'input' || this.role === 'output';
  }
}

export interface SyncReadPort {
  readonly domain: Domain;
  readonly addr: Value;
  readonly enable: Value | undefined;
  readonly data: Signal;
  /** Power-up value of the read register (block RAM output latches have one). */
  readonly init: bigint;
  readonly loc: SourceLoc | undefined;
}

export class Memory implements MemoryLike {
  readonly readPorts: SyncReadPort[] = [];
  private domain: Domain | undefined;
  /**
   * `domainOf` is asked on the first write or synchronous read: a table that is only read
   * asynchronously (a ROM) declares no clock, so its module gets no unused clk/rst ports.
   */
  constructor(
    readonly owner: ModuleIR,
    readonly name: string,
    readonly shape: Shape,
    readonly depth: number,
    private readonly domainOf: () => Domain,
    readonly init: readonly bigint[] | undefined,
    readonly loc: SourceLoc | undefined,
  ) {}
  get writeDomain(): Domain {
    this.domain ??= this.domainOf();
    return this.domain;
  }
  get addrWidth(): number {
    return Math.max(1, Math.ceil(Math.log2(this.depth)));
  }
}

export type Stmt =
  | { readonly k: 'assign'; readonly target: Signal; readonly value: Value; readonly loc: SourceLoc | undefined }
  | { readonly k: 'if'; readonly cond: Value; readonly then: Stmt[]; readonly else: Stmt[]; readonly loc: SourceLoc | undefined }
  | {
      readonly k: 'switch';
      readonly sel: Value;
      readonly cases: { readonly values: readonly bigint[]; readonly body: Stmt[] }[];
      readonly dflt: Stmt[];
      readonly loc: SourceLoc | undefined;
    }
  | { readonly k: 'memwr'; readonly mem: Memory; readonly addr: Value; readonly data: Value; readonly loc: SourceLoc | undefined };

export interface Instance {
  readonly name: string;
  readonly module: ModuleIR;
  /** Parent-side wire for each child port, keyed by the child's port name. */
  readonly ports: Map<string, Signal>;
  readonly loc: SourceLoc | undefined;
}

export interface BlackBoxSource {
  /** Verilog text of the module, copied next to the emitted files. */
  readonly verilog?: string;
  /** Or a path to a file holding it. */
  readonly file?: string;
  /** Verilog parameters passed at instantiation: #(.NAME(value)). */
  readonly parameters?: Readonly<Record<string, number | string>>;
}

export type ParamValue = number | string | boolean;
export type Params = Readonly<Record<string, ParamValue>>;

export class ModuleIR {
  readonly signals: Signal[] = [];
  readonly ports: Signal[] = [];
  readonly stmts: Stmt[] = [];
  readonly memories: Memory[] = [];
  readonly instances: Instance[] = [];
  readonly domains: Domain[] = [];
  blackBox: BlackBoxSource | undefined;
  /** Signals nothing reads on purpose (a protocol field this design does not need), with why. */
  readonly unused = new Map<Signal, string>();
  /** Set once elaboration and checks are done; the IR is read-only afterwards. */
  sealed = false;

  constructor(
    readonly name: string,
    readonly family: string,
    readonly params: Params,
    readonly loc: SourceLoc | undefined,
  ) {}

  port(name: string): Signal | undefined {
    return this.ports.find((p) => p.name === name);
  }
}

/** Depth-first list of every distinct module under (and including) `top`, children first. */
export function moduleTree(top: ModuleIR): ModuleIR[] {
  const seen = new Set<ModuleIR>();
  const out: ModuleIR[] = [];
  const visit = (m: ModuleIR): void => {
    if (seen.has(m)) return;
    seen.add(m);
    for (const i of m.instances) visit(i.module);
    out.push(m);
  };
  visit(top);
  return out;
}

/** The operands of an expression node. */
export function children(v: Value): readonly Value[] {
  const n = v.node;
  switch (n.k) {
    case 'bin':
      return [n.a, n.b];
    case 'un':
    case 'slice':
    case 'ext':
    case 'cast':
      return [n.a];
    case 'cat':
      return n.parts;
    case 'mux':
      return [n.c, n.t, n.f];
    case 'memrd':
      return [n.addr];
    case 'const':
    case 'sig':
      return [];
  }
}

/**
 * Every distinct node under `roots`, operands before users. Iterative, because designs
 * build expression chains thousands of levels deep (a fold over 4,096 PEs).
 */
export function postOrder(roots: Iterable<Value>, seen: Set<Value> = new Set()): Value[] {
  const out: Value[] = [];
  const stack: [Value, number][] = [];
  for (const r of roots) {
    if (seen.has(r)) continue;
    seen.add(r);
    stack.push([r, 0]);
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const kids = children(top[0]);
      if (top[1] < kids.length) {
        const c = kids[top[1]++]!;
        if (!seen.has(c)) {
          seen.add(c);
          stack.push([c, 0]);
        }
      } else {
        out.push(top[0]);
        stack.pop();
      }
    }
  }
  return out;
}

/**
 * Nodes at which to cut very deep expressions into named intermediates, so that printing
 * or compiling any one expression recurses at most CUT_DEPTH levels. Returned in post-order.
 */
export const CUT_DEPTH = 32;
export function deepCuts(order: readonly Value[], operands: (v: Value) => readonly Value[] = children): Value[] {
  const height = new Map<Value, number>();
  const cuts: Value[] = [];
  for (const v of order) {
    let h = 0;
    for (const c of operands(v)) h = Math.max(h, (height.get(c) ?? 0) + 1);
    if (h >= CUT_DEPTH) {
      cuts.push(v);
      h = 0;
    }
    height.set(v, h);
  }
  return cuts;
}

/** Visit every Value in an expression tree once. */
export function walkValue(v: Value, fn: (v: Value) => void, seen: Set<Value> = new Set()): void {
  for (const x of postOrder([v], seen)) fn(x);
}

/** What a set of expressions reads: signals, and memories through asynchronous read ports. */
export function expressionReads(roots: Iterable<Value>): { signals: Set<Signal>; asyncMemories: Set<Memory> } {
  const signals = new Set<Signal>();
  const asyncMemories = new Set<Memory>();
  for (const v of postOrder(roots)) {
    if (v.node.k === 'sig') signals.add(v.node.sig as Signal);
    else if (v.node.k === 'memrd') asyncMemories.add(v.node.mem as Memory);
  }
  return { signals, asyncMemories };
}

/** Signals an expression reads (async memory reads count as reading their address only). */
export function signalsRead(v: Value, into: Set<Signal> = new Set()): Set<Signal> {
  walkValue(v, (x) => {
    if (x.node.k === 'sig') into.add(x.node.sig as Signal);
  });
  return into;
}

/** Expressions a statement reads directly (its value, condition or selector, address and data). */
export function stmtRoots(s: Stmt): Value[] {
  switch (s.k) {
    case 'assign':
      return [s.value];
    case 'if':
      return [s.cond];
    case 'switch':
      return [s.sel];
    case 'memwr':
      return [s.addr, s.data];
  }
}

/**
 * Every expression a module evaluates: statements, wire defaults, register enables and
 * memory read ports. `withDefaultsOf` filters which signals' defaults count.
 */
export function moduleRoots(ir: ModuleIR, withDefaultsOf: (s: Signal) => boolean = () => true, stmts: readonly Stmt[] = ir.stmts): Value[] {
  const roots: Value[] = [];
  walkStmts(stmts, (s) => roots.push(...stmtRoots(s)));
  for (const s of ir.signals) {
    if (s.defaultValue && withDefaultsOf(s)) roots.push(s.defaultValue);
    if (s.reg?.enable) roots.push(s.reg.enable);
  }
  for (const m of ir.memories) for (const p of m.readPorts) roots.push(p.addr, ...(p.enable ? [p.enable] : []));
  return roots;
}

/** Visit every statement in a tree. */
export function walkStmts(stmts: readonly Stmt[], fn: (s: Stmt) => void): void {
  for (const s of stmts) {
    fn(s);
    if (s.k === 'if') {
      walkStmts(s.then, fn);
      walkStmts(s.else, fn);
    } else if (s.k === 'switch') {
      for (const c of s.cases) walkStmts(c.body, fn);
      walkStmts(s.dflt, fn);
    }
  }
}

/**
 * The same statements with constant conditions resolved (the taken branch spliced in) and
 * assignments that a later unconditional assignment in the same block overrides removed.
 * Emitters use it so a process never ends up reading only constants: Verilog's
 * `always @(*)` would then never run in an event-driven simulator.
 */
export function simplifyStmts(stmts: readonly Stmt[]): Stmt[] {
  const flat: Stmt[] = [];
  for (const s of stmts) {
    if (s.k === 'if' && s.cond.node.k === 'const') flat.push(...simplifyStmts(s.cond.node.value ? s.then : s.else));
    else if (s.k === 'switch' && s.sel.node.k === 'const') {
      const v = s.sel.node.value;
      flat.push(...simplifyStmts(s.cases.find((c) => c.values.includes(v))?.body ?? s.dflt));
    } else if (s.k === 'if') flat.push({ ...s, then: simplifyStmts(s.then), else: simplifyStmts(s.else) });
    else if (s.k === 'switch') flat.push({ ...s, cases: s.cases.map((c) => ({ values: c.values, body: simplifyStmts(c.body) })), dflt: simplifyStmts(s.dflt) });
    else flat.push(s);
  }
  const lastPlain = new Map<Signal, number>();
  flat.forEach((s, i) => {
    if (s.k === 'assign') lastPlain.set(s.target, i);
  });
  return flat.filter((s, i) => {
    if (s.k !== 'assign') return true;
    return lastPlain.get(s.target) === i;
  });
}

/**
 * The part of a statement tree that concerns the given targets: conditionals that end up
 * empty are dropped. Used to split one user-written when-tree into per-domain processes.
 */
export function pruneStmts(stmts: readonly Stmt[], keep: (s: Stmt) => boolean): Stmt[] {
  const out: Stmt[] = [];
  for (const s of stmts) {
    if (s.k === 'assign' || s.k === 'memwr') {
      if (keep(s)) out.push(s);
    } else if (s.k === 'if') {
      const t = pruneStmts(s.then, keep);
      const e = pruneStmts(s.else, keep);
      if (t.length || e.length) out.push({ ...s, then: t, else: e });
    } else {
      const cases = s.cases.map((c) => ({ values: c.values, body: pruneStmts(c.body, keep) }));
      const dflt = pruneStmts(s.dflt, keep);
      if (cases.some((c) => c.body.length) || dflt.length) out.push({ ...s, cases, dflt });
    }
  }
  return out;
}

/**
 * Registers that never change value: every assignment gives back the register itself or a
 * constant equal to its power-up value, and its reset (if any) loads that same value; a
 * sticky error flag in a configuration without the error source, say. Also through other
 * such registers (r2 <= r1). The emitter writes them as constants: a flip-flop that holds
 * one value forever is a constant, and tools warn about it.
 */
export function constantRegisters(ir: ModuleIR, stmts: readonly Stmt[]): Map<Signal, bigint> {
  const consts = new Map<Signal, bigint>();
  for (const s of ir.signals) {
    if (!s.reg) continue;
    const init = s.reg.init ?? s.reg.reset ?? 0n;
    if (s.reg.reset !== undefined && s.reg.reset !== init) continue;
    consts.set(s, init);
  }
  const values = new Map<Signal, Value[]>();
  walkStmts(stmts, (st) => {
    if (st.k === 'assign' && consts.has(st.target)) values.set(st.target, [...(values.get(st.target) ?? []), st.value]);
  });
  const same = (x: Value, r: Signal, v: bigint): boolean => {
    if (x === r) return true;
    if (x.node.k === 'const') return x.node.value === v;
    if (x.node.k === 'sig') {
      const other = x.node.sig as Signal;
      return other.width === r.width && consts.get(other) === v;
    }
    return false;
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (const [r, v] of consts) {
      if (!(values.get(r) ?? []).every((x) => same(x, r, v))) {
        consts.delete(r);
        changed = true;
      }
    }
  }
  return consts;
}
