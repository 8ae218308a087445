// A sparse byte-addressed memory for testbenches, and a responder that serves a simple
// synchronous RAM port (address, write enable, write data, read data after `latency`
// cycles) from it, the way block RAM behaves.

import type { Clock } from '../tb/clock.ts';
import type { Signal } from '../tb/handle.ts';
import { RisingEdge } from '../tb/triggers.ts';
import { Sampler } from '../tb/sampler.ts';
import { startSoon, type Task } from '../tb/task.ts';

const PAGE = 4096;

export class MemoryModel {
  private readonly pages = new Map<number, Uint8Array>();
  constructor(
    readonly size: number,
    readonly name = 'memory',
  ) {}

  private check(addr: number, n: number): void {
    if (!Number.isInteger(addr) || addr < 0 || addr + n > this.size) throw new RangeError(`${this.name}: access of ${n} byte(s) at 0x${addr.toString(16)} is outside [0, 0x${this.size.toString(16)})`);
  }

  read(addr: number, n: number): Uint8Array {
    this.check(addr, n);
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.pages.get(Math.floor((addr + i) / PAGE))?.[(addr + i) % PAGE] ?? 0;
    return out;
  }

  write(addr: number, bytes: Uint8Array | readonly number[]): void {
    this.check(addr, bytes.length);
    for (let i = 0; i < bytes.length; i++) {
      const p = Math.floor((addr + i) / PAGE);
      let page = this.pages.get(p);
      if (!page) this.pages.set(p, (page = new Uint8Array(PAGE)));
      page[(addr + i) % PAGE] = bytes[i]! & 0xff;
    }
  }

  /** A little-endian word of `bytes` bytes. */
  readWord(addr: number, bytes: number): bigint {
    const b = this.read(addr, bytes);
    let v = 0n;
    for (let i = bytes - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
    return v;
  }

  writeWord(addr: number, bytes: number, value: bigint, strobe?: bigint): void {
    const out: number[] = [];
    for (let i = 0; i < bytes; i++) out.push(Number((value >> BigInt(8 * i)) & 0xffn));
    if (strobe === undefined) this.write(addr, out);
    else out.forEach((b, i) => (strobe >> BigInt(i)) & 1n && this.write(addr + i, [b]));
  }
}

export interface SramPorts {
  addr: Signal;
  rdata: Signal;
  we?: Signal;
  wdata?: Signal;
  en?: Signal;
}

/** Serve a word-addressed synchronous RAM port from a MemoryModel. */
export class SramResponder {
  readonly task: Task<void>;
  private readonly s: Sampler<string>;
  private readonly pipe: (bigint | undefined)[];
  readonly bytes: number;

  constructor(
    readonly clock: Clock,
    readonly p: SramPorts,
    readonly mem: MemoryModel,
    readonly opts: { latency?: number } = {},
  ) {
    this.bytes = Math.ceil(p.rdata.width / 8);
    const sigs: Record<string, Signal> = { addr: p.addr };
    if (p.we) sigs.we = p.we;
    if (p.wdata) sigs.wdata = p.wdata;
    if (p.en) sigs.en = p.en;
    this.s = new Sampler(clock, sigs);
    this.pipe = Array(Math.max(1, opts.latency ?? 1)).fill(undefined);
    this.task = startSoon(() => this.loop(), `SramResponder(${p.addr.path})`);
  }

  private async loop(): Promise<void> {
    for (;;) {
      await RisingEdge(this.clock.signal);
      const v = this.s.values;
      const enabled = v.en === undefined || v.en !== 0n;
      const addr = Number(v.addr) * this.bytes;
      let rd: bigint | undefined;
      if (enabled) {
        rd = this.mem.readWord(addr, this.bytes); // read-first, like block RAM
        if (v.we) this.mem.writeWord(addr, this.bytes, v.wdata ?? 0n);
      }
      this.pipe.push(rd);
      const out = this.pipe.shift();
      if (out !== undefined) this.p.rdata.value = out & ((1n << BigInt(this.p.rdata.width)) - 1n);
    }
  }
}
