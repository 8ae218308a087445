// The cores `bitnet-fpga generate` knows, their parameters with allowed ranges, and the
// configurations whose RTL is checked in under rtl/ (a test fails when those are stale).

import { type Elaborated } from '../hdl/index.ts';
import { counter } from './counter.ts';
import { fifo } from './fifo.ts';

export interface ParamSpec {
  readonly default: number;
  readonly min: number;
  readonly max: number;
  readonly doc: string;
  readonly powerOfTwo?: boolean;
}

export interface CoreEntry {
  readonly name: string;
  readonly description: string;
  readonly params: Readonly<Record<string, ParamSpec>>;
  build(p: Readonly<Record<string, number>>): Elaborated<unknown>;
}

export class ParamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ParamError';
  }
}

export const CORES: Readonly<Record<string, CoreEntry>> = {
  counter: {
    name: 'counter',
    description: 'up-counter with enable, clear and wrap flag (example core)',
    params: { width: { default: 8, min: 1, max: 64, doc: 'counter width in bits' } },
    build: (p) => counter({ width: p.width! }),
  },
  fifo: {
    name: 'fifo',
    description: 'synchronous valid/ready FIFO on block RAM (example core)',
    params: {
      width: { default: 8, min: 1, max: 1024, doc: 'word width in bits' },
      depth: { default: 16, min: 2, max: 65536, doc: 'RAM entries (one more word fits in the output register)', powerOfTwo: true },
    },
    build: (p) => fifo({ width: p.width!, depth: p.depth! }),
  },
};

export function findCore(name: string): CoreEntry {
  const c = CORES[name];
  if (!c) throw new ParamError(`unknown core '${name}'; available: ${Object.keys(CORES).join(', ')} (see 'bitnet-fpga generate --list')`);
  return c;
}

/** Parse `k=v` strings into validated parameters, defaults filled in. */
export function resolveParams(core: CoreEntry, given: Readonly<Record<string, string | number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(given)) {
    if (!core.params[k]) throw new ParamError(`core '${core.name}' has no parameter '${k}'; its parameters: ${Object.keys(core.params).join(', ')}`);
  }
  for (const [k, spec] of Object.entries(core.params)) {
    const raw = given[k];
    const v = raw === undefined ? spec.default : Number(raw);
    const range = `an integer from ${spec.min} to ${spec.max}${spec.powerOfTwo ? ', a power of two' : ''}`;
    if (!Number.isInteger(v) || v < spec.min || v > spec.max || (spec.powerOfTwo && (v & (v - 1)) !== 0)) {
      throw new ParamError(`core '${core.name}': parameter ${k}=${raw} is not allowed; ${k} (${spec.doc}) must be ${range}`);
    }
    out[k] = v;
  }
  return out;
}

export function parseParamArgs(args: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of args) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.+)$/.exec(a);
    if (!m) throw new ParamError(`--param '${a}': expected NAME=VALUE, e.g. --param width=8`);
    out[m[1]!] = m[2]!;
  }
  return out;
}

/** RTL kept in the repository: rtl/<dir>/ holds the design generated from core + params. */
export const CHECKED_IN: readonly { core: string; params: Record<string, number>; dir: string }[] = [
  { core: 'counter', params: { width: 8 }, dir: 'counter' },
  { core: 'fifo', params: { width: 8, depth: 16 }, dir: 'fifo' },
];
