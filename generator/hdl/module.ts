// Elaboration: the ModuleBuilder that user code drives, and parameterized module families.
// A family elaborated twice with equal parameters yields the same ModuleIR object, so a
// 4,096-PE array elaborates its processing element once.

import { callerLoc, HdlError, formatLoc, type SourceLoc } from './source.ts';
import { Value, Bool, UInt, lit, coerce, extTo, shapeText, type Shape, type ValueLike } from './value.ts';
import { ModuleIR, Signal, Memory, type Domain, type Stmt, type Params, type ParamValue, type Instance, type BlackBoxSource } from './ir.ts';
import { badIdentifier, sanitize } from './names.ts';
import { checkModule } from './checks.ts';

export interface RegOptions {
  /** Clock domain; the module's default 'sync' domain (ports clk, rst) when omitted. */
  domain?: Domain;
  /** Reset value (default 0); null for a register without reset. */
  reset?: ValueLike | null;
  /**
   * Power-up value (the flip-flop's INIT in the bitstream). Default: the reset value, or 0.
   * Every register has one, so simulation never starts from X.
   */
  init?: ValueLike;
  /** Clock enable. */
  enable?: Value;
}

export interface DomainOptions {
  /** Name of the clock input port (default `clk` for 'sync', otherwise `<name>_clk`). */
  clk?: string;
  /** Name of the reset input port, or null for a domain without reset. */
  rst?: string | null;
  reset?: 'sync' | 'async';
  active?: 'high' | 'low';
}

export interface MemoryOptions {
  shape: Shape;
  depth: number;
  init?: readonly (number | bigint)[];
  /** Domain of the write port (default 'sync'). */
  domain?: Domain;
}

/** A memory as user code sees it: reads and writes. */
export class MemoryHandle {
  constructor(
    private readonly b: ModuleBuilder,
    readonly mem: Memory,
  ) {}
  /** Asynchronous (combinational) read: distributed RAM / LUT RAM. */
  read(addr: Value): Value {
    const loc = callerLoc();
    this.checkAddr(addr, loc);
    return new Value(this.mem.shape, { k: 'memrd', mem: this.mem, addr }, loc);
  }
  /**
   * Synchronous read: data appears one clock after the address (block RAM); a read of the
   * address being written returns the old word. The read register powers up to `init` (0).
   */
  readSync(addr: Value, opts: { enable?: Value; domain?: Domain; name?: string; init?: number | bigint } = {}): Signal {
    const loc = callerLoc();
    this.checkAddr(addr, loc);
    if (opts.enable && opts.enable.width !== 1) throw new HdlError(`readSync enable must be 1 bit, got ${shapeText(opts.enable.shape)}`, loc);
    const name = opts.name ?? `${this.mem.name}_rdata${this.mem.readPorts.length === 0 ? '' : this.mem.readPorts.length}`;
    const data = this.b.declare(name, this.mem.shape, 'mem-rdata', loc);
    const initValue = lit(opts.init ?? 0, this.mem.shape, loc).node;
    const init = initValue.k === 'const' ? initValue.value : 0n;
    this.mem.readPorts.push({ domain: opts.domain ?? this.mem.writeDomain, addr, enable: opts.enable, data, init, loc });
    return data;
  }
  /** Write `data` at `addr` on the next clock edge of the write domain, under the enclosing when()s. */
  write(addr: Value, data: ValueLike): void {
    const loc = callerLoc();
    this.checkAddr(addr, loc);
    const d = fitTo(coerce(data, this.mem.shape, loc, `write to ${this.mem.name}`), this.mem.shape, `memory '${this.mem.name}'`, loc);
    void this.mem.writeDomain; // declared now, while the module is being built
    this.b.push({ k: 'memwr', mem: this.mem, addr, data: d, loc });
  }
  private checkAddr(addr: Value, loc: SourceLoc | undefined): void {
    if (!(addr instanceof Value) || addr.signed || addr.width !== this.mem.addrWidth) {
      const got = addr instanceof Value ? shapeText(addr.shape) : String(addr);
      throw new HdlError(`address of memory '${this.mem.name}' (depth ${this.mem.depth}) must be UInt(${this.mem.addrWidth}), got ${got}`, loc);
    }
  }
}

export class WhenChain {
  constructor(
    private readonly b: ModuleBuilder,
    private readonly elseList: Stmt[],
  ) {}
  elseWhen(cond: ValueLike, body: () => void): WhenChain {
    return this.b.openIf(cond, body, this.elseList, callerLoc());
  }
  otherwise(body: () => void): void {
    this.b.inBlock(this.elseList, body);
  }
}

