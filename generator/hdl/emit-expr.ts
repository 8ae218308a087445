// Verilog text for IR expressions, exact to the bit. Because every operator's operands
// already have the operation's width (see value.ts), Verilog's context-width rules never
// extend anything; what remains are three Verilog traps handled here:
//   - a slice of an expression is not legal Verilog: push the slice into the operands when
//     the low bits only depend on low bits (add, sub, mul, shl, bitwise, mux, cat, ext),
//     otherwise go through a named intermediate wire;
//   - signedness propagates into context-determined operands, so `$signed(a) >>> b` is
//     wrapped in a concatenation to keep it arithmetic in an unsigned context;
//   - bits of an intermediate wire (or of a signal, an instance's output say) that nobody
//     reads would trip Verilator's UNUSEDSIGNAL, so they are folded into an `unused_*`
//     wire (Verilator's documented convention).

import { nameHint, type Value, type EnumLabel } from './value.ts';
import { BIN_OPS, UN_OPS } from './ops.ts';
import { type Signal, children, postOrder, deepCuts } from './ir.ts';
import { sanitize } from './names.ts';

/** A mux chain keyed by one selector, printed as a `case` (or a flat chain): labels and value text per arm. */
export interface CaseText {
  readonly sel: string;
  /** `labels` is the case label list ('4'd1, 4'd2'); `keys` the same constants one by one. */
  readonly arms: readonly { readonly labels: string; readonly keys: readonly string[]; readonly value: string }[];
  /** The default arm's value (the chain's last else, or its last arm when the labels cover every value). */
  readonly dflt: string;
}

/** A chain of `sel == K ? a : (sel == K2 ? b : …)` found in the expression graph. */
interface CaseChain {
  readonly sel: Value;
  readonly arms: { readonly keys: Value[]; readonly value: Value }[];
  readonly dflt: Value;
}

/** Chains with at least this many arms print as `case`; shorter ones read fine as ternaries. */
export const CASE_MIN_ARMS = 3;

export interface TempWire {
  readonly name: string;
  readonly value: Value;
  readonly text: string;
  /** Set for a select-chain temp: a wire printed as a flat chain, one arm a line (see chainLines). */
  readonly caseText?: CaseText;
  /** Bits read by some slice (undefined = read whole). */
  usedBits: boolean[] | undefined;
  wholeUse: boolean;
}

export class ExprEmitter {
  readonly temps: TempWire[] = [];
  private readonly tempOf = new Map<Value, TempWire>();
  private readonly refs = new Map<Value, number>();
  /** Bits of each signal printed so far: 'whole', or the bits some slice read. */
  private readonly sigBits = new Map<Signal, boolean[] | 'whole'>();

  constructor(
    private readonly claim: (base: string) => string,
    private readonly nameOf: (s: Signal) => string,
    /** The localparam naming an enum member (the module declares the ones it is asked for). */
    private readonly labelName: (l: EnumLabel) => string = (l) => l.member,
  ) {}

  private readonly cut = new Set<Value>();

  /**
   * Learn every expression the module will print: count uses, so shared subexpressions
   * get one named wire, and name the cut points of very deep expressions up front, bottom
   * up, so printing never recurses deeply.
   */
  prepare(roots: readonly Value[]): void {
    const order = postOrder(roots);
    for (const r of roots) this.refs.set(r, (this.refs.get(r) ?? 0) + 1);
    for (const v of order) for (const c of children(v)) this.refs.set(c, (this.refs.get(c) ?? 0) + 1);
    // Case chains first: their inner muxes are never printed, so depth is counted through the chain's operands.
    const inner = new Set<Value>();
    for (let i = order.length - 1; i >= 0; i--) {
      const v = order[i]!;
      if (inner.has(v) || this.chains.has(v)) continue;
      const chain = this.findChain(v, inner);
      if (chain) this.chains.set(v, chain);
    }
    const operands = (v: Value): readonly Value[] => {
      const c = this.chains.get(v);
      return c ? [c.sel, ...c.arms.map((a) => a.value), c.dflt] : children(v);
    };
    const cuts = deepCuts(order.filter((v) => !inner.has(v)), operands);
    for (const v of cuts) this.cut.add(v);
    for (const v of cuts) this.expr(v);
  }

  private readonly chains = new Map<Value, CaseChain>();

