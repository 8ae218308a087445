// Weight tiles from board DRAM for one run of the ternary core, over the read half of an
// AXI4 master. A run reads tiles first, first + 1, … in order (every n-tile's k-tiles,
// n-tile after n-tile: core.ts), so the fetcher streams one contiguous region ahead of
// the array into a tile FIFO.
//
// How many tiles the run needs is counted out by addition, one n-tile per cycle
// (k_tiles added while n_base steps by cols to N), so no multiplier sits in front of the
// first request; counting stays at most a burst ahead of the requests. A burst is issued
// when its tiles are counted, fit in the FIFO beside those already requested (so R
// beats are never refused and RREADY stays high), and stop at a 4 KiB page or the end of
// the region. The FIFO holds two bursts: one draining into the array while the next is
// in flight.
//
// `flush` (the core's soft reset) stops the run; read bursts already requested cannot be
// recalled on AXI, so their beats are counted in and dropped before `busy` falls.

import { defineModule, UInt, Bool, mux, cat, lit, bundlePorts, streamSpec, axi4ReadSpec, widthFor, type Value } from '../../hdl/index.ts';
import { nameWith } from '../naming.ts';
import { fifo } from '../fifo.ts';
import { dramLayout, tileAddress, DRAM_UNIT_TAGS, DRAM_UNIT_DEFAULTS, type DramParams } from './dram-layout.ts';
import { log2ceil } from './params.ts';

export interface FetchParams extends DramParams {
  readonly wordBits: number;
  readonly ktMax: number;
  readonly cols: number;
  [k: string]: number;
}