type PortTree = Signal | undefined | { readonly [k: string]: PortTree };
/** The parent's view of a child's ports: same shape as the child's IO, with parent-side wires. */
export type InstanceIO<IO> = IO extends Signal ? Signal : { [K in keyof IO]: InstanceIO<IO[K]> };

export class ModuleBuilder {
  readonly ir: ModuleIR;
  private readonly names = new Map<string, SourceLoc | undefined>();
  private readonly blocks: Stmt[][];
  private defaultDomain: Domain | undefined;

  constructor(ir: ModuleIR) {
    this.ir = ir;
    this.blocks = [ir.stmts];
  }

  // ---- declarations -------------------------------------------------------------
  input(name: string, shape: Shape): Signal {
    const s = this.declare(name, shape, 'input', callerLoc());
    this.ir.ports.push(s);
    return s;
  }

  /** An output port; with `reg` it is a register driven in a clock domain. */
  output(name: string, shape: Shape, opts: { reg?: RegOptions } = {}): Signal {
    const loc = callerLoc();
    const s = this.declare(name, shape, 'output', loc, opts.reg ? this.regSpec(name, shape, opts.reg, loc) : undefined);
    this.ir.ports.push(s);
    return s;
  }

  /** A combinational wire; `default` is its value on paths that do not assign it. */
  wire(name: string, shape: Shape, opts: { default?: ValueLike } = {}): Signal {
    const loc = callerLoc();
    const s = this.declare(name, shape, 'wire', loc);
    if (opts.default !== undefined) s.defaultValue = fitTo(coerce(opts.default, shape, loc, `default of ${name}`), shape, `wire '${name}'`, loc);
    return s;
  }

  /** A named wire driven by `value`: gives an intermediate result a stable Verilog name. */
  let(name: string, value: Value): Signal {
    const loc = callerLoc();
    if (!(value instanceof Value)) throw new HdlError(`let('${name}', …) needs a hardware Value`, loc);
    const s = this.declare(name, value.shape, 'wire', loc);
    this.blocks[0]!.push({ k: 'assign', target: s, value, loc });
    return s;
  }

  /**
   * Declare that nothing reads `sig` on purpose (an input a protocol brings that this design
   * does not need); the unused-input check skips it and the Verilog folds it into an
   * `unused_*` wire with the reason, which Verilator's -Wall accepts.
   */
  unused(sig: Signal, why: string): void {
    const loc = callerLoc();
    if (!this.ir.signals.includes(sig)) throw new HdlError(`unused(${sig.name}): the signal is not declared in module '${this.ir.name}'`, loc);
    this.ir.unused.set(sig, why);
  }

  reg(name: string, shape: Shape, opts: RegOptions = {}): Signal {
    const loc = callerLoc();
    return this.declare(name, shape, 'reg', loc, this.regSpec(name, shape, opts, loc));
  }

  /** The default clock domain: input ports `clk` and `rst` (synchronous, active high). */
  get sync(): Domain {
    this.defaultDomain ??= this.domain('sync');
    return this.defaultDomain;
  }

  domain(name: string, opts: DomainOptions = {}): Domain {
    const loc = callerLoc();
    if (this.ir.domains.some((d) => d.name === name)) throw new HdlError(`clock domain '${name}' is declared twice`, loc);
    const clkName = opts.clk ?? (name === 'sync' ? 'clk' : `${name}_clk`);
    const rstName = opts.rst === null ? undefined : (opts.rst ?? (name === 'sync' ? 'rst' : `${name}_rst`));
    const clk = this.declare(clkName, Bool, 'input', loc);
    const rst = rstName === undefined ? undefined : this.declare(rstName, Bool, 'input', loc);
    // Clock and reset ports lead the port list, as engineers expect to read them.
    const lead = this.ir.ports.filter((p) => this.ir.domains.some((d) => d.clk === p || d.rst === p));
    const rest = this.ir.ports.filter((p) => !lead.includes(p));
    this.ir.ports.length = 0;
    this.ir.ports.push(...lead, clk, ...(rst ? [rst] : []), ...rest);
    const d: Domain = { name, clk, rst, resetKind: opts.reset ?? 'sync', resetActive: opts.active ?? 'high' };
    this.ir.domains.push(d);
    if (name === 'sync') this.defaultDomain = d;
    return d;
  }

