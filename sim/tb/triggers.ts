// The triggers of the testbench API, named as in cocotb.

import { currentKernel, SimTimeoutError, type Kernel, type Sub, type Timed } from './kernel.ts';
import type { Signal } from './handle.ts';
import { Trigger } from './trigger.ts';
import { formatTime, toPs, type TimeUnit } from './time.ts';

// Any trigger, whatever it yields: First/Combine only care that it fires.

type AnyTrigger = Trigger<any>;

abstract class SignalTrigger<T = void> extends Trigger<T> {
  constructor(readonly signal: Signal) {
    super();
  }
  override kernel(): Kernel {
    return this.signal.kernel;
  }
  protected now(): string {
    return `${this.signal.path} = ${this.signal.value}`;
  }
}

type EdgeKind = 'rise' | 'fall' | 'change';
const EDGE_NAME: Record<EdgeKind, string> = { rise: 'RisingEdge', fall: 'FallingEdge', change: 'ValueChange' };

class EdgeTrigger extends SignalTrigger {
  constructor(
    signal: Signal,
    private readonly kind: EdgeKind,
  ) {
    super(signal);
  }
  subscribe(k: Kernel, sub: Sub<void>): void {
    k.watch(this.signal.index, this.kind, sub);
  }
  unsubscribe(k: Kernel, sub: Sub<void>): void {
    k.unwatch(this.signal.index, this.kind, sub);
  }
  describe(): string {
    return `${EDGE_NAME[this.kind]}(${this.signal.path}) [${this.now()}]`;
  }
}

/** The signal goes from 0 to non-zero. */
export const RisingEdge = (s: Signal): Trigger => new EdgeTrigger(s, 'rise');
/** The signal goes from non-zero to 0. */
export const FallingEdge = (s: Signal): Trigger => new EdgeTrigger(s, 'fall');
/** Any change of the signal's value (cocotb's Edge / ValueChange). */
export const ValueChange = (s: Signal): Trigger => new EdgeTrigger(s, 'change');
export const Edge = ValueChange;

/** Counts edges for one subscriber without waking it. */
class Counter implements Sub<undefined> {
  left: number;
  constructor(
    readonly n: number,
    readonly target: Sub<void>,
  ) {
    this.left = n;
  }
  fire(): void {
    if (--this.left === 0) this.target.fire(undefined);
  }
}

class ClockCyclesTrigger extends SignalTrigger {
  private readonly counters = new Map<Sub<void>, Counter>();
  constructor(
    signal: Signal,
    readonly n: number,
    readonly rising: boolean,
  ) {
    super(signal);
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`ClockCycles(${signal.path}, ${n}): the count must be a positive integer`);
  }
  subscribe(k: Kernel, sub: Sub<void>): void {
    const c = new Counter(this.n, sub);
    this.counters.set(sub, c);
    k.watch(this.signal.index, this.rising ? 'rise' : 'fall', c);
  }
  unsubscribe(k: Kernel, sub: Sub<void>): void {
    const c = this.counters.get(sub);
    if (!c) return;
    this.counters.delete(sub);
    k.unwatch(this.signal.index, this.rising ? 'rise' : 'fall', c);
  }
  describe(): string {
    const seen = [...this.counters.values()].map((c) => c.n - c.left);
    return `ClockCycles(${this.signal.path}, ${this.n}) [${seen.length ? `${seen[0]} seen, ` : ''}${this.now()}]`;
  }
}

/** n rising (or falling) edges of a clock; counted by the kernel without waking the task. */
export const ClockCycles = (s: Signal, n: number, opts: { rising?: boolean } = {}): Trigger => new ClockCyclesTrigger(s, n, opts.rising ?? true);

class TimerTrigger extends Trigger<void> {
  readonly ps: number;
  private readonly entries = new Map<Sub<void>, Timed>();
  constructor(time: number, unit: TimeUnit) {
    super();
    this.ps = toPs(time, unit, 'Timer');
    if (this.ps === 0) throw new RangeError('Timer(0): a timer must advance time; await ReadWrite() or NextTimeStep() to wait within this time step');
  }
  subscribe(k: Kernel, sub: Sub<void>): void {
    this.entries.set(sub, k.at(k.now + this.ps, sub));
  }
  unsubscribe(_k: Kernel, sub: Sub<void>): void {
    const e = this.entries.get(sub);
    if (e) e.dead = true;
    this.entries.delete(sub);
  }
  describe(): string {
    const due = [...this.entries.values()][0]?.time;
    return `Timer(${formatTime(this.ps)})${due === undefined ? '' : ` [due at ${formatTime(due)}]`}`;
  }
}

