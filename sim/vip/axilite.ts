// An AXI4-Lite master: `await axi.write(0x10, 5)`, `const v = await axi.read(0x10)`.
// Concurrent calls are serialized with a Lock; every handshake has a cycle limit so a
// slave that never answers fails with the signal values instead of hanging.

import type { Clock } from '../tb/clock.ts';
import type { Signal } from '../tb/handle.ts';
import { RisingEdge } from '../tb/triggers.ts';
import { Sampler } from '../tb/sampler.ts';
import { Lock } from '../tb/sync.ts';
import { SimTimeoutError } from '../tb/kernel.ts';
import { formatTime } from '../tb/time.ts';
import { suggest } from '../tb/dut.ts';

export interface AxiLitePorts {
  awaddr: Signal; awvalid: Signal; awready: Signal;
  wdata: Signal; wstrb?: Signal; wvalid: Signal; wready: Signal;
  bresp: Signal; bvalid: Signal; bready: Signal;
  araddr: Signal; arvalid: Signal; arready: Signal;
  rdata: Signal; rresp: Signal; rvalid: Signal; rready: Signal;
  awprot?: Signal; arprot?: Signal;
}

const REQUIRED = ['awaddr', 'awvalid', 'awready', 'wdata', 'wvalid', 'wready', 'bresp', 'bvalid', 'bready', 'araddr', 'arvalid', 'arready', 'rdata', 'rresp', 'rvalid', 'rready'] as const;
const OPTIONAL = ['wstrb', 'awprot', 'arprot'] as const;

/** Find `<prefix>awaddr` … on a DUT object; a missing one is named in the error. */
export function axiLitePorts(dut: Record<string, Signal>, prefix: string): AxiLitePorts {
  const out: Record<string, Signal> = {};
  const names = Object.keys(dut);
  for (const n of REQUIRED) {
    const full = `${prefix}${n}`;
    if (!names.includes(full)) throw new Error(`AXI4-Lite port '${full}' not found on the design${suggest(full, names)}`);
    out[n] = dut[full]!;
  }
  for (const n of OPTIONAL) if (names.includes(`${prefix}${n}`)) out[n] = dut[`${prefix}${n}`]!;
  return out as unknown as AxiLitePorts;
}

export const RESP = ['OKAY', 'EXOKAY', 'SLVERR', 'DECERR'] as const;

export class AxiLiteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AxiLiteError';
  }
}

export class AxiLiteMaster {
  private readonly lock = new Lock('axi-lite');
  private readonly s: Sampler<'awready' | 'wready' | 'bvalid' | 'bresp' | 'arready' | 'rvalid' | 'rdata' | 'rresp'>;

  constructor(
    readonly clock: Clock,
    readonly p: AxiLitePorts,
    readonly opts: { timeoutCycles?: number; name?: string } = {},
  ) {
    this.s = new Sampler(clock, { awready: p.awready, wready: p.wready, bvalid: p.bvalid, bresp: p.bresp, arready: p.arready, rvalid: p.rvalid, rdata: p.rdata, rresp: p.rresp });
    for (const sig of [p.awvalid, p.wvalid, p.bready, p.arvalid, p.rready]) sig.value = 0;
  }

  private get limit(): number {
    return this.opts.timeoutCycles ?? 1000;
  }

  private timeout(what: string, sig: Signal): never {
    const k = this.clock.kernel;
    throw new SimTimeoutError(`${this.opts.name ?? 'AXI4-Lite master'}: ${what}: no handshake within ${this.limit} cycles (at ${formatTime(k.now)}, ${sig.path} = ${sig.value})`);
  }

  /** Write `data` at `addr`; throws AxiLiteError on SLVERR/DECERR. Returns the response code. */
  async write(addr: number | bigint, data: number | bigint, strb?: number): Promise<number> {
    const p = this.p;
    await this.lock.acquire();
    try {
      p.awaddr.value = addr;
      p.wdata.value = data;
      if (p.wstrb) p.wstrb.value = strb ?? (1 << p.wstrb.width) - 1;
      if (p.awprot) p.awprot.value = 0;
      p.awvalid.value = 1;
      p.wvalid.value = 1;
      p.bready.value = 1;
      let aw = false;
      let w = false;
      for (let c = 0; !(aw && w); c++) {
        if (c >= this.limit) this.timeout(`write 0x${addr.toString(16)} address/data`, aw ? p.wready : p.awready);
        await RisingEdge(this.clock.signal);
        if (!aw && this.s.values.awready) {
          aw = true;
          p.awvalid.value = 0;
        }
        if (!w && this.s.values.wready) {
          w = true;
          p.wvalid.value = 0;
        }
      }
      for (let c = 0; ; c++) {
        if (this.s.values.bvalid && c > 0) break;
        if (c >= this.limit) this.timeout(`write 0x${addr.toString(16)} response`, p.bvalid);
        await RisingEdge(this.clock.signal);
        if (this.s.values.bvalid) break;
      }
      p.bready.value = 0;
      const resp = Number(this.s.values.bresp);
      if (resp >= 2) throw new AxiLiteError(`write 0x${addr.toString(16)} = 0x${data.toString(16)}: slave answered ${RESP[resp]}`);
      return resp;
    } finally {
      this.lock.release();
    }
  }

  /** Read at `addr`; throws AxiLiteError on SLVERR/DECERR. */
  async read(addr: number | bigint): Promise<bigint> {
    const p = this.p;
    await this.lock.acquire();
    try {
      p.araddr.value = addr;
      if (p.arprot) p.arprot.value = 0;
      p.arvalid.value = 1;
      p.rready.value = 1;
      for (let c = 0; ; c++) {
        if (c >= this.limit) this.timeout(`read 0x${addr.toString(16)} address`, p.arready);
        await RisingEdge(this.clock.signal);
        if (this.s.values.arready) break;
      }
      p.arvalid.value = 0;
      let got = !!this.s.values.rvalid;
      for (let c = 0; !got; c++) {
        if (c >= this.limit) this.timeout(`read 0x${addr.toString(16)} data`, p.rvalid);
        await RisingEdge(this.clock.signal);
        got = !!this.s.values.rvalid;
      }
      p.rready.value = 0;
      const resp = Number(this.s.values.rresp);
      if (resp >= 2) throw new AxiLiteError(`read 0x${addr.toString(16)}: slave answered ${RESP[resp]}`);
      return this.s.values.rdata;
    } finally {
      this.lock.release();
    }
  }
}
