// Functional coverage, as cocotb-coverage gives cocotb users: a cover group samples a
// transaction (a run, a frame, a register access); each cover point maps it to a value
// and counts hits per bin; a cross counts the combinations of its points' bins. At the end
// the group reports per point and cross what was hit and what was missed, and check(goal)
// fails a test when the required bins hit fall below the goal. Every group registers
// itself, so the project's mocha reporter prints all of them after the run and writes them
// into the JUnit file.
//
//   const cov = new CoverGroup<Tx>('fifo')
//     .point('depth', (t) => t.level, { empty: (l) => l === 0, full: (l) => l === 8, between: (l) => l > 0 && l < 8 })
//     .point('burst', (t) => t.len, [1, 2, 4, 8])
//     .cross('depth', 'burst');
//   cov.sample(tx);
//   it('covers every depth and burst', () => cov.check());

/** Bins by name: a predicate each (a value may fall in several), or a list of values (a bin per value). */
export type Bins<T> = Readonly<Record<string, (v: T) => boolean>> | readonly T[];

export interface ItemOptions {
  /** Hits a bin needs to count as covered (default 1). */
  readonly atLeast?: number;
  /** Counted by check() and the percentage (default true); false: reported only. */
  readonly required?: boolean;
}

interface Item {
  readonly name: string;
  readonly bins: string[];
  readonly hits: Map<string, number>;
  readonly atLeast: number;
  readonly required: boolean;
  /** Samples that fell in no bin. */
  other: number;
}

export class CoverageError extends Error {
  override name = 'CoverageError';
}

const REGISTRY = Symbol.for('bitnet-fpga.coverage');
type Registry = CoverGroup<never>[];

/** Every cover group created in this process, in creation order (the reporter reads them through a global symbol). */
export function coverGroups(): readonly CoverGroup<never>[] {
  const g = globalThis as unknown as Record<symbol, Registry | undefined>;
  return (g[REGISTRY] ??= []);
}

export class CoverGroup<S> {
  private readonly points: { item: Item; of: (s: S) => unknown; match: (v: unknown) => string[] }[] = [];
  private readonly crosses: { item: Item; of: number[] }[] = [];
  samples = 0;

  constructor(readonly name: string) {
    (coverGroups() as Registry).push(this as unknown as CoverGroup<never>);
  }

  /** A cover point: the value `of` takes from a sample, counted in `bins`. */
  point<T>(name: string, of: (s: S) => T, bins: Bins<T>, opts: ItemOptions = {}): this {
    if (this.points.some((p) => p.item.name === name)) throw new RangeError(`cover group '${this.name}': point '${name}' is defined twice`);
    let names: string[];
    let match: (v: unknown) => string[];
    if (Array.isArray(bins)) {
      const values = bins as readonly unknown[];
      names = values.map((v) => String(v));
      if (new Set(names).size !== names.length) throw new RangeError(`cover group '${this.name}': point '${name}' lists a value twice`);
      match = (v) => (values.includes(v) ? [String(v)] : []);
    } else {
      const preds = Object.entries(bins as Record<string, (v: unknown) => boolean>);
      names = preds.map(([b]) => b);
      match = (v) => preds.filter(([, f]) => f(v)).map(([b]) => b);
    }
    if (!names.length) throw new RangeError(`cover group '${this.name}': point '${name}' has no bins`);
    this.points.push({ item: newItem(name, names, opts.atLeast, opts.required), of, match });
    return this;
  }

  /** A cross of two or more points already defined: a bin per combination of their bins. */
  cross(...args: (string | ItemOptions)[]): this {
    const names = args.filter((a): a is string => typeof a === 'string');
    const opts = (args.find((a) => typeof a !== 'string') ?? {}) as ItemOptions;
    if (names.length < 2) throw new RangeError(`cover group '${this.name}': a cross needs two points or more, got ${names.join(', ') || 'none'}`);
    const idx = names.map((p) => {
      const i = this.points.findIndex((q) => q.item.name === p);
      if (i < 0) throw new RangeError(`cover group '${this.name}': cross names point '${p}', which is not one of ${this.points.map((q) => q.item.name).join(', ')}`);
      return i;
    });
    let combos: string[][] = [[]];
    for (const i of idx) combos = combos.flatMap((pre) => this.points[i]!.item.bins.map((b) => [...pre, b]));
    this.crosses.push({ item: newItem(names.join(' x '), combos.map((c) => c.join(' x ')), opts.atLeast, opts.required), of: idx });
    return this;
  }

