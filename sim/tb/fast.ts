// The fast path: clock cycles and valid/ready streams run inside the C++ glue, so a test
// can queue thousands of beats and run to completion in a handful of calls across the
// language boundary.
//
//   const fast = new FastStreams(clock);
//   const src = fast.source({ valid: dut.in_valid, ready: dut.in_ready, data: dut.in_data }, { idle: 0.2 });
//   const snk = fast.sink({ valid: dut.out_valid, ready: dut.out_ready, data: dut.out_data }, { backpressure: 0.3 });
//   src.push(beats); snk.expect(beats.length);
//   await fast.run({ maxCycles: 100_000 });   // until every source drained and every sink has its beats
//
// Semantics are the TypeScript drivers' (vip/stream.ts), draw for draw: handshakes are
// sampled just before each rising edge, new outputs are driven just after it.
//
// A run owns the model only while no other task waits on a signal edge; otherwise it
// proceeds edge by edge through the kernel (same results, JavaScript speed). Passive
// monitors (sim/tb/passive.ts: they only sample) do not count: the run logs their signals'
// changes in C++ and they decode the log when it returns. It also stops before any timer
// or other clock event, which then fires normally, and continues after.

import { edgeWaiters, SimFailure, SimTimeoutError, type FastRequest, type Kernel, type Sub } from './kernel.ts';
import type { Clock } from './clock.ts';
import type { Signal, Writable } from './handle.ts';
import { Trigger } from './trigger.ts';
import { words32 } from '../bridge/ports.ts';
import { ModelError, StreamKind, type Model, type RunResult } from '../bridge/model.ts';
import { formatTime } from './time.ts';
import { drainPassive } from './passive.ts';

const { Source: SOURCE, Sink: SINK, Monitor: MONITOR } = StreamKind;
/** Cycles per C++ call: bounds how long the event loop and the wall-clock check wait. */
const CHUNK = 1 << 20;

export interface StreamPorts {
  readonly valid: Signal;
  readonly ready: Signal;
  readonly data: Signal | readonly Signal[];
}

export type Beat = Writable | readonly Writable[];

/** What one received beat of a stream with these ports is: a bigint for one data port, an array for a list of them. */
export type BeatOf<P extends StreamPorts> = P['data'] extends readonly Signal[] ? bigint[] : P['data'] extends Signal ? bigint : bigint | bigint[];

function dataList(p: StreamPorts): readonly Signal[] {
  return Array.isArray(p.data) ? (p.data as readonly Signal[]) : [p.data as Signal];
}

abstract class FastStream {
  readonly id: number;
  readonly data: readonly Signal[];
  readonly beatWords: number;
  constructor(
    readonly streams: FastStreams,
    readonly name: string,
    kind: StreamKind,
    readonly ports: StreamPorts,
    seed: number,
    prob: number,
  ) {
    this.data = dataList(ports);
    for (const s of [ports.valid, ports.ready]) if (s.width !== 1) throw new SimFailure(`${name}: ${s.path} must be one bit (it is ${s.width})`);
    for (const d of this.data) if (d.width > 2048) throw new SimFailure(`${name}: ${d.path} is wider than the 2048 bits the C++ stream engine moves per port`);
    if (!(prob >= 0 && prob <= 1)) throw new RangeError(`${name}: probability ${prob} is outside [0, 1]`);
    this.beatWords = this.data.reduce((n, d) => n + words32(d.width), 0);
    const m = streams.kernel.model;
    this.id = m.streamAdd(kind, ports.valid.index, ports.ready.index, this.data.map((d) => d.index), seed, prob);
    streams.kernel.refreshInputs(streams.driven(kind, ports, this.data));
  }
  protected get model(): Model {
    return this.streams.kernel.model;
  }
  /** Change the idle (source) or back-pressure (sink) probability from the next cycle on. */
  setProbability(p: number): void {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`${this.name}: probability ${p} is outside [0, 1]`);
    this.model.streamProb(this.id, p);
  }

  /** Beats accepted (source) or captured (sink, monitor) so far. */
  get count(): number {
    return this.model.streamBeats(this.id);
  }
}

