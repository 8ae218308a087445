// Values: immutable, width-checked expression nodes. Every operator's result width is
// fixed at construction and its operands are explicitly extended to the width the
// operation computes at, so neither the emitter nor the interpreter ever has to apply
// Verilog's context-dependent width rules. A value cannot silently lose bits: the only
// narrowing operators are slice() and trunc(), which say so.
//
// Width rules (documented for users in generator/hdl/README.md):
//   add, sub            wrapping:  width = max(wa, wb)
//   addWide, subWide    widening:  width = max(wa, wb) + 1   (never overflows)
//   mul                 widening:  width = wa + wb           (never overflows)
//   and, or, xor        operands must have equal widths (numbers adopt the other width)
//   eq ne lt le gt ge   operands extended to max(wa, wb); result is 1 bit
//   shl, shr            keep the left operand's width; shr is arithmetic on signed values
//   shlWide(n)          constant shift that grows the width by n
// Mixing signed and unsigned operands is an error: convert with asSigned()/asUnsigned()
// or ext() first, so the reader sees which interpretation was meant.

import { callerLoc, HdlError, type SourceLoc } from './source.ts';
import { badIdentifier } from './names.ts';
import { BIN_OPS, UN_OPS, foldBin, foldUn, parity, type BinOp, type BinOpSpec, type UnOp } from './ops.ts';

export { parity, type BinOp, type UnOp };

export interface Shape {
  readonly width: number;
  readonly signed: boolean;
}

export function UInt(width: number): Shape {
  checkWidth(width, 'UInt');
  return { width, signed: false };
}
export function SInt(width: number): Shape {
  checkWidth(width, 'SInt');
  return { width, signed: true };
}
export const Bool: Shape = { width: 1, signed: false };

function checkWidth(width: number, what: string): void {
  if (!Number.isInteger(width) || width < 1 || width > 65536) {
    throw new HdlError(`${what}(${width}): width must be an integer from 1 to 65536`, callerLoc());
  }
}

export function shapeText(s: Shape): string {
  return `${s.signed ? 'SInt' : 'UInt'}(${s.width})`;
}

/** The expression node kinds of the IR. Operands of 'bin' (except shift amounts) have equal shapes. */
export type Node =
  | { readonly k: 'const'; readonly value: bigint; readonly label?: EnumLabel }
  | { readonly k: 'sig'; readonly sig: SignalLike }
  | { readonly k: 'bin'; readonly op: BinOp; readonly a: Value; readonly b: Value }
  | { readonly k: 'un'; readonly op: UnOp; readonly a: Value }
  | { readonly k: 'slice'; readonly a: Value; readonly lo: number }
  | { readonly k: 'cat'; readonly parts: readonly Value[] }
  | { readonly k: 'ext'; readonly a: Value }
  | { readonly k: 'mux'; readonly c: Value; readonly t: Value; readonly f: Value }
  | { readonly k: 'cast'; readonly a: Value }
  | { readonly k: 'memrd'; readonly mem: MemoryLike; readonly addr: Value };

/** What the value layer knows of an enumeration (enum.ts): only the emitter reads it. */
export interface EnumLike {
  readonly name: string;
  readonly prefix: string;
  readonly width: number;
  readonly members: readonly string[];
  encodingOf(member: string): bigint;
}
/** A named constant: a member of an enumeration. */
export interface EnumLabel {
  readonly enumType: EnumLike;
  readonly member: string;
}

/** What the value layer needs to know of a signal; the IR's Signal implements it. */
export interface SignalLike {
  readonly name: string;
  readonly shape: Shape;
}
export interface MemoryLike {
  readonly name: string;
  readonly shape: Shape;
  readonly depth: number;
}

export type ValueLike = Value | number | bigint | boolean;

let nextValueId = 1;

export class Value {
  readonly id: number;
  readonly shape: Shape;
  readonly node: Node;
  readonly loc: SourceLoc | undefined;

