// AXI4-Stream frames over the generic stream drivers: a source that splits a byte frame
// into beats (tkeep on the last one, tlast), and a sink that reassembles frames.

import type { Clock } from '../tb/clock.ts';
import type { Signal } from '../tb/handle.ts';
import { StreamSource, StreamSink } from './stream.ts';
import { SimQueue } from '../tb/sync.ts';
import type { Trigger } from '../tb/trigger.ts';
import { suggest } from '../tb/dut.ts';

export interface AxisPorts {
  tdata: Signal;
  tvalid: Signal;
  tready: Signal;
  tlast?: Signal;
  tkeep?: Signal;
}

export function axisPorts(dut: Record<string, Signal>, prefix: string): AxisPorts {
  const names = Object.keys(dut);
  const get = (n: string, required: boolean): Signal | undefined => {
    const full = `${prefix}${n}`;
    if (!names.includes(full)) {
      if (required) throw new Error(`AXI4-Stream port '${full}' not found on the design${suggest(full, names)}`);
      return undefined;
    }
    return dut[full];
  };
  return { tdata: get('tdata', true)!, tvalid: get('tvalid', true)!, tready: get('tready', true)!, tlast: get('tlast', false), tkeep: get('tkeep', false) };
}

function bytesPerBeat(p: AxisPorts): number {
  if (p.tdata.width % 8) throw new Error(`${p.tdata.path}: AXI4-Stream frames need a tdata width that is a whole number of bytes (it is ${p.tdata.width})`);
  return p.tdata.width / 8;
}

function dataSignals(p: AxisPorts): Signal[] {
  return [p.tdata, ...(p.tkeep ? [p.tkeep] : []), ...(p.tlast ? [p.tlast] : [])];
}

export class AxisSource {
  readonly stream: StreamSource;
  private readonly n: number;
  constructor(
    clock: Clock,
    readonly p: AxisPorts,
    opts: { idle?: number; seed?: number } = {},
  ) {
    this.n = bytesPerBeat(p);
    this.stream = new StreamSource(clock, { valid: p.tvalid, ready: p.tready, data: dataSignals(p) }, { ...opts, name: `AxisSource(${p.tdata.path})` });
  }

  /** Queue one frame of bytes. */
  send(frame: Uint8Array | readonly number[]): void {
    const bytes = Uint8Array.from(frame);
    if (bytes.length === 0) throw new RangeError('AxisSource.send: an AXI4-Stream frame has at least one byte');
    if (!this.p.tkeep && bytes.length % this.n) throw new RangeError(`AxisSource.send: ${bytes.length} bytes is not a whole number of ${this.n}-byte beats and the design has no tkeep`);
    if (!this.p.tlast && bytes.length !== this.n) throw new RangeError('AxisSource.send: without tlast a frame is exactly one beat');
    for (let off = 0; off < bytes.length; off += this.n) {
      const chunk = bytes.subarray(off, off + this.n);
      let data = 0n;
      for (let i = chunk.length - 1; i >= 0; i--) data = (data << 8n) | BigInt(chunk[i]!);
      const beat: bigint[] = [data];
      if (this.p.tkeep) beat.push((1n << BigInt(chunk.length)) - 1n);
      if (this.p.tlast) beat.push(off + this.n >= bytes.length ? 1n : 0n);
      this.stream.push(beat);
    }
  }

  idle(): Trigger<void> {
    return this.stream.idle();
  }
}

export class AxisSink {
  readonly stream: StreamSink;
  readonly frames = new SimQueue<Uint8Array>();
  private current: number[] = [];
  private readonly n: number;
  constructor(
    clock: Clock,
    readonly p: AxisPorts,
    opts: { backpressure?: number; seed?: number } = {},
  ) {
    this.n = bytesPerBeat(p);
    this.stream = new StreamSink(clock, { valid: p.tvalid, ready: p.tready, data: dataSignals(p) }, { ...opts, name: `AxisSink(${p.tdata.path})` });
    this.stream.onBeat((b) => this.beat(b as bigint[]));
  }

  private beat(vals: bigint[]): void {
    let data = vals[0]!;
    const keep = this.p.tkeep ? vals[1]! : (1n << BigInt(this.n)) - 1n;
    const last = this.p.tlast ? vals[vals.length - 1]! : 1n;
    for (let i = 0; i < this.n; i++, data >>= 8n) if ((keep >> BigInt(i)) & 1n) this.current.push(Number(data & 0xffn));
    if (last) {
      this.frames.put(Uint8Array.from(this.current));
      this.current = [];
    }
  }

  /** The next complete frame. */
  recv(): Trigger<Uint8Array> {
    return this.frames.get();
  }
}
