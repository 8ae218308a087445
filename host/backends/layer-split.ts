// A model larger than one board, split across several (pipeline parallel): each board holds
// a contiguous range of layers, chosen by weight memory so every board fills to about the
// same fraction of its capacity, and runs that range's matmuls. Each board takes one call at a
// time (its link and scratch region are not shared), but calls to different boards overlap, so
// sequences in a batch whose steps are at different layers keep several boards busy.
//
// The products are each board's exact int32 sums, so a split run is === a single-board one.

import type { CoreShape } from '../../common/core-layout.ts';
import type { PackedTernary } from '../model/ternary.ts';
import { BackendError, emptyStats, type BitLinearBackend, type LoadOptions, type OffloadStats } from './backend.ts';
import type { BoardBackend } from './board.ts';
import { weightTiles } from './plan.ts';

/** Which board runs a range of layers, as `name` reports it. */
export interface LayerRange {
  readonly board: number;
  /** Layers first..last (inclusive); none when first > last. */
  readonly first: number;
  readonly last: number;
  readonly tiles: number;
  readonly capacity: number;
}

/**
 * Contiguous ranges of `units` (each a layer's tiles on every board) for boards of the given
 * capacities: the smallest fill fraction f such that, taking units in order, board i never
 * holds more than f x capacity_i. f <= 1 means the model stays resident on every board.
 */
export function splitLayers(unitTiles: readonly (readonly number[])[], capacity: readonly number[]): { cuts: number[]; fill: number } {
  const B = capacity.length;
  const place = (f: number): number[] | undefined => {
    const cuts: number[] = [];
    let u = 0;
    for (let b = 0; b < B; b++) {
      let used = 0;
      // The last board takes whatever is left; the others stop where the next unit would overfill them.
      while (u < unitTiles.length && (b === B - 1 || used + unitTiles[u]![b]! <= f * capacity[b]!)) used += unitTiles[u++]![b]!;
      if (used > f * capacity[b]!) return undefined;
      cuts.push(u);
    }
    return u === unitTiles.length ? cuts : undefined;
  };
  // Feasibility grows with f, so bisect; the largest f needed is the whole model on the smallest board.
  let lo = 0;
  let hi = Math.max(1, ...capacity.map((c, b) => unitTiles.reduce((a, t) => a + t[b]!, 0) / c));
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (place(mid)) hi = mid;
    else lo = mid;
  }
  return { cuts: place(hi)!, fill: hi };
}

const layersText = (r: LayerRange): string => (r.first > r.last ? 'no layers' : r.first === r.last ? `layer ${r.first}` : `layers ${r.first}-${r.last}`);

/** What a split needs of each board: a backend that reports its core's shape before load (BoardBackend; the timed stand-in of timed.ts). */
export interface SplitMember extends BitLinearBackend {
  connect(): Promise<CoreShape>;
}

export class LayerSplitBackend<B extends SplitMember = BoardBackend> implements BitLinearBackend {
  ranges: readonly LayerRange[] = [];
  /** For each weight: its board and its index among that board's weights. */
  private route: { board: number; index: number }[] = [];
  /** Each board's last call: the next one on that board waits for it. */
  private tail: Promise<unknown>[];

  constructor(
    readonly boards: readonly B[],
    private readonly log?: (line: string) => void,
  ) {
    if (boards.length < 2) throw new BackendError(`a split across boards needs at least 2 boards, got ${boards.length}`);
    this.tail = boards.map(() => Promise.resolve());
  }

  get name(): string {
    const per = this.ranges.length ? this.ranges.map((r) => `${this.boards[r.board]!.name} ${layersText(r)}`) : this.boards.map((b) => b.name);
    return `${this.boards.length} boards: ${per.join('; ')}`;
  }

  /** The boards' counters summed; lanes is their mean weighted by cycles, so macs / (cycles x lanes) stays the utilization. */
  get stats(): OffloadStats {
    const s = emptyStats();
    let laneCycles = 0;
    s.weightsReused = true;
    for (const b of this.boards) {
      const o = b.stats;
      for (const k of ['calls', 'macs', 'bytesOut', 'bytesIn', 'requests', 'retries', 'boardCycles', 'boardStalls', 'int4Runs', 'weightTilesSent', 'weightBytesSent', 'ms'] as const) s[k] += o[k];
      s.weightsReused &&= o.weightsReused;
      laneCycles += o.lanes * o.boardCycles;
    }
    const lanes = new Set(this.boards.map((b) => b.stats.lanes));
    s.lanes = lanes.size === 1 ? [...lanes][0]! : s.boardCycles ? laneCycles / s.boardCycles : Math.max(...lanes);
    return s;
  }