  constructor(shape: Shape, node: Node, loc?: SourceLoc) {
    this.id = nextValueId++;
    this.shape = shape;
    this.node = node;
    this.loc = loc ?? callerLoc();
  }

  get width(): number {
    return this.shape.width;
  }
  get signed(): boolean {
    return this.shape.signed;
  }

  toString(): string {
    return `${shapeText(this.shape)} ${describe(this)}`;
  }

  // ---- arithmetic -------------------------------------------------------------
  add(b: ValueLike): Value {
    return binary('add', this, b, callerLoc());
  }
  sub(b: ValueLike): Value {
    return binary('sub', this, b, callerLoc());
  }
  addWide(b: ValueLike): Value {
    return binary('add', this, b, callerLoc(), 1);
  }
  subWide(b: ValueLike): Value {
    return binary('sub', this, b, callerLoc(), 1);
  }
  mul(b: ValueLike): Value {
    return binary('mul', this, b, callerLoc());
  }
  neg(): Value {
    return unary('neg', this, callerLoc());
  }

  // ---- bitwise ----------------------------------------------------------------
  and(b: ValueLike): Value {
    return binary('and', this, b, callerLoc());
  }
  or(b: ValueLike): Value {
    return binary('or', this, b, callerLoc());
  }
  xor(b: ValueLike): Value {
    return binary('xor', this, b, callerLoc());
  }
  not(): Value {
    return unary('not', this, callerLoc());
  }
  andReduce(): Value {
    return unary('andr', this, callerLoc());
  }
  orReduce(): Value {
    return unary('orr', this, callerLoc());
  }
  xorReduce(): Value {
    const loc = callerLoc();
    if (this.node.k === 'cat') {
      // Parity of a concatenation: parts appearing twice cancel and constant parts only flip
      // the result. Simplifying here also keeps Verilator 5.006 away from an optimizer bug
      // that drops the constant from XOR chains containing duplicates (see the README).
      const counts = new Map<Value, number>();
      let flip = 0n;
      const flat: Value[] = [];
      const flatten = (v: Value): void => {
        if (v.node.k === 'cat') v.node.parts.forEach(flatten);
        else flat.push(v);
      };
      flatten(this);
      for (const p of flat) {
        if (p.node.k === 'const') flip ^= parity(p.node.value);
        else counts.set(p, (counts.get(p) ?? 0) + 1);
      }
      const kept = [...counts].filter(([, n]) => n % 2 === 1).map(([p]) => p);
      if (kept.length !== flat.length) {
        const rest = kept.length === 0 ? lit(0, Bool, loc) : kept.length === 1 ? kept[0]!.xorReduce() : catValues(kept, loc).xorReduce();
        return flip ? rest.not() : rest;
      }
    }
    return unary('xorr', this, loc);
  }

  // ---- shifts -----------------------------------------------------------------
  /** Shift left, keeping the width (bits shifted out are dropped: a wrapping form). */
  shl(amount: ValueLike): Value {
    return binary('shl', this, amount, callerLoc());
  }
  /** Shift right, keeping the width; arithmetic (sign-filling) on signed values. */
  shr(amount: ValueLike): Value {
    return binary('shr', this, amount, callerLoc());
  }
  /** Shift left by a constant, growing the width so that no bit is lost. */
  shlWide(n: number): Value {
    const loc = callerLoc();
    if (!Number.isInteger(n) || n < 0) throw new HdlError(`shlWide(${n}): amount must be a non-negative integer`, loc);
    if (n === 0) return this;
    return catValues([this, lit(0, UInt(n), loc)], loc).as(this.signed, loc);
  }

  // ---- comparison -------------------------------------------------------------
  eq(b: ValueLike): Value {
    return binary('eq', this, b, callerLoc());
  }
  ne(b: ValueLike): Value {
    return binary('ne', this, b, callerLoc());
  }
  lt(b: ValueLike): Value {
    return binary('lt', this, b, callerLoc());
  }
  le(b: ValueLike): Value {
    return binary('le', this, b, callerLoc());
  }
  gt(b: ValueLike): Value {
    return binary('gt', this, b, callerLoc());
  }
  ge(b: ValueLike): Value {
    return binary('ge', this, b, callerLoc());
  }

