// The scheduler. One Kernel drives one model instance through simulated time.
//
// A time step, in order:
//   1. clocks due at this time write their new level (samplers read their signals first);
//   2. the model evaluates;
//   3. every trigger due now fires: edges of watched signals, Timers; the woken tasks run
//      until each is blocked again (a macrotask turn, so every microtask has run: exact,
//      whatever the tasks await in between);
//   4. if tasks wrote inputs that observers care about, the model evaluates again and
//      edges caused by those writes fire (delta cycles, at most MAX_DELTAS);
//   5. ReadWrite waiters run (writes allowed), looping back to 4 if they wrote;
//   6. ReadOnly waiters run (writes are an error);
//   7. time advances to the next clock edge or timer; NextTimeStep waiters run there.
//
// When a write takes effect: a write is stored into the model's input at once. Reading a
// combinational output afterwards evaluates the model first, so reads always see the
// settled design at the current time; registers change only at clock edges. A write made
// after RisingEdge(clk) is therefore first seen by the *next* rising edge of clk.
//
// Which task is running is tracked with AsyncLocalStorage, so cancel() and timeout
// messages know what each task is waiting on.

import { AsyncLocalStorage } from 'node:async_hooks';
import { Model, EvalStatus, ModelError } from '../bridge/model.ts';
import { formatTime } from './time.ts';
import type { PassiveMonitor } from './passive.ts';

export const MAX_DELTAS = 1000;
/** Microtask turns a woken task may take before the kernel falls back to a macrotask turn. */
export const SPIN_LIMIT = 64;

/**
 * A subscriber: fired by the kernel or a trigger. Objects with methods rather than
 * closures, because a subscription is made on every await and closures are the expensive
 * part of that (allocation, and tsx's keepNames wrapper on every named arrow function).
 */
export interface Sub<T = unknown> {
  fire(value: T): void;
  /** Deliver an error instead of a value (Waiters implement it; a trigger may use it). */
  fail?(e: unknown): void;
  /** A passive monitor's feed (sim/tb/passive.ts): a fast run records its signal in C++ instead of stopping for it. */
  readonly passive?: boolean;
}

/** One pending `await` of a task, for cancel() and timeout messages. */
export interface Waiter {
  readonly task: TaskLike | undefined;
  describe(): string;
  cancel(e: unknown): void;
}

/** What the kernel needs to know about a task (sim/tb/task.ts implements it). */
export interface TaskLike {
  readonly name: string;
  readonly waiting: Set<Waiter>;
  cancelled: boolean;
  finished: boolean;
}

interface Watch {
  last: bigint;
  readonly rise: Set<Sub>;
  readonly fall: Set<Sub>;
  readonly change: Set<Sub>;
}

export interface Timed {
  readonly time: number;
  readonly seq: number;
  /** Fired at `time`; a Clock, or a Timer's subscriber. */
  readonly sub: Sub<undefined>;
  dead: boolean;
  /** A passive monitor's step (sim/tb/passive.ts): fast runs do not stop for it. */
  readonly passive?: boolean;
}

export class SimFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SimFailure';
  }
}

export class SimTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SimTimeoutError';
  }
}

/** A fast C++ run waiting for the kernel to be quiescent (implemented in fast.ts). */
export interface FastRequest {
  /** Run now if possible; true when anything happened (time moved or the waiter fired). */
  serve(k: Kernel): boolean;
}

/** Subscribers on signal edges other than `except`: who would miss edges during a C++ run. */
export function edgeWaiters(k: Kernel, except: ReadonlySet<Sub>): number {
  let n = 0;
  for (const w of k.watches.values()) for (const set of [w.rise, w.fall, w.change]) for (const s of set) if (!except.has(s) && !s.passive) n++;
  return n;
}

export const taskContext = new AsyncLocalStorage<TaskLike>();

let current: Kernel | undefined;

/** The kernel of the test that is running (triggers created without a handle use it). */
export function currentKernel(what: string): Kernel {
  if (!current) throw new SimFailure(`${what} needs a running simulation (inside a dutTest or Kernel.run)`);
  return current;
}

export interface KernelOptions {
  /** Fail when simulated time passes this (ps). */
  simTimeoutPs?: number;
  /** Fail when the test has run this long on the wall clock (ms). */
  wallTimeoutMs?: number;
  /** A $finish in the design ends the test without failing it. */
  allowFinish?: boolean;
}