export const dramFetch = defineModule(
  'dram_fetch',
  (m, p: FetchParams) => {
    const L = dramLayout(p);
    const wA = log2ceil(p.wdepth);
    const depth = 2 * L.burstTiles;
    const start = m.input('start', Bool);
    const first = m.input('first', UInt(wA));
    const kTiles = m.input('k_tiles', UInt(widthFor(p.ktMax)));
    const n = m.input('n', UInt(32));
    const flush = m.input('flush', Bool);
    const tiles = bundlePorts(m, 'tiles', streamSpec(UInt(p.wordBits)), 'source');
    const busy = m.output('busy', Bool);
    const rerr = m.output('rerr', Bool); // an R beat answered SLVERR or DECERR
    const axi = bundlePorts(m, 'm_axi', axi4ReadSpec(p.addr, p.data), 'source');

    const q = m.instance('tile_fifo', fifo({ width: p.wordBits, depth }));
    m.set(m.portOf('tile_fifo', 'rst'), m.sync.rst!.or(flush));
    m.set(tiles.valid, q.out.valid);
    m.set(tiles.data, q.out.data);
    m.set(q.out.ready, tiles.ready);

    // ---- counting the run's tiles -----------------------------------------------------
    const walking = m.reg('walking', Bool);
    const nBase = m.reg('n_base', UInt(32));
    const avail = m.reg('avail', UInt(widthFor(L.burstTiles + p.ktMax))); // counted, not yet requested
    const idx = m.reg('tile_idx', UInt(wA)); // the next tile to request
    const walkStep = m.let('walk_step', walking.and(avail.lt(L.burstTiles)));
    const lastN = m.let('last_n', nBase.zext(33).add(p.cols).ge(n.zext(33)));

    // ---- requests ------------------------------------------------------------------------
    const inflight = m.reg('inflight', UInt(widthFor(depth))); // tiles requested, not yet in the FIFO
    const pendingW = widthFor(depth * L.beatsPerSlot + p.burst);
    const pending = m.reg('pending', UInt(pendingW)); // beats requested, not yet received
    const flushing = m.reg('flushing', Bool);
    const arValid = m.reg('ar_valid', Bool);
    const arAddr = m.reg('ar_addr', UInt(p.addr));
    const arLen = m.reg('ar_len', UInt(8));
    const cW = widthFor(Math.max(L.burstTiles + p.ktMax, L.edgeTiles, 2 * depth + 1));
    const toEdge = L.edgeTiles === 1 ? lit(1, UInt(cW)) : lit(L.edgeTiles, UInt(cW)).sub(idx.slice(Math.log2(L.edgeTiles) - 1, 0).zext(cW));
    const min = (a: Value, b: Value): Value => mux(a.lt(b), a, b);
    const want = m.let('want', min(min(avail.zext(cW), lit(L.burstTiles, UInt(cW))), toEdge));
    const used = q.level.zext(cW).add(inflight.zext(cW));
    const issue = m.let(
      'issue',
      arValid.not().and(flushing.not()).and(want.ne(0)).and(walking.not().or(avail.ge(L.burstTiles))).and(used.add(want).le(depth)),
    );
    const wantBeats = want.zext(cW + 8).shl(Math.log2(L.beatsPerSlot));
    m.set(axi.arvalid, arValid);
    m.set(axi.araddr, arAddr);
    m.set(axi.arlen, arLen);
    m.set(axi.arsize, Math.log2(p.data / 8));
    m.set(axi.arburst, 1); // INCR
    m.set(axi.arcache, 0b0011); // normal, bufferable: what Xilinx's MIG and interconnect expect
    m.set(axi.arprot, 0);
    m.when(arValid.and(axi.arready), () => m.set(arValid, 0));
    m.when(issue, () => {
      m.set(arValid, 1);
      m.set(arAddr, tileAddress(p, idx));
      m.set(arLen, wantBeats.sub(1).trunc(8));
      m.set(idx, idx.add(want.trunc(Math.min(cW, wA)).zext(wA)));
    });

    // ---- beats in --------------------------------------------------------------------------
    m.set(axi.rready, 1); // room for every requested beat was reserved in the FIFO
    m.unused(axi.rlast, 'beats are counted: every burst is whole tiles, and pending tells the run apart');
    const rFire = m.let('r_fire', axi.rvalid);
    const take = m.let('take', rFire.and(flushing.not()));
    // Beat within the tile's slot (only when a tile takes several beats).
    const beat = L.beatsPerSlot > 1 ? m.reg('beat', UInt(Math.log2(L.beatsPerSlot))) : undefined;
    const tb = L.beatsPerTile;
    let tile: Value;
    if (tb === 1) tile = axi.rdata;
    else {
      // Earlier beats of the tile, the oldest lowest: a beat enters at the top and shifts down.
      const asm = m.reg('tile_asm', UInt((tb - 1) * p.data));
      m.when(take, () => m.set(asm, tb === 2 ? axi.rdata : cat(axi.rdata, asm.slice((tb - 1) * p.data - 1, p.data))));
      tile = cat(axi.rdata, asm);
    }
    const lastReal = beat ? beat.eq(tb - 1) : lit(1, Bool);
    const push = m.let('push', take.and(lastReal));
    m.set(q.in.valid, push);
    m.set(q.in.data, tile.slice(p.wordBits - 1, 0));
    if (beat) m.when(take, () => m.set(beat, beat.add(1)));
    m.set(rerr, take.and(axi.rresp.ne(0)));

    // ---- counters, with the walker and the requests in one place ------------------------------
    m.set(avail, avail.add(mux(walkStep, kTiles.zext(avail.width), 0)).sub(mux(issue, want.trunc(avail.width), 0)));
    m.set(inflight, inflight.add(mux(issue, want.trunc(inflight.width), 0)).sub(mux(push, 1, 0)));
    m.set(pending, pending.add(mux(issue, wantBeats.trunc(pendingW), 0)).sub(mux(rFire, 1, 0)));
    m.when(walkStep, () => m.when(lastN, () => m.set(walking, 0)).otherwise(() => m.set(nBase, nBase.add(p.cols))));
    m.when(start, () => {
      m.set(walking, 1);
      m.set(nBase, 0);
      m.set(avail, 0);
      m.set(idx, first);
    });
    m.when(flushing.and(pending.eq(0)), () => m.set(flushing, 0));
    m.when(flush, () => {
      m.set(flushing, 1);
      m.set(walking, 0);
      m.set(avail, 0);
      m.set(inflight, 0);
      if (beat) m.set(beat, 0);
    });
    m.set(busy, walking.or(avail.ne(0)).or(pending.ne(0)).or(flushing).or(q.out.valid));
    return { start, first, kTiles, n, flush, tiles, busy, rerr, axi };
  },
  {
    name: (p) => nameWith(`dram_fetch_${p.wordBits}b_axi${p.data}`, p, DRAM_UNIT_TAGS, DRAM_UNIT_DEFAULTS),
  },
);