  // ---- bit selection and width changes ---------------------------------------
  /** Bits hi..lo inclusive, as in Verilog; the result is unsigned. */
  slice(hi: number, lo: number): Value {
    const loc = callerLoc();
    if (!Number.isInteger(hi) || !Number.isInteger(lo) || lo < 0 || hi < lo || hi >= this.width) {
      throw new HdlError(`slice(${hi}, ${lo}) is out of range for ${shapeText(this.shape)}: need 0 <= lo <= hi <= ${this.width - 1}`, loc);
    }
    return sliceOf(this, hi, lo, loc);
  }
  bit(i: number): Value {
    const loc = callerLoc();
    if (!Number.isInteger(i) || i < 0 || i >= this.width) {
      throw new HdlError(`bit(${i}) is out of range for ${shapeText(this.shape)}`, loc);
    }
    return sliceOf(this, i, i, loc);
  }
  msb(): Value {
    return sliceOf(this, this.width - 1, this.width - 1, callerLoc());
  }
  /** Keep the low `width` bits (explicit narrowing; signedness is kept). */
  trunc(width: number): Value {
    const loc = callerLoc();
    if (!Number.isInteger(width) || width < 1 || width > this.width) {
      throw new HdlError(`trunc(${width}) on ${shapeText(this.shape)}: width must be 1..${this.width}`, loc);
    }
    if (width === this.width) return this;
    return sliceOf(this, width - 1, 0, loc).as(this.signed, loc);
  }
  /** Extend to `width` bits: zero-extension for unsigned values, sign-extension for signed ones. */
  ext(width: number): Value {
    const loc = callerLoc();
    if (!Number.isInteger(width) || width < this.width) {
      throw new HdlError(`ext(${width}) on ${shapeText(this.shape)} would narrow it; use trunc() or slice() to drop bits`, loc);
    }
    return extTo(this, width, loc);
  }
  zext(width: number): Value {
    const loc = callerLoc();
    return this.asUnsigned(loc).extChecked(width, loc);
  }
  sext(width: number): Value {
    const loc = callerLoc();
    return this.asSigned(loc).extChecked(width, loc);
  }
  private extChecked(width: number, loc: SourceLoc | undefined): Value {
    if (!Number.isInteger(width) || width < this.width) {
      throw new HdlError(`extension to ${width} bits of a ${this.width}-bit value would narrow it`, loc);
    }
    return extTo(this, width, loc);
  }
  asSigned(loc?: SourceLoc): Value {
    return this.as(true, loc ?? callerLoc());
  }
  asUnsigned(loc?: SourceLoc): Value {
    return this.as(false, loc ?? callerLoc());
  }
  private as(signed: boolean, loc: SourceLoc | undefined): Value {
    if (this.signed === signed) return this;
    return make({ width: this.width, signed }, { k: 'cast', a: this }, loc);
  }
  /** `n` copies side by side. */
  rep(n: number): Value {
    const loc = callerLoc();
    if (!Number.isInteger(n) || n < 1) throw new HdlError(`rep(${n}): count must be a positive integer`, loc);
    if (n === 1) return this.asUnsigned(loc);
    return make(UInt(this.width * n), { k: 'cat', parts: Array.from({ length: n }, () => this) }, loc);
  }
  /**
   * A name for this value if the Verilog needs an intermediate wire for it (it is shared,
   * sliced or very deep): `a.addWide(b).named('sum_l1_0')`. Unlike `m.let()` it declares
   * nothing; a value printed inline keeps no name. Returns the value itself.
   */
  named(name: string): Value {
    const bad = badIdentifier(name);
    if (bad) throw new HdlError(`named(): ${bad}`, callerLoc());
    if (this.node.k !== 'sig' && this.node.k !== 'const') nameHints.set(this, name);
    return this;
  }

