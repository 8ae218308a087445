// UART verification IP on one serial line, in the manner of cocotbext-uart: a source that
// drives characters, a monitor that decodes every character it sees (and reports framing
// and parity errors with their time), and a sink that hands the good bytes to the test and
// fails it on a bad character. Timing is a baud rate or a prescale (clock cycles per bit
// of a clock); bit boundaries are kept on the exact ideal grid (start + k * bit time,
// rounded to a picosecond per edge), so a fractional bit time never drifts.
//
//   const src = new UartSource(dut.rx, { baud: 115_200 });
//   const snk = new UartSink(dut.tx, { baud: 115_200, parity: 'even' });
//   src.write([0x55, 0xa7]);
//   assert.deepEqual(await snk.read(2), [0x55, 0xa7]);

import type { Clock } from '../tb/clock.ts';
import type { Signal } from '../tb/handle.ts';
import { Timer } from '../tb/triggers.ts';
import { attachPassive, FailureTask, PassiveWake, type PassiveMonitor } from '../tb/passive.ts';
import { currentKernel } from '../tb/kernel.ts';
import { startSoon, type Task } from '../tb/task.ts';
import { SimEvent, SimQueue } from '../tb/sync.ts';
import { formatTime } from '../tb/time.ts';
import type { Trigger } from '../tb/trigger.ts';

export type UartParity = 'none' | 'even' | 'odd' | 'mark' | 'space';

export interface UartOptions {
  /** Bits per second (the bit time is 1e12 / baud ps)… */
  readonly baud?: number;
  /** …or a prescale: this many cycles of `clock` per bit. */
  readonly clocksPerBit?: number;
  readonly clock?: Clock;
  /** Data bits per character, 5 to 9 (default 8), least significant first. */
  readonly dataBits?: number;
  readonly parity?: UartParity;
  /** 1, 1.5 or 2 (default 1). */
  readonly stopBits?: number;
  readonly name?: string;
}

/** One character as the line carried it. */
export interface UartFrame {
  readonly data: number;
  /** Simulation time of the start bit's falling edge, in ps. */
  readonly startPs: number;
  /** A stop bit sampled low. */
  readonly framingError: boolean;
  /** The parity bit disagreed with the data (false without parity). */
  readonly parityError: boolean;
}

const PARITIES: readonly UartParity[] = ['none', 'even', 'odd', 'mark', 'space'];

class UartFormat {
  readonly bitPs: number;
  readonly dataBits: number;
  readonly parity: UartParity;
  readonly stopBits: number;

  constructor(what: string, o: UartOptions) {
    const byClock = o.clocksPerBit !== undefined || o.clock !== undefined;
    if ((o.baud === undefined) === !byClock) throw new RangeError(`${what}: give either baud or clock with clocksPerBit`);
    if (byClock) {
      if (!o.clock) throw new RangeError(`${what}: clocksPerBit needs the clock it counts`);
      if (!(Number.isInteger(o.clocksPerBit) && o.clocksPerBit! >= 2)) throw new RangeError(`${what}: clocksPerBit ${o.clocksPerBit}: expected an integer of at least 2`);
      this.bitPs = o.clock.periodPs * o.clocksPerBit!;
    } else {
      if (!(Number.isFinite(o.baud) && o.baud! > 0 && 1e12 / o.baud! >= 2)) throw new RangeError(`${what}: baud ${o.baud}: expected a positive rate with a bit time of at least 2 ps`);
      this.bitPs = 1e12 / o.baud!;
    }
    this.dataBits = o.dataBits ?? 8;
    if (!(Number.isInteger(this.dataBits) && this.dataBits >= 5 && this.dataBits <= 9)) throw new RangeError(`${what}: dataBits ${o.dataBits}: expected 5 to 9`);
    this.parity = o.parity ?? 'none';
    if (!PARITIES.includes(this.parity)) throw new RangeError(`${what}: parity '${String(o.parity)}': expected one of ${PARITIES.join(', ')}`);
    this.stopBits = o.stopBits ?? 1;
    if (![1, 1.5, 2].includes(this.stopBits)) throw new RangeError(`${what}: stopBits ${o.stopBits}: expected 1, 1.5 or 2`);
  }

  /** The parity bit for `data`, or undefined without parity. */
  parityBit(data: number): number | undefined {
    let ones = 0;
    for (let i = 0; i < this.dataBits; i++) ones += (data >> i) & 1;
    switch (this.parity) {
      case 'none':
        return undefined;
      case 'even':
        return ones & 1;
      case 'odd':
        return (ones & 1) ^ 1;
      case 'mark':
        return 1;
      case 'space':
        return 0;
    }
  }

  /** Bit times from the start bit's edge to the end of the last stop bit. */
  get frameBits(): number {
    return 1 + this.dataBits + (this.parity === 'none' ? 0 : 1) + this.stopBits;
  }
}

function checkLine(what: string, line: Signal, drive: boolean): void {
  if (line.width !== 1) throw new RangeError(`${what}: ${line.path} is ${line.width} bits wide; a UART line is one bit`);
  if (drive && line.direction !== 'input') throw new RangeError(`${what}: ${line.path} is an output of the design; a source drives an input`);
}

