// Seeds and the one random generator the testbench side uses. xorshift32 because the C++
// stream engine (sim/bridge/vb.cpp) uses the same one: a stream driven from TypeScript and
// the same stream driven in C++ make the same idle/back-pressure choices cycle for cycle.

export class XorShift32 {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  /** The next 32-bit value. */
  next(): number {
    let s = this.s;
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    return (this.s = s >>> 0);
  }
  /**
   * True with probability p, decided exactly as vb.cpp does: next() < floor(p * 2^32).
   * p = 0 draws nothing (so a stream without idle cycles costs no random numbers).
   */
  chance(p: number): boolean {
    const t = threshold(p);
    return t !== 0 && this.next() < t;
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor((this.next() / 4294967296) * (hi - lo + 1));
  }
  /** Uniform bits of any width. */
  bits(width: number): bigint {
    let v = 0n;
    for (let i = 0; i < width; i += 32) v = (v << 32n) | BigInt(this.next());
    return v & ((1n << BigInt(width)) - 1n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(0, xs.length - 1)]!;
  }
  /**
   * A derived seed for a sub-component, so adding a draw in one place does not shift
   * another. Mixed (murmur3's finalizer): a raw next() would seed a generator that
   * replays this one's sequence shifted by one draw, and two forks would be correlated.
   */
  fork(): number {
    let z = (this.next() + 0x9e3779b9) >>> 0;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z ^= z >>> 16;
    return z >>> 0 || 1;
  }
}

export function threshold(p: number): number {
  return p <= 0 ? 0 : p >= 1 ? 0xffffffff : Math.floor(p * 4294967296);
}

/** FNV-1a over a string: a test's seed is the global seed plus this of its full name. */
export function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export const DEFAULT_SEED = 20261123;

/** The global seed: $SEED, 'random' for a fresh one, else the fixed default. */
export function globalSeed(): number {
  const env = process.env.SEED;
  if (!env) return DEFAULT_SEED;
  if (env === 'random') return (Date.now() ^ (process.pid << 16)) >>> 0;
  const n = Number(env);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`SEED=${env}: expected an integer in [0, 2^32) or 'random'`);
  return n;
}

export function testSeed(global: number, fullName: string): number {
  return (global + hashName(fullName)) >>> 0;
}
