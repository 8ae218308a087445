// DUT specifications (what to build) and DUT objects (one handle per port, bound to a
// running kernel). For designs we generate, the port types come from the
// `<top>.ports.ts` file the generator writes next to the Verilog, so a misspelled port is
// a type error; for any other Verilog the ports come from Verilator and a misspelled
// port is a runtime error that lists the real ones.

import { buildModel, manifestSource, emittedSource, type BuildOptions, type BuiltModel, type ModelSource, type WaveFormat } from '../bridge/build.ts';
import type { EmittedDesign } from '../../generator/hdl/design.ts';
import type { Kernel } from './kernel.ts';
import { Signal, type Bit, type Writable } from './handle.ts';

/** The shape of a generated `<top>.ports.ts` interface entry. */
export interface PortDecl {
  readonly direction: 'input' | 'output';
  readonly width: number;
  readonly signed: boolean;
}

type ValueIn<W> = W extends 1 ? Bit : Writable;

export interface InPort<W extends number = number> extends Signal {
  get value(): bigint;
  set value(v: ValueIn<W>);
}
/** An output: reading only (assigning is a type error, and a runtime error for foreign designs). */
export interface OutPort extends Signal {
  readonly value: bigint;
}

export type Ports<P> = P extends NamedPorts<infer N> ? Readonly<Record<N, Signal>> & AnyPorts : string extends keyof P ? AnyPorts : { readonly [K in keyof P]: P[K] extends { direction: 'input'; width: infer W extends number } ? InPort<W> : OutPort };
/** Foreign Verilog: any name, checked at run time. */
export type AnyPorts = Record<string, Signal>;
/** Foreign Verilog whose user named the ports N (verilogDut's `ports`): those are typed, any other name is checked at run time. */
export interface NamedPorts<N extends string> {
  readonly $named: N;
}

export class DutSpec<P> {
  private built: Promise<BuiltModel> | undefined;
  private readonly variants = new Map<WaveFormat, Promise<BuiltModel>>();
  declare readonly _ports: P;

  /** Ports the user named (verilogDut's `ports`): a design without one of them fails at build. */
  constructor(
    readonly source: ModelSource,
    readonly named: readonly string[] = [],
  ) {}

  get top(): string {
    return this.source.top;
  }

  /** Build (or load from the cache) once per process. */
  build(opts: BuildOptions = {}): Promise<BuiltModel> {
    return (this.built ??= buildModel(this.source, opts).then((b) => this.checkNamed(b)));
  }

  private checkNamed(b: BuiltModel): BuiltModel {
    const names = b.ports.map((p) => p.name);
    for (const n of this.named) if (!names.includes(n)) throw new Error(`verilogDut '${b.top}': ports names '${n}', which the design does not have${suggest(n, names)}; its ports are: ${names.join(', ')}`);
    return b;
  }

  /** The same design built with another waveform format. */
  buildWith(waves: WaveFormat, opts: BuildOptions = {}): Promise<BuiltModel> {
    if (waves === (this.source.waves ?? 'vcd')) return this.build(opts);
    let p = this.variants.get(waves);
    if (!p) this.variants.set(waves, (p = buildModel({ ...this.source, waves }, opts).then((b) => this.checkNamed(b))));
    return p;
  }
}

/**
 * Any Verilog: files plus the top module's name. Naming the ports a testbench uses
 * (`ports: ['clk', 'rst']`) types them, so a helper declared as
 * `reset(dut: { clk: Signal; rst: Signal })` takes the DUT; a named port the design lacks
 * fails when the model is built. Other names still work, checked at run time.
 */
export function verilogDut<const N extends string = never>(source: ModelSource & { readonly ports?: readonly N[] }): DutSpec<[N] extends [never] ? AnyPorts : NamedPorts<N>> {
  const { ports, ...model } = source;
  return new DutSpec(model, ports ?? []);
}

/** A design we generated, typed by its `<top>.ports.ts` interface. */
export function generatedDut<P>(manifestPath: string, extra: Omit<ModelSource, 'top' | 'files' | 'manifest'> = {}): DutSpec<P> {
  return new DutSpec<P>(manifestSource(manifestPath, extra));
}

/** A design emitted in this process (see emittedSource); ports typed as P when given. */
export function emittedDut<P = AnyPorts>(d: EmittedDesign): DutSpec<P> {
  return new DutSpec<P>(emittedSource(d));
}

// Names the runtime may probe on any object (promise resolution, inspection, JSON).
const PROBED = new Set(['then', 'toJSON', 'inspect', 'constructor', 'asymmetricMatch', 'nodeType', '$$typeof', 'valueOf', 'toString']);

export function suggest(name: string, names: readonly string[]): string {
  const near = names.filter((n) => n.includes(name) || name.includes(n) || levenshtein(n, name) <= 2);
  return near.length ? ` (did you mean ${near.map((n) => `'${n}'`).join(', ')}?)` : '';
}

function levenshtein(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length]![b.length]!;
}

/**
 * One handle per port as own properties; a missing name falls through to a prototype
 * that throws, so hits cost nothing and misses explain themselves.
 */
export function makeDut<P>(k: Kernel, top: string): Ports<P> & { readonly $top: string; $signals(): Signal[] } {
  const names = k.model.ports.map((p) => p.name);
  const guard = new Proxy(
    {},
    {
      get(_t, prop) {
        if (typeof prop === 'symbol' || PROBED.has(prop)) return undefined;
        throw new Error(`design '${top}' has no port '${prop}'${suggest(prop, names)}; its ports are: ${names.join(', ')}`);
      },
    },
  );
  const dut = Object.create(guard) as Record<string, unknown>;
  const signals = k.model.ports.map((p, i) => new Signal(k, i, p, `${top}.${p.name}`));
  signals.forEach((s) => (dut[s.name] = s));
  Object.defineProperty(dut, '$top', { value: top });
  Object.defineProperty(dut, '$signals', { value: () => signals });
  return dut as unknown as Ports<P> & { readonly $top: string; $signals(): Signal[] };
}