/** Wait until `t` ps (absolute): bit edges stay on the ideal grid. */
async function until(t: number): Promise<void> {
  const now = currentKernel('UART').now;
  const dt = Math.round(t) - now;
  if (dt > 0) await Timer(dt, 'ps');
}

export interface UartErrorInjection {
  /** Send the stop bit(s) low. */
  readonly badStop?: boolean;
  /** Send the wrong parity bit. */
  readonly badParity?: boolean;
}

/** Drives characters on `line` (a design input), idle high. */
export class UartSource {
  readonly name: string;
  private readonly fmt: UartFormat;
  private readonly queue: { data: number; inject: UartErrorInjection }[] = [];
  private readonly idleEvent: SimEvent;
  private readonly wake = new SimQueue<void>('uart source wake');
  readonly task: Task<void>;
  /** Characters sent completely. */
  count = 0;

  constructor(
    readonly line: Signal,
    opts: UartOptions,
  ) {
    this.name = opts.name ?? `UartSource(${line.path})`;
    checkLine(this.name, line, true);
    this.fmt = new UartFormat(this.name, opts);
    this.idleEvent = new SimEvent(`${this.name} idle`);
    this.idleEvent.set();
    line.value = 1;
    this.task = startSoon(() => this.loop(), this.name);
  }

  /** Queue characters: numbers (each must fit dataBits), bytes, or a string's UTF-8 bytes. */
  write(data: Iterable<number> | Uint8Array | string, inject: UartErrorInjection = {}): void {
    const items = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    for (const d of items) {
      if (!(Number.isInteger(d) && d >= 0 && d < 2 ** this.fmt.dataBits)) throw new RangeError(`${this.name}: character ${d} does not fit ${this.fmt.dataBits} data bits`);
      this.queue.push({ data: d, inject });
    }
    if (this.queue.length) {
      this.idleEvent.clear();
      this.wake.put();
    }
  }

  /** Fires when every queued character has been sent, stop bits included. */
  idle(): Trigger<void> {
    return this.idleEvent.wait();
  }

  private async loop(): Promise<void> {
    const k = currentKernel(this.name);
    for (;;) {
      if (!this.queue.length) {
        this.idleEvent.set();
        await this.wake.get();
        continue;
      }
      const { data, inject } = this.queue.shift()!;
      const bits = [0, ...Array.from({ length: this.fmt.dataBits }, (_, i) => (data >> i) & 1)];
      const p = this.fmt.parityBit(data);
      if (p !== undefined) bits.push(inject.badParity ? p ^ 1 : p);
      const t0 = k.now;
      for (let i = 0; i < bits.length; i++) {
        this.line.value = bits[i]!;
        await until(t0 + (i + 1) * this.fmt.bitPs);
      }
      this.line.value = inject.badStop ? 0 : 1;
      await until(t0 + this.fmt.frameBits * this.fmt.bitPs);
      this.line.value = 1;
      this.count++;
    }
  }

  stop(): void {
    this.task.cancel();
  }
}

type DecoderState = 'waitHigh' | 'waitFall' | 'frame' | 'stopped';

/**
 * Decodes every character on `line` without driving anything; bad characters are
 * recorded, not fatal. A passive monitor (sim/tb/passive.ts): it decodes from the line's
 * changes, so a fast C++ run goes on while it watches, and it gives the same characters
 * at the same times either way. As a receiver does, it waits for the line to be high, takes a
 * falling edge as a start bit if the line is still low half a bit later, and samples each
 * data, parity and stop bit at its centre on the ideal grid from that edge.
 */
export class UartMonitor implements PassiveMonitor {
  readonly name: string;
  protected readonly fmt: UartFormat;
  readonly frames = new SimQueue<UartFrame>();
  /** Characters with a framing or parity error, in order. */
  readonly errors: UartFrame[] = [];
  readonly task: Task<void>;
  readonly logPorts: readonly number[];
  private readonly callbacks: ((f: UartFrame) => void)[] = [];
  /** Sample points in bit times from the start bit's edge: start (glitch check), data, parity, stop bits. */
  private readonly offsets: number[];
  private readonly wake: PassiveWake;
  private readonly failures: FailureTask;
  private readonly detach: () => void;
  private state: DecoderState;
  private level: number;
  private t0 = 0;
  private next = 0;
  private data = 0;
  private parityError = false;
  private framingError = false;