  /** The selector and keys of `sel == K` (or of `sel == K1 | sel == K2 …`, a lowered switch arm). */
  private keysOf(c: Value): { sel: Value; keys: Value[] } | undefined {
    const n = c.node;
    if (n.k !== 'bin') return undefined;
    if (n.op === 'eq') {
      if (n.b.node.k === 'const' && n.a.node.k !== 'const') return { sel: n.a, keys: [n.b] };
      if (n.a.node.k === 'const' && n.b.node.k !== 'const') return { sel: n.b, keys: [n.a] };
      return undefined;
    }
    if (n.op === 'or' && (this.refs.get(n.a) ?? 0) <= 1 && (this.refs.get(n.b) ?? 0) <= 1) {
      const a = this.keysOf(n.a);
      const b = this.keysOf(n.b);
      if (a && b && sameValue(a.sel, b.sel)) return { sel: a.sel, keys: [...a.keys, ...b.keys] };
    }
    return undefined;
  }

  /**
   * `v` as a case chain: muxes whose conditions compare one selector with constants, each
   * else-arm the next mux (used nowhere else). Inner muxes go into `inner`.
   */
  private findChain(v: Value, inner: Set<Value>): CaseChain | undefined {
    if (v.node.k !== 'mux') return undefined;
    const first = this.keysOf(v.node.c);
    if (!first || first.sel.width > 32) return undefined;
    const arms: { keys: Value[]; value: Value }[] = [];
    const seen = new Set<bigint>();
    const mine: Value[] = [];
    let cur: Value = v;
    for (;;) {
      const n = cur.node;
      if (n.k !== 'mux') break;
      const k = this.keysOf(n.c);
      if (!k || !sameValue(k.sel, first.sel)) break;
      if (cur !== v && ((this.refs.get(cur) ?? 0) > 1 || this.tempOf.has(cur))) break;
      if (cur !== v) mine.push(cur);
      // A key an earlier arm already takes can never select this one (first match wins, as in `case`).
      const keys = k.keys.filter((key) => {
        const raw = (key.node as { value: bigint }).value;
        if (seen.has(raw)) return false;
        seen.add(raw);
        return true;
      });
      if (keys.length) arms.push({ keys, value: n.t });
      cur = n.f;
    }
    if (arms.length < CASE_MIN_ARMS) return undefined;
    for (const m of mine) inner.add(m);
    let dflt = cur;
    const w = first.sel.width;
    if (w <= 30 && seen.size >= 2 ** w) {
      // Every value has an arm: the chain's else is dead, and the last arm becomes the default.
      dflt = arms.pop()!.value;
    }
    // Keys are disjoint, so arms with the same value merge and arms giving the default go.
    const same = (a: Value, b: Value): boolean => a === b || (a.node.k === 'const' && b.node.k === 'const' && a.node.value === b.node.value && a.node.label === b.node.label);
    const merged: { keys: Value[]; value: Value }[] = [];
    for (const a of arms) {
      if (same(a.value, dflt)) continue;
      const m = merged.find((x) => same(x.value, a.value));
      if (m) m.keys.push(...a.keys);
      else merged.push({ keys: [...a.keys], value: a.value });
    }
    // Every arm gave the default (equal constants that are not one Value): no select is left to print.
    if (!merged.length) return undefined;
    return { sel: first.sel, arms: merged, dflt };
  }

  /** Whether `v` prints as a `case` (a chain of at least CASE_MIN_ARMS compares of one selector). */
  isCase(v: Value): boolean {
    return this.chains.has(v);
  }

  /** The `case` text of a chain that a statement assigns directly (not through a temp). */
  caseOf(v: Value): CaseText | undefined {
    const chain = this.chains.get(v);
    if (!chain || this.shouldShare(v) || this.tempOf.has(v)) return undefined;
    return this.caseText(chain);
  }

  private caseText(chain: CaseChain): CaseText {
    const sel = this.expr(chain.sel);
    const arms = chain.arms.map((a) => {
      const keys = a.keys.map((k) => this.expr(k));
      return { labels: keys.join(', '), keys, value: this.expr(a.value) };
    });
    return { sel, arms, dflt: this.expr(chain.dflt) };
  }

  expr(v: Value): string {
    const t = this.tempOf.get(v);
    if (t) {
      t.wholeUse = true;
      return t.name;
    }
    if (this.viaTemp(v)) {
      const tw = this.makeTemp(v);
      tw.wholeUse = true;
      return tw.name;
    }
    return this.raw(v);
  }

