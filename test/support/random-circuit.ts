// Seeded random circuits for differential fuzzing of the HDL library. A circuit is a
// recipe (plain JSON: a list of ops that refer to earlier ops by index), built into a
// module with the public API. Keeping the recipe as data is what makes shrinking and
// standalone reproducers possible: a shrunk recipe is rebuilt, never patched.

import { defineModule, hdlEnum, UInt, SInt, Bool, lit, mux, cat, select, type Value, type Signal, type Shape, type ModuleBuilder, type Domain } from '../../generator/hdl/index.ts';
import { BIN_OPS, UN_OPS } from '../../generator/hdl/ops.ts';
import { Rng } from '../../sim/equiv/stimulus.ts';

// Every operator of the library's table, through every Value method that builds it.
type BinOp = (typeof BIN_OPS)[keyof typeof BIN_OPS]['methods'][number];
type UnOp = (typeof UN_OPS)[keyof typeof UN_OPS]['methods'][number];
const BIN_METHODS: readonly BinOp[] = Object.values(BIN_OPS).flatMap((o) => o.methods);
const UN_METHODS: readonly UnOp[] = Object.values(UN_OPS).flatMap((o) => o.methods);

export type Op =
  | { k: 'in'; w: number; s: boolean }
  | { k: 'const'; w: number; s: boolean; v: string }
  | { k: 'reg'; w: number; s: boolean; reset: string | null; init: string | null; en: number | null }
  | { k: 'mem'; w: number; depth: number; init: string[] }
  | { k: 'bin'; op: BinOp; a: number; b: number }
  | { k: 'shc'; op: 'shl' | 'shr' | 'shlWide'; a: number; n: number }
  | { k: 'un'; op: UnOp; a: number }
  | { k: 'slice'; a: number; hi: number; lo: number }
  | { k: 'cat'; parts: number[] }
  | { k: 'rep'; a: number; n: number }
  | { k: 'ext'; a: number; w: number; how: 'ext' | 'zext' | 'sext' }
  | { k: 'trunc'; a: number; w: number }
  | { k: 'cast'; a: number; signed: boolean }
  | { k: 'mux'; c: number; a: number; b: number }
  | { k: 'memrd'; mem: number; addr: number }
  | { k: 'memrs'; mem: number; addr: number; en: number | null }
  | { k: 'when'; c1: number; v1: number; c2: number; v2: number; dflt: number }
  | { k: 'switch'; sel: number; cases: [number, number][]; dflt: number | null }
  /** select(): a mux chain keyed by one selector (emitted as a `case`). */
  | { k: 'select'; sel: number; cases: [number, number][]; dflt: number }
  | { k: 'next'; reg: number; v: number; c: number | null }
  | { k: 'memwr'; mem: number; addr: number; data: number; c: number }
  | { k: 'out'; a: number }
  /** A state register of an hdlEnum (encodings as given), moving `from` -> `to` when `c` holds. */
  | { k: 'fsm'; enc: number[]; moves: [number, number, number][] };

export interface Recipe {
  readonly name: string;
  readonly reset: { kind: 'sync' | 'async'; active: 'high' | 'low' };
  readonly ops: Op[];
}

/** Ops that produce a value other ops may use. */
function producesValue(op: Op): boolean {
  return op.k !== 'mem' && op.k !== 'next' && op.k !== 'memwr' && op.k !== 'out';
}

