// valid/ready stream drivers in TypeScript: a source, a sink with back-pressure, and a
// passive monitor. They make the same decisions as the C++ engine (sim/tb/fast.ts), draw
// for draw from the same xorshift32 sequence, so either can replace the other.
//
// Timing: handshakes are judged on the values just before a rising edge (a Sampler),
// and new valid/data/ready are driven right after it.

import type { Clock } from '../tb/clock.ts';
import type { Signal, Writable } from '../tb/handle.ts';
import { RisingEdge } from '../tb/triggers.ts';
import { Sampler } from '../tb/sampler.ts';
import { startSoon, type Task } from '../tb/task.ts';
import { SimEvent, SimQueue } from '../tb/sync.ts';
import { XorShift32 } from '../../common/rng.ts';
import type { Trigger } from '../tb/trigger.ts';
import { FastStreams, type FastSink, type StreamPorts, type Beat, type BeatOf } from '../tb/fast.ts';
import { attachPassive, FailureTask, type PassiveMonitor } from '../tb/passive.ts';

function dataOf(p: StreamPorts): readonly Signal[] {
  return Array.isArray(p.data) ? (p.data as readonly Signal[]) : [p.data as Signal];
}

function sampledSignals(p: StreamPorts, data: readonly Signal[]): Record<string, Signal> {
  const r: Record<string, Signal> = { valid: p.valid, ready: p.ready };
  data.forEach((d, i) => (r[`d${i}`] = d));
  return r;
}

export class StreamSource {
  private readonly queue: Beat[] = [];
  private presenting = false;
  private readonly rng: XorShift32;
  private readonly data: readonly Signal[];
  private readonly sampler: Sampler<string>;
  private readonly idleEvent: SimEvent;
  readonly task: Task<void>;
  /** Beats accepted by the design. */
  count = 0;

  constructor(
    readonly clock: Clock,
    readonly ports: StreamPorts,
    readonly opts: { idle?: number; seed?: number; name?: string } = {},
  ) {
    this.data = dataOf(ports);
    this.rng = new XorShift32(opts.seed ?? 1);
    this.sampler = new Sampler(clock, { valid: ports.valid, ready: ports.ready });
    this.idleEvent = new SimEvent(`${this.name} idle`);
    this.idleEvent.set();
    this.update(false);
    this.task = startSoon(() => this.loop(), this.name);
  }

  get name(): string {
    return this.opts.name ?? `StreamSource(${this.ports.valid.path})`;
  }

  /** Queue beats (a value each, or an array of values for several data ports). */
  push(...beats: Beat[]): void {
    this.queue.push(...beats);
    if (beats.length) this.idleEvent.clear();
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Fires when every queued beat has been accepted. */
  idle(): Trigger<void> {
    return this.idleEvent.wait();
  }

  private update(fire: boolean): void {
    if (this.presenting && fire) {
      this.queue.shift();
      this.presenting = false;
      this.count++;
      if (this.queue.length === 0) this.idleEvent.set();
    }
    if (!this.presenting) {
      if (this.queue.length && !this.rng.chance(this.opts.idle ?? 0)) {
        const beat = this.queue[0]!;
        const vals = Array.isArray(beat) ? (beat as readonly Writable[]) : [beat as Writable];
        this.data.forEach((d, i) => (d.value = vals[i]!));
        this.presenting = true;
      }
      this.ports.valid.value = this.presenting ? 1 : 0;
    }
  }

  private async loop(): Promise<void> {
    for (;;) {
      await RisingEdge(this.clock.signal);
      const s = this.sampler.values;
      this.update(s.valid !== 0n && s.ready !== 0n);
    }
  }

  stop(): void {
    this.task.cancel();
    this.sampler.close();
  }
}

abstract class StreamReceiver<P extends StreamPorts> {
  private readonly data: readonly Signal[];
  protected readonly sampler: Sampler<string>;
  readonly task: Task<void>;
  /** Beats received, in order. */
  readonly beats = new SimQueue<BeatOf<P>>();
  count = 0;
  private readonly callbacks: ((b: BeatOf<P>) => void)[] = [];

  constructor(
    readonly clock: Clock,
    readonly ports: P,
    readonly name: string,
  ) {
    this.data = dataOf(ports);
    this.sampler = new Sampler(clock, sampledSignals(ports, this.data));
    this.task = startSoon(() => this.loop(), name);
  }

  /** Call `cb` for every beat as it arrives (e.g. to feed a Scoreboard). */
  onBeat(cb: (b: BeatOf<P>) => void): this {
    this.callbacks.push(cb);
    return this;
  }

  /** Wait for the next beat. */
  recv(): Trigger<BeatOf<P>> {
    return this.beats.get();
  }

  protected abstract afterEdge(): void;

  private async loop(): Promise<void> {
    for (;;) {
      await RisingEdge(this.clock.signal);
      const s = this.sampler.values;
      if (s.valid !== 0n && s.ready !== 0n) {
        const vals = this.data.map((d, i) => s[`d${i}`]!);
        const beat = (Array.isArray(this.ports.data) ? vals : vals[0]!) as BeatOf<P>;
        this.count++;
        this.beats.put(beat);
        for (const cb of this.callbacks) cb(beat);
      }
      this.afterEdge();
    }
  }