export class Kernel {
  now = 0;
  /** True while ReadOnly waiters run. */
  readOnly = false;
  /** Writes not yet evaluated. */
  dirty = false;
  finished = false;
  steps = 0;
  /** Tasks woken in the current turn. */
  woken = 0;
  readonly tasks = new Set<TaskLike>();
  readonly watches = new Map<number, Watch>();
  readonly readWriteSubs = new Set<Sub>();
  readonly readOnlySubs = new Set<Sub>();
  readonly nextStepSubs = new Set<Sub>();
  private heap: Timed[] = [];
  private seq = 0;
  private failure: unknown;
  /** Hooks run just before a clock writes a rising edge (samplers). */
  readonly beforeEdge = new Map<number, Set<() => void>>();
  /** Hooks run right after a clock's rising edge has been evaluated (C++ stream engines). */
  readonly afterEdge = new Map<number, Set<() => void>>();
  private rose: number[] = [];
  /** A pending fast C++ run (sim/tb/fast.ts), served when the kernel is quiescent. */
  fastRequest: FastRequest | undefined;
  private readonly inputCache: (bigint | undefined)[];
  private wallStart = 0;
  /** The C++ stream engine of this model, once a test creates one (sim/tb/fast.ts). */
  streamEngine: unknown;
  /** Monitors that only sample (sim/tb/passive.ts): told every step's end, fed from the change log after fast runs. */
  readonly passives = new Set<PassiveMonitor>();

  constructor(
    readonly model: Model,
    readonly opts: KernelOptions = {},
  ) {
    this.inputCache = model.ports.map((p) => (p.direction === 'input' ? 0n : undefined));
  }

  // ---- signal access ---------------------------------------------------------------

  /** Raw (unsigned) bits of a port at the current time, settled. */
  bits(i: number): bigint {
    const cached = this.inputCache[i];
    if (cached !== undefined) return cached;
    this.settle();
    return this.model.getBits(i);
  }

  /** Store raw bits into an input; evaluation is deferred until someone observes. */
  write(i: number, raw: bigint, name: string): void {
    if (this.readOnly) throw new SimFailure(`write to ${name} during ReadOnly at ${formatTime(this.now)}: the ReadOnly phase only observes; write after the next trigger`);
    if (this.inputCache[i] === raw) return;
    this.inputCache[i] = raw;
    this.model.setBits(i, raw);
    this.dirty = true;
    this.inputsWritten = true;
  }

  /** A task wrote an input since edges were last checked. */
  private inputsWritten = false;

  /** Evaluate pending writes at the current time. */
  settle(): void {
    if (!this.dirty) return;
    this.dirty = false;
    this.evalNow();
  }

  evalNow(): void {
    const st = this.model.eval(this.now);
    if (st === EvalStatus.Finished && !this.finished) this.finished = true;
  }

  /** A clock (or anything driving a 1-bit input on a schedule) sets a level: no eval yet. */
  drive(i: number, level: 0 | 1): void {
    const raw = BigInt(level);
    if (this.inputCache[i] === raw) return;
    if (level === 1) {
      const hooks = this.beforeEdge.get(i);
      if (hooks) {
        this.settle();
        for (const hook of hooks) hook();
      }
      if (this.afterEdge.has(i)) this.rose.push(i);
    }
    this.inputCache[i] = raw;
    this.model.setBits(i, raw);
    this.dirty = true;
  }

  /** After C++ code (a fast run, a stream engine) changed inputs behind the cache's back. */
  refreshInputs(indices: Iterable<number>): void {
    for (const i of indices) {
      const v = this.model.getBits(i);
      if (this.inputCache[i] !== v) {
        this.inputCache[i] = v;
        this.dirty = true;
        this.inputsWritten = true;
      }
    }
  }

  /** After a fast run: take the model's values as the watches' last seen, firing nothing. */
  resyncWatches(): void {
    for (const [i, w] of this.watches) w.last = this.bits(i);
  }

  /** Advance time to `ps` after a fast run executed events up to it. */
  jumpTo(ps: number): void {
    this.now = ps;
  }

  simLimit(): number | undefined {
    return this.opts.simTimeoutPs;
  }

  // ---- subscriptions ---------------------------------------------------------------

  watch(i: number, kind: 'rise' | 'fall' | 'change', sub: Sub): void {
    let w = this.watches.get(i);
    if (!w) {
      w = { last: this.bits(i), rise: new Set(), fall: new Set(), change: new Set() };
      this.watches.set(i, w);
    }
    // Watches stay once created (a task re-subscribes every cycle); empty ones cost a compare.
    w[kind].add(sub);
  }

  unwatch(i: number, kind: 'rise' | 'fall' | 'change', sub: Sub): void {
    this.watches.get(i)?.[kind].delete(sub);
  }

  /** Fire `sub` at `time` (ps); the returned entry can be killed with `.dead = true`. */
  at(time: number, sub: Sub<undefined>, passive = false): Timed {
    const t: Timed = { time, seq: this.seq++, sub, dead: false, passive };
    this.push(t);
    return t;
  }

