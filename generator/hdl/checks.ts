// Checks run on each module once its build function returns. Width mismatches, bad names
// and multiple drivers are caught earlier, where the user's call happens; what needs the
// whole module is here: undriven signals, latches, combinational loops, unused inputs.

import { HdlError, HdlErrors, formatLoc, type HdlWarning, type SourceLoc } from './source.ts';
import { type Value } from './value.ts';
import { ModuleIR, Signal, Memory, signalsRead, walkStmts, moduleRoots, simplifyStmts, expressionReads, type Stmt } from './ir.ts';

const warningsOf = new WeakMap<ModuleIR, HdlWarning[]>();
/** Port-to-port combinational paths of each checked module: output name -> input names. */
const combPaths = new WeakMap<ModuleIR, Map<string, Set<string>>>();

export function moduleWarnings(ir: ModuleIR): readonly HdlWarning[] {
  return warningsOf.get(ir) ?? [];
}

export function isComb(s: Signal): boolean {
  return (s.role === 'output' || s.role === 'wire' || s.role === 'inst-in') && !s.reg;
}

/** For each combinationally driven signal: the signals its value depends on in this module. */
export function combDependencies(ir: ModuleIR): Map<Signal, Set<Signal>> {
  const deps = new Map<Signal, Set<Signal>>();
  const depsOf = (s: Signal): Set<Signal> => {
    let d = deps.get(s);
    if (!d) deps.set(s, (d = new Set()));
    return d;
  };
  const visit = (stmts: readonly Stmt[], conds: readonly Value[]): void => {
    for (const st of stmts) {
      if (st.k === 'assign') {
        if (!isComb(st.target)) continue;
        const d = depsOf(st.target);
        signalsRead(st.value, d);
        for (const c of conds) signalsRead(c, d);
      } else if (st.k === 'if') {
        visit(st.then, [...conds, st.cond]);
        visit(st.else, [...conds, st.cond]);
      } else if (st.k === 'switch') {
        for (const c of st.cases) visit(c.body, [...conds, st.sel]);
        visit(st.dflt, [...conds, st.sel]);
      }
    }
  };
  visit(ir.stmts, []);
  for (const s of ir.signals) {
    if (isComb(s) && s.defaultValue) signalsRead(s.defaultValue, depsOf(s));
  }
  for (const inst of ir.instances) {
    const paths = combPaths.get(inst.module) ?? allPaths(inst.module);
    for (const [out, ins] of paths) {
      const d = depsOf(inst.ports.get(out)!);
      for (const i of ins) d.add(inst.ports.get(i)!);
    }
  }
  return deps;
}

/** A black box is assumed to have a combinational path from every input to every output. */
function allPaths(m: ModuleIR): Map<string, Set<string>> {
  const ins = new Set(m.ports.filter((p) => p.role === 'input').map((p) => p.name));
  return new Map(m.ports.filter((p) => p.role === 'output').map((p) => [p.name, ins]));
}

/** True when every path through `stmts` assigns `target`. */
function fullyAssigns(stmts: readonly Stmt[], target: Signal): boolean {
  for (const st of stmts) {
    if (st.k === 'assign' && st.target === target) return true;
    if (st.k === 'if' && fullyAssigns(st.then, target) && fullyAssigns(st.else, target)) return true;
    if (st.k === 'switch') {
      const covered = st.cases.reduce((n, c) => n + c.values.length, 0);
      const complete = covered >= 2 ** Math.min(st.sel.width, 30) && st.sel.width <= 30;
      if (st.cases.every((c) => fullyAssigns(c.body, target)) && (complete || fullyAssigns(st.dflt, target))) return true;
    }
  }
  return false;
}