  memory(name: string, opts: MemoryOptions): MemoryHandle {
    const loc = callerLoc();
    this.claim(name, loc);
    if (!Number.isInteger(opts.depth) || opts.depth < 2 || opts.depth > 1 << 24) {
      throw new HdlError(`memory '${name}': depth ${opts.depth} must be an integer from 2 to ${1 << 24}`, loc);
    }
    let init: bigint[] | undefined;
    if (opts.init) {
      if (opts.init.length > opts.depth) throw new HdlError(`memory '${name}': ${opts.init.length} initial words for depth ${opts.depth}`, loc);
      init = opts.init.map((v, i) => {
        const c = lit(v, opts.shape, loc);
        if (c.node.k !== 'const') throw new HdlError(`memory '${name}': initial word ${i} is not constant`, loc);
        return c.node.value;
      });
    }
    const mem = new Memory(this.ir, name, opts.shape, opts.depth, () => opts.domain ?? this.sync, init, loc);
    this.ir.memories.push(mem);
    return new MemoryHandle(this, mem);
  }

  /** Instantiate an elaborated child; returns its ports as parent-side wires named <inst>_<port>. */
  instance<IO>(name: string, child: Elaborated<IO>): InstanceIO<IO> {
    const loc = callerLoc();
    this.claim(name, loc);
    const inst: Instance = { name, module: child.ir, ports: new Map(), loc };
    for (const p of child.ir.ports) {
      const role = p.role === 'input' ? 'inst-in' : 'inst-out';
      const w = this.declare(`${name}_${p.name}`, p.shape, role, loc, undefined, { inst, port: p });
      inst.ports.set(p.name, w);
    }
    // Clocks and resets follow the parent's domain of the same name unless connected by hand.
    for (const d of child.ir.domains) {
      const mine = d.name === 'sync' ? this.sync : this.ir.domains.find((x) => x.name === d.name);
      if (!mine) continue;
      inst.ports.get(d.clk.name)!.defaultValue = mine.clk;
      if (!d.rst) continue;
      const w = inst.ports.get(d.rst.name)!;
      if (mine.rst && mine.resetKind === d.resetKind && mine.resetActive === d.resetActive) w.defaultValue = mine.rst;
      else {
        const theirs = `${d.resetKind} active-${d.resetActive}`;
        const ours = mine.rst ? `${mine.resetKind} active-${mine.resetActive} reset '${mine.rst.name}'` : 'no reset';
        w.hint = `the child's domain '${d.name}' has a ${theirs} reset but this module's domain '${mine.name}' has ${ours}, so it is not connected automatically; drive ${w.name} by hand`;
      }
    }
    this.ir.instances.push(inst);
    const map = (t: PortTree): PortTree => {
      if (t === undefined) return t; // an optional port the child's configuration leaves out
      if (t instanceof Signal) {
        const w = inst.ports.get(t.name);
        if (!w || child.ir.port(t.name) !== t) throw new HdlError(`instance '${name}': '${t.name}' in the child's IO is not one of its ports`, loc);
        return w;
      }
      return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, map(v)]));
    };
    return map(child.io as PortTree) as InstanceIO<IO>;
  }

  /**
   * A port of an instance that its family did not hand back, its clock or reset most
   * often, to connect by hand (which replaces the automatic connection).
   */
  portOf(instance: string, port: string): Signal {
    const loc = callerLoc();
    const inst = this.ir.instances.find((i) => i.name === instance);
    if (!inst) throw new HdlError(`portOf: no instance '${instance}' in module '${this.ir.name}'; instances: ${this.ir.instances.map((i) => i.name).join(', ') || 'none'}`, loc);
    const w = inst.ports.get(port);
    if (!w) throw new HdlError(`portOf: instance '${instance}' (${inst.module.name}) has no port '${port}'; its ports: ${[...inst.ports.keys()].join(', ')}`, loc);
    return w;
  }

  // ---- behaviour ------------------------------------------------------------------
  /** Drive `target` with `value` (last assignment wins inside when/switch). */
  set(target: Signal, value: ValueLike): void {
    const loc = callerLoc();
    if (!(target instanceof Signal)) throw new HdlError(`set(): the target must be a signal of this module, got an expression`, loc);
    if (target.owner !== this.ir) throw new HdlError(`set(): '${target.name}' belongs to module '${target.owner.name}', not '${this.ir.name}'`, loc);
    const why = {
      input: `'${target.name}' is an input port and is driven from outside the module`,
      'inst-out': `'${target.name}' is driven by instance output '${target.instance?.port.name}'`,
      'mem-rdata': `'${target.name}' is a memory read port and is driven by the memory`,
    } as Record<string, string | undefined>;
    const reason = why[target.role];
    if (reason) throw new HdlError(`multiple drivers: ${reason}`, loc);
    const v = fitTo(coerce(value, target.shape, loc, `assignment to ${target.name}`), target.shape, `'${target.name}'`, loc);
    // Connecting a child's clock or reset by hand replaces the automatic connection.
    if (target.role === 'inst-in' && this.blocks.length === 1) target.defaultValue = undefined;
    this.push({ k: 'assign', target, value: v, loc });
  }

  when(cond: ValueLike, body: () => void): WhenChain {
    return this.openIf(cond, body, this.current, callerLoc());
  }

  /** Match `sel` against constants; each case is [value or values, body]. */
  switch(sel: Value, cases: ReadonlyArray<readonly [ValueLike | readonly ValueLike[], () => void]>, otherwise?: () => void): void {
    const loc = callerLoc();
    const seen = new Map<bigint, number>();
    const out: { values: bigint[]; body: Stmt[] }[] = [];
    cases.forEach(([vals, body], i) => {
      const list = Array.isArray(vals) ? (vals as readonly ValueLike[]) : [vals as ValueLike];
      const values = list.map((v) => {
        const c = v instanceof Value ? v : lit(v as number | bigint | boolean, sel.shape, loc);
        if (c.node.k !== 'const' || c.width > sel.width) throw new HdlError(`switch on ${shapeText(sel.shape)}: case ${i} must be a constant that fits`, loc);
        const key = c.node.value;
        if (seen.has(key)) throw new HdlError(`switch: value ${key} appears in case ${seen.get(key)} and case ${i}`, loc);
        seen.set(key, i);
        return key;
      });
      const stmts: Stmt[] = [];
      this.inBlock(stmts, body);
      out.push({ values, body: stmts });
    });
    const dflt: Stmt[] = [];
    if (otherwise) this.inBlock(dflt, otherwise);
    this.push({ k: 'switch', sel, cases: out, dflt, loc });
  }

  /** Instantiate hand-written Verilog; returns its ports as parent-side wires. */
  blackBox(name: string, box: Elaborated<Record<string, Signal>>): Record<string, Signal> {
    return this.instance(name, box) as Record<string, Signal>;
  }

  // ---- internals used by helpers in this library ---------------------------------
  /** @internal */
  declare(
    name: string,
    shape: Shape,
    role: Signal['role'],
    loc: SourceLoc | undefined,
    reg?: Signal['reg'],
    instance?: { inst: Instance; port: Signal },
  ): Signal {
    if (this.ir.sealed) throw new HdlError(`module '${this.ir.name}' is already elaborated; declare '${name}' inside its build function`, loc);
    this.claim(name, loc);
    const s = new Signal(this.ir, name, shape, role, loc, { reg, instance });
    this.ir.signals.push(s);
    return s;
  }
  /** @internal */
  push(s: Stmt): void {
    if (this.ir.sealed) throw new HdlError(`module '${this.ir.name}' is already elaborated`, s.loc);
    this.current.push(s);
  }
  /** @internal */
  openIf(cond: ValueLike, body: () => void, into: Stmt[], loc: SourceLoc | undefined): WhenChain {
    const c = coerce(cond, Bool, loc, 'when condition');
    if (c.width !== 1) throw new HdlError(`when() condition must be 1 bit wide, got ${shapeText(c.shape)}; compare it (e.g. .ne(0)) or reduce it (.orReduce())`, loc);
    const stmt: Stmt = { k: 'if', cond: c, then: [], else: [], loc };
    into.push(stmt);
    this.inBlock(stmt.then, body);
    return new WhenChain(this, stmt.else);
  }
  /** @internal */
  inBlock(block: Stmt[], body: () => void): void {
    this.blocks.push(block);
    try {
      body();
    } finally {
      this.blocks.pop();
    }
  }

  private get current(): Stmt[] {
    return this.blocks[this.blocks.length - 1]!;
  }

  private claim(name: string, loc: SourceLoc | undefined): void {
    const bad = badIdentifier(name);
    if (bad) throw new HdlError(bad, loc);
    if (this.names.has(name)) {
      throw new HdlError(`name collision: '${name}' is already declared in module '${this.ir.name}' at ${formatLoc(this.names.get(name))}`, loc);
    }
    this.names.set(name, loc);
  }

  private regSpec(name: string, shape: Shape, o: RegOptions, loc: SourceLoc | undefined): Signal['reg'] {
    const domain = o.domain ?? this.sync;
    const constOf = (v: ValueLike, what: string): bigint => {
      const c = fitTo(coerce(v, shape, loc, `${what} of ${name}`), shape, `${what} of register '${name}'`, loc);
      if (c.node.k !== 'const') throw new HdlError(`${what} of register '${name}' must be a constant`, loc);
      return c.node.value;
    };
    const reset = o.reset === null || (o.reset === undefined && !domain.rst) ? undefined : constOf(o.reset ?? 0, 'reset value');
    if (o.reset !== undefined && o.reset !== null && !domain.rst) throw new HdlError(`register '${name}' has a reset value but domain '${domain.name}' has no reset`, loc);
    const init = o.init === undefined ? undefined : constOf(o.init, 'initial value');
    if (o.enable && o.enable.width !== 1) throw new HdlError(`enable of register '${name}' must be 1 bit, got ${shapeText(o.enable.shape)}`, loc);
    return { domain, reset, init, enable: o.enable };
  }
}

