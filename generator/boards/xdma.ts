// The PCIe top: the board SoC behind the user side of the Xilinx XDMA IP. The host
// reaches it through the XDMA driver's character devices: requests are written to
// `…_h2c_0` (AXI4-Stream H2C, into the command engine as bytes), responses are read from
// `…_c2h_0` (AXI4-Stream C2H, one response per packet), and `…_user` (AXI4-Lite) holds the
// registers below: identity and shape without a DMA round trip, link counters, a reset.
// Port names follow the IP's user side, so a block design connects them by name.

import { defineModule, UInt, Bool, cat, lit, bundlePorts, connectBundle, axi4LiteSpec, axi4StreamSpec, axi4Spec } from '../hdl/index.ts';
import { board, validateBoard, engineParams, BYTES, BOARD_TAGS, type BoardParams } from '../cores/board.ts';
import { nameWith } from '../cores/naming.ts';
import { BOARD_PARAMS, defaultsOf } from '../cores/param-table.ts';
import { dramParams } from '../cores/ternary/params.ts';
import { axilRegs } from '../cores/link/axil-regs.ts';
import { axisToBytes, bytesToAxis, validateAxis } from '../cores/link/axis-bytes.ts';
import { XDMA_MAGIC, XDMA_REG, XDMA_NREGS as NREGS } from '../../common/xdma-regs.ts';

export interface XdmaParams extends BoardParams {
  /** The IP's AXI data width (tdata bits). */
  readonly axis: number;
}

// The register map and MAGIC live in common/, shared with the host's XDMA transport and xdma-sim.
export { XDMA_MAGIC, XDMA_REG };

/** What differs from the board SoC's defaults, and the IP's data width. */
export const XDMA_DEFAULTS: Readonly<Record<string, number>> = { rows: 16, cols: 16, kmax: 4096, mmax: 8, wdepth: 4096, stage: 16, axis: 64 };

export const xdmaTop = defineModule(
  'board_xdma',
  (m, p: XdmaParams) => {
    // The XDMA IP's user clock and its active-low reset.
    const aresetn = m.domain('sync', { clk: 'axi_aclk', rst: 'axi_aresetn', active: 'low' }).rst!;
    const { awprot: _aw, arprot: _ar, ...liteSpec } = axi4LiteSpec(32);
    const streamSpec = axi4StreamSpec(p.axis);
    const { tlast: _tl, ...h2cSpec } = streamSpec; // the converter needs no tlast: frames delimit themselves
    const lite = bundlePorts(m, 's_axil', liteSpec, 'sink');
    const h2cIn = bundlePorts(m, 's_axis_h2c', streamSpec, 'sink');
    const c2hOut = bundlePorts(m, 'm_axis_c2h', streamSpec, 'source');
    const busy = m.output('busy', Bool);

    const regs = m.instance('regs', axilRegs({ regs: NREGS, addr: 32 }));
    const h2c = m.instance('h2c', axisToBytes({ width: p.axis }));
    const c2h = m.instance('c2h', bytesToAxis({ width: p.axis }));
    const soc = m.instance('soc', board({ ...p, phy: 0 }));

    // CONTROL bit 0 resets everything behind the register bank for one cycle.
    const softReset = m.reg('soft_reset', Bool);
    m.set(softReset, regs.wrEn.bit(XDMA_REG.CONTROL / 4).and(regs.wrStrb.bit(0)).and(regs.wrData.bit(0)));
    const reset = m.let('reset', aresetn.not().or(softReset));
    m.set(m.portOf('regs', 'rst'), aresetn.not());
    for (const inst of ['h2c', 'c2h', 'soc']) m.set(m.portOf(inst, 'rst'), reset);

    connectBundle(m, liteSpec, regs.s, lite);
    connectBundle(m, h2cSpec, h2c.s, h2cIn);
    connectBundle(m, streamSpec, c2hOut, c2h.mAxis);
    connectBundle(m, BYTES, soc.rx!, h2c.out);
    connectBundle(m, BYTES, c2h.inp, soc.tx!);
    m.set(c2h.inLast, soc.txLast!);
    m.set(busy, soc.busy);
    // Weights in board DRAM: the core's masters, for the MIG (through a clock converter):
    // m_axi_ddr_*, or m_axi_ddr0_* … with ports > 1 (into one controller's interconnect, or one each).
    const dp = dramParams(p);
    if (dp) for (let j = 0; j < dp.ports; j++) connectBundle(m, axi4Spec(dp.addr, dp.data), bundlePorts(m, dp.ports === 1 ? 'm_axi_ddr' : `m_axi_ddr${j}`, axi4Spec(dp.addr, dp.data), 'source'), soc.axis![j]!);
    const memError = dp ? m.output('mem_error', Bool) : undefined;
    if (memError) m.set(memError, m.portOf('soc', 'mem_error'));

    // Link counters, for a host that wants to see traffic without the protocol.
    const h2cBytes = m.reg('h2c_bytes', UInt(32));
    const c2hBytes = m.reg('c2h_bytes', UInt(32));
    const responses = m.reg('responses', UInt(32));
    const h2cPackets = m.reg('h2c_packets', UInt(32));
    m.when(h2cIn.tvalid.and(h2cIn.tready).and(h2cIn.tlast), () => m.set(h2cPackets, h2cPackets.add(1)));
    const txFire = soc.tx!.valid.and(soc.tx!.ready);
    m.when(h2c.out.valid.and(h2c.out.ready), () => m.set(h2cBytes, h2cBytes.add(1)));
    m.when(txFire, () => m.set(c2hBytes, c2hBytes.add(1)));
    m.when(txFire.and(soc.txLast!), () => m.set(responses, responses.add(1)));

    const e = engineParams(p);
    const word = (v: number) => lit(v >>> 0, UInt(32));
    const values = [
      word(XDMA_MAGIC),
      word(p.rows | (p.cols << 8) | (p.act << 16) | (p.format << 24)),
      word(0), // CONTROL reads 0
      cat(lit(0, UInt(29)), memError ?? lit(0, Bool), c2hOut.tvalid, soc.busy),
      h2cBytes,
      c2hBytes,
      responses,
      h2cPackets,
      ...[e.h0, e.h1, e.h2, e.h3, e.h4, e.h5, e.h6, e.h7].map(word),
    ];
    m.set(regs.values, cat(...values.reverse()));
    return { lite, h2c: h2cIn, c2h: c2hOut, busy };
  },
  {
    name: (p) => nameWith(`board_${p.rows}x${p.cols}_xdma${p.axis}${p.dram ? `_ddr${p.dram}` : ''}`, p, BOARD_TAGS, { ...defaultsOf(BOARD_PARAMS), ...XDMA_DEFAULTS }),
    validate: (p) => {
      validateBoard({ ...p, phy: 0 });
      validateAxis({ width: p.axis });
    },
  },
);