  /** This value above `lower` ones (MSB first, like Verilog's {a, b}). */
  cat(...lower: Value[]): Value {
    return catValues([this, ...lower], callerLoc());
  }
}

// ---- free functions ------------------------------------------------------------

const nameHints = new WeakMap<Value, string>();
/** The name given with named(), if any. */
export function nameHint(v: Value): string | undefined {
  return nameHints.get(v);
}

/** A constant of the given shape; an error if it does not fit. */
export function lit(value: number | bigint | boolean, shape: Shape, loc?: SourceLoc): Value {
  const where = loc ?? callerLoc();
  const v = toBig(value, where);
  const min = shape.signed ? -(1n << BigInt(shape.width - 1)) : 0n;
  const max = shape.signed ? (1n << BigInt(shape.width - 1)) - 1n : (1n << BigInt(shape.width)) - 1n;
  if (v < min || v > max) {
    throw new HdlError(`constant ${v} does not fit in ${shapeText(shape)} (range ${min}..${max})`, where);
  }
  return new Value(shape, { k: 'const', value: BigInt.asUintN(shape.width, v) }, where);
}

/** Concatenation, most significant part first. */
export function cat(...parts: Value[]): Value {
  return catValues(parts, callerLoc());
}

/** c ? t : f. Both arms are extended to the wider of the two. */
export function mux(c: ValueLike, t: ValueLike, f: ValueLike): Value {
  const loc = callerLoc();
  const cv = coerce(c, Bool, loc, 'mux condition');
  if (cv.width !== 1) throw new HdlError(`mux condition must be 1 bit wide, got ${shapeText(cv.shape)}`, loc);
  const [tv, fv] = pair(t, f, loc, 'mux');
  return make(tv.shape, { k: 'mux', c: cv, t: tv, f: fv }, loc);
}

/** First true condition wins; `otherwise` when none holds (a priority encoder of values). */
export function priority(cases: ReadonlyArray<readonly [ValueLike, ValueLike]>, otherwise: ValueLike): Value {
  const loc = callerLoc();
  let acc: ValueLike = otherwise;
  for (let i = cases.length - 1; i >= 0; i--) {
    const [c, v] = cases[i]!;
    const cv = coerce(c, Bool, loc, 'priority condition');
    const [tv, fv] = pair(v, acc, loc, 'priority');
    acc = make(tv.shape, { k: 'mux', c: cv, t: tv, f: fv }, loc);
  }
  if (!(acc instanceof Value)) throw new HdlError('priority(): give at least one Value so the result has a shape', loc);
  return acc;
}

/** A value chosen by matching `sel` against constants (a switch expression). */
export function select(sel: Value, cases: ReadonlyArray<readonly [ValueLike, ValueLike]>, otherwise: ValueLike): Value {
  const loc = callerLoc();
  return priority(
    cases.map(([k, v]) => [binary('eq', sel, k, loc), v] as const),
    otherwise,
  );
}

export function isValue(x: unknown): x is Value {
  return x instanceof Value;
}

/** Turn a JS number/bigint/boolean into a constant shaped like `like`. */
export function coerce(x: ValueLike, like: Shape, loc: SourceLoc | undefined, what: string): Value {
  if (x instanceof Value) return x;
  if (typeof x === 'boolean') return lit(x ? 1 : 0, like.width === 1 ? like : Bool, loc);
  const v = toBig(x, loc);
  if (v < 0n && !like.signed) {
    throw new HdlError(`${what}: negative constant ${v} used with an unsigned ${like.width}-bit value`, loc);
  }
  return lit(v, like, loc);
}

// ---- internals -----------------------------------------------------------------

function toBig(x: number | bigint | boolean, loc: SourceLoc | undefined): bigint {
  if (typeof x === 'bigint') return x;
  if (typeof x === 'boolean') return x ? 1n : 0n;
  if (!Number.isSafeInteger(x)) throw new HdlError(`constant ${x} is not a safe integer; pass a bigint`, loc);
  return BigInt(x);
}