  async load(weights: readonly PackedTernary[], o: LoadOptions = {}): Promise<void> {
    const layerOf = o.layerOf ?? weights.map((_, i) => i);
    if (layerOf.length !== weights.length) throw new BackendError(`split across boards: ${layerOf.length} layer numbers for ${weights.length} weights`);
    // Units: runs of weights with one layer number; a layer's matmuls must stay on one board.
    const units: number[][] = [];
    layerOf.forEach((l, i) => {
      if (i > 0 && l < layerOf[i - 1]!) throw new BackendError(`split across boards: weight ${i} (${weights[i]!.name}) is in layer ${l}, after layer ${layerOf[i - 1]}; layers must come in order`);
      if (i === 0 || l !== layerOf[i - 1]) units.push([]);
      units.at(-1)!.push(i);
    });
    const shapes: CoreShape[] = [];
    for (const b of this.boards) shapes.push(await b.connect());
    // Each board keeps one tile for its tag (plan.ts).
    const capacity = shapes.map((s) => s.wdepth - 1);
    const unitTiles = units.map((u) => shapes.map((s) => u.reduce((a, i) => a + weightTiles(s, weights[i]!), 0)));
    const { cuts, fill } = splitLayers(unitTiles, capacity);
    const ranges: LayerRange[] = [];
    this.route = [];
    let u0 = 0;
    cuts.forEach((u1, b) => {
      // Board b's weights, in order: its index for each is its place among them.
      units.slice(u0, u1).flat().forEach((i, index) => (this.route[i] = { board: b, index }));
      ranges.push({ board: b, first: u0 < u1 ? layerOf[units[u0]![0]!]! : 1, last: u0 < u1 ? layerOf[units[u1 - 1]![0]!]! : 0, tiles: unitTiles.slice(u0, u1).reduce((a, t) => a + t[b]!, 0), capacity: capacity[b]! });
      u0 = u1;
    });
    this.ranges = ranges;
    for (const r of ranges) this.log?.(`${this.boards[r.board]!.name}: ${layersText(r)}, ${r.tiles} of ${r.capacity} weight tiles`);
    if (fill > 1) this.log?.(`the model's weights do not fit the ${this.boards.length} boards' memories (${(100 * fill).toFixed(0)} % of the fullest): boards over 100 % rotate part of their weights every token`);
    // Progress over all boards: each reports its own tiles; the sum is what the caller sees.
    const done = this.boards.map(() => 0);
    const total = this.boards.map(() => 0);
    // Every upload settles before an error is passed on: the caller closes the boards next.
    const settled = await Promise.allSettled(
      this.boards.map((b, bi) => {
        const mine = weights.filter((_, i) => this.route[i]!.board === bi);
        if (mine.length === 0) return Promise.resolve();
        return b.load(mine, {
          actBits: o.actBits,
          log: o.log,
          progress: (d, t, what) => {
            done[bi] = d;
            total[bi] = t;
            o.progress?.(
              done.reduce((a, x) => a + x, 0),
              total.reduce((a, x) => a + x, 0),
              `${b.name}: ${what}`,
            );
          },
        });
      }),
    );
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  get boardNames(): readonly string[] {
    return this.boards.map((b) => b.name);
  }

  boardOf(index: number): number {
    const r = this.route[index];
    if (!r) throw new BackendError(`${this.name}: no weight ${index} (${this.route.length} loaded)`);
    return r.board;
  }

  matmul(index: number, x: Int8Array, M: number): Promise<Int32Array> {
    const r = this.route[index];
    if (!r) return Promise.reject(new BackendError(`${this.name}: no weight ${index} (${this.route.length} loaded)`));
    const call = (): Promise<Int32Array> => this.boards[r.board]!.matmul(r.index, x, M);
    const run = this.tail[r.board]!.then(call, call);
    this.tail[r.board] = run.catch(() => {});
    return run;
  }

  async close(): Promise<void> {
    const errors: unknown[] = [];
    for (const b of this.boards) await b.close().catch((e: unknown) => errors.push(e));
    if (errors.length) throw errors[0];
  }
}