  /** Count one transaction in every point and cross. */
  sample(s: S): void {
    this.samples++;
    const hit = this.points.map((p) => {
      const bins = p.match(p.of(s));
      if (!bins.length) p.item.other++;
      for (const b of bins) p.item.hits.set(b, p.item.hits.get(b)! + 1);
      return bins;
    });
    for (const c of this.crosses) {
      let combos: string[][] = [[]];
      for (const i of c.of) combos = combos.flatMap((pre) => hit[i]!.map((b) => [...pre, b]));
      if (!combos.length || combos[0]!.length !== c.of.length) c.item.other++;
      for (const combo of combos) if (combo.length === c.of.length) c.item.hits.set(combo.join(' x '), c.item.hits.get(combo.join(' x '))! + 1);
    }
  }

  private items(): Item[] {
    return [...this.points.map((p) => p.item), ...this.crosses.map((c) => c.item)];
  }

  /** Required bins covered, of all required bins. */
  coverage(): { covered: number; total: number; fraction: number } {
    let covered = 0;
    let total = 0;
    for (const it of this.items()) {
      if (!it.required) continue;
      total += it.bins.length;
      covered += it.bins.filter((b) => it.hits.get(b)! >= it.atLeast).length;
    }
    return { covered, total, fraction: total ? covered / total : 1 };
  }

  /** Required bins not yet covered, as "point: bin". */
  missing(): string[] {
    return this.items().flatMap((it) => (it.required ? it.bins.filter((b) => it.hits.get(b)! < it.atLeast).map((b) => `${it.name}: ${b}`) : []));
  }

  /** The text report: the group's figure, then a line per point and cross with every bin's hits. */
  report(): string {
    const c = this.coverage();
    const lines = [`coverage '${this.name}': ${(100 * c.fraction).toFixed(1)} % (${c.covered}/${c.total} required bins, ${this.samples} samples)`];
    const w = Math.max(...this.items().map((it) => it.name.length));
    for (const it of this.items()) {
      const hit = it.bins.filter((b) => it.hits.get(b)! >= it.atLeast).length;
      const head = `  ${it.name.padEnd(w)}  ${String(hit).padStart(3)}/${String(it.bins.length).padEnd(3)} ${it.required ? '' : '(reported only) '}`;
      // Bins wrapped under the head, so a long cross stays readable.
      const cells = [...it.bins.map((b) => `${b}: ${it.hits.get(b)}${it.hits.get(b)! < it.atLeast ? ' (missed)' : ''}`), ...(it.other ? [`in no bin: ${it.other}`] : [])];
      let line = head;
      for (const [i, c] of cells.entries()) {
        if (i && line.length + c.length + 2 > 118) {
          lines.push(`${line},`);
          line = ' '.repeat(w + 12);
        } else if (i) line += ', ';
        line += c;
      }
      lines.push(line);
    }
    return lines.join('\n');
  }

  /** Throws a CoverageError with the report and the missed bins when coverage is below `goal` (0..1, default all). */
  check(goal = 1): void {
    if (!(goal >= 0 && goal <= 1)) throw new RangeError(`cover group '${this.name}': goal ${goal} is not a fraction from 0 to 1`);
    const c = this.coverage();
    if (c.fraction + 1e-12 >= goal) return;
    const missed = this.missing();
    throw new CoverageError(`coverage '${this.name}' is ${(100 * c.fraction).toFixed(1)} %, below the goal of ${(100 * goal).toFixed(1)} %; not hit: ${missed.slice(0, 20).join('; ')}${missed.length > 20 ? `; … ${missed.length - 20} more` : ''}\n${this.report()}`);
  }
}

function newItem(name: string, bins: string[], atLeast = 1, required = true): Item {
  if (!(Number.isInteger(atLeast) && atLeast >= 1)) throw new RangeError(`coverage item '${name}': atLeast ${atLeast}: expected a positive integer`);
  return { name, bins, hits: new Map(bins.map((b) => [b, 0])), atLeast, required, other: 0 };
}
