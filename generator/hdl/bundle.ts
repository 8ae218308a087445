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