export const Timer = (time: number, unit: TimeUnit = 'ns'): Trigger => new TimerTrigger(time, unit);

type PhaseName = 'ReadOnly' | 'ReadWrite' | 'NextTimeStep';

class PhaseTrigger extends Trigger<void> {
  constructor(private readonly which: PhaseName) {
    super();
  }
  private set(k: Kernel): Set<Sub> {
    return this.which === 'ReadOnly' ? k.readOnlySubs : this.which === 'ReadWrite' ? k.readWriteSubs : k.nextStepSubs;
  }
  subscribe(k: Kernel, sub: Sub<void>): void {
    this.set(k).add(sub as Sub);
  }
  unsubscribe(k: Kernel, sub: Sub<void>): void {
    this.set(k).delete(sub as Sub);
  }
  describe(): string {
    return `${this.which}()`;
  }
}

/** The end of the current time step: every signal has settled; writes are an error. */
export const ReadOnly = (): Trigger => new PhaseTrigger('ReadOnly');
/** Later in the current time step, after the woken tasks' writes have been evaluated; writes allowed. */
export const ReadWrite = (): Trigger => new PhaseTrigger('ReadWrite');
/** The start of the next time step at which anything happens. */
export const NextTimeStep = (): Trigger => new PhaseTrigger('NextTimeStep');

/** One part of a Combine/First subscription. */
class Part implements Sub<unknown> {
  fired = false;
  constructor(
    readonly group: Group,
    readonly index: number,
  ) {}
  fire(v: unknown): void {
    if (this.fired) return;
    this.fired = true;
    this.group.partFired(this.index, v);
  }
}

class Group {
  readonly parts: Part[];
  left: number;
  constructor(
    readonly k: Kernel,
    readonly triggers: readonly AnyTrigger[],
    readonly all: boolean,
    readonly target: Sub<unknown>,
  ) {
    this.parts = triggers.map((_, i) => new Part(this, i));
    this.left = triggers.length;
  }
  start(): void {
    this.triggers.forEach((t, i) => t.subscribe(this.k, this.parts[i]!));
  }
  stop(): void {
    this.triggers.forEach((t, i) => t.unsubscribe(this.k, this.parts[i]!));
  }
  partFired(i: number, v: unknown): void {
    this.triggers[i]!.unsubscribe(this.k, this.parts[i]!);
    if (this.all) {
      if (--this.left === 0) this.target.fire(undefined);
    } else {
      this.stop();
      this.target.fire({ index: i, value: v });
    }
  }
}

class GroupTrigger<T> extends Trigger<T> {
  private readonly groups = new Map<Sub<T>, Group>();
  constructor(
    private readonly triggers: readonly AnyTrigger[],
    private readonly all: boolean,
  ) {
    super();
    if (!all && triggers.length === 0) throw new RangeError('First() needs at least one trigger');
  }
  subscribe(k: Kernel, sub: Sub<T>): void {
    if (this.triggers.length === 0) {
      k.woken++;
      queueMicrotask(() => sub.fire(undefined as T));
      return;
    }
    const g = new Group(k, this.triggers, this.all, sub as Sub<unknown>);
    this.groups.set(sub, g);
    g.start();
  }
  unsubscribe(_k: Kernel, sub: Sub<T>): void {
    this.groups.get(sub)?.stop();
    this.groups.delete(sub);
  }
  describe(): string {
    return `${this.all ? 'Combine' : 'First'}(${this.triggers.map((p) => p.describe()).join(', ')})`;
  }
}

/** Fires when every trigger has fired. */
export const Combine = (...triggers: AnyTrigger[]): Trigger => new GroupTrigger<void>(triggers, true);

/** Fires with { index, value } of whichever trigger fires first; the others are dropped. */
export const First = (...triggers: AnyTrigger[]): Trigger<{ index: number; value: unknown }> => new GroupTrigger<{ index: number; value: unknown }>(triggers, false);

/**
 * Await a trigger (or task) but give up after a simulated time: throws SimTimeoutError
 * naming what was awaited and the values of its signals.
 */
export async function withTimeout<T>(t: Trigger<T>, time: number, unit: TimeUnit = 'ns'): Promise<T> {
  const r = await First(t, Timer(time, unit));
  if (r.index === 1) {
    const k = currentKernel('withTimeout');
    throw new SimTimeoutError(`withTimeout: ${t.describe()} did not happen within ${formatTime(toPs(time, unit))} (now ${formatTime(k.now)})`);
  }
  return r.value as T;
}
