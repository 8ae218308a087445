// Weight tiles into board DRAM over the write half of an AXI4 master: each tile is one
// burst of its beats at base + index * stride (dram-layout.ts). The address and the
// first data beat are offered together (AXI4 lets a slave take them in either order),
// and up to MAX_OUTSTANDING write responses may be awaited while the next tiles go out.
// `busy` stays high until every response is in, so a run started after it falls reads
// what was written: AXI orders nothing between the read and write channels.

import { defineModule, UInt, Bool, mux, lit, select, bundlePorts, streamSpec, axi4WriteSpec, widthFor } from '../../hdl/index.ts';
import { nameWith } from '../naming.ts';
import { dramLayout, tileAddress, DRAM_UNIT_TAGS, DRAM_UNIT_DEFAULTS, type DramParams } from './dram-layout.ts';
import { log2ceil } from './params.ts';

const MAX_OUTSTANDING = 8;

export interface StoreParams extends DramParams {
  [k: string]: number;
}

export const dramStore = defineModule(
  'dram_store',
  (m, p: StoreParams) => {
    const L = dramLayout(p);
    const wA = log2ceil(p.wdepth);
    const tb = L.beatsPerTile;
    const bytes = p.data / 8;
    const wordBytes = Math.ceil(p.wordBits / 8);
    // A tile and the index it goes to, the index in the top bits.
    const tiles = bundlePorts(m, 'tiles', streamSpec(UInt(wA + p.wordBits)), 'sink');
    const busy = m.output('busy', Bool);
    const werr = m.output('werr', Bool); // a write answered SLVERR or DECERR
    const axi = bundlePorts(m, 'm_axi', axi4WriteSpec(p.addr, p.data), 'source');

    const awValid = m.reg('aw_valid', Bool);
    const awAddr = m.reg('aw_addr', UInt(p.addr));
    const wActive = m.reg('w_active', Bool);
    const wBuf = m.reg('w_buf', UInt(tb * p.data));
    const beat = m.reg('beat', UInt(widthFor(Math.max(1, tb - 1))));
    const outstanding = m.reg('outstanding', UInt(widthFor(MAX_OUTSTANDING)));

    const accept = m.let('accept', tiles.valid.and(tiles.ready));
    m.set(tiles.ready, awValid.not().and(wActive.not()).and(outstanding.lt(MAX_OUTSTANDING)));
    m.when(accept, () => {
      m.set(awValid, 1);
      m.set(awAddr, tileAddress(p, tiles.data.slice(wA + p.wordBits - 1, p.wordBits)));
      m.set(wActive, 1);
      m.set(wBuf, tiles.data.slice(p.wordBits - 1, 0).zext(tb * p.data));
      m.set(beat, 0);
    });

    m.set(axi.awvalid, awValid);
    m.set(axi.awaddr, awAddr);
    m.set(axi.awlen, tb - 1);
    m.set(axi.awsize, Math.log2(bytes));
    m.set(axi.awburst, 1); // INCR
    m.set(axi.awcache, 0b0011);
    m.set(axi.awprot, 0);
    m.when(awValid.and(axi.awready), () => m.set(awValid, 0));

    // Beat i carries bytes [i * bytes, (i + 1) * bytes) of the tile; bytes past its end are not written.
    const strobe = (i: number): bigint => (1n << BigInt(Math.max(0, Math.min(bytes, wordBytes - i * bytes)))) - 1n;
    const lastBeat = beat.eq(tb - 1);
    m.set(axi.wvalid, wActive);
    m.set(axi.wdata, wBuf.slice(p.data - 1, 0));
    m.set(axi.wstrb, tb === 1 ? lit(strobe(0), UInt(bytes)) : select(beat, Array.from({ length: tb }, (_, i) => [i, lit(strobe(i), UInt(bytes))] as const), lit(0, UInt(bytes))));
    m.set(axi.wlast, lastBeat);
    m.when(wActive.and(axi.wready), () => {
      if (tb > 1) m.set(wBuf, wBuf.shr(p.data));
      m.set(beat, beat.add(1));
      m.when(lastBeat, () => m.set(wActive, 0));
    });

    m.set(axi.bready, 1);
    m.set(outstanding, outstanding.add(mux(accept, 1, 0)).sub(mux(axi.bvalid, 1, 0)));
    m.set(werr, axi.bvalid.and(axi.bresp.ne(0)));
    m.set(busy, awValid.or(wActive).or(outstanding.ne(0)));
    return { tiles, busy, werr, axi };
  },
  {
    name: (p) => nameWith(`dram_store_${p.wordBits}b_axi${p.data}`, p, DRAM_UNIT_TAGS, DRAM_UNIT_DEFAULTS),
  },
);