export function randomRecipe(rng: Rng, name: string, size: number): Recipe {
  const ops: Op[] = [];
  const shapes: (Shape | undefined)[] = [];
  const add = (op: Op, shape?: Shape): number => {
    ops.push(op);
    shapes.push(shape);
    return ops.length - 1;
  };
  const width = (): number => (rng.chance(0.75) ? rng.range(1, 16) : rng.chance(0.7) ? rng.range(17, 70) : rng.range(71, 130));
  const values = (): number[] => ops.map((_, i) => i).filter((i) => shapes[i]);
  const pick = (pred?: (s: Shape) => boolean): number => {
    const vs = values().filter((i) => !pred || pred(shapes[i]!));
    if (vs.length === 0) return add({ k: 'in', w: 4, s: false }, { width: 4, signed: false }); // nothing fits: a fresh narrow input does
    // Prefer recent values so depth grows, but reach back sometimes.
    const recent = vs.slice(-8);
    return rng.chance(0.6) && recent.length ? rng.pick(recent) : rng.pick(vs);
  };
  const constOf = (w: number, s: boolean): string => {
    const raw = rng.interesting(w);
    return (s ? BigInt.asIntN(w, raw) : raw).toString();
  };

  const nIn = rng.range(1, 4);
  for (let i = 0; i < nIn; i++) {
    const w = width();
    const s = rng.chance(0.4);
    add({ k: 'in', w, s }, { width: w, signed: s });
  }
  const nReg = rng.range(0, 3);
  const regs: number[] = [];
  for (let i = 0; i < nReg; i++) {
    const w = width();
    const s = rng.chance(0.4);
    const hasReset = rng.chance(0.7);
    regs.push(add({ k: 'reg', w, s, reset: hasReset ? constOf(w, s) : null, init: hasReset && rng.chance(0.5) ? null : constOf(w, s), en: null }, { width: w, signed: s }));
  }
  const mems: number[] = [];
  if (rng.chance(0.4)) {
    const w = rng.range(1, 40);
    const depth = 2 ** rng.range(1, 5);
    mems.push(add({ k: 'mem', w, depth, init: rng.chance(0.5) ? Array.from({ length: depth }, () => rng.bits(w).toString()) : [] }));
  }

  for (let i = 0; i < size; i++) {
    const r = rng.int(100);
    if (r < 30) {
      const op = rng.pick(BIN_METHODS);
      const a = pick(op === 'mul' ? (s) => s.width <= 64 : undefined);
      const b = pick(op === 'mul' ? (s) => s.width <= 64 : op === 'shl' || op === 'shr' ? (s) => s.width <= 12 : undefined);
      add({ k: 'bin', op, a, b }, { width: 1, signed: false });
    } else if (r < 36) {
      add({ k: 'shc', op: rng.pick(['shl', 'shr', 'shlWide'] as const), a: pick((s) => s.width <= 120), n: rng.range(0, 20) }, { width: 1, signed: false });
    } else if (r < 44) {
      add({ k: 'un', op: rng.pick(UN_METHODS), a: pick() }, { width: 1, signed: false });
    } else if (r < 54) {
      const a = pick();
      const w = shapes[a]!.width;
      const lo = rng.int(w);
      add({ k: 'slice', a, hi: rng.range(lo, w - 1), lo }, { width: 1, signed: false });
    } else if (r < 60) {
      add({ k: 'cat', parts: Array.from({ length: rng.range(2, 3) }, () => pick((s) => s.width <= 48)) }, { width: 1, signed: false });
    } else if (r < 62) {
      add({ k: 'rep', a: pick((s) => s.width <= 8), n: rng.range(1, 5) }, { width: 1, signed: false });
    } else if (r < 68) {
      const a = pick((s) => s.width < 120);
      add({ k: 'ext', a, w: shapes[a]!.width + rng.range(0, 40), how: rng.pick(['ext', 'zext', 'sext'] as const) }, { width: 1, signed: false });
    } else if (r < 71) {
      const a = pick();
      add({ k: 'trunc', a, w: rng.range(1, shapes[a]!.width) }, { width: 1, signed: false });
    } else if (r < 74) {
      add({ k: 'cast', a: pick(), signed: rng.chance(0.5) }, { width: 1, signed: false });
    } else if (r < 82) {
      add({ k: 'mux', c: pick(), a: pick(), b: pick() }, { width: 1, signed: false });
    } else if (r < 84) {
      const w = width();
      const s = rng.chance(0.4);
      add({ k: 'const', w, s, v: constOf(w, s) }, { width: w, signed: s });
    } else if (r < 88 && mems.length) {
      const mem = rng.pick(mems);
      add(rng.chance(0.5) ? { k: 'memrd', mem, addr: pick() } : { k: 'memrs', mem, addr: pick(), en: rng.chance(0.5) ? pick() : null }, { width: 1, signed: false });
    } else if (r < 91) {
      add({ k: 'when', c1: pick(), v1: pick(), c2: pick(), v2: pick(), dflt: pick() }, { width: 1, signed: false });
    } else if (r < 94) {
      const sel = pick((s) => s.width <= 8);
      const n = rng.range(2, 9);
      add({ k: 'select', sel, cases: Array.from({ length: n }, () => [rng.int(300), rng.chance(0.2) ? -1 : pick()] as [number, number]), dflt: pick() }, { width: 1, signed: false });
    } else if (r < 95) {
      const n = rng.range(2, 6);
      const enc: number[] = [];
      const sequential = rng.chance(0.5);
      while (enc.length < n) {
        const e = sequential ? enc.length : rng.int(64);
        if (!enc.includes(e)) enc.push(e);
      }
      const moves = Array.from({ length: rng.range(1, 5) }, () => [rng.int(n), rng.int(n), pick()] as [number, number, number]);
      add({ k: 'fsm', enc, moves }, { width: 1, signed: false });
    } else if (r < 97) {
      const sel = pick((s) => s.width <= 6);
      const n = rng.range(1, 4);
      add({ k: 'switch', sel, cases: Array.from({ length: n }, () => [rng.int(64), pick()] as [number, number]), dflt: rng.chance(0.7) ? pick() : null }, { width: 1, signed: false });
    } else {
      add({ k: 'out', a: pick() });
    }
    // Shapes of derived ops are only known once built; refresh them so later picks see real widths.
    const built = recipeShapes({ name, reset: { kind: 'sync', active: 'high' }, ops });
    for (let j = 0; j < ops.length; j++) if (shapes[j]) shapes[j] = built[j];
  }
  for (const reg of regs) {
    add({ k: 'next', reg, v: pick(), c: rng.chance(0.5) ? pick() : null });
    if (rng.chance(0.4)) add({ k: 'next', reg, v: pick(), c: pick() });
    if (rng.chance(0.3)) (ops[reg] as Extract<Op, { k: 'reg' }>).en = pick();
  }
  for (const mem of mems) add({ k: 'memwr', mem, addr: pick(), data: pick(), c: pick() });
  for (let i = 0; i < 3; i++) add({ k: 'out', a: pick() });
  return { name, reset: { kind: rng.chance(0.3) ? 'async' : 'sync', active: rng.chance(0.25) ? 'low' : 'high' }, ops };
}