function sameSign(a: Value, b: Value, op: string, loc: SourceLoc | undefined): void {
  if (a.signed !== b.signed) {
    throw new HdlError(
      `${op}: cannot mix ${shapeText(a.shape)} and ${shapeText(b.shape)}; convert one with asSigned()/asUnsigned() first`,
      loc,
    );
  }
}

/** Coerce two operands, check signedness, extend both to the wider width. */
function pair(x: ValueLike, y: ValueLike, loc: SourceLoc | undefined, op: string): [Value, Value] {
  let a: Value;
  let b: Value;
  if (x instanceof Value) {
    a = x;
    b = coerce(y, x.shape, loc, op);
  } else if (y instanceof Value) {
    b = y;
    a = coerce(x, y.shape, loc, op);
  } else {
    // Two plain numbers: the smallest shape that holds both (signed if either is negative).
    const xs = [toBig(x, loc), toBig(y, loc)];
    const signed = xs.some((v) => v < 0n);
    const shape = { width: Math.max(...xs.map((v) => minWidth(v, signed))), signed };
    a = lit(xs[0]!, shape, loc);
    b = lit(xs[1]!, shape, loc);
  }
  sameSign(a, b, op, loc);
  const w = Math.max(a.width, b.width);
  return [extTo(a, w, loc), extTo(b, w, loc)];
}

/** A binary operator node, its operands shaped by the operator's width rule (ops.ts `shape`). */
function binary(op: BinOp, a: Value, b: ValueLike, loc: SourceLoc | undefined, grow = 0): Value {
  switch (BIN_OPS[op].shape) {
    case 'arith': {
      const bv = coerceFitting(b, a.shape, loc, op);
      sameSign(a, bv, op, loc);
      const w = Math.max(a.width, bv.width) + grow;
      return make({ width: w, signed: a.signed }, { k: 'bin', op, a: extTo(a, w, loc), b: extTo(bv, w, loc) }, loc);
    }
    case 'mul': {
      const bv = coerce(b, a.shape, loc, op);
      sameSign(a, bv, op, loc);
      const w = a.width + bv.width;
      return make({ width: w, signed: a.signed }, { k: 'bin', op, a: extTo(a, w, loc), b: extTo(bv, w, loc) }, loc);
    }
    case 'bitwise': {
      const bv = coerce(b, a.shape, loc, op);
      sameSign(a, bv, op, loc);
      if (a.width !== bv.width) {
        throw new HdlError(`${op}: operand widths differ (${a.width} and ${bv.width}); extend or truncate one explicitly`, loc);
      }
      return make(a.shape, { k: 'bin', op, a, b: bv }, loc);
    }
    case 'shift': {
      let bv: Value;
      if (b instanceof Value) {
        if (b.signed) throw new HdlError(`${op}: shift amount must be unsigned, got ${shapeText(b.shape)}`, loc);
        bv = b;
      } else {
        const n = toBig(b, loc);
        if (n < 0n) throw new HdlError(`${op}(${n}): shift amount must be non-negative`, loc);
        if (n === 0n) return a;
        bv = lit(n, UInt(minWidth(n, false)), loc);
      }
      return make(a.shape, { k: 'bin', op, a, b: bv }, loc);
    }
    case 'compare': {
      const [x, y] = pair(a, coerceFitting(b, a.shape, loc, op), loc, op);
      // Fold comparisons that the operands' ranges already decide (x >= 0 for unsigned x,
      // {9'd0, v} == 131071, x == x): lint tools flag them as constant, and they are.
      const decided = decideByRange(op as CompareOp, x, y);
      if (decided !== undefined) return lit(decided ? 1 : 0, Bool, loc);
      return make(Bool, { k: 'bin', op, a: x, b: y }, loc);
    }
  }
}