  constructor(
    readonly line: Signal,
    opts: UartOptions,
    kind = 'UartMonitor',
  ) {
    this.name = opts.name ?? `${kind}(${line.path})`;
    checkLine(this.name, line, false);
    this.fmt = new UartFormat(this.name, opts);
    const f = this.fmt;
    const at = 1 + f.dataBits + (f.parity === 'none' ? 0 : 1);
    // Of the half bit of 1.5 stop bits, its middle (the next start bit may follow at once).
    this.offsets = [0.5, ...Array.from({ length: at - 1 }, (_, i) => i + 1.5), ...Array.from({ length: Math.ceil(f.stopBits) }, (_, s) => at + s + Math.min(0.5, (f.stopBits - s) / 2))];
    const k = currentKernel(this.name);
    this.logPorts = [line.index];
    this.level = Number(line.value);
    this.state = this.level === 0 ? 'waitHigh' : 'waitFall'; // mid-character or a break: wait for idle
    this.wake = new PassiveWake(k);
    this.detach = attachPassive(k, this);
    this.failures = new FailureTask(this.name, () => this.halt());
    this.task = this.failures.task;
  }

  /** Call `cb` for every character as its last stop bit is sampled (after a fast run: when the run returns). */
  onFrame(cb: (f: UartFrame) => void): this {
    this.callbacks.push(cb);
    return this;
  }

  protected deliver(f: UartFrame): void {
    this.frames.put(f);
  }

  /** Fail the test in this monitor's task and decode nothing more. */
  protected fail(e: unknown): void {
    this.failures.fail(e);
    this.halt();
  }

  private halt(): void {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.detach();
    this.wake.set(undefined);
  }

  awaited(): boolean {
    return this.frames.waiting > 0;
  }

  change(t: number, _port: number, value: number): void {
    this.sampleUntil(t, false); // samples before t saw the old level
    const was = this.level;
    this.level = value;
    if (this.state === 'waitHigh' && value !== 0) this.state = 'waitFall';
    else if (this.state === 'waitFall' && was !== 0 && value === 0) {
      this.state = 'frame';
      this.t0 = t;
      this.next = 0;
      this.data = 0;
      this.parityError = this.framingError = false;
    }
    this.rearm();
  }

  advanceTo(t: number): void {
    this.sampleUntil(t, true);
    this.rearm();
  }

  private sampleTime(): number {
    return Math.round(this.t0 + this.offsets[this.next]! * this.fmt.bitPs);
  }

  private rearm(): void {
    this.wake.set(this.state === 'frame' ? this.sampleTime() : undefined);
  }

  private sampleUntil(t: number, inclusive: boolean): void {
    while (this.state === 'frame') {
      const at = this.sampleTime();
      if (at > t || (at === t && !inclusive)) return;
      this.sample();
    }
  }

  private sample(): void {
    const j = this.next++;
    const bit = this.level & 1;
    const n = this.fmt.dataBits;
    if (j === 0) {
      if (this.level !== 0) this.state = 'waitFall'; // a glitch shorter than half a bit, not a start bit
    } else if (j <= n) this.data |= bit << (j - 1);
    else if (j === n + 1 && this.fmt.parity !== 'none') this.parityError = bit !== this.fmt.parityBit(this.data);
    else {
      if (this.level === 0) this.framingError = true;
      if (this.next === this.offsets.length) this.finish();
    }
  }

  private finish(): void {
    const f: UartFrame = { data: this.data, startPs: this.t0, framingError: this.framingError, parityError: this.parityError };
    this.state = this.level === 0 ? 'waitHigh' : 'waitFall';
    if (f.framingError || f.parityError) this.errors.push(f);
    try {
      for (const cb of this.callbacks) cb(f);
      this.deliver(f);
    } catch (e) {
      this.fail(e);
    }
  }

  /** Wait for the next character, good or bad. */
  recvFrame(): Trigger<UartFrame> {
    return this.frames.get();
  }

  stop(): void {
    this.task.cancel();
  }
}

/** What went wrong with a character, for messages: "framing error (stop bit low) in the character 0x3c starting at 1.2 us". */
export function describeUartError(f: UartFrame): string {
  const what = [f.framingError ? 'framing error (stop bit low)' : '', f.parityError ? 'parity error' : ''].filter(Boolean).join(' and ');
  return `${what} in the character 0x${f.data.toString(16).padStart(2, '0')} starting at ${formatTime(f.startPs)}`;
}

/** The test's end of a line the design drives: good bytes in order; a bad character fails the test (unless `strict: false`). */
export class UartSink extends UartMonitor {
  private readonly bytes = new SimQueue<number>();
  private readonly strict: boolean;
  /** Good characters received so far. */
  received = 0;

  constructor(line: Signal, opts: UartOptions & { readonly strict?: boolean }) {
    super(line, opts, 'UartSink');
    this.strict = opts.strict ?? true;
  }

  protected override deliver(f: UartFrame): void {
    super.deliver(f);
    if (f.framingError || f.parityError) {
      if (this.strict) this.fail(new Error(`${this.name}: ${describeUartError(f)}`));
      return;
    }
    this.received++;
    this.bytes.put(f.data);
  }

  override awaited(): boolean {
    return super.awaited() || this.bytes.waiting > 0;
  }

  /** The next good character. */
  recv(): Trigger<number> {
    return this.bytes.get();
  }

  /** The next n good characters. */
  async read(n: number): Promise<number[]> {
    const out: number[] = [];
    while (out.length < n) out.push(await this.recv());
    return out;
  }
}
