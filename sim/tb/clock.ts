// A free-running clock on a one-bit input, driven by the kernel (cocotb's Clock).

import type { Signal } from './handle.ts';
import { toPs, formatTime, type TimeUnit } from './time.ts';
import { SimFailure, type Sub, type Timed } from './kernel.ts';

export class Clock implements Sub<undefined> {
  readonly periodPs: number;
  readonly highPs: number;
  readonly lowPs: number;
  private entry: Timed | undefined;
  /** The next scheduled change: time (ps) and level. */
  next: { time: number; level: 0 | 1 } | undefined;

  constructor(
    readonly signal: Signal,
    period: number,
    unit: TimeUnit = 'ns',
  ) {
    if (signal.width !== 1 || signal.direction !== 'input') throw new SimFailure(`Clock: ${signal.path} must be a one-bit input (it is ${signal.direction} [${signal.width}])`);
    this.periodPs = toPs(period, unit, `Clock(${signal.path}) period`);
    if (this.periodPs < 2) throw new RangeError(`Clock(${signal.path}): the period must be at least 2 ps`);
    this.highPs = Math.floor(this.periodPs / 2);
    this.lowPs = this.periodPs - this.highPs;
  }

  get kernel() {
    return this.signal.kernel;
  }

  get running(): boolean {
    return this.entry !== undefined;
  }

  /** Start toggling at the current time, rising first unless startHigh is false. */
  start(opts: { startHigh?: boolean } = {}): this {
    if (this.entry) throw new SimFailure(`Clock(${this.signal.path}) is already running`);
    const k = this.kernel;
    const level: 0 | 1 = opts.startHigh === false ? 0 : 1;
    this.schedule(k.now, level);
    return this;
  }

  /** Continue from an explicit next event (after a fast C++ run moved the clock). */
  schedule(time: number, level: 0 | 1): void {
    if (this.entry) this.entry.dead = true;
    this.next = { time, level };
    this.entry = this.kernel.at(time, this);
  }

  /** Due: drive the level and schedule the next change. */
  fire(): void {
    const { time, level } = this.next!;
    this.kernel.drive(this.signal.index, level);
    this.schedule(time + (level ? this.highPs : this.lowPs), level ? 0 : 1);
  }

  stop(): void {
    if (this.entry) this.entry.dead = true;
    this.entry = undefined;
    this.next = undefined;
  }

  toString(): string {
    return `Clock(${this.signal.path}, ${formatTime(this.periodPs)})`;
  }
}