export class FastSource extends FastStream {
  /**
   * Queue beats: a value per beat, or an array of values when `data` lists several ports.
   * A Uint32Array (one data port of at most 32 bits) is passed to C++ without conversion.
   */
  push(beats: readonly Beat[] | Uint32Array): void {
    if (beats instanceof Uint32Array) {
      const d = this.data[0]!;
      if (this.data.length !== 1 || d.width > 32) throw new SimFailure(`${this.name}: a Uint32Array of beats needs exactly one data port of at most 32 bits`);
      if (d.width < 32) {
        const max = 2 ** d.width;
        const bad = beats.findIndex((v) => v >= max);
        if (bad >= 0) throw new SimFailure(`${this.name}: beat ${bad} = ${beats[bad]} does not fit ${d.path} (${d.width} bits)`);
      }
      this.model.streamPush(this.id, beats, beats.length);
      return;
    }
    const buf = new Uint32Array(beats.length * this.beatWords);
    let o = 0;
    beats.forEach((beat, b) => {
      const vals = Array.isArray(beat) ? (beat as readonly Writable[]) : [beat as Writable];
      if (vals.length !== this.data.length) throw new SimFailure(`${this.name}: beat ${b} has ${vals.length} values for ${this.data.length} data ports`);
      this.data.forEach((d, i) => {
        let raw = d.toRaw(vals[i]!);
        for (let w = words32(d.width); w > 0; w--) {
          buf[o++] = Number(raw & 0xffffffffn);
          raw >>= 32n;
        }
      });
    });
    this.model.streamPush(this.id, buf, beats.length);
  }
  get queued(): number {
    return this.model.streamQueued(this.id);
  }
}

export class FastSink<P extends StreamPorts = StreamPorts> extends FastStream {
  /** Run until this many beats in total have been captured. */
  expect(totalBeats: number): void {
    this.model.streamTarget(this.id, totalBeats);
  }
  /** Captured beats (the oldest `max` of them, if given) as raw 32-bit words (beatWords per beat, little-endian), without conversion. */
  takeWords(max?: number): Uint32Array {
    const have = this.model.streamCaptured(this.id);
    const n = max === undefined ? have : Math.min(have, max);
    const buf = new Uint32Array(n * this.beatWords);
    if (n) this.model.streamTake(this.id, buf, n);
    return buf;
  }

  /** Captured beats not yet taken: bigint per beat, or bigint[] when the data is a list of ports (signed ports read signed). */
  take(): BeatOf<P>[] {
    return this.decode(this.takeWords());
  }

  /** Beats from words as takeWords() gives them. */
  decode(buf: Uint32Array): BeatOf<P>[] {
    const got = Math.floor(buf.length / Math.max(1, this.beatWords));
    const out: BeatOf<P>[] = new Array(got);
    const d0 = this.data[0]!;
    if (this.data.length === 1 && !Array.isArray(this.ports.data) && d0.width <= 32) {
      // One narrow port (most streams, and a monitor's bulk delivery): a word per beat, no per-beat closures.
      for (let b = 0; b < got; b++) out[b] = (d0.signed ? BigInt.asIntN(d0.width, BigInt(buf[b]!)) : BigInt(buf[b]!)) as BeatOf<P>;
      return out;
    }
    let o = 0;
    for (let b = 0; b < got; b++) {
      const vals = this.data.map((d) => {
        const nw = words32(d.width);
        let v = 0n;
        for (let w = nw - 1; w >= 0; w--) v = (v << 32n) | BigInt(buf[o + w]!);
        o += nw;
        return d.signed ? BigInt.asIntN(d.width, v) : v;
      });
      out[b] = (Array.isArray(this.ports.data) ? vals : vals[0]!) as BeatOf<P>;
    }
    return out;
  }
}

export class FastStreams {
  readonly kernel: Kernel;
  /** @internal Input ports the C++ engine writes (shared by every FastStreams of the model). */
  readonly outputs: Set<number>;
  private readonly sources: FastSource[] = [];
  private readonly sinks: FastSink[] = [];

  /** The model's engine on `clock`: the one a test or a passive monitor made already, else a new one. */
  static on(clock: Clock): FastStreams {
    const owner = clock.kernel.streamEngine as FastStreams | undefined;
    return owner && owner.clock === clock ? owner : new FastStreams(clock);
  }

