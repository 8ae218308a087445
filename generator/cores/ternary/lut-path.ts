// The core's table-lookup path (jmax > 0): the lut_array (lut-array.ts) and the sequencer
// its activation-stationary dataflow needs, behind the same registers and streams as the
// adder columns (core.ts selects it). The loops (README.md, "A table-lookup array"):
//
//   for block of up to jmax n-tiles:  for kt:  for m:  tables from x[m][kt]    (fill, overlapped)
//                                                       for j < J:  acc[m][j] += tile(n0 + j, kt) . x[m][kt]
//                                     drain acc[m][j] j-major, m-minor into the output FIFO
//
// The drain keeps today's y order (n-tile major, token minor), so the host and
// common/core-layout are unchanged; it stalls the next block (J*M cycles a block) because
// the accumulators are one bank with one read port. Blocks are jmax n-tiles, the last one
// the rest: balancing them needs a divider at the start, not built. The cycle count is
// lutCycles in common/core-model.ts; a change here must keep the regression's CYCLES check.
//
// The array runs with pipe=out: its dot products are exact, so the accumulator adds two
// operands. pipe=cs's carry-save pair is only exact modulo 2^dotBits, and adding both halves
// into an accBits accumulator would need the compressor (and its registers) accBits wide.

import { UInt, Bool, cat, lit, mux, type ModuleBuilder, type Signal, type Value } from '../../hdl/index.ts';
import type { RunInputs } from './path-inputs.ts';
import { lutArray, lutArrayLatency, type LutArrayParams } from './lut-array.ts';
import { tileCodes } from './decode.ts';
import { kTileLaneMask } from './lanes.ts';
import { log2ceil, coreWidths, type Derived, type TernaryParams } from './params.ts';
import { LUT_FILL, LUT_LATENCY } from '../../../common/core-model.ts';

/** The run's inputs; its accumulators (amem) hold mmax * jmax words of cols * accBits. */
export interface LutPathInputs extends RunInputs {
  /** The output FIFO has room for the result read now. */
  readonly room: Value;
  readonly out: { readonly valid: Signal; readonly data: Signal };
}

export function lutArrayParams(p: TernaryParams): LutArrayParams {
  return { rows: p.rows, cols: p.cols, act: p.act, fill: LUT_FILL, pipe: 'out' };
}