  /** A waiter of `task` is being resumed: the task runs until it subscribes to a trigger again or ends. */
  wake(task: TaskLike | undefined): void {
    this.woken++;
    if (task) this.awake.add(task);
    else this.anonWakes++;
  }

  /** `task` subscribed to a trigger: it is blocked on the kernel. */
  blocked(task: TaskLike): void {
    this.awake.delete(task);
    this.foreign.delete(task);
  }

  /** Tasks that are running (woken, not yet blocked on a trigger). */
  readonly awake = new Set<TaskLike>();
  /** Tasks that stayed awake through a whole event-loop turn: awaiting a plain promise or I/O. */
  readonly foreign = new Set<TaskLike>();
  private anonWakes = 0;

  /** Every subscription with its task, for timeout and stall messages. */
  pending(): string[] {
    const out: string[] = [];
    for (const t of this.tasks) {
      if (t.finished) continue;
      const what = [...t.waiting].map((w) => w.describe());
      out.push(`task '${t.name}' ${what.length ? `waiting on ${what.join(' and ')}` : 'awaiting something that is not a simulator trigger (a plain promise?)'}`);
    }
    return out;
  }

  fail(e: unknown): void {
    if (this.failure === undefined) this.failure = e ?? new Error('task failed with undefined');
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }

  // ---- the loop --------------------------------------------------------------------

  /** Resolve on the next macrotask turn: by then every microtask (every runnable task step) has run. */
  private static turn(): Promise<void> {
    return new Promise<void>((r) => setImmediate(r));
  }

  /**
   * True when every task woken in this turn is blocked again. Tasks are tracked
   * (AsyncLocalStorage), so the usual case needs only microtask turns: done when every
   * woken task has subscribed to a trigger again. A macrotask turn, after which nothing
   * runnable is left, is used when that bookkeeping cannot tell: a waiter outside any
   * task, a task that spins past SPIN_LIMIT microtasks, or a task awaiting a plain promise
   * or I/O (it stays 'foreign' until it awaits a trigger again, and while it does every
   * step takes a macrotask turn).
   */
  private quiet(): boolean {
    return this.awake.size === 0 && this.anonWakes === 0 && this.foreign.size === 0 && this.woken === 0;
  }

  private needsTurn(spins: number): boolean {
    return this.anonWakes > 0 || this.foreign.size > 0 || spins > SPIN_LIMIT;
  }

  /** After a macrotask turn: whoever is still awake is waiting on something foreign. */
  private afterTurn(): boolean {
    if (this.woken > 0 || this.anonWakes > 0) return false;
    for (const t of this.awake) this.foreign.add(t);
    this.awake.clear();
    return true;
  }

  private detectEdges(): void {
    for (const [i, w] of this.watches) {
      const hasSubs = w.rise.size + w.fall.size + w.change.size > 0;
      // Outputs need a settled model; an output nobody waits on is not worth an eval.
      if (this.inputCache[i] === undefined && !hasSubs) continue;
      const v = this.bits(i);
      if (v === w.last) continue;
      const rose = w.last === 0n && v !== 0n;
      const fell = w.last !== 0n && v === 0n;
      w.last = v;
      if (!hasSubs) continue;
      // A fired subscriber removes itself; Set iteration tolerates that.
      if (rose) for (const s of w.rise) s.fire(undefined);
      if (fell) for (const s of w.fall) s.fire(undefined);
      for (const s of w.change) s.fire(undefined);
    }
  }

  private fireAll(set: Set<Sub>): void {
    const subs = [...set];
    set.clear();
    for (const s of subs) s.fire(undefined);
  }

  /**
   * The scheduler loop. One async function with the awaits inline: a step in which
   * nobody wakes (most clock edges) costs no promise at all, and one that wakes a task
   * costs the microtask turns that task takes.
   */
  private async loop(): Promise<void> {
    let deltas = 0;
    let readOnlyPending = false;
    for (;;) {
      // Steps 3-6 happen here: let woken tasks run until they block again.
      if (this.woken > 0 || this.foreign.size > 0) {
        let spins = 0;
        for (;;) {
          this.woken = 0;
          await undefined;
          if (this.quiet()) break;
          if (this.needsTurn(++spins)) {
            this.anonWakes = 0;
            this.woken = 0;
            await Kernel.turn();
            if (this.afterTurn()) break;
          }
        }
      }
      if (readOnlyPending) {
        readOnlyPending = false;
        this.readOnly = false;
      } else {
        if (this.done()) return;
        if (this.inputsWritten) {
          this.inputsWritten = false;
          this.detectEdges();
          if (this.woken > 0) {
            if (++deltas > MAX_DELTAS) throw new SimFailure(`no convergence at ${formatTime(this.now)}: more than ${MAX_DELTAS} delta cycles of testbench writes and signal changes; ${this.pending().join('; ')}`);
            continue;
          }
        }
        if (this.readWriteSubs.size > 0) {
          this.fireAll(this.readWriteSubs);
          continue;
        }
        if (this.readOnlySubs.size > 0) {
          this.settle();
          this.readOnly = true;
          readOnlyPending = true;
          this.fireAll(this.readOnlySubs);
          continue;
        }
      }
      deltas = 0;
      if (this.done()) return;
      if (this.fastRequest && this.nextStepSubs.size === 0 && this.fastRequest.serve(this)) continue;
      this.advance();
    }
  }