  /**
   * A plain name for `v` (a signal, constant or bit-select as it is, anything else through a
   * named wire). Used where tools disagree on expression widths, such as array indices.
   */
  simple(v: Value): string {
    const k = v.node.k;
    if (k === 'sig' || k === 'const' || (k === 'slice' && v.node.a.node.k === 'sig') || (k === 'cast' && v.node.a.node.k === 'sig')) {
      // A signed index is negative for half its values (out of range: X): say $unsigned.
      return mayBeSignedInVerilog(v) ? `$unsigned(${this.expr(v)})` : this.expr(v);
    }
    const t = this.tempOf.get(v) ?? this.makeTemp(v);
    t.wholeUse = true;
    return t.name;
  }

  private shouldShare(v: Value): boolean {
    const k = v.node.k;
    if (k === 'sig' || k === 'const' || k === 'cast') return false;
    if (k === 'slice' && v.node.a.node.k === 'sig') return false;
    return (this.refs.get(v) ?? 0) > 1 || this.cut.has(v);
  }

  /** Inside an expression, a case chain goes through a named `reg` of its own. */
  private viaTemp(v: Value): boolean {
    return this.shouldShare(v) || this.chains.has(v);
  }

  private raw(v: Value): string {
    const n = v.node;
    switch (n.k) {
      case 'const':
        return n.label ? this.labelName(n.label) : constText(n.value, v.width);
      case 'sig':
        this.sigBits.set(n.sig as Signal, 'whole');
        return this.nameOf(n.sig as Signal);
      case 'cast':
        return this.expr(n.a);
      case 'memrd':
        return `${n.mem.name}[${this.simple(n.addr)}]`;
      case 'mux':
        return `(${this.expr(n.c)} ? ${this.expr(n.t)} : ${this.expr(n.f)})`;
      case 'cat': {
        const first = n.parts[0]!;
        if (n.parts.length > 1 && n.parts.every((p) => p === first)) return `{${n.parts.length}{${this.expr(first)}}}`;
        return `{${n.parts.map((p) => this.expr(p)).join(', ')}}`;
      }
      case 'ext': {
        const k = v.width - n.a.width;
        if (!n.a.signed) return `{${constText(0n, k)}, ${this.expr(n.a)}}`;
        const sign = this.slice(n.a, n.a.width - 1, n.a.width - 1);
        return k === 1 ? `{${sign}, ${this.expr(n.a)}}` : `{{${k}{${sign}}}, ${this.expr(n.a)}}`;
      }
      case 'slice':
        return this.slice(n.a, n.lo + v.width - 1, n.lo);
      case 'un':
        return `(${UN_OPS[n.op].verilog}${this.expr(n.a)})`;
      case 'bin': {
        const a = this.expr(n.a);
        const b = this.expr(n.b);
        const spec = BIN_OPS[n.op];
        const signed = n.a.signed;
        switch (spec.form) {
          case 'shr':
            return signed ? `{$signed(${a}) >>> ${b}}` : `(${a} >> ${b})`;
          case 'compare': {
            if (signed) return `($signed(${a}) ${spec.verilog} $signed(${b}))`;
            // A signed port reinterpreted with asUnsigned() is still signed to Verilog: say $unsigned.
            const u = (v: Value, t: string): string => (mayBeSignedInVerilog(v) ? `$unsigned(${t})` : t);
            return `(${u(n.a, a)} ${spec.verilog} ${u(n.b, b)})`;
          }
          case 'infix':
            return `(${a} ${spec.verilog} ${b})`;
        }
      }
    }
  }