/** Check that `v` fits `shape` without losing bits, and extend it to exactly that shape. */
export function fitTo(v: Value, shape: Shape, what: string, loc: SourceLoc | undefined): Value {
  if (v.signed !== shape.signed) {
    throw new HdlError(`${what} is ${shapeText(shape)} but the value is ${shapeText(v.shape)}; convert with asSigned()/asUnsigned()`, loc);
  }
  if (v.width > shape.width) {
    throw new HdlError(
      `width mismatch: ${v.width}-bit value assigned to ${what} of ${shape.width} bits would drop ${v.width - shape.width} bit(s); use .trunc(${shape.width}) or .slice() if that is intended`,
      loc,
    );
  }
  return extTo(v, shape.width, loc);
}

// ---- module families ---------------------------------------------------------------

export interface Elaborated<IO> {
  readonly ir: ModuleIR;
  readonly io: IO;
}

export interface ModuleFamily<P extends Params, IO> {
  (params: P): Elaborated<IO>;
  readonly family: string;
}

export interface FamilyOptions<P> {
  /** Emitted module name for given parameters (default: family name plus parameter values). */
  name?: (p: P) => string;
  /** Throw a clear error for parameters the family cannot build. */
  validate?: (p: P) => void;
}

/**
 * A parameterized module family. Equal parameters give the same elaborated module (emitted
 * once); different ones get stable names built from the parameter values, e.g. fifo_width8_depth16.
 */