function unary(op: UnOp, a: Value, loc: SourceLoc | undefined): Value {
  return make(UN_OPS[op].shape === 'bit' ? Bool : a.shape, { k: 'un', op, a }, loc);
}

type CompareOp = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge';

/** A JS constant operand takes the other operand's shape when it fits, else the smallest shape that does. */
function coerceFitting(x: ValueLike, like: Shape, loc: SourceLoc | undefined, op: string): Value {
  if (x instanceof Value) return x;
  const v = toBig(x, loc);
  if (v < 0n && !like.signed) throw new HdlError(`${op}: negative constant ${v} used with an unsigned value`, loc);
  const need = minWidth(v, like.signed);
  return lit(v, { width: Math.max(need, like.width), signed: like.signed }, loc);
}

/** Bits of an unsigned register that must hold every value from 0 to `max`. */
export function widthFor(max: number): number {
  if (!Number.isSafeInteger(max) || max < 0) throw new RangeError(`widthFor(${max}): expected a non-negative safe integer`);
  return minWidth(BigInt(max), false);
}

export function minWidth(v: bigint, signed: boolean): number {
  if (signed) {
    let w = 1;
    while (v < -(1n << BigInt(w - 1)) || v > (1n << BigInt(w - 1)) - 1n) w++;
    return w;
  }
  return Math.max(1, v.toString(2).length);
}

export function extTo(v: Value, width: number, loc: SourceLoc | undefined): Value {
  if (v.width === width) return v;
  if (v.node.k === 'const') {
    const raw = v.signed ? BigInt.asIntN(v.width, v.node.value) : v.node.value;
    return new Value({ width, signed: v.signed }, { k: 'const', value: BigInt.asUintN(width, raw) }, loc);
  }
  return new Value({ width, signed: v.signed }, { k: 'ext', a: v }, loc);
}

function sliceOf(v: Value, hi: number, lo: number, loc: SourceLoc | undefined): Value {
  const width = hi - lo + 1;
  if (lo === 0 && width === v.width) return v.signed ? make(UInt(width), { k: 'cast', a: v }, loc) : v;
  if (v.node.k === 'const') {
    return new Value(UInt(width), { k: 'const', value: (v.node.value >> BigInt(lo)) & ((1n << BigInt(width)) - 1n) }, loc);
  }
  return new Value(UInt(width), { k: 'slice', a: v, lo }, loc);
}

function catValues(parts: Value[], loc: SourceLoc | undefined): Value {
  if (parts.length === 0) throw new HdlError('cat() needs at least one value', loc);
  for (const p of parts) {
    if (!(p instanceof Value)) throw new HdlError(`cat(): every part must be a Value (got ${typeof p}); wrap constants with lit()`, loc);
  }
  if (parts.length === 1) return parts[0]!.asUnsigned(loc);
  const width = parts.reduce((s, p) => s + p.width, 0);
  return make(UInt(width), { k: 'cat', parts }, loc);
}

/**
 * Bits of `v` known to be 0 from its structure (a mask over the raw pattern). Verilator
 * proves the same facts and flags comparisons they decide, so we fold such values first.
 */
const zeroMasks = new WeakMap<Value, bigint>();
export function knownZero(v: Value): bigint {
  const hit = zeroMasks.get(v);
  if (hit !== undefined) return hit;
  const n = v.node;
  const w = v.width;
  const full = (1n << BigInt(w)) - 1n;
  let z = 0n;
  switch (n.k) {
    case 'const':
      z = ~n.value & full;
      break;
    case 'cast':
      z = knownZero(n.a);
      break;
    case 'ext': {
      const za = knownZero(n.a);
      const above = full & ~((1n << BigInt(n.a.width)) - 1n);
      const signKnownZero = ((za >> BigInt(n.a.width - 1)) & 1n) === 1n;
      z = za | (!n.a.signed || signKnownZero ? above : 0n);
      break;
    }
    case 'slice':
      z = (knownZero(n.a) >> BigInt(n.lo)) & full;
      break;
    case 'cat':
      for (const p of n.parts) z = (z << BigInt(p.width)) | knownZero(p);
      break;
    case 'mux':
      z = knownZero(n.t) & knownZero(n.f);
      break;
    case 'un':
    case 'bin': {
      const b = n.k === 'bin' ? n.b : undefined;
      const facts = {
        za: knownZero(n.a),
        zb: b ? knownZero(b) : 0n,
        fa: (1n << BigInt(n.a.width)) - 1n,
        full,
        w,
        signed: n.a.signed,
        bConst: b?.node.k === 'const' ? b.node.value : undefined,
      };
      z = n.k === 'bin' ? BIN_OPS[n.op].knownZero(facts) : UN_OPS[n.op].knownZero(facts);
      break;
    }
    default:
      break;
  }
  zeroMasks.set(v, z);
  return z;
}

