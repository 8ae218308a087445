// Passive monitors: observers that only sample signals and never drive one. They do not
// hold a fast C++ run in JavaScript: the run records every change of their ports in the
// C++ change log (vb.cpp, vb_log_watch), and when it returns (log full, a timer due, or
// done) the log is handed to them in time order, so they decode the run in bulk with the
// exact times of the changes. Between runs the kernel feeds them the same calls from its
// own edge detection, so one decoder serves both paths and they cannot disagree.
//
// A monitor is told `change(t, port, value)` for every change of one of its ports, in
// time order, and `advanceTo(t)` once everything up to t has been told: a sample it
// wants at time T sees the value after every change at times <= T. When it needs a
// kernel step at T (a bit centre between clock edges), it asks for a passive timer, which
// a fast run does not stop for.
//
// While a task awaits a monitor's output (`awaited()`), fast runs go edge by edge so that
// task wakes at the exact time; otherwise deliveries made from the log happen when the
// run returns, each transaction carrying its own time.

import type { Kernel, Sub, Timed } from './kernel.ts';
import { startSoon, type Task } from './task.ts';
import { SimQueue } from './sync.ts';

export interface PassiveMonitor {
  /** Port indices whose changes it needs (at most 32 bits each). */
  readonly logPorts: readonly number[];
  change(t: number, port: number, value: number): void;
  advanceTo(t: number): void;
  /** A task is waiting on this monitor's output. */
  awaited(): boolean;
}

/** Fires the monitor's change() from the kernel's edge detection; marked passive so a fast run ignores it. */
class ChangeFeed implements Sub<undefined> {
  readonly passive = true;
  constructor(
    private readonly k: Kernel,
    private readonly mon: PassiveMonitor,
    private readonly port: number,
  ) {}
  fire(): void {
    this.mon.change(this.k.now, this.port, Number(this.k.bits(this.port)));
  }
}

const NOTHING: Sub<undefined> = { fire() {} };

/** Register `mon` with the kernel and the model's change log; returns the function that removes it. */
export function attachPassive(k: Kernel, mon: PassiveMonitor): () => void {
  const feeds = mon.logPorts.map((p) => {
    k.model.logWatch(p);
    const f = new ChangeFeed(k, mon, p);
    k.watch(p, 'change', f);
    return [p, f] as const;
  });
  k.passives.add(mon);
  return () => {
    k.passives.delete(mon);
    for (const [p, f] of feeds) {
      k.unwatch(p, 'change', f);
      k.model.logUnwatch(p);
    }
  };
}

/** The one kernel step a passive monitor asks for, re-armed as its next sample time moves. */
export class PassiveWake {
  private entry: Timed | undefined;
  constructor(private readonly k: Kernel) {}
  /** Make sure the kernel steps at `t` (undefined: no step needed). */
  set(t: number | undefined): void {
    if (this.entry && !this.entry.dead && this.entry.time === t) return;
    if (this.entry) this.entry.dead = true;
    this.entry = t !== undefined && t > this.k.now ? this.k.at(t, NOTHING, true) : undefined;
  }
}

/** After a fast run: hand the change log to the passive monitors in time order, then let each catch up to now. */
export function drainPassive(k: Kernel): void {
  // Taken even with no monitor left: entries logged before the last one detached would
  // otherwise keep the log full, and a full log stops every run at its first edge.
  const { times, ports, values } = k.model.logTake();
  if (k.passives.size === 0) return;
  const byPort = new Map<number, PassiveMonitor[]>();
  for (const m of k.passives) for (const p of m.logPorts) (byPort.get(p) ?? byPort.set(p, []).get(p)!).push(m);
  for (let e = 0; e < times.length; e++) for (const m of byPort.get(ports[e]!) ?? []) m.change(times[e]!, ports[e]!, values[e]!);
  for (const m of k.passives) m.advanceTo(k.now);
}

/**
 * The task a passive monitor's failures (a callback's error, a strict sink's bad
 * character) are raised in, so the test fails "in task 'NAME'" as it would from a monitor
 * task; `halt` runs when it ends (failed or cancelled).
 */
export class FailureTask {
  readonly task: Task<void>;
  private readonly failures: SimQueue<unknown>;
  constructor(name: string, halt: () => void) {
    this.failures = new SimQueue(`${name} failures`);
    this.task = startSoon(async (): Promise<void> => {
      try {
        for (;;) throw await this.failures.get();
      } finally {
        halt();
      }
    }, name);
  }
  fail(e: unknown): void {
    this.failures.put(e);
  }
}