  stop(): void {
    this.task.cancel();
    this.sampler.close();
  }
}

/** Drives ready low with probability `backpressure` each cycle and collects beats. */
export class StreamSink<P extends StreamPorts = StreamPorts> extends StreamReceiver<P> {
  private readonly rng: XorShift32;
  constructor(
    clock: Clock,
    ports: P,
    readonly opts: { backpressure?: number; seed?: number; name?: string } = {},
  ) {
    super(clock, ports, opts.name ?? `StreamSink(${ports.valid.path})`);
    this.rng = new XorShift32(opts.seed ?? 2);
    this.afterEdge();
  }
  protected afterEdge(): void {
    this.ports.ready.value = this.rng.chance(this.opts.backpressure ?? 0) ? 0 : 1;
  }
}

/**
 * Watches a stream without driving it: a passive monitor (sim/tb/passive.ts). Its
 * handshakes are sampled by the C++ stream engine (the same sample just before each rising
 * edge as StreamSink's), so a fast run stays in C++ while it watches; the beats reach
 * `beats` and the callbacks after every edge made in JavaScript, and in bulk when a fast
 * run returns. While a task awaits recv(), runs go edge by edge so it wakes on the edge.
 */
export class StreamMonitor<P extends StreamPorts = StreamPorts> implements PassiveMonitor {
  readonly name: string;
  /** Beats received, in order. */
  readonly beats = new SimQueue<BeatOf<P>>();
  count = 0;
  readonly logPorts: readonly number[] = [];
  /** The task a failing onBeat callback fails the test in. */
  readonly task: Task<void>;
  private readonly engine: FastSink<P>;
  private readonly callbacks: ((b: BeatOf<P>) => void)[] = [];
  private readonly detach: () => void;
  private readonly failures: FailureTask;
  private stopped = false;
  /** Batches delivered but still in the engine's buffer (oldest first); `words` once taken. */
  private readonly pending: { n: number; words?: Uint32Array }[] = [];

  constructor(
    readonly clock: Clock,
    readonly ports: P,
    opts: { name?: string } = {},
  ) {
    this.name = opts.name ?? `StreamMonitor(${ports.valid.path})`;
    this.engine = FastStreams.on(clock).monitor(ports, { name: this.name });
    clock.kernel.model.beforeFree.push(() => this.takePending());
    this.detach = attachPassive(clock.kernel, this);
    this.failures = new FailureTask(this.name, () => this.halt());
    this.task = this.failures.task;
  }

  /** Call `cb` for every beat as it is delivered (e.g. to feed a Scoreboard). */
  onBeat(cb: (b: BeatOf<P>) => void): this {
    this.callbacks.push(cb);
    return this;
  }

  /** Wait for the next beat. */
  recv(): Trigger<BeatOf<P>> {
    return this.beats.get();
  }

  awaited(): boolean {
    return this.beats.waiting > 0;
  }

  change(): void {}

  advanceTo(): void {
    if (this.stopped) return;
    const n = this.engine.count - this.count;
    if (n === 0) return;
    try {
      this.count += n;
      if (!this.callbacks.length) {
        // Made into beats when someone looks, and until then left in the engine's buffer
        // (taken when someone looks, or before the model is freed): copying a run's beats
        // into fresh JavaScript memory at once cost more than the run on a tiny design
        // (~14 µs a page fault in this VM).
        const batch: { n: number; words?: Uint32Array } = { n };
        this.pending.push(batch);
        this.beats.putLater(() => this.engine.decode(this.takePending(batch)));
        return;
      }
      this.takePending();
      for (const beat of this.engine.decode(this.engine.takeWords(n))) {
        this.beats.put(beat);
        for (const cb of this.callbacks) cb(beat);
      }
    } catch (e) {
      this.failures.fail(e);
      this.halt();
    }
  }

  /** Take every pending batch's words from the engine (one copy, oldest first); returns `batch`'s. */
  private takePending(batch?: { n: number; words?: Uint32Array }): Uint32Array {
    if (this.pending.length) {
      const w = this.engine.beatWords;
      const all = this.engine.takeWords(this.pending.reduce((t, b) => t + b.n, 0));
      let o = 0;
      for (const b of this.pending.splice(0)) {
        b.words = all.subarray(o, o + b.n * w);
        o += b.n * w;
      }
    }
    return batch?.words ?? new Uint32Array(0);
  }

  private halt(): void {
    if (this.stopped) return;
    this.stopped = true;
    // Beats already delivered keep their words; the C++ engine goes on capturing for this
    // stream, so a passive that drops what it captures from now on keeps its buffer bounded.
    this.takePending();
    this.detach();
    const engine = this.engine;
    let dropped = this.count;
    attachPassive(this.clock.kernel, {
      logPorts: [],
      change() {},
      awaited: () => false,
      advanceTo() {
        const n = engine.count - dropped;
        if (n > 0) engine.takeWords(n);
        dropped += n;
      },
    });
  }

  /** Deliver nothing more (the C++ engine goes on sampling; its beats are dropped as they come). */
  stop(): void {
    this.task.cancel();
  }
}