/**
 * Build a node, folding it when its value is known at elaboration: all-constant operands
 * give a constant, a constant mux select picks its arm. Tools flag comparisons and
 * selects of constants; folding keeps the emitted Verilog free of them.
 */
function make(shape: Shape, node: Node, loc: SourceLoc | undefined): Value {
  if (node.k === 'mux' && node.c.node.k === 'const') return node.c.node.value ? node.t : node.f;
  if (node.k === 'mux' && node.t === node.f) return node.t;
  if (node.k === 'bin' && node.a === node.b) {
    const self = (BIN_OPS[node.op] as BinOpSpec).self;
    if (self === 'zero') return new Value(shape, { k: 'const', value: 0n }, loc);
    if (self === 'a') return node.a;
  }
  const v = foldConst(shape, node);
  if (v !== undefined) return new Value(shape, { k: 'const', value: v }, loc);
  const simpler = foldIdentity(shape, node, loc);
  if (simpler) return simpler;
  const made = new Value(shape, node, loc);
  if (knownZero(made) === (1n << BigInt(shape.width)) - 1n) return new Value(shape, { k: 'const', value: 0n }, loc);
  return made;
}

/**
 * Operators that a constant operand makes trivial, from the operator table's `unit` and
 * `absorb` (x + 0, x & all-ones, x | 0, x ^ 0, x << 0, x | all-ones), and one-bit forms
 * of a value itself (c ? 1 : 0, b == 1, b != 0) or its inverse. Lint tools do not mind
 * them, but a reader of the Verilog does.
 */
function foldIdentity(shape: Shape, node: Node, loc: SourceLoc | undefined): Value | undefined {
  const bit = (x: Value): boolean => x.width === 1 && !x.signed;
  if (node.k === 'bin') {
    const spec = BIN_OPS[node.op] as BinOpSpec;
    const a = constOf(node.a);
    const b = constOf(node.b);
    const ones = (1n << BigInt(node.a.width)) - 1n;
    if (spec.unit) {
      const u = spec.unit.value === 'zero' ? 0n : ones;
      // Shift amounts have their own width: only zero is the unit there.
      if (b === (spec.shape === 'shift' ? 0n : u)) return node.a;
      if (spec.unit.side === 'both' && a === u) return node.b;
    }
    if (spec.absorb === 'ones' && (a === ones || b === ones)) return new Value(shape, { k: 'const', value: ones }, loc);
    if ((node.op === 'eq' || node.op === 'ne') && bit(node.a)) {
      const [x, c] = b !== undefined ? [node.a, b] : a !== undefined ? [node.b, a] : [undefined, undefined];
      if (x && c !== undefined) return (c === 1n) === (node.op === 'eq') ? x : unary('not', x, loc);
    }
  }
  if (node.k === 'mux' && bit(node.c) && bit(node.t) && shape.width === 1 && !shape.signed) {
    const t = constOf(node.t);
    const f = constOf(node.f);
    if (t === 1n && f === 0n) return node.c;
    if (t === 0n && f === 1n) return unary('not', node.c, loc);
  }
  return undefined;
}