/** Convert `v` to the given signedness and width, by the library's explicit operators only. */
function fit(v: Value, shape: Shape): Value {
  let x = shape.signed ? v.asSigned() : v.asUnsigned();
  if (x.width > shape.width) x = x.trunc(shape.width);
  if (x.width < shape.width) x = x.ext(shape.width);
  return x;
}

const toBool = (v: Value): Value => (v.width === 1 ? v.asUnsigned() : v.orReduce());

/**
 * The shape of every value-producing op, from a throwaway build of the recipe, so the
 * generator and the shrinker can keep choosing well-typed operands.
 */
export function recipeShapes(recipe: Recipe): (Shape | undefined)[] {
  let shapes: (Shape | undefined)[] = [];
  const probe = defineModule(`probe_${recipe.name}_${probeCount++}`, (m) => {
    shapes = elaborateOps(m, recipe, true);
    return {};
  });
  try {
    probe({});
  } catch {
    // A partial recipe may leave registers undriven; only the shapes matter here.
  }
  return shapes;
}
let probeCount = 0;

/** The recipe as a module family; its IO is every port by name. */
export function recipeModule(recipe: Recipe) {
  return defineModule(recipe.name, (m) => {
    elaborateOps(m, recipe, false);
    return Object.fromEntries(m.ir.ports.map((p) => [p.name, p])) as Record<string, Signal>;
  });
}