  constructor(readonly clock: Clock) {
    this.kernel = clock.kernel;
    const k = this.kernel;
    const owner = k.streamEngine as FastStreams | undefined;
    if (owner && owner.clock !== clock) throw new SimFailure(`the C++ stream engine of this model already runs on ${owner.clock}; one clock per model`);
    // One C++ engine per model: a second FastStreams on it (a passive StreamMonitor made the
    // first) shares its hooks, or every stream would be sampled twice an edge.
    this.outputs = owner?.outputs ?? new Set();
    if (owner) {
      this.sources = owner.sources;
      this.sinks = owner.sinks;
      return;
    }
    k.streamEngine = this;
    // Edge-by-edge mode: the same engine, called around each rising edge the kernel makes.
    const clk = clock.signal.index;
    if (!k.beforeEdge.has(clk)) k.beforeEdge.set(clk, new Set());
    if (!k.afterEdge.has(clk)) k.afterEdge.set(clk, new Set());
    k.beforeEdge.get(clk)!.add(() => k.model.streamsSample());
    k.afterEdge.get(clk)!.add(() => {
      k.model.streamsUpdate();
      k.refreshInputs(this.outputs);
    });
  }

  /** @internal Ports the engine writes, so the kernel's view of inputs stays right. */
  driven(kind: StreamKind, p: StreamPorts, data: readonly Signal[]): number[] {
    const out = kind === SOURCE ? [p.valid.index, ...data.map((d) => d.index)] : kind === SINK ? [p.ready.index] : [];
    out.forEach((i) => this.outputs.add(i));
    return out;
  }

  /** Drives valid and data; `idle` is the chance of leaving a cycle empty before each beat. */
  source(ports: StreamPorts, opts: { idle?: number; seed?: number; name?: string } = {}): FastSource {
    const s = new FastSource(this, opts.name ?? `source(${ports.valid.path})`, SOURCE, ports, opts.seed ?? 1, opts.idle ?? 0);
    this.sources.push(s);
    return s;
  }

  /** Drives ready (low with probability `backpressure` each cycle) and captures beats. */
  sink<P extends StreamPorts>(ports: P, opts: { backpressure?: number; seed?: number; name?: string } = {}): FastSink<P> {
    const s = new FastSink<P>(this, opts.name ?? `sink(${ports.valid.path})`, SINK, ports, opts.seed ?? 2, opts.backpressure ?? 0);
    this.sinks.push(s);
    return s;
  }

  /** Captures beats without driving anything. */
  monitor<P extends StreamPorts>(ports: P, opts: { name?: string } = {}): FastSink<P> {
    const s = new FastSink<P>(this, opts.name ?? `monitor(${ports.valid.path})`, MONITOR, ports, 1, 0);
    this.sinks.push(s);
    return s;
  }

  /** Run until every source has drained and every sink has its expected beats; resolves with the cycles run. */
  run(opts: { maxCycles: number }): Trigger<number> {
    return new FastRun(this.clock, opts.maxCycles, true, this);
  }

  /** @internal */
  status(): string {
    return [...this.sources.map((s) => `${s.name}: ${s.count} accepted, ${s.queued} queued`), ...this.sinks.map((s) => `${s.name}: ${s.count} captured`)].join('; ');
  }
}

/** Counts rising edges the kernel makes while a run proceeds edge by edge. */
class EdgeCount implements Sub<undefined> {
  constructor(private readonly run: FastRun) {}
  fire(): void {
    this.run.jsEdge();
  }
}

class FastRun extends Trigger<number> implements FastRequest {
  private remaining: number;
  private ran = 0;
  private sub: Sub<number> | undefined;
  private readonly counter = new EdgeCount(this);
  private readonly except: Set<Sub>;

  constructor(
    readonly clock: Clock,
    readonly maxCycles: number,
    readonly untilDone: boolean,
    readonly streams: FastStreams | undefined,
  ) {
    super();
    if (!Number.isInteger(maxCycles) || maxCycles < 0) throw new RangeError(`cycle count ${maxCycles} must be a non-negative integer`);
    this.remaining = maxCycles;
    this.except = new Set<Sub>([this.counter as Sub]);
  }