  /** Verilog text for bits hi..lo of `v`. */
  slice(v: Value, hi: number, lo: number): string {
    const w = hi - lo + 1;
    if (lo === 0 && w === v.width) return this.expr(v);
    const n = v.node;
    const temp = this.tempOf.get(v);
    if (temp) return this.sliceTemp(temp, hi, lo);
    switch (n.k) {
      case 'const':
        return constText((n.value >> BigInt(lo)) & ((1n << BigInt(w)) - 1n), w);
      case 'sig': {
        const sig = n.sig as Signal;
        let bits = this.sigBits.get(sig);
        if (bits === undefined) this.sigBits.set(sig, (bits = new Array<boolean>(sig.width).fill(false)));
        if (bits !== 'whole') for (let i = lo; i <= hi; i++) bits[i] = true;
        return `${this.nameOf(sig)}${w === 1 ? `[${lo}]` : `[${hi}:${lo}]`}`;
      }
      case 'cast':
        return this.slice(n.a, hi, lo);
      case 'slice':
        return this.slice(n.a, hi + n.lo, lo + n.lo);
      case 'cat': {
        const out: string[] = [];
        let top = v.width;
        for (const p of n.parts) {
          const pLo = top - p.width;
          const a = Math.max(lo, pLo);
          const b = Math.min(hi, top - 1);
          if (a <= b) out.push(this.slice(p, b - pLo, a - pLo));
          top = pLo;
        }
        return out.length === 1 ? out[0]! : `{${out.join(', ')}}`;
      }
      case 'ext': {
        const wi = n.a.width;
        if (hi < wi) return this.slice(n.a, hi, lo);
        const fillBits = hi - Math.max(lo, wi) + 1;
        const fill = !n.a.signed
          ? constText(0n, fillBits)
          : fillBits === 1
            ? this.slice(n.a, wi - 1, wi - 1)
            : `{${fillBits}{${this.slice(n.a, wi - 1, wi - 1)}}}`;
        if (lo >= wi) return fill;
        return `{${fill}, ${this.slice(n.a, wi - 1, lo)}}`;
      }
      case 'mux':
        if (!this.viaTemp(v)) return `(${this.expr(n.c)} ? ${this.slice(n.t, hi, lo)} : ${this.slice(n.f, hi, lo)})`;
        break;
      case 'un': {
        const spec = UN_OPS[n.op];
        if (this.shouldShare(v)) break;
        if (spec.slice === 'any') return `(${spec.verilog}${this.slice(n.a, hi, lo)})`;
        if (spec.slice === 'low' && lo === 0) return `(${spec.verilog}${this.slice(n.a, hi, 0)})`;
        break;
      }
      case 'bin': {
        if (this.shouldShare(v)) break;
        const spec = BIN_OPS[n.op];
        if (spec.form === 'infix' && (spec.slice === 'any' || (spec.slice === 'low' && lo === 0))) {
          // A shift amount is not sliced: the low result bits depend on all of it.
          const b = spec.shape === 'shift' ? this.expr(n.b) : this.slice(n.b, hi, lo);
          return `(${this.slice(n.a, hi, lo)} ${spec.verilog} ${b})`;
        }
        if (n.op === 'shr' && n.b.node.k === 'const' && n.b.node.value < BigInt(n.a.width)) {
          // A constant right shift is a slice of the operand, with sign or zero fill on top.
          const c = Number(n.b.node.value);
          const top = n.a.width - 1;
          if (hi + c <= top) return this.slice(n.a, hi + c, lo + c);
          const fillBits = hi + c - Math.max(lo + c, top + 1) + 1;
          const fill = n.a.signed ? `{${fillBits}{${this.slice(n.a, top, top)}}}` : constText(0n, fillBits);
          if (lo + c > top) return fill;
          return `{${fill}, ${this.slice(n.a, top, lo + c)}}`;
        }
        break;
      }
      default:
        break;
    }
    return this.sliceTemp(this.makeTemp(v), hi, lo);
  }

  private sliceTemp(t: TempWire, hi: number, lo: number): string {
    t.usedBits ??= new Array<boolean>(t.value.width).fill(false);
    for (let i = lo; i <= hi; i++) t.usedBits[i] = true;
    return `${t.name}${hi === lo ? `[${lo}]` : `[${hi}:${lo}]`}`;
  }

  /** The signal whose value is being printed: temps with no better name are named after it. */
  target: string | undefined;

  private tempName(v: Value, chain: CaseChain | undefined): string {
    const hint = nameHint(v);
    if (hint) return hint;
    if (chain) return `${suggestName(chain.sel)}_mux`;
    const s = suggestName(v);
    // A name made of placeholders (x_add_x) says less than the signal the value feeds.
    if (this.target && /(^|_)x(_|$)/.test(s)) return `${this.target}_${kindWord(v)}`;
    return s;
  }

  private makeTemp(v: Value): TempWire {
    const chain = this.chains.get(v);
    const name = this.claim(this.tempName(v, chain));
    const t: TempWire = { name, value: v, text: '', usedBits: undefined, wholeUse: false };
    this.tempOf.set(v, t);
    if (chain) (t as { caseText: CaseText }).caseText = this.caseText(chain);
    else (t as { text: string }).text = this.raw(v);
    this.temps.push(t);
    return t;
  }

