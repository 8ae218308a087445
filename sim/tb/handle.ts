// Signal handles: `dut.count.value` (bigint, signed ports read as signed), `dut.count.num`
// (a number, for ports up to 53 bits), `dut.en.value = 1`. Writes are range-checked
// against the port's width and signedness: nothing is silently truncated.

import type { Kernel } from './kernel.ts';
import type { PortInfo } from '../bridge/ports.ts';

export type Bit = 0 | 1 | 0n | 1n | boolean;
export type Writable = number | bigint | boolean;

export class SignalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SignalError';
  }
}

export class Signal {
  readonly name: string;
  readonly width: number;
  readonly signed: boolean;
  readonly direction: 'input' | 'output';
  private readonly min: bigint;
  private readonly max: bigint;

  constructor(
    readonly kernel: Kernel,
    readonly index: number,
    info: PortInfo,
    /** How the user names it, e.g. 'dut.count'. */
    readonly path: string,
  ) {
    this.name = info.name;
    this.width = info.width;
    this.signed = info.signed;
    this.direction = info.direction;
    const w = BigInt(info.width);
    this.min = info.signed ? -(1n << (w - 1n)) : 0n;
    this.max = info.signed ? (1n << (w - 1n)) - 1n : (1n << w) - 1n;
  }

  /** The current value; signed ports read as signed. */
  get value(): bigint {
    const raw = this.kernel.bits(this.index);
    return this.signed ? BigInt.asIntN(this.width, raw) : raw;
  }

  set value(v: Writable) {
    this.kernel.write(this.index, this.toRaw(v), this.path);
  }

  /** The current value as a number (ports of at most 53 bits). */
  get num(): number {
    if (this.width > 53) throw new SignalError(`${this.path} is ${this.width} bits wide; read it with .value (bigint)`);
    return Number(this.value);
  }

  /** True when any bit is set. */
  get bool(): boolean {
    return this.kernel.bits(this.index) !== 0n;
  }

  /** Raw bits to store for a value, or a SignalError naming the port and range. */
  toRaw(v: Writable): bigint {
    if (this.direction !== 'input') throw new SignalError(`${this.path} is an output of the design; only inputs can be written`);
    let b: bigint;
    if (typeof v === 'boolean') b = v ? 1n : 0n;
    else if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) throw new SignalError(`${this.path}: ${v} is not a safe integer; use a bigint`);
      b = BigInt(v);
    } else b = v;
    if (b < this.min || b > this.max) {
      throw new SignalError(`${this.path} is ${this.signed ? 'signed' : 'unsigned'} ${this.width}-bit: ${v} is outside [${this.min}, ${this.max}]`);
    }
    return BigInt.asUintN(this.width, b);
  }

  toString(): string {
    return `${this.path}=${this.value}`;
  }
}