  // Checked synchronously: the loop may run many steps without awaiting anything.
  private done(): boolean {
    return this.failure !== undefined || this.mainDone || this.finished;
  }

  private main: TaskLike | undefined;
  private get mainDone(): boolean {
    return this.main?.finished ?? false;
  }

  /**
   * Run `main` (the test body) as the main task; resolves when it returns, rejects with
   * the first failure of any task, a $stop/$fatal in the model, or a timeout.
   */
  async run(start: () => TaskLike): Promise<void> {
    if (current) throw new SimFailure('a simulation is already running in this process; tests run one at a time');
    current = this;
    this.wallStart = performance.now();
    try {
      this.main = start();
      this.woken++;
      try {
        await this.loop();
      } finally {
        this.readOnly = false;
      }
      if (this.failure !== undefined) throw this.failure;
      if (this.finished && !this.mainDone && !this.opts.allowFinish) {
        throw new SimFailure(`the design called $finish (${this.model.finishedAt() || 'location unknown'}) at ${formatTime(this.now)} before the test finished. ${this.pending().join('; ')}`);
      }
    } finally {
      current = undefined;
      if (this.model.tracing) this.model.dumpWaves(this.now);
      this.heap = [];
      this.watches.clear();
    }
  }

  private advance(): void {
    const next = this.popDue();
    if (next === undefined) {
      throw new SimFailure(`simulation stalled at ${formatTime(this.now)}: no clock is running and no timer is pending, so time cannot advance. ${this.pending().join('; ')}`);
    }
    if (this.opts.simTimeoutPs !== undefined && next > this.opts.simTimeoutPs) {
      this.now = this.opts.simTimeoutPs;
      throw new SimTimeoutError(`timed out at simulation time ${formatTime(this.now)} (the test's sim-time limit). ${this.pending().join('; ') || 'no task is waiting'}`);
    }
    if ((++this.steps & 1023) === 0 && this.opts.wallTimeoutMs !== undefined && performance.now() - this.wallStart > this.opts.wallTimeoutMs) {
      throw new SimTimeoutError(`timed out after ${(this.opts.wallTimeoutMs / 1000).toFixed(1)} s of wall time at simulation time ${formatTime(this.now)}. ${this.pending().join('; ')}`);
    }
    if (this.model.tracing) {
      this.settle();
      this.model.dumpWaves(this.now);
    }
    this.now = next;
    // Everything due now: clocks write their levels, timers are collected.
    const due: Timed[] = [];
    while (this.heap.length && this.heap[0]!.time === next) {
      const t = this.pop()!;
      if (!t.dead) due.push(t);
    }
    for (const t of due) t.sub.fire(undefined);
    if (this.dirty) {
      this.dirty = false;
      this.evalNow();
    }
    if (this.rose.length) {
      for (const i of this.rose) for (const hook of this.afterEdge.get(i) ?? []) hook();
      this.rose = [];
    }
    if (this.nextStepSubs.size) this.fireAll(this.nextStepSubs);
    this.detectEdges();
    for (const m of this.passives) m.advanceTo(this.now);
  }

  private popDue(): number | undefined {
    while (this.heap.length && this.heap[0]!.dead) this.pop();
    return this.heap[0]?.time;
  }

  // A binary heap ordered by (time, seq): equal times keep insertion order.
  private less(a: Timed, b: Timed): boolean {
    return a.time < b.time || (a.time === b.time && a.seq < b.seq);
  }

  private push(t: Timed): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): Timed | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }

  /** The earliest live timed event not fired into `owner` (fast runs stop before it). */
  nextForeignEvent(owner: Sub<undefined>): number | undefined {
    let best: number | undefined;
    for (const t of this.heap) if (!t.dead && !t.passive && t.sub !== owner && (best === undefined || t.time < best)) best = t.time;
    return best;
  }
}

export { ModelError };
