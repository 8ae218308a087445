// An AXI4 memory slave for a design's memory master (board DRAM in simulation):
//
//   const ddr = new AxiMemory(clock, axi4Ports(dut, 'm_axi_'), { size: 1 << 26, latency: 20, stall: 0.2, seed });
//   ddr.write(0x1000, bytes);        // backdoor load, no bus cycles
//   … run the design …
//   ddr.read(0x1000, 64); ddr.stats  // backdoor read; bursts, beats, error responses
//
// It runs inside the C++ loop (sim/bridge/vb_axi_mem.h) next to the stream engine, so a
// fast run keeps its speed, and it steps identically when the kernel goes edge by edge.
// A broken AXI rule (4 KiB crossing, valid dropped before ready, WLAST on the wrong
// beat, a size other than the bus) fails the simulation with the rule named.

import type { Clock } from '../tb/clock.ts';
import type { Signal } from '../tb/handle.ts';
import { FastStreams } from '../tb/fast.ts';
import { SimFailure } from '../tb/kernel.ts';
import { suggest } from '../tb/dut.ts';
import type { Model } from '../bridge/model.ts';

/** In the order vb_axi_mem.h indexes them. */
export const AXI4_FIELDS = [
  'awvalid', 'awready', 'awaddr', 'awlen', 'awsize', 'awburst',
  'wvalid', 'wready', 'wdata', 'wstrb', 'wlast',
  'bvalid', 'bready', 'bresp',
  'arvalid', 'arready', 'araddr', 'arlen', 'arsize', 'arburst',
  'rvalid', 'rready', 'rdata', 'rresp', 'rlast',
] as const;
/** The slave's outputs, which the C++ side writes. */
const DRIVEN = ['awready', 'wready', 'bvalid', 'bresp', 'arready', 'rvalid', 'rdata', 'rresp', 'rlast'] as const;

export type Axi4Ports = { readonly [K in (typeof AXI4_FIELDS)[number]]: Signal };

/** Find `<prefix>awvalid` … on a DUT object; a missing port is named in the error. */
export function axi4Ports(dut: Record<string, Signal>, prefix: string): Axi4Ports {
  const names = Object.keys(dut);
  const out: Record<string, Signal> = {};
  for (const f of AXI4_FIELDS) {
    const full = `${prefix}${f}`;
    if (!names.includes(full)) throw new Error(`AXI4 port '${full}' not found on the design${suggest(full, names)}`);
    out[f] = dut[full]!;
  }
  return out as Axi4Ports;
}

export interface AxiMemoryOptions {
  /** First byte address served (default 0). */
  base?: number;
  /** Bytes served from base; accesses outside answer DECERR. */
  size: number;
  /** Cycles from an accepted read address (or a write's last beat) to its first data beat (or response). */
  latency?: number;
  /** Chance in each cycle of withholding ready and valid, as a busy controller does. */
  stall?: number;
  seed?: number;
  name?: string;
}

export interface AxiMemoryStats {
  readBursts: number;
  readBeats: number;
  writeBursts: number;
  writeBeats: number;
  /** SLVERR or DECERR responses given. */
  errors: number;
  /** Cycles with a burst or response outstanding. */
  busyCycles: number;
}

export class AxiMemory {
  readonly id: number;
  readonly name: string;
  readonly dataBytes: number;
  private readonly fast: FastStreams;

  constructor(
    readonly clock: Clock,
    readonly ports: Axi4Ports,
    readonly opts: AxiMemoryOptions,
  ) {
    this.name = opts.name ?? `AxiMemory(${ports.araddr.path})`;
    const base = opts.base ?? 0;
    if (!Number.isSafeInteger(base) || base < 0 || !Number.isSafeInteger(opts.size) || opts.size <= 0) throw new RangeError(`${this.name}: base ${base} and size ${opts.size} must be non-negative integers, size > 0`);
    const latency = opts.latency ?? 0;
    if (!Number.isInteger(latency) || latency < 0) throw new RangeError(`${this.name}: latency ${latency} must be a whole number of cycles`);
    const stall = opts.stall ?? 0;
    if (!(stall >= 0 && stall < 1)) throw new RangeError(`${this.name}: stall probability ${stall} must be in [0, 1)`);
    this.dataBytes = ports.rdata.width / 8;
    if (ports.wdata.width !== ports.rdata.width || ports.wstrb.width !== this.dataBytes || !Number.isInteger(this.dataBytes)) {
      throw new SimFailure(`${this.name}: wdata (${ports.wdata.width}), rdata (${ports.rdata.width}) and wstrb (${ports.wstrb.width}) do not make one AXI4 data bus`);
    }
    const k = clock.kernel;
    this.fast = (k.streamEngine as FastStreams | undefined) ?? new FastStreams(clock);
    const m = k.model;
    this.id = m.axiMemAdd(AXI4_FIELDS.map((f) => ports[f].index), { base, size: opts.size, latency, seed: opts.seed ?? 7, stall });
    const driven = DRIVEN.map((f) => ports[f].index);
    driven.forEach((i) => this.fast.outputs.add(i));
    k.refreshInputs(driven);
  }

  private get model(): Model {
    return this.clock.kernel.model;
  }

  /** Store bytes without bus cycles (a backdoor, like loading DRAM before the test). */
  write(addr: number, bytes: Uint8Array | readonly number[]): void {
    const b = Uint8Array.from(bytes);
    if (b.length) this.model.axiMemWrite(this.id, addr, b);
  }

  read(addr: number, n: number): Uint8Array {
    const out = new Uint8Array(n);
    if (n) this.model.axiMemRead(this.id, addr, out);
    return out;
  }

  /** Answer SLVERR to every access in [lo, hi) from now on (hi = lo clears it). */
  failRange(lo: number, hi: number): void {
    this.model.axiMemErrorRange(this.id, lo, hi);
  }

  /** Change the latency and stall probability from the next cycle on. */
  configure(latency: number, stall: number): void {
    this.model.axiMemSet(this.id, latency, stall);
  }

  get stats(): AxiMemoryStats {
    return axiMemoryStats(this.clock.kernel.model, this.id);
  }
}

/** The counters of memory `id` on a model (also for code that runs the model itself, like xdma-sim). */
export function axiMemoryStats(model: Model, id: number): AxiMemoryStats {
  const o = model.axiMemStats(id);
  return { readBursts: o[0]!, readBeats: o[1]!, writeBursts: o[2]!, writeBeats: o[3]!, errors: o[4]!, busyCycles: o[5]! };
}