export function defineModule<P extends Params, IO>(
  family: string,
  build: (m: ModuleBuilder, p: P) => IO,
  opts: FamilyOptions<P> = {},
): ModuleFamily<P, IO> {
  const defLoc = callerLoc();
  const bad = badIdentifier(family);
  if (bad) throw new HdlError(`module family name: ${bad}`, defLoc);
  const cache = new Map<string, Elaborated<IO>>();
  const fn = (params: P): Elaborated<IO> => {
    const key = paramKey(params);
    const hit = cache.get(key);
    if (hit) return hit;
    try {
      opts.validate?.(params);
    } catch (e) {
      if (e instanceof HdlError) throw e;
      throw new HdlError(`${family}: ${(e as Error).message}`, callerLoc());
    }
    const ir = new ModuleIR(opts.name ? opts.name(params) : moduleName(family, params), family, { ...params }, defLoc);
    const nameBad = badIdentifier(ir.name);
    if (nameBad) throw new HdlError(`module name: ${nameBad}`, defLoc);
    const b = new ModuleBuilder(ir);
    const io = build(b, params);
    checkModule(ir);
    ir.sealed = true;
    const e = { ir, io };
    cache.set(key, e);
    return e;
  };
  return Object.assign(fn, { family });
}

/** A hand-written Verilog module with the given ports, instantiable like any other. */
export function defineBlackBox(
  name: string,
  ports: Readonly<Record<string, { dir: 'in' | 'out'; shape: Shape }>>,
  source: BlackBoxSource,
): Elaborated<Record<string, Signal>> {
  const loc = callerLoc();
  const ir = new ModuleIR(name, name, {}, loc);
  const b = new ModuleBuilder(ir);
  const io: Record<string, Signal> = {};
  for (const [p, spec] of Object.entries(ports)) {
    io[p] = spec.dir === 'in' ? b.input(p, spec.shape) : b.output(p, spec.shape);
  }
  if (!source.verilog && !source.file) throw new HdlError(`black box '${name}': give its Verilog text or file`, loc);
  ir.blackBox = source;
  ir.sealed = true;
  return { ir, io };
}

function paramKey(p: Params): string {
  return JSON.stringify(Object.keys(p).sort().map((k) => [k, p[k]]));
}

export function moduleName(family: string, p: Params): string {
  const keys = Object.keys(p).sort();
  if (keys.length === 0) return family;
  const part = (v: ParamValue): string => (typeof v === 'boolean' ? (v ? '1' : '0') : sanitize(String(v)).replace(/^n(?=\d)/, ''));
  return sanitize(`${family}_${keys.map((k) => `${k}${part(p[k]!)}`).join('_')}`);
}