/** The interval of values `v` can take (signed values as signed), from its structure. */
function range(v: Value): [bigint, bigint] {
  const n = v.node;
  if (n.k === 'const') {
    const x = v.signed ? BigInt.asIntN(v.width, n.value) : n.value;
    return [x, x];
  }
  if (n.k === 'ext') return range(n.a);
  const w = BigInt(v.width);
  if (v.signed) return [-(1n << (w - 1n)), (1n << (w - 1n)) - 1n];
  return [0n, ((1n << w) - 1n) & ~knownZero(v)];
}

/** The value under any casts and extensions: two operands with the same base and shape are equal. */
function base(v: Value): Value {
  while (v.node.k === 'cast' || v.node.k === 'ext') v = v.node.a;
  return v;
}

function decideByRange(op: CompareOp, a: Value, b: Value): boolean | undefined {
  if (a === b || (base(a) === base(b) && a.signed === b.signed && a.width === b.width && base(a).signed === a.signed)) return op === 'eq' || op === 'le' || op === 'ge';
  const [alo, ahi] = range(a);
  const [blo, bhi] = range(b);
  switch (op) {
    case 'eq':
    case 'ne': {
      if (ahi < blo || bhi < alo) return op === 'ne';
      return undefined;
    }
    case 'lt':
      return ahi < blo ? true : alo >= bhi ? false : undefined;
    case 'le':
      return ahi <= blo ? true : alo > bhi ? false : undefined;
    case 'gt':
      return alo > bhi ? true : ahi <= blo ? false : undefined;
    case 'ge':
      return alo >= bhi ? true : ahi < blo ? false : undefined;
  }
}

function constOf(v: Value): bigint | undefined {
  return v.node.k === 'const' ? v.node.value : undefined;
}

/** The raw bit pattern of `node` when all its operands are constants; the interpreter's semantics. */
function foldConst(shape: Shape, node: Node): bigint | undefined {
  const w = shape.width;
  switch (node.k) {
    case 'cast':
      return constOf(node.a);
    case 'cat': {
      let acc = 0n;
      for (const p of node.parts) {
        const c = constOf(p);
        if (c === undefined) return undefined;
        acc = (acc << BigInt(p.width)) | c;
      }
      return acc;
    }
    case 'un': {
      const a = constOf(node.a);
      return a === undefined ? undefined : foldUn(node.op, a, w, node.a.width, node.a.signed);
    }
    case 'bin': {
      const a = constOf(node.a);
      const b = constOf(node.b);
      return a === undefined || b === undefined ? undefined : foldBin(node.op, a, b, w, node.a.width, node.a.signed);
    }
    default:
      return undefined;
  }
}

/** A short human description of an expression, for error messages. */
export function describe(v: Value, depth = 2): string {
  const n = v.node;
  switch (n.k) {
    case 'const':
      return `${v.width}'d${v.signed ? BigInt.asIntN(v.width, n.value) : n.value}`;
    case 'sig':
      return n.sig.name;
    case 'memrd':
      return `${n.mem.name}[${depth > 0 ? describe(n.addr, depth - 1) : '…'}]`;
    default:
      if (depth <= 0) return '…';
      switch (n.k) {
        case 'bin':
          return `(${describe(n.a, depth - 1)} ${n.op} ${describe(n.b, depth - 1)})`;
        case 'un':
          return `${n.op}(${describe(n.a, depth - 1)})`;
        case 'slice':
          return `${describe(n.a, depth - 1)}[${n.lo + v.width - 1}:${n.lo}]`;
        case 'cat':
          return `{${n.parts.map((p) => describe(p, depth - 1)).join(', ')}}`;
        case 'ext':
          return `ext(${describe(n.a, depth - 1)})`;
        case 'cast':
          return describe(n.a, depth);
        case 'mux':
          return `(${describe(n.c, depth - 1)} ? ${describe(n.t, depth - 1)} : ${describe(n.f, depth - 1)})`;
      }
  }
}