  /** Bit ranges of a temp that nothing reads, as Verilog selects. */
  unusedSelects(t: TempWire): string[] {
    if (t.wholeUse || !t.usedBits) return [];
    return gaps(t.name, t.usedBits);
  }

  /** Bit ranges of a signal that only slices read, and that no slice reads. */
  unusedSignalSelects(s: Signal): string[] {
    const bits = this.sigBits.get(s);
    return bits === undefined || bits === 'whole' ? [] : gaps(this.nameOf(s), bits);
  }
}

/**
 * Whether Verilog would type the text printed for `v` as signed: signed declarations and
 * arithmetic on them are; constants, part-selects, concatenations, comparisons and our
 * (unsigned) intermediate wires are not. Errs on the side of "maybe".
 */
function mayBeSignedInVerilog(v: Value): boolean {
  const n = v.node;
  switch (n.k) {
    case 'const':
    case 'slice':
    case 'cat':
    case 'ext':
    case 'memrd':
      return false;
    case 'sig':
      return v.signed;
    case 'cast':
      return mayBeSignedInVerilog(n.a); // printed as its operand
    case 'un':
      return UN_OPS[n.op].shape === 'same' ? mayBeSignedInVerilog(n.a) : false;
    case 'bin':
      return BIN_OPS[n.op].shape === 'compare' || BIN_OPS[n.op].form === 'shr' ? false : mayBeSignedInVerilog(n.a) || mayBeSignedInVerilog(n.b);
    default:
      return true;
  }
}

export function constText(v: bigint, width: number): string {
  return width <= 32 ? `${width}'d${v}` : `${width}'h${v.toString(16)}`;
}

/** The same value, built twice: `a.slice(3, 0)` in each arm of a hand-written chain. */
function sameValue(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (a.width !== b.width || a.signed !== b.signed) return false;
  const x = a.node;
  const y = b.node;
  if (x.k === 'slice' && y.k === 'slice') return x.lo === y.lo && sameValue(x.a, y.a);
  if ((x.k === 'cast' && y.k === 'cast') || (x.k === 'ext' && y.k === 'ext')) return sameValue(x.a, y.a);
  return false;
}

/** One word for what a node computes, for names like `ok_or`. */
function kindWord(v: Value): string {
  const n = v.node;
  switch (n.k) {
    case 'bin':
    case 'un':
      return n.op;
    case 'mux':
      return 'sel';
    case 'slice':
      return 'bits';
    case 'ext':
    case 'cast':
      return kindWord(n.a);
    default:
      return n.k;
  }
}

/**
 * A readable name for an intermediate value: the name given with named(), else built from
 * what it computes: count_add_1, a_mul_b.
 */
export function suggestName(v: Value, depth = 0): string {
  const hint = nameHint(v);
  if (hint) return hint;
  const n = v.node;
  const short = (x: Value): string => nameHint(x) ?? (depth >= 1 ? 'x' : suggestName(x, depth + 1));
  let s: string;
  switch (n.k) {
    case 'const':
      s = `c${n.value}`;
      break;
    case 'sig':
      s = n.sig.name;
      break;
    case 'bin':
      // state == S_HDR reads as state_is_hdr.
      if (n.op === 'eq' && n.b.node.k === 'const' && n.b.node.label) s = `${short(n.a)}_is_${n.b.node.label.member.toLowerCase()}`;
      else s = `${short(n.a)}_${n.op}_${short(n.b)}`;
      break;
    case 'un':
      s = `${n.op}_${short(n.a)}`;
      break;
    case 'slice':
      s = `${short(n.a)}_bits`;
      break;
    case 'cat':
      s = `cat_${short(n.parts[0]!)}`;
      break;
    case 'ext':
    case 'cast':
      s = suggestName(n.a, depth);
      break;
    case 'mux':
      s = `${short(n.c)}_sel`;
      break;
    case 'memrd':
      s = `${n.mem.name}_rd`;
      break;
  }
  return depth === 0 ? sanitize(s).slice(0, 40).replace(/_$/, '') : s;
}

function gaps(name: string, used: readonly boolean[]): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < used.length) {
    if (used[i]) {
      i++;
      continue;
    }
    let j = i;
    while (j + 1 < used.length && !used[j + 1]) j++;
    out.push(i === j ? `${name}[${i}]` : `${name}[${j}:${i}]`);
    i = j + 1;
  }
  return out;
}
