// Stimulus and traces for cycle-by-cycle comparison. One line per cycle, one hex token per
// port in a fixed order, so the C++ harness, the Icarus testbench and the interpreter
// read and write the very same files.

export interface PortInfo {
  readonly name: string;
  readonly width: number;
  readonly signed: boolean;
}

export interface Stimulus {
  readonly inputs: readonly PortInfo[];
  /** values[cycle][i] is the raw bit pattern of inputs[i] during that cycle. */
  readonly values: readonly (readonly bigint[])[];
}

/** outputs[cycle][i], sampled after inputs settle and before the clock edge. */
export interface Trace {
  readonly outputs: readonly PortInfo[];
  readonly values: readonly (readonly bigint[])[];
}

/**
 * Cycle 0 is sampled before the first clock edge. Registers and memories have defined
 * power-up values in this library, so it is compared too.
 */
export const COMPARE_FROM = 0;

export function formatRows(rows: readonly (readonly bigint[])[]): string {
  return rows.map((r) => r.map((v) => v.toString(16)).join(' ')).join('\n') + '\n';
}

/** Stands for a value with X or Z bits in a parsed trace; never equal to a real value. */
export const UNDEFINED = -1n;

/**
 * Parse a trace file. X or Z bits become UNDEFINED, which compares unequal to every
 * defined value, so an X is reported as a disagreement on that port, never guessed at.
 */
export function parseRows(text: string, ports: readonly PortInfo[], who: string): bigint[][] {
  const rows: bigint[][] = [];
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  lines.forEach((line, cycle) => {
    const toks = line.trim().split(/\s+/);
    if (toks.length !== ports.length) throw new Error(`${who}: cycle ${cycle} has ${toks.length} values, expected ${ports.length}`);
    rows.push(toks.map((t) => (/^[0-9a-fA-F]+$/.test(t) ? BigInt(`0x${t}`) : UNDEFINED)));
  });
  return rows;
}

/** xorshift128+ : a small seeded generator so every random choice can be replayed. */
export class Rng {
  private a: bigint;
  private b: bigint;
  constructor(readonly seed: number) {
    this.a = BigInt.asUintN(64, BigInt(seed) * 0x9e3779b97f4a7c15n + 1n);
    this.b = BigInt.asUintN(64, (BigInt(seed) ^ 0xdeadbeefn) * 0xbf58476d1ce4e5b9n + 7n);
    for (let i = 0; i < 8; i++) this.next64();
  }
  next64(): bigint {
    let s1 = this.a;
    const s0 = this.b;
    this.a = s0;
    s1 ^= BigInt.asUintN(64, s1 << 23n);
    s1 ^= s1 >> 17n;
    s1 ^= s0 ^ (s0 >> 26n);
    this.b = s1;
    return BigInt.asUintN(64, this.a + this.b);
  }
  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Number(this.next64() % BigInt(n));
  }
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.int(1_000_000) < p * 1_000_000;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  bits(width: number): bigint {
    let v = 0n;
    for (let w = 0; w < width; w += 64) v = (v << 64n) | this.next64();
    return BigInt.asUintN(width, v);
  }
  /** Random bits biased toward the values that find bugs: 0, all ones, the sign boundary. */
  interesting(width: number): bigint {
    const r = this.int(10);
    const all = (1n << BigInt(width)) - 1n;
    if (r === 0) return 0n;
    if (r === 1) return all;
    if (r === 2) return 1n << BigInt(width - 1);
    if (r === 3) return all >> 1n;
    if (r === 4) return BigInt.asUintN(width, BigInt(this.int(4)));
    return this.bits(width);
  }
}

/** Random stimulus; reset ports are held active on cycle 0 and rarely pulsed later. */
export function randomStimulus(inputs: readonly PortInfo[], cycles: number, rng: Rng, resets: ReadonlyMap<string, 'high' | 'low'> = new Map()): Stimulus {
  const values: bigint[][] = [];
  for (let c = 0; c < cycles; c++) {
    values.push(
      inputs.map((p) => {
        const level = resets.get(p.name);
        if (level) {
          const active = c === 0 || rng.chance(0.03);
          return active === (level === 'high') ? 1n : 0n;
        }
        return rng.interesting(p.width);
      }),
    );
  }
  return { inputs, values };
}