export function lutPath(m: ModuleBuilder, p: TernaryParams, d: Derived, io: LutPathInputs): { stall: Value; wstall: Value; idle: Value } {
  const ap = lutArrayParams(p);
  if (lutArrayLatency(ap) !== LUT_LATENCY) throw new Error(`internal: the table-lookup array's latency ${lutArrayLatency(ap)} is not common/core-model.ts's LUT_LATENCY ${LUT_LATENCY}`);
  const R = p.rows;
  const C = p.cols;
  const jmax = p.jmax!;
  const { kW, mW, wA, xA, ktW } = coreWidths(p, d);
  const jW = log2ceil(jmax + 1);
  const nW = io.N.width;
  const aA = io.amem.mem.addrWidth;
  const mA = log2ceil(p.mmax);
  const jA = log2ceil(jmax);
  // Accumulator of token mm, n-tile jj of the block: mm * jmax + jj.
  const accAddr = (mm: Value, jj: Value): Value => {
    const parts = [...(mA ? [mm.trunc(mA)] : []), ...(jA ? [jj.trunc(jA)] : [])];
    return parts.length ? cat(...parts).zext(aA) : lit(0, UInt(aA));
  };

  // ---- block state -------------------------------------------------------------------------
  const feeding = m.reg('lut_feeding', Bool); // a block's beats and tiles, until its last sum is written
  const draining = m.reg('lut_draining', Bool);
  const nextCol = m.reg('lut_next_col', UInt(nW + 1)); // first column after the tiles read so far in the block's first pass
  const J = m.reg('lut_j', UInt(jW)); // the block's n-tiles, known after its first pass
  const jKnown = m.reg('lut_j_known', Bool);
  const rowBase = m.reg('lut_row_base', UInt(wA)); // tile (n0, kt); after a block's last read, the next block's (n0', 0)

  // ---- activation beats: (kt, m), m minor --------------------------------------------------
  const xMore = m.reg('lut_x_more', Bool);
  const xHeld = m.reg('lut_x_held', Bool);
  const xm = m.reg('lut_xm', UInt(mW));
  const xkt = m.reg('lut_xkt', UInt(ktW));
  const xAddr = m.reg('lut_x_addr', UInt(xA + 1)); // xm * k_tiles + xkt
  const arr = m.instance('lut', lutArray(ap));
  const xAccept = m.let('lut_x_accept', xHeld.and(arr.xReady!));
  const xRead = m.let('lut_x_read', feeding.and(xMore).and(xHeld.not().or(xAccept)));
  const xWord = io.xmem.readSync(xAddr.trunc(xA), { enable: xRead, name: 'lut_x_word' });
  const xMask = m.reg('lut_x_mask', UInt(R));
  const maskNow = kTileLaneMask(m, R, io.K, xkt, kW, ktW);
  const lastXm = m.let('lut_last_xm', xm.zext(mW).add(1).eq(io.M));
  const lastXkt = m.let('lut_last_xkt', xkt.add(1).eq(io.kTiles));
  m.when(xRead, () => {
    m.set(xMask, maskNow);
    m.when(lastXm.not(), () => {
      m.set(xm, xm.add(1));
      m.set(xAddr, xAddr.add(io.kTiles.zext(xA + 1)));
    }).otherwise(() => {
      m.set(xm, 0);
      m.set(xkt, xkt.add(1));
      m.set(xAddr, xkt.zext(xA + 1).add(1));
      m.when(lastXkt, () => m.set(xMore, 0));
    });
  });
  m.when(xRead, () => m.set(xHeld, 1)).elseWhen(xAccept, () => m.set(xHeld, 0));
  const lanes: Value[] = [];
  for (let r = R - 1; r >= 0; r--) lanes.push(mux(xMask.bit(r), xWord.slice(r * p.act + p.act - 1, r * p.act), 0));
  m.set(arr.x!, cat(...lanes));
  m.set(arr.xValid!, xHeld);

  // ---- weight tiles: (kt, m, j), j minor; tile (n0 + j, kt) at wbase + (n0 + j) * k_tiles + kt --------------
  const wMore = m.reg('lut_w_more', Bool);
  const wHeld = m.reg('lut_w_held', Bool);
  const fj = m.reg('lut_fj', UInt(jW));
  const fm = m.reg('lut_fm', UInt(mW));
  const fkt = m.reg('lut_fkt', UInt(ktW));
  const tAddr = m.reg('lut_t_addr', UInt(wA));
  const take = m.let('lut_take', wHeld.and(arr.wReady!));
  const wRead = m.let('lut_w_read', feeding.and(wMore).and(wHeld.not().or(take)));
  const wWord = io.wmemRead(tAddr, wRead);
  const lastJ = m.let('lut_last_j', mux(jKnown, fj.add(1).eq(J), fj.add(1).eq(jmax).or(nextCol.add(C).ge(io.N.zext(nW + 1)))));
  const lastFm = m.let('lut_last_fm', fm.zext(mW).add(1).eq(io.M));
  const lastFkt = m.let('lut_last_fkt', fkt.add(1).eq(io.kTiles));
  // What the held tile's result does: its accumulator, whether it starts or ends a sum, ends the block.
  const tagM = m.reg('lut_tag_m', UInt(mW));
  const tagJ = m.reg('lut_tag_j', UInt(jW));
  const tagFirst = m.reg('lut_tag_first', Bool);
  const tagLastJ = m.reg('lut_tag_wlast', Bool);
  const tagEnd = m.reg('lut_tag_end', Bool);
  m.when(wRead, () => {
    m.set(tagM, fm);
    m.set(tagJ, fj);
    m.set(tagFirst, fkt.eq(0));
    m.set(tagLastJ, lastJ);
    m.set(tagEnd, lastJ.and(lastFm).and(lastFkt));
    m.when(jKnown.not(), () => m.set(nextCol, nextCol.add(C)));
    m.when(lastJ.not(), () => {
      m.set(fj, fj.add(1));
      m.set(tAddr, tAddr.add(io.kTiles.zext(wA)));
    }).otherwise(() => {
      m.set(fj, 0);
      m.set(jKnown, 1);
      m.when(jKnown.not(), () => m.set(J, fj.add(1)));
      m.when(lastFm.not(), () => {
        m.set(fm, fm.add(1));
        m.set(tAddr, rowBase);
      }).otherwise(() => {
        m.set(fm, 0);
        m.when(lastFkt.not(), () => {
          m.set(fkt, fkt.add(1));
          m.set(rowBase, rowBase.add(1));
          m.set(tAddr, rowBase.add(1));
        }).otherwise(() => {
          m.set(wMore, 0);
          m.set(rowBase, tAddr.add(1));
        });
      });
    });
  });
  m.when(wRead, () => m.set(wHeld, 1)).elseWhen(take, () => m.set(wHeld, 0));
  m.set(arr.w!, tileCodes(m, p, d.tileBytes, wWord));
  m.set(arr.wValid!, wHeld);
  m.set(arr.wLast!, tagLastJ);

  // ---- accumulate: the read is issued as the tile is taken (latency 1), the sum written as its dot products arrive ----
  const rM = m.reg('lut_r_m', UInt(mW));
  const rJ = m.reg('lut_r_j', UInt(jW));
  const rFirst = m.reg('lut_r_first', Bool);
  const rEnd = m.reg('lut_r_end', Bool);
  m.when(take, () => {
    m.set(rM, tagM);
    m.set(rJ, tagJ);
    m.set(rFirst, tagFirst);
    m.set(rEnd, tagEnd);
  });
  const dv = arr.yValid!;
  // Drain counters: accumulator (dm, dj) is read, and pushed the cycle after.
  const dm = m.reg('lut_dm', UInt(mW));
  const dj = m.reg('lut_dj', UInt(jW));
  const drainGo = m.let('lut_drain_go', draining.and(io.room));
  const drainV = m.reg('lut_drain_v', Bool);
  m.set(drainV, drainGo);
  // One read port: the drain runs only after the block's last sum is written, so the two never meet.
  // No forwarding: a sum is read again at the earliest a beat (>= LUT_FILL cycles) after it was written.
  const accOld = io.amem.readSync(mux(draining, accAddr(dm, dj), accAddr(tagM, tagJ)), { enable: mux(draining, drainGo, take.and(tagFirst.not())), name: 'lut_acc_word' });
  const dots = arr.dot!;
  const dotBits = d.dotBits;
  const sums: Value[] = [];
  for (let c = 0; c < C; c++) {
    const old = accOld.slice(c * d.accBits + d.accBits - 1, c * d.accBits).asSigned();
    const dot = dots.slice(c * dotBits + dotBits - 1, c * dotBits).asSigned();
    sums.push(m.let(`lut_sum${c}`, mux(rFirst, 0, old).add(dot.ext(d.accBits))));
  }
  m.when(dv, () => io.amem.write(accAddr(rM, rJ), cat(...[...sums].reverse().map((s) => s.asUnsigned()))));
  const blockDone = m.let('lut_block_done', dv.and(rEnd));

  // ---- drain, and on to the next block ------------------------------------------------------------
  const lastDm = m.let('lut_last_dm', dm.zext(mW).add(1).eq(io.M));
  const lastDj = m.let('lut_last_dj', dj.add(1).eq(J));
  const drainEnd = m.let('lut_drain_end', drainGo.and(lastDm).and(lastDj));
  const moreBlocks = m.let('lut_more_blocks', nextCol.lt(io.N.zext(nW + 1)));
  m.when(blockDone, () => {
    m.set(feeding, 0);
    m.set(draining, 1);
    m.set(dm, 0);
    m.set(dj, 0);
  });
  m.when(drainGo, () => {
    m.when(lastDm.not(), () => m.set(dm, dm.add(1))).otherwise(() => {
      m.set(dm, 0);
      m.set(dj, dj.add(1));
    });
  });
  m.when(drainEnd, () => m.set(draining, 0));
  const nextBlock = m.let('lut_next_block', io.begin.or(drainEnd.and(moreBlocks)));
  m.when(nextBlock, () => {
    m.set(feeding, 1);
    m.set(xMore, 1);
    m.set(wMore, 1);
    m.set(xm, 0);
    m.set(xkt, 0);
    m.set(xAddr, 0);
    m.set(fj, 0);
    m.set(fm, 0);
    m.set(fkt, 0);
    m.set(jKnown, 0);
  });
  // A run starts at column 0 and tile wbase; a later block where the last one stopped.
  m.when(io.begin, () => {
    m.set(nextCol, 0);
    m.set(rowBase, io.wBase);
    m.set(tAddr, io.wBase);
  }).elseWhen(nextBlock, () => m.set(tAddr, rowBase));
  m.set(io.out.valid, drainV);
  m.set(io.out.data, cat(...Array.from({ length: C }, (_, i) => accOld.slice((C - 1 - i) * d.accBits + d.accBits - 1, (C - 1 - i) * d.accBits).asSigned().ext(32).asUnsigned())));
  return { stall: draining.and(io.room.not()), wstall: lit(0, Bool), idle: feeding.not().and(draining.not()).and(drainV.not()) };
}
