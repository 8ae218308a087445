// Named states: an enumeration is a UInt whose constants carry names, in the style of
// Amaranth's `enum` and Chisel's ChiselEnum. Nothing but the emitter knows about the
// names: to the width rules, the folder, the interpreter and the checks an enum constant
// is a plain constant and an enum-typed signal a plain UInt. The emitter declares a
// `localparam` per member the module uses and prints the constants, register resets and
// `case` labels by name.

import { callerLoc, HdlError, type SourceLoc } from './source.ts';
import { Value, UInt, widthFor, type Shape, type EnumLike } from './value.ts';
import { badIdentifier } from './names.ts';

export interface EnumOptions {
  /** Prefix of the localparam names (default: the enum's name in capitals and `_`: `state` gives STATE_IDLE). */
  prefix?: string;
  /** Width of the encoding (default: the fewest bits that hold the largest value). */
  width?: number;
}

/** An enumeration: a Shape (use it to declare registers and wires) and one constant per member. */
export class HdlEnum<N extends string = string> implements Shape, EnumLike {
  readonly width: number;
  readonly signed = false;
  readonly name: string;
  readonly prefix: string;
  readonly members: readonly N[];
  private readonly encoding: ReadonlyMap<string, bigint>;
  private readonly byValue: ReadonlyMap<bigint, N>;
  private readonly consts = new Map<string, Value>();

  constructor(name: string, members: readonly N[] | Readonly<Record<N, number>>, opts: EnumOptions, loc: SourceLoc | undefined) {
    const entries: [N, bigint][] = Array.isArray(members)
      ? (members as readonly N[]).map((m, i) => [m, BigInt(i)])
      : (Object.entries(members) as [N, number][]).map(([m, v]) => {
          if (!Number.isSafeInteger(v) || v < 0) throw new HdlError(`hdlEnum('${name}'): member ${m} = ${v} must be a non-negative integer`, loc);
          return [m, BigInt(v)];
        });
    if (entries.length === 0) throw new HdlError(`hdlEnum('${name}'): give at least one member`, loc);
    this.name = name;
    this.prefix = opts.prefix ?? `${name.toUpperCase()}_`;
    const max = entries.reduce((a, [, v]) => (v > a ? v : a), 0n);
    const need = widthFor(Number(max));
    this.width = opts.width ?? need;
    if (!Number.isInteger(this.width) || this.width < need || this.width > 64) {
      throw new HdlError(`hdlEnum('${name}'): width ${opts.width} cannot hold value ${max} (needs ${need} bits, at most 64)`, loc);
    }
    const enc = new Map<string, bigint>();
    const byValue = new Map<bigint, N>();
    for (const [m, v] of entries) {
      const bad = badIdentifier(`${this.prefix}${m}`);
      if (bad) throw new HdlError(`hdlEnum('${name}'): member ${m}: ${bad}`, loc);
      if (enc.has(m)) throw new HdlError(`hdlEnum('${name}'): member ${m} appears twice`, loc);
      if (byValue.has(v)) throw new HdlError(`hdlEnum('${name}'): members ${byValue.get(v)} and ${m} both have value ${v}`, loc);
      if (m in this) throw new HdlError(`hdlEnum('${name}'): member name ${m} is taken by the enum's own API; rename it`, loc);
      enc.set(m, v);
      byValue.set(v, m);
    }
    this.members = entries.map(([m]) => m);
    this.encoding = enc;
    this.byValue = byValue;
    for (const [m, v] of entries) {
      const c = new Value(this, { k: 'const', value: v, label: { enumType: this, member: m } }, loc);
      this.consts.set(m, c);
      Object.defineProperty(this, m, { value: c, enumerable: true });
    }
  }

  /** The plain UInt shape of the encoding. */
  get shape(): Shape {
    return UInt(this.width);
  }

  /** The constant of a member, by name. */
  of(member: N): Value {
    const c = this.consts.get(member);
    if (!c) throw new HdlError(`enum '${this.name}' has no member '${member}' (members: ${this.members.join(', ')})`, callerLoc());
    return c;
  }

  /** The encoding of a member. */
  encodingOf(member: string): bigint {
    const v = this.encoding.get(member);
    if (v === undefined) throw new HdlError(`enum '${this.name}' has no member '${member}'`, callerLoc());
    return v;
  }

  /** The member encoded as `value`, if any (for waveforms and messages). */
  memberOf(value: bigint): N | undefined {
    return this.byValue.get(value);
  }
}

export type Enum<N extends string> = HdlEnum<N> & { readonly [K in N]: Value };

/**
 * An enumeration of named constants, e.g. the states of an FSM:
 *
 *   const State = hdlEnum('state', ['IDLE', 'HEADER', 'PAYLOAD'], { prefix: 'S_' });
 *   const state = m.reg('state', State, { reset: State.IDLE });
 *   m.when(state.eq(State.IDLE), () => m.set(state, State.HEADER));
 *
 * emits `localparam [1:0] S_IDLE = 2'd0;` … and `state <= S_HEADER;`. Members given as an
 * array are numbered from 0 in order (so `lt`/`ge` compare in declaration order); a record
 * gives explicit encodings.
 */
export function hdlEnum<const N extends string>(name: string, members: readonly N[] | Readonly<Record<N, number>>, opts: EnumOptions = {}): Enum<N> {
  const loc = callerLoc();
  return new HdlEnum<N>(name, members, opts, loc) as Enum<N>;
}

/** The enum a shape is, if it is one. */
export function enumOf(shape: Shape): HdlEnum | undefined {
  return shape instanceof HdlEnum ? shape : undefined;
}
