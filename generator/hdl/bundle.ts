// Bundles: named groups of signals with a direction per field, reused for every
// interface in the project. 'fwd' fields flow from the producer (master, source) to the
// consumer; 'bwd' fields flow back (ready, responses). Flipping swaps the two.
// Field names follow the Xilinx/ARM conventions so a prefix of `s_axi` gives
// s_axi_awvalid, s_axi_awready, … exactly as the XDMA IP and Vivado expect.

import { Bool, UInt, type Shape } from './value.ts';
import { type Signal } from './ir.ts';
import { type ModuleBuilder } from './module.ts';

export interface FieldSpec {
  readonly dir: 'fwd' | 'bwd';
  readonly shape: Shape;
}
export type BundleSpec = Readonly<Record<string, FieldSpec>>;
export type Bundle<S extends BundleSpec> = { readonly [K in keyof S]: Signal };

export const fwd = (shape: Shape): FieldSpec => ({ dir: 'fwd', shape });
export const bwd = (shape: Shape): FieldSpec => ({ dir: 'bwd', shape });

/** A valid/ready stream carrying `data`. */
export function streamSpec(data: Shape) {
  return { valid: fwd(Bool), ready: bwd(Bool), data: fwd(data) } as const;
}

/** AXI4-Stream (tvalid, tready, tdata, tkeep, tlast). */
export function axi4StreamSpec(dataWidth: number) {
  if (dataWidth % 8 !== 0) throw new RangeError(`AXI4-Stream tdata width must be a multiple of 8, got ${dataWidth}`);
  return {
    tvalid: fwd(Bool),
    tready: bwd(Bool),
    tdata: fwd(UInt(dataWidth)),
    tkeep: fwd(UInt(dataWidth / 8)),
    tlast: fwd(Bool),
  } as const;
}

/** AXI4-Lite, from the master's side. */
export function axi4LiteSpec(addrWidth: number, dataWidth: 32 | 64 = 32) {
  return {
    awvalid: fwd(Bool),
    awready: bwd(Bool),
    awaddr: fwd(UInt(addrWidth)),
    awprot: fwd(UInt(3)),
    wvalid: fwd(Bool),
    wready: bwd(Bool),
    wdata: fwd(UInt(dataWidth)),
    wstrb: fwd(UInt(dataWidth / 8)),
    bvalid: bwd(Bool),
    bready: fwd(Bool),
    bresp: bwd(UInt(2)),
    arvalid: fwd(Bool),
    arready: bwd(Bool),
    araddr: fwd(UInt(addrWidth)),
    arprot: fwd(UInt(3)),
    rvalid: bwd(Bool),
    rready: fwd(Bool),
    rdata: bwd(UInt(dataWidth)),
    rresp: bwd(UInt(2)),
  } as const;
}

/**
 * AXI4 memory-mapped, from the master's side: a single-ID master (no id fields, which
 * Vivado's interconnect and the MIG accept as width 0) with INCR bursts.
 */
export function axi4Spec(addrWidth: number, dataWidth: number) {
  if (![32, 64, 128, 256, 512, 1024].includes(dataWidth)) throw new RangeError(`AXI4 data width must be 32, 64, 128, 256, 512 or 1024 bits, got ${dataWidth}`);
  if (!Number.isInteger(addrWidth) || addrWidth < 12 || addrWidth > 64) throw new RangeError(`AXI4 address width must be from 12 to 64 bits, got ${addrWidth}`);
  return {
    awvalid: fwd(Bool),
    awready: bwd(Bool),
    awaddr: fwd(UInt(addrWidth)),
    awlen: fwd(UInt(8)),
    awsize: fwd(UInt(3)),
    awburst: fwd(UInt(2)),
    awcache: fwd(UInt(4)),
    awprot: fwd(UInt(3)),
    wvalid: fwd(Bool),
    wready: bwd(Bool),
    wdata: fwd(UInt(dataWidth)),
    wstrb: fwd(UInt(dataWidth / 8)),
    wlast: fwd(Bool),
    bvalid: bwd(Bool),
    bready: fwd(Bool),
    bresp: bwd(UInt(2)),
    arvalid: fwd(Bool),
    arready: bwd(Bool),
    araddr: fwd(UInt(addrWidth)),
    arlen: fwd(UInt(8)),
    arsize: fwd(UInt(3)),
    arburst: fwd(UInt(2)),
    arcache: fwd(UInt(4)),
    arprot: fwd(UInt(3)),
    rvalid: bwd(Bool),
    rready: fwd(Bool),
    rdata: bwd(UInt(dataWidth)),
    rresp: bwd(UInt(2)),
    rlast: bwd(Bool),
  } as const satisfies BundleSpec;
}

type Axi4 = ReturnType<typeof axi4Spec>;
type Axi4ReadKeys = Extract<keyof Axi4, `ar${string}` | `r${string}`>;
type Axi4WriteKeys = Exclude<keyof Axi4, Axi4ReadKeys>;

/** The read half of AXI4 (AR and R channels), for a master that only reads. */
export function axi4ReadSpec(addrWidth: number, dataWidth: number): Pick<Axi4, Axi4ReadKeys> {
  return Object.fromEntries(Object.entries(axi4Spec(addrWidth, dataWidth)).filter(([k]) => k.startsWith('r') || k.startsWith('ar'))) as Pick<Axi4, Axi4ReadKeys>;
}

/** The write half of AXI4 (AW, W and B channels). */
export function axi4WriteSpec(addrWidth: number, dataWidth: number): Pick<Axi4, Axi4WriteKeys> {
  return Object.fromEntries(Object.entries(axi4Spec(addrWidth, dataWidth)).filter(([k]) => !(k.startsWith('r') || k.startsWith('ar')))) as Pick<Axi4, Axi4WriteKeys>;
}

/**
 * Ports for a bundle. `role` is this module's side: 'source' (master) drives the fwd
 * fields, 'sink' (slave) drives the bwd fields.
 */
export function bundlePorts<S extends BundleSpec>(m: ModuleBuilder, prefix: string, spec: S, role: 'source' | 'sink'): Bundle<S> {
  const out: Record<string, Signal> = {};
  for (const [f, fs] of Object.entries(spec)) {
    const drives = (fs.dir === 'fwd') === (role === 'source');
    out[f] = drives ? m.output(`${prefix}_${f}`, fs.shape) : m.input(`${prefix}_${f}`, fs.shape);
  }
  return out as Bundle<S>;
}

/** Internal wires for a bundle (both directions are driven inside the module). */
export function bundleWires<S extends BundleSpec>(m: ModuleBuilder, prefix: string, spec: S): Bundle<S> {
  const out: Record<string, Signal> = {};
  for (const [f, fs] of Object.entries(spec)) out[f] = m.wire(`${prefix}_${f}`, fs.shape);
  return out as Bundle<S>;
}

/** Connect a producer to a consumer: fwd fields flow from → to, bwd fields to → from. */
export function connectBundle<S extends BundleSpec>(m: ModuleBuilder, spec: S, to: Bundle<S>, from: Bundle<S>): void {
  for (const [f, fs] of Object.entries(spec)) {
    if (fs.dir === 'fwd') m.set(to[f]!, from[f]!);
    else m.set(from[f]!, to[f]!);
  }
}