  override kernel(): Kernel {
    return this.clock.kernel;
  }

  subscribe(k: Kernel, sub: Sub<number>): void {
    if (!this.clock.running) throw new SimFailure(`${this.clock} is not running; start() it before a fast run`);
    if (k.fastRequest) throw new SimFailure('another fast run is already in progress; runs do not nest');
    this.sub = sub;
    k.fastRequest = this;
    k.watch(this.clock.signal.index, 'rise', this.counter);
  }

  unsubscribe(k: Kernel): void {
    if (k.fastRequest === this) k.fastRequest = undefined;
    k.unwatch(this.clock.signal.index, 'rise', this.counter);
  }

  describe(): string {
    const what = this.untilDone ? `streams until done (${this.streams?.status()})` : `${this.maxCycles} cycles`;
    return `fast run of ${this.clock}: ${what}, ${this.ran} cycles so far`;
  }

  private done(): boolean {
    const k = this.kernel();
    if (this.untilDone) return k.model.streamsDone();
    return this.remaining === 0;
  }

  private finish(): void {
    const sub = this.sub;
    this.sub = undefined;
    this.unsubscribe(this.kernel());
    if (!sub) return;
    if (this.untilDone && !this.done()) {
      const err = new SimTimeoutError(`fast stream run did not finish within ${this.maxCycles} cycles (now ${formatTime(this.kernel().now)}): ${this.streams?.status()}`);
      if (sub.fail) sub.fail(err);
      else throw err;
      return;
    }
    sub.fire(this.ran);
  }

  /** One rising edge made by the kernel (edge-by-edge mode). */
  jsEdge(): void {
    this.ran++;
    this.remaining--;
    if (this.done() || this.remaining <= 0) this.finish();
  }

  serve(k: Kernel): boolean {
    if (this.done() || this.remaining <= 0) {
      this.finish();
      return true;
    }
    const next = this.clock.next;
    if (!next || next.level !== 1) return false; // let the kernel make the falling edge first
    if (edgeWaiters(k, this.except) > 0) return false; // someone watches edges: go edge by edge
    for (const p of k.passives) if (p.awaited()) return false; // a task waits on a monitor's output: wake it on time
    const limit = Math.min(k.nextForeignEvent(this.clock) ?? Infinity, (k.simLimit() ?? Infinity) + 1);
    const { periodPs: P, highPs: hi, lowPs: lo } = this.clock;
    const fit = limit === Infinity ? Infinity : Math.floor((limit - next.time - 1) / P) + 1; // the last edge run is before `limit`
    const cycles = Math.min(this.remaining, fit, CHUNK);
    if (cycles <= 0) return false;
    k.settle();
    const m = k.model;
    m.dumpWaves(k.now);
    let r: RunResult;
    try {
      r = m.run(this.clock.signal.index, cycles, { from: { timePs: next.time, level: 1 }, highPs: hi, lowPs: lo, untilDone: this.untilDone });
    } catch (e) {
      if (e instanceof ModelError && e.run) this.advance(k, e.run); // the failure report's time is where it stopped
      throw e;
    }
    this.advance(k, r);
    if (r.finished) k.finished = true;
    if (this.done() || this.remaining <= 0) this.finish();
    return true;
  }

  /** Bring the kernel's clock, time and view of the inputs to where a C++ run stopped. */
  private advance(k: Kernel, r: RunResult): void {
    const { highPs: hi, lowPs: lo } = this.clock;
    this.ran += r.cycles;
    this.remaining -= r.cycles;
    this.clock.schedule(r.next.timePs, r.next.level);
    if (r.cycles > 0) k.jumpTo(r.next.timePs - (r.next.level ? lo : hi));
    k.refreshInputs([this.clock.signal.index, ...(this.streams?.outputs ?? [])]);
    k.dirty = false;
    k.resyncWatches();
    drainPassive(k);
  }
}

/**
 * n cycles of `clock`, in C++ when no other task watches edges (else edge by edge, the
 * same as ClockCycles). Resolves with the number of cycles run.
 */
export function runCycles(clock: Clock, n: number): Trigger<number> {
  return new FastRun(clock, n, false, undefined);
}