export function checkModule(ir: ModuleIR): void {
  if (ir.blackBox) return;
  const errors: HdlError[] = [];
  const warnings: HdlWarning[] = [];
  const assigned = new Set<Signal>();
  walkStmts(ir.stmts, (s) => {
    if (s.k === 'assign') assigned.add(s.target);
  });

  for (const s of ir.signals) {
    if (s.role === 'input' || s.role === 'inst-out' || s.role === 'mem-rdata') continue;
    const what = describeSignal(s);
    if (!assigned.has(s) && !s.defaultValue) {
      errors.push(new HdlError(`${what} is never driven${s.hint ? `: ${s.hint}` : ''}`, s.loc));
    } else if (isComb(s) && !s.defaultValue && !fullyAssigns(ir.stmts, s)) {
      errors.push(new HdlError(`${what} is not assigned on every path and would become a latch; give it a default (wire(..., { default }) or an unconditional set() first)`, s.loc));
    }
  }

  const loop = findCombLoop(combDependencies(ir));
  if (loop) {
    // Point at assignments: they are what closes the loop and what the user must change.
    const assignAt = new Map<Signal, SourceLoc | undefined>();
    walkStmts(ir.stmts, (s) => {
      if (s.k === 'assign' && !assignAt.has(s.target)) assignAt.set(s.target, s.loc);
    });
    const at = (s: Signal): SourceLoc | undefined => assignAt.get(s) ?? s.loc;
    const path = loop.map((s) => `${s.name} (${formatLoc(at(s))})`).join(' -> ');
    const first = loop.find((s) => assignAt.has(s)) ?? loop[0]!;
    errors.push(new HdlError(`combinational loop in module '${ir.name}': ${path} -> ${loop[0]!.name}`, at(first)));
  }

  const { read, asyncMemories } = moduleUsage(ir);
  for (const s of ir.signals) {
    // An instance output nothing reads is left open, as Verilog users do with status ports.
    if (read.has(s) || ir.unused.has(s) || s.role === 'output' || s.role === 'inst-in' || s.role === 'inst-out') continue;
    if (s.role === 'input') warnings.push({ loc: s.loc, detail: `input '${s.name}' of module '${ir.name}' is never used` });
    else warnings.push({ loc: s.loc, detail: `${describeSignal(s)} is never read` });
  }

  for (const m of ir.memories) {
    if (m.readPorts.length === 0 && !asyncMemories.has(m)) warnings.push({ loc: m.loc, detail: `memory '${m.name}' of module '${ir.name}' is never read` });
  }

  if (errors.length === 1) throw errors[0]!;
  if (errors.length > 1) throw new HdlErrors(errors);
  warningsOf.set(ir, warnings);
  combPaths.set(ir, portPaths(ir));
}

function describeSignal(s: Signal): string {
  const kind = s.reg ? 'register' : s.role === 'inst-in' ? `input '${s.instance?.port.name}' of instance` : s.role === 'output' ? 'output' : 'wire';
  const name = s.role === 'inst-in' ? `'${s.instance?.inst.name}'` : `'${s.name}'`;
  return `${kind} ${name} of module '${s.owner.name}'`;
}

/**
 * Signals read anywhere (expressions, conditions, defaults, enables, clocks, memory ports)
 * and memories read asynchronously. Judged on the statements as emitted (constant
 * conditions resolved), so what is only used under `when(false)` is reported here rather
 * than by Verilator.
 */
function moduleUsage(ir: ModuleIR): { read: Set<Signal>; asyncMemories: Set<Memory> } {
  const stmts = simplifyStmts(ir.stmts);
  const { signals: read, asyncMemories } = expressionReads(moduleRoots(ir, () => true, stmts));
  const written = new Set<Memory>();
  walkStmts(stmts, (s) => {
    if (s.k === 'memwr') written.add(s.mem);
  });
  const usedDomains = new Set<string>();
  for (const s of ir.signals) if (s.reg) usedDomains.add(s.reg.domain.name);
  for (const m of ir.memories) {
    if (written.has(m)) usedDomains.add(m.writeDomain.name);
    for (const p of m.readPorts) usedDomains.add(p.domain.name);
  }
  for (const d of ir.domains) {
    if (!usedDomains.has(d.name)) continue;
    read.add(d.clk);
    const resets = ir.signals.some((s) => s.reg?.domain === d && s.reg.reset !== undefined);
    if (d.rst && resets) read.add(d.rst);
  }
  return { read, asyncMemories };
}

/** Tarjan-free DFS: returns one cycle as a list of signals, or undefined. */
function findCombLoop(deps: Map<Signal, Set<Signal>>): Signal[] | undefined {
  const state = new Map<Signal, 1 | 2>();
  const stack: Signal[] = [];
  const dfs = (s: Signal): Signal[] | undefined => {
    const st = state.get(s);
    if (st === 2) return undefined;
    if (st === 1) return stack.slice(stack.indexOf(s)).reverse();
    state.set(s, 1);
    stack.push(s);
    for (const d of deps.get(s) ?? []) {
      const r = dfs(d);
      if (r) return r;
    }
    stack.pop();
    state.set(s, 2);
    return undefined;
  };
  for (const s of deps.keys()) {
    const r = dfs(s);
    if (r) return r;
  }
  return undefined;
}

/** Which inputs each output reaches through combinational logic only. */
function portPaths(ir: ModuleIR): Map<string, Set<string>> {
  const deps = combDependencies(ir);
  const out = new Map<string, Set<string>>();
  for (const o of ir.ports.filter((p) => p.role === 'output')) {
    const ins = new Set<string>();
    const seen = new Set<Signal>();
    const walk = (s: Signal): void => {
      if (seen.has(s)) return;
      seen.add(s);
      if (s.role === 'input') ins.add(s.name);
      for (const d of deps.get(s) ?? []) walk(d);
    };
    walk(o);
    out.set(o.name, ins);
  }
  return out;
}
