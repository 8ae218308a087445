// Compare what the design produced with what a golden model expects, in order, and say
// exactly where the first difference is.

export class ScoreboardError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScoreboardError';
  }
}

function show(v: unknown): string {
  if (typeof v === 'bigint') return v < 0n ? `-0x${(-v).toString(16)} (${v})` : `0x${v.toString(16)} (${v})`;
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  if (v instanceof Uint8Array) return `<${v.length} bytes ${Buffer.from(v.subarray(0, 32)).toString('hex')}${v.length > 32 ? '…' : ''}>`;
  if (v && typeof v === 'object') return `{ ${Object.entries(v).map(([k, x]) => `${k}: ${show(x)}`).join(', ')} }`;
  return String(v);
}

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'bigint' || typeof b === 'bigint') return typeof a === typeof b ? a === b : BigInt(a as number) === BigInt(b as number);
  if ((Array.isArray(a) || a instanceof Uint8Array) && (Array.isArray(b) || b instanceof Uint8Array)) {
    return a.length === b.length && Array.from(a as ArrayLike<unknown>).every((x, i) => same(x, (b as ArrayLike<unknown>)[i]));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return false;
}

/** Where two values first differ, as a readable line. */
export function describeDiff(expected: unknown, got: unknown): string {
  const ea = Array.isArray(expected) || expected instanceof Uint8Array;
  const ga = Array.isArray(got) || got instanceof Uint8Array;
  if (ea && ga) {
    const e = Array.from(expected as ArrayLike<unknown>);
    const g = Array.from(got as ArrayLike<unknown>);
    const i = e.findIndex((x, k) => k >= g.length || !same(x, g[k]));
    if (i < 0) return `expected ${e.length} elements, got ${g.length} (the first ${e.length} agree)`;
    const ctx = (xs: unknown[]): string => xs.slice(Math.max(0, i - 2), i + 3).map(show).join(', ');
    return `first difference at index ${i}: expected ${show(e[i])}, got ${i < g.length ? show(g[i]) : '(nothing)'}; expected [… ${ctx(e)} …], got [… ${ctx(g)} …]${e.length !== g.length ? `; lengths ${e.length} vs ${g.length}` : ''}`;
  }
  if (expected && got && typeof expected === 'object' && typeof got === 'object' && !ea && !ga) {
    const keys = [...new Set([...Object.keys(expected), ...Object.keys(got)])];
    const diffs = keys.filter((k) => !same((expected as Record<string, unknown>)[k], (got as Record<string, unknown>)[k]));
    return diffs.map((k) => `${k}: expected ${show((expected as Record<string, unknown>)[k])}, got ${show((got as Record<string, unknown>)[k])}`).join('; ');
  }
  return `expected ${show(expected)}, got ${show(got)}`;
}

export class Scoreboard<T> {
  private readonly expected: T[] = [];
  readonly errors: string[] = [];
  matched = 0;

  constructor(
    readonly name: string,
    readonly opts: { failFast?: boolean; equal?: (a: T, b: T) => boolean; format?: (t: T) => string } = {},
  ) {}

  expect(...items: T[]): void {
    this.expected.push(...items);
  }

  get pending(): number {
    return this.expected.length;
  }

  /** An item the design produced: compared with the oldest expected one. */
  got(item: T): void {
    const n = this.matched + this.errors.length;
    if (this.expected.length === 0) {
      this.record(`${this.name}: item ${n} arrived but nothing more was expected: ${this.fmt(item)}`);
      return;
    }
    const want = this.expected.shift()!;
    const ok = this.opts.equal ? this.opts.equal(want, item) : same(want, item);
    if (ok) this.matched++;
    else this.record(`${this.name}: item ${n} differs: ${describeDiff(want, item)}`);
  }

  private fmt(t: T): string {
    return this.opts.format ? this.opts.format(t) : show(t);
  }

  private record(msg: string): void {
    this.errors.push(msg);
    if (this.opts.failFast !== false) throw new ScoreboardError(msg);
  }

  /** At the end of a test: every expected item arrived and matched. */
  check(): void {
    const problems = [...this.errors];
    if (this.expected.length) problems.push(`${this.name}: ${this.expected.length} expected item(s) never arrived; next: ${this.fmt(this.expected[0]!)}`);
    if (problems.length) throw new ScoreboardError(`${problems.join('\n')}\n(${this.matched} matched)`);
  }
}