function elaborateOps(m: ModuleBuilder, recipe: Recipe, dry: boolean): (Shape | undefined)[] {
  // Only declare what is used, so the emitted module is lint-clean: no clock without
  // state, no reset port without a register that resets.
  const stateful = recipe.ops.some((op) => op.k === 'reg' || op.k === 'mem' || op.k === 'fsm');
  const resets = recipe.ops.some((op) => op.k === 'reg' && op.reset !== null);
  const dom: Domain | undefined = stateful ? m.domain('sync', { reset: recipe.reset.kind, active: recipe.reset.active, rst: resets ? 'rst' : null }) : undefined;
  const vals: (Value | undefined)[] = [];
  const mems = new Map<number, ReturnType<ModuleBuilder['memory']>>();
  const wires: Signal[] = [];
  const fsms: Signal[] = [];
  const regs = new Map<number, Signal>();
  let outs = 0;
  const v = (i: number): Value => vals[i]!;
  recipe.ops.forEach((op, i) => {
    let r: Value | undefined;
    switch (op.k) {
      case 'in':
        r = m.input(`in${i}`, op.s ? SInt(op.w) : UInt(op.w));
        break;
      case 'const':
        r = lit(BigInt(op.v), op.s ? SInt(op.w) : UInt(op.w));
        break;
      case 'reg': {
        const shape = op.s ? SInt(op.w) : UInt(op.w);
        const en = op.en !== null && vals[op.en] ? toBool(v(op.en)) : undefined;
        const reg = m.reg(`r${i}`, shape, { domain: dom!, reset: op.reset === null ? null : BigInt(op.reset), init: op.init === null ? undefined : BigInt(op.init), enable: en });
        regs.set(i, reg);
        r = reg;
        break;
      }
      case 'mem':
        mems.set(i, m.memory(`mem${i}`, { shape: UInt(op.w), depth: op.depth, init: op.init.length ? op.init.map(BigInt) : undefined, domain: dom! }));
        break;
      case 'bin': {
        const a = v(op.a);
        let b = v(op.b);
        if (op.op === 'shl' || op.op === 'shr') {
          r = a[op.op](b.asUnsigned());
          break;
        }
        b = b.signed === a.signed ? b : a.signed ? b.asSigned() : b.asUnsigned();
        if (op.op === 'and' || op.op === 'or' || op.op === 'xor') b = fit(b, a.shape);
        r = a[op.op](b);
        break;
      }
      case 'shc':
        r = op.op === 'shlWide' ? v(op.a).shlWide(op.n) : v(op.a)[op.op](op.n);
        break;
      case 'un':
        r = v(op.a)[op.op]();
        break;
      case 'slice': {
        const a = v(op.a);
        const hi = Math.min(op.hi, a.width - 1);
        r = a.slice(hi, Math.min(op.lo, hi));
        break;
      }
      case 'cat':
        r = cat(...op.parts.map(v));
        break;
      case 'rep':
        r = v(op.a).rep(op.n);
        break;
      case 'ext': {
        const a = v(op.a);
        r = a[op.how](Math.max(op.w, a.width));
        break;
      }
      case 'trunc': {
        const a = v(op.a);
        r = a.trunc(Math.min(op.w, a.width));
        break;
      }
      case 'cast':
        r = op.signed ? v(op.a).asSigned() : v(op.a).asUnsigned();
        break;
      case 'mux': {
        const a = v(op.a);
        r = mux(toBool(v(op.c)), a, fit(v(op.b), a.shape));
        break;
      }
      case 'memrd': {
        const mem = mems.get(op.mem)!;
        r = mem.read(fit(v(op.addr), UInt(mem.mem.addrWidth)));
        break;
      }
      case 'memrs': {
        const mem = mems.get(op.mem)!;
        r = mem.readSync(fit(v(op.addr), UInt(mem.mem.addrWidth)), { enable: op.en === null ? undefined : toBool(v(op.en)), name: `rd${i}` });
        break;
      }
      case 'when': {
        const shape = v(op.v1).shape;
        const w = m.wire(`w${i}`, shape);
        m.set(w, fit(v(op.dflt), shape));
        m.when(toBool(v(op.c1)), () => m.set(w, v(op.v1))).elseWhen(toBool(v(op.c2)), () => m.set(w, fit(v(op.v2), shape)));
        wires.push(w);
        r = w;
        break;
      }
      case 'switch': {
        const sel = v(op.sel).asUnsigned();
        const shape = v(op.cases[0]![1]).shape;
        const w = m.wire(`w${i}`, shape, op.dflt === null ? {} : { default: fit(v(op.dflt), shape) });
        const seen = new Set<number>();
        const cases = op.cases
          .map(([k, val]) => [k % 2 ** sel.width, val] as const)
          .filter(([k]) => (seen.has(k) ? false : (seen.add(k), true)))
          .map(([k, val]) => [k, () => m.set(w, fit(v(val), shape))] as const);
        // Without a default the switch must cover every value, or the wire would be a latch.
        if (op.dflt === null) {
          for (let k = 0; k < 2 ** sel.width; k++) if (!seen.has(k)) cases.push([k, () => m.set(w, lit(0, shape.signed ? SInt(shape.width) : UInt(shape.width)))]);
        }
        m.switch(sel, cases);
        wires.push(w);
        r = w;
        break;
      }
      case 'next': {
        const reg = regs.get(op.reg);
        if (!reg) break;
        const val = fit(v(op.v), reg.shape);
        if (op.c === null) m.set(reg, val);
        else m.when(toBool(v(op.c)), () => m.set(reg, val));
        break;
      }
      case 'memwr': {
        const mem = mems.get(op.mem);
        if (!mem) break;
        // A write condition that folds to false would leave the clock unused; write unconditionally then.
        const c = toBool(v(op.c));
        const write = () => mem.write(fit(v(op.addr), UInt(mem.mem.addrWidth)), fit(v(op.data), mem.mem.shape));
        if (c.node.k === 'const') write();
        else m.when(c, write);
        break;
      }
      case 'select': {
        const sel = v(op.sel).asUnsigned();
        const d = v(op.dflt);
        // -1: an arm that gives the default (the emitter drops it); keys past the selector's range fold away.
        r = select(sel, op.cases.map(([k, val]) => [k % 2 ** Math.min(sel.width + 1, 9), val < 0 ? d : fit(v(val), d.shape)] as const), d);
        break;
      }
      case 'fsm': {
        const names = op.enc.map((_, j) => `M${j}`);
        const E = hdlEnum(`e${i}`, Object.fromEntries(names.map((nm, j) => [nm, op.enc[j]!])), { prefix: `E${i}_` });
        const st = m.reg(`st${i}`, E, { domain: dom!, reset: null, init: E.of(names[0]!) });
        const byFrom = new Map<number, [number, number][]>();
        for (const [f, t, c] of op.moves) byFrom.set(f, [...(byFrom.get(f) ?? []), [t, c]]);
        m.set(st, st);
        m.switch(
          st,
          [...byFrom].map(([f, list]) => [E.of(names[f]!), () => list.forEach(([t, c]) => m.when(toBool(v(c)), () => m.set(st, E.of(names[t]!))))] as const),
        );
        fsms.push(st);
        r = st;
        break;
      }
      case 'out': {
        const a = v(op.a);
        const o = m.output(`out${outs++}`, a.shape);
        m.set(o, a);
        break;
      }
    }
    vals[i] = r;
  });
  if (!dry) {
    // Registers nobody assigned hold their value; every declared signal feeds one output, so
    // the module is lint-clean (no unused inputs, registers or wires).
    for (const reg of regs.values()) {
      if (!recipe.ops.some((op) => op.k === 'next' && regs.get(op.reg) === reg)) m.set(reg, reg);
    }
    // A memory must be read to be meaningful (and lint-clean): fold in its word 0.
    const memReads = [...mems.values()].map((mem) => mem.read(lit(0, UInt(mem.mem.addrWidth))));
    const signals = [...recipe.ops.flatMap((op, i) => (op.k === 'in' || op.k === 'reg' || op.k === 'memrs' ? [vals[i]!] : [])), ...wires, ...fsms, ...memReads];
    const fold = m.output('fold', Bool);
    m.set(fold, signals.length ? cat(...signals).xorReduce() : lit(0, Bool));
  }
  return vals.map((x, i) => (x && producesValue(recipe.ops[i]!) ? x.shape : undefined));
}

/** Shrinking candidates: drop one output/next/memwr op, or turn one op into a constant of its shape. */
export function* shrinkCandidates(recipe: Recipe, shapes: readonly (Shape | undefined)[]): Generator<Recipe> {
  const { ops } = recipe;
  for (let i = ops.length - 1; i >= 0; i--) {
    const op = ops[i]!;
    if (op.k === 'out' || op.k === 'next' || op.k === 'memwr') {
      const outputsLeft = ops.filter((o) => o.k === 'out').length;
      if (op.k === 'out' && outputsLeft <= 1) continue;
      // Replace with an op that does nothing: an output of a constant would still add a port, so reuse 'const'.
      yield { ...recipe, ops: ops.map((o, j) => (j === i ? { k: 'const', w: 1, s: false, v: '0' } : o)) };
    }
  }
  for (let i = ops.length - 1; i >= 0; i--) {
    const op = ops[i]!;
    const s = shapes[i];
    if (!s || op.k === 'const' || op.k === 'in' || op.k === 'reg') continue;
    yield { ...recipe, ops: ops.map((o, j) => (j === i ? { k: 'const', w: s.width, s: s.signed, v: '0' } : o)) };
  }
}
