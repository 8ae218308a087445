// An AXI4-Lite slave over a bank of 32-bit registers: what the XDMA IP's M_AXI_LITE (the
// host's `…_user` device) reads and writes. The owner supplies every register's value
// and gets a one-cycle pulse per register written. An address past the bank answers
// SLVERR, so a host reading the wrong BAR offset sees an error, not a zero.

import { defineModule, UInt, Bool, select, lit, cat, bundlePorts, axi4LiteSpec, widthFor, type Value } from '../../hdl/index.ts';
import { nameWith } from '../naming.ts';

export interface AxilRegsParams {
  /** Registers (a power of two), at byte addresses 0, 4, 8, … */
  readonly regs: number;
  /** Address bits on the bus (the XDMA IP's M_AXI_LITE has 32). */
  readonly addr: number;
  [k: string]: number;
}

export const RESP_OKAY = 0;
export const RESP_SLVERR = 2;

export const axilRegs = defineModule(
  'axil_regs',
  (m, p: AxilRegsParams) => {
    const { awprot: _aw, arprot: _ar, ...spec } = axi4LiteSpec(p.addr);
    const s = bundlePorts(m, 's_axil', spec, 'sink');
    const values = m.input('values', UInt(32 * p.regs));
    const wrEn = m.output('wr_en', UInt(p.regs), { reg: {} });
    const wrData = m.output('wr_data', UInt(32), { reg: {} });
    const wrStrb = m.output('wr_strb', UInt(4), { reg: {} });
    const ib = widthFor(p.regs - 1);
    const index = (a: Value): Value => a.slice(ib + 1, 2);
    const inRange = (a: Value): Value => a.lt(4 * p.regs);
    const resp = (a: Value): Value => cat(inRange(a).not(), lit(0, Bool)); // OKAY or SLVERR

    // Write: address and data are taken together, in one cycle, once both are offered.
    const bvalid = m.reg('bvalid', Bool);
    const bresp = m.reg('bresp', UInt(2));
    const take = m.let('write_take', s.awvalid.and(s.wvalid).and(bvalid.not()));
    m.set(s.awready, take);
    m.set(s.wready, take);
    m.set(s.bvalid, bvalid);
    m.set(s.bresp, bresp);
    m.set(wrEn, 0);
    m.when(take, () => {
      m.set(bvalid, 1);
      m.set(bresp, resp(s.awaddr));
      m.set(wrData, s.wdata);
      m.set(wrStrb, s.wstrb);
      m.when(inRange(s.awaddr), () => m.set(wrEn, lit(1, UInt(p.regs)).shl(index(s.awaddr))));
    }).elseWhen(s.bready, () => m.set(bvalid, 0));

    // Read: the value is sampled when the address is taken and held until rready.
    const rvalid = m.reg('rvalid', Bool);
    const rdata = m.reg('rdata', UInt(32));
    const rresp = m.reg('rresp', UInt(2));
    m.set(s.arready, rvalid.not());
    m.set(s.rvalid, rvalid);
    m.set(s.rdata, rdata);
    m.set(s.rresp, rresp);
    m.when(s.arvalid.and(rvalid.not()), () => {
      m.set(rvalid, 1);
      m.set(rdata, select(index(s.araddr), Array.from({ length: p.regs }, (_, i) => [i, values.slice(32 * i + 31, 32 * i)] as const), lit(0, UInt(32))));
      m.set(rresp, resp(s.araddr));
    }).elseWhen(s.rready, () => m.set(rvalid, 0));
    return { s, values, wrEn, wrData, wrStrb };
  },
  {
    name: (p) => nameWith(`axil_regs_${p.regs}`, p, [['addr', 'a']], { addr: 32 }),
    validate: (p) => {
      if (!Number.isInteger(Math.log2(p.regs)) || p.regs < 2 || p.regs > 1024) throw new RangeError(`regs=${p.regs}: a power of two from 2 to 1024`);
      if (p.addr < widthFor(4 * p.regs - 1) || p.addr > 64) throw new RangeError(`addr=${p.addr}: at least ${widthFor(4 * p.regs - 1)} bits for ${p.regs} registers, at most 64`);
    },
  },
);
