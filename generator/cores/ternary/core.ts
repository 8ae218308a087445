// The ternary matmul core: Y[m][n] = sum_k X[m][k] * W[n][k], W in {-1, 0, +1}.
//
// Dataflow (the arithmetic is in README.md next to this file): a rows x cols array whose
// weights are *the weight memory's registered read port*. Loop order n-tile, k-tile,
// token: one tile of weights is read and held while every token of the run streams
// past it (weight-stationary, no weight flip-flops in the PEs), so prefill reuses each
// weight M times; with M = 1 a new tile is read every cycle, so decode runs at the weight
// memory's bandwidth. Each column is a multiplier-free dot product (dot.ts); partial sums
// live in an accumulator memory indexed by token.
//
// Pipeline, one tile-token step per cycle (pipelineCycles in common/core-model.ts counts it):
//   s0  issue: weight read (first token of a tile), activation read, loop counters
//   s1  weight and activation words arrive from the block RAMs into their output
//       registers w_q, x_q (trit5 tiles decoded on the way: LUTs, no carry chain)
//   s2  .. s(1 + columnStages)  the column adder trees, a register after each level
//       (dot.ts); the accumulator read is issued in the last of them
//   then accumulate (forwarding the previous cycle's write); write back, or on the last
//       k-tile push the cols results (int32 each) into the output FIFO
// s0 only issues while the output FIFO has room for everything in flight, so result
// back-pressure stalls the issue and nothing is lost.

import { defineModule, UInt, SInt, Bool, mux, cat, lit, select, bundlePorts, streamSpec, type Value, type Signal } from '../../hdl/index.ts';
import { nameWith, type NameTags } from '../naming.ts';
import { defaultsOf, TERNARY_PARAMS } from '../param-table.ts';
import { fifo } from '../fifo.ts';
import { ltConst, leConst } from '../const-compare.ts';
import { ternaryDot } from './dot.ts';
import { tileCodes } from './decode.ts';
import { lutPath } from './lut-path.ts';
import { dualPath, accMemoryShape, resultBits } from './dual-int4.ts';
import { derive, coreWidths, validate, log2ceil, dramParams, FORMAT_2BIT, REGISTERS, REG, isReadable, isWritable, type ReadableRegister, type WritableRegister, type TernaryParams } from './params.ts';
import { dramUnits } from './dram-units.ts';
import { dramLayout } from './dram-layout.ts';
import { columnStages, pipelineCycles, MEMORY_OUTPUT_STAGES } from '../../../common/core-model.ts';
import { tileLoop, stepControl, walkControl } from './tile-loop.ts';

const OUT_FIFO_DEPTH = 16;

/** The parameters a core's name carries besides its shape (naming.ts). */
export const CORE_TAGS: NameTags = [['kmax', 'k'], ['mmax', 'm'], ['wdepth', 'w'], ['acc', 'acc'], ['maddr', 'ma'], ['mbase', 'mb'], ['mburst', 'ml'], ['ports', 'p'], ['jmax', 'j'], ['dual4', 'dual']];

export const ternaryCore = defineModule(
  'ternary_core',
  (m, p: TernaryParams) => {
    const d = derive(p);
    const R = p.rows;
    const C = p.cols;
    const { kW, mW, wA, xA, ktW } = coreWidths(p, d);
    const nW = 32;

    // ---- ports ---------------------------------------------------------------------
    const regAddr = m.input('reg_addr', UInt(4));
    const regWdata = m.input('reg_wdata', UInt(32));
    const regWe = m.input('reg_we', Bool);
    const regRdata = m.output('reg_rdata', UInt(32), { reg: {} });
    const wIn = bundlePorts(m, 'w', streamSpec(UInt(d.wordBits)), 'sink');
    const xIn = bundlePorts(m, 'x', streamSpec(UInt(d.xBits)), 'sink');
    const yOut = bundlePorts(m, 'y', streamSpec(UInt(resultBits(p))), 'source');
    const busyOut = m.output('busy', Bool);

    // ---- registers -------------------------------------------------------------------
    const K = m.reg('k_reg', UInt(kW));
    const N = m.reg('n_reg', UInt(nW));
    const M = m.reg('m_reg', UInt(mW));
    const wBase = m.reg('wbase_reg', UInt(wA));
    const wAddrStart = m.reg('waddr_reg', UInt(wA + 1)); // wdepth when WADDR was written out of range
    const cycles = m.reg('cycles_reg', UInt(32));
    const stalls = m.reg('stalls_reg', UInt(32));
    const refused = m.reg('refused', Bool);
    const wOverflow = m.reg('w_overflow', Bool);
    const running = m.reg('running', Bool);
    const wstalls = m.reg('wstalls_reg', UInt(32));
    let wmemRead: ((addr: Value, enable: Value) => Value) | undefined;

    // ---- memories ---------------------------------------------------------------------
    const xmem = m.memory('xmem', { shape: UInt(d.xBits), depth: 2 ** xA });
    // Partial sums by token (and with the table-lookup array by token and n-tile of a block, with dual4 by token pair).
    const amem = m.memory('amem', accMemoryShape(p, d));

    // ---- loading weights and activations ------------------------------------------------
    // Weights go to on-chip block RAM, or (dram > 0) out through an AXI4 master to board
    // DRAM, whose units keep the hard reset `mem_rst`: an AXI transaction cannot be
    // abandoned half way, so the core's own (soft) reset only flushes them.
    const wPtr = m.reg('w_ptr', UInt(wA + 1));
    const xPtr = m.reg('x_ptr', UInt(xA + 1));
    const dp = dramParams(p);
    const mem = dp ? dramUnits(m, dp, d.kTilesMax, C) : undefined;
    const wLoading = m.let('w_loading', wPtr.lt(p.wdepth).and(running.not()));
    if (mem) {
      m.set(wIn.ready, wLoading.and(mem.store.tiles.ready));
      m.set(mem.store.tiles.valid, wIn.valid.and(wLoading));
      m.set(mem.store.tiles.data, cat(wPtr.trunc(wA), wIn.data));
      m.when(wIn.valid.and(wIn.ready), () => m.set(wPtr, wPtr.add(1)));
    } else {
      const wmem = m.memory('wmem', { shape: UInt(d.wordBits), depth: p.wdepth });
      m.set(wIn.ready, wLoading);
      m.when(wIn.valid.and(wIn.ready), () => {
        wmem.write(wPtr.trunc(wA), wIn.data);
        m.set(wPtr, wPtr.add(1));
      });
      wmemRead = (addr, enable) => wmem.readSync(addr, { enable, name: 'w_word' });
    }
    m.when(wIn.valid.and(wPtr.ge(p.wdepth)), () => m.set(wOverflow, 1));
    m.set(xIn.ready, xPtr.lt(d.xDepth).and(running.not()));
    m.when(xIn.valid.and(xIn.ready), () => {
      xmem.write(xPtr.trunc(xA), xIn.data);
      m.set(xPtr, xPtr.add(1));
    });
    // Memory units still working (a flush, writes awaiting responses) keep the core busy.
    const memBusy = mem ? m.let('mem_busy', mem.store.busy.or(mem.fetch.busy)) : lit(0, Bool);
    const memError = m.reg('mem_err', Bool); // sticky: an AXI4 SLVERR/DECERR since reset
    if (mem) m.when(mem.fetch.rerr.or(mem.store.werr), () => m.set(memError, 1));
    else m.set(memError, 0);
    // Brought out so a top can show it without a register read (the PCIe STATUS word, an LED).
    const memErrorOut = mem ? m.output('mem_error', Bool) : undefined;
    if (memErrorOut) m.set(memErrorOut, memError);

    // ---- run control -----------------------------------------------------------------------
    const kTiles = m.let('k_tiles', K.zext(kW + log2ceil(R)).add(R - 1).shr(log2ceil(R)).trunc(ktW));
    const start = m.let('start', regWe.and(regAddr.eq(REG.CTRL)).and(regWdata.bit(0)));
    // Whether each run parameter is in range is registered beside it, from the value being
    // written, so a start tests flags, not a 32-bit compare, and stays exact whenever the
    // write came (even the cycle before the start).
    // The adder array's sequencer starts from flags of the same kind: one k-tile, one token,
    // one n-tile.
    const kOk = m.reg('k_ok', Bool);
    const nOk = m.reg('n_ok', Bool);
    const mOk = m.reg('m_ok', Bool);
    const wBaseOk = m.reg('wbase_ok', Bool, { reset: 1 }); // WBASE resets to 0, in range
    const adders = !p.jmax; // the adder columns' sequencer (tile-loop.ts), plain or dual4
    const kOne = adders ? m.reg('k_one', Bool) : undefined; // K <= rows
    const nOne = adders ? m.reg('n_one', Bool) : undefined; // N <= cols
    const mOne = adders ? m.reg('m_one', Bool) : undefined; // M == 1
    const mLe2 = p.dual4 ? m.reg('m_le2', Bool) : undefined; // M <= 2: one token pair
    // Tested on the whole 32-bit word written, not on the bits the register keeps: K = kmax + 2^kW
    // would otherwise pass as a small K and run (a register master other than the link engine,
    // PCIe's, checks nothing first).
    const inRange = {
      K: (v: Value) => v.ne(0).and(leConst(v, p.kmax)),
      N: (v: Value) => v.ne(0),
      M: (v: Value) => v.ne(0).and(leConst(v, p.mmax)),
      WBASE: (v: Value) => ltConst(v, p.wdepth),
    };
    const startOk = m.let('start_ok', running.not().and(kOk).and(nOk).and(mOk).and(wBaseOk).and(memBusy.not()));

    m.when(start, () => {
      m.when(startOk, () => {
        m.set(running, 1);
        m.set(refused, 0);
        m.set(cycles, 0);
        m.set(stalls, 0);
        m.set(wstalls, 0);
      }).otherwise(() => m.set(refused, 1));
    });

    // Results leave through one FIFO, whichever array computes them.
    const outFifo = m.instance('out_fifo', fifo({ width: resultBits(p), depth: OUT_FIFO_DEPTH }));
    m.set(yOut.valid, outFifo.out.valid);
    m.set(yOut.data, outFifo.out.data);
    m.set(outFifo.out.ready, yOut.ready);

    // Status, counters and the register port, from what the array's sequencer reports: when it
    // stalls on result room or on weight tiles, and when nothing is left in flight.
    const finish = (path: { stall: Value; wstall: Value; idle: Value }) => {
      // ---- status, counters, register reads ------------------------------------------------
      const busy = m.let('busy_now', running.or(memBusy));
      m.set(busyOut, busy);
      m.when(running, () => {
        m.set(cycles, cycles.add(1));
        m.when(path.stall, () => m.set(stalls, stalls.add(1)));
        m.when(path.wstall, () => m.set(wstalls, wstalls.add(1)));
        m.when(path.idle, () => m.set(running, 0));
      });
      // The register decoder, from REGISTERS by name: every writable register has a write
      // here and every readable one a value below (the types insist), at the address the map gives it.
      const writes: Record<WritableRegister, () => void> = {
        CTRL: () => {
          m.when(regWdata.bit(1), () => m.set(xPtr, 0));
          m.when(regWdata.bit(2), () => {
            m.set(wPtr, wAddrStart);
            m.set(wOverflow, 0);
          });
        },
        K: () => {
          m.set(K, regWdata.slice(kW - 1, 0));
          m.set(kOk, inRange.K(regWdata));
          if (kOne) m.set(kOne, regWdata.slice(kW - 1, 0).le(R));
        },
        N: () => {
          m.set(N, regWdata.slice(nW - 1, 0));
          m.set(nOk, inRange.N(regWdata));
          if (nOne) m.set(nOne, regWdata.slice(nW - 1, 0).le(C));
        },
        M: () => {
          m.set(M, regWdata.slice(mW - 1, 0));
          m.set(mOk, inRange.M(regWdata));
          if (mOne) m.set(mOne, regWdata.slice(mW - 1, 0).eq(1));
          if (mLe2) m.set(mLe2, regWdata.slice(mW - 1, 0).le(2));
        },
        WBASE: () => {
          m.set(wBase, regWdata.slice(wA - 1, 0));
          m.set(wBaseOk, inRange.WBASE(regWdata));
        },
        // Saturated, never wrapped: a start at or past wdepth loads nothing and its first weight
        // beat raises WEIGHT_OVERFLOW, where a truncated one would overwrite tiles near 0.
        WADDR: () => m.set(wAddrStart, mux(ltConst(regWdata, p.wdepth), regWdata.slice(wA, 0), lit(p.wdepth, UInt(wA + 1)))),
      };
      m.when(regWe, () => {
        m.switch(regAddr, REGISTERS.filter(isWritable).map((r) => [r.addr, writes[r.name]] as const));
      });
      const shape = R | (C << 8) | (p.act << 16) | (p.format << 24);
      const reads: Record<ReadableRegister, Value> = {
        STATUS: cat(lit(0, UInt(28)), memError, wOverflow, refused, busy),
        K: K.zext(32),
        N: N.zext(32),
        M: M.zext(32),
        WBASE: wBase.zext(32),
        WADDR: wAddrStart.zext(32),
        CYCLES: cycles,
        STALLS: stalls,
        SHAPE: lit(shape, UInt(32)),
        KMAX: lit(p.kmax, UInt(32)),
        MMAX: lit(p.mmax, UInt(32)),
        WDEPTH: lit(p.wdepth, UInt(32)),
        WSTALLS: wstalls,
        WMEM: lit(dp ? dp.data : 0, UInt(32)),
      };
      m.set(
        regRdata,
        select(
          regAddr,
          REGISTERS.filter(isReadable).map((r) => [r.addr, reads[r.name]] as const),
          lit(0, UInt(32)),
        ),
      );
      return { reg: { addr: regAddr, wdata: regWdata, we: regWe, rdata: regRdata }, w: wIn, x: xIn, y: yOut, busy: busyOut, memRst: mem?.memRst, axi: mem?.axi, axis: mem?.axis, memError: memErrorOut };
    };

    // The table-lookup array has its own sequencer (lut-path.ts): activation-stationary blocks.
    if (p.jmax) {
      const wRead = wmemRead!; // validate() refuses jmax with dram
      // Room for every result still in flight (two) and this one.
      const room = m.let('room', outFifo.level.lt(OUT_FIFO_DEPTH - 2).and(outFifo.in.ready));
      return finish(lutPath(m, p, d, { K, N, M, wBase, kTiles, begin: start.and(startOk), wmemRead: wRead, xmem, amem, room, out: outFifo.in }));
    }

    // dual4: the adder columns with an int4 mode beside int8 (dual-int4.ts); validate() refuses it with dram.
    if (p.dual4) {
      if (!kOne || !nOne || !mOne || !mLe2) throw new Error('ternary core: the dual4 path needs its one-tile flags');
      return finish(dualPath(m, p, d, { K, N, M, wBase, kTiles, begin: start.and(startOk), wdata: regWdata, wmemRead: wmemRead!, xmem, amem, outLevel: outFifo.level, out: outFifo.in, outDepth: OUT_FIFO_DEPTH, flags: { kOne, nOne, mOne, mLe2 } }));
    }

    // Stage 0: the loop over n-tiles, k-tiles and tokens (tile-loop.ts).
    if (!kOne || !nOne || !mOne) throw new Error('ternary core: the adder array needs its one-tile flags');
    // Room in the output FIFO for every result still in flight (one per stage after s0) and
    // this one. The FIFO's level is an adder, so the test is registered: last cycle's level
    // plus the one result that cycle may have pushed.
    const inFlight = pipelineCycles(R) - 1;
    let room: Value = lit(0, Bool);
    let wReady: Value = lit(1, Bool);
    const loop = tileLoop(m, p, d, {
      K,
      N,
      M,
      kTiles,
      begin: start.and(startOk),
      kOne,
      nOne,
      stepOneAtBegin: mOne,
      stepOne: mOne,
      stepLast2: () => {
        const v = M.sub(2);
        const q = m.reg('m_last2_q', v.shape);
        m.set(q, v);
        return q;
      },
      ready: (tok) => {
        const q = m.reg('room', Bool);
        m.set(q, ltConst(outFifo.level, OUT_FIFO_DEPTH - inFlight - 1).and(outFifo.in.ready));
        room = q;
        // From DRAM the tile must have arrived; the block RAM is always ready.
        if (mem) wReady = m.let('w_tile_ready', tok.ne(0).or(mem.fetch.tiles.valid));
        return [room, wReady];
      },
      ...(mem ? {} : { wBase }),
    });
    const { issuing, issue, tok, kt, wIdx } = loop;

    // ---- stage 0 -> 1 ----------------------------------------------------------------------
    const wFetch = m.let('w_fetch', issue.and(tok.eq(0)));
    let wWord: Value;
    if (mem) {
      // The run's tiles arrive in the order the loop uses them: n-tile major, k-tile minor.
      m.set(mem.fetch.start, start.and(startOk));
      m.set(mem.fetch.first, wBase);
      m.set(mem.fetch.kTiles, kTiles);
      m.set(mem.fetch.n, N);
      m.set(mem.fetch.tiles.ready, wFetch);
      const hold = m.reg('w_word', UInt(d.wordBits));
      m.when(wFetch, () => m.set(hold, mem.fetch.tiles.data));
      wWord = hold;
    } else wWord = wmemRead!(wIdx!, wFetch);
    const xWord = xmem.readSync(loop.xRow.add(kt.zext(xA + 1)).trunc(xA), { enable: issue, name: 'x_word' });
    const s1 = stepControl(m, loop);

    // ---- stage 1: memory output registers (trit5 tiles decoded before w_q) ---------------------------
    const codes = tileCodes(m, p, d.tileBytes, wWord);
    if (MEMORY_OUTPUT_STAGES !== 1) throw new Error(`ternary core: built for one memory output register, core-model.ts says ${MEMORY_OUTPUT_STAGES}`);
    const wQ = m.reg('w_q', UInt(2 * R * C));
    const xQ = m.reg('x_q', UInt(d.xBits));
    m.set(wQ, codes);
    m.set(xQ, xWord);
    // The step's control walks beside its data, one register per stage (tile-loop.ts); `first`
    // ends in the accumulate's selects, a stage before the last.
    const lastStage = 1 + MEMORY_OUTPUT_STAGES + columnStages(R);
    const at = walkControl(m, s1, lastStage, lastStage - 1);

    // ---- stages 2 .. 1 + columnStages: the columns ------------------------------------------
    const lanes: Value[] = [];
    for (let r = R - 1; r >= 0; r--) lanes.push(mux(at[1]!.mask!.bit(r), xQ.slice(r * p.act + p.act - 1, r * p.act), 0));
    const xMasked = m.let('x_masked', cat(...lanes));
    const dots: Signal[] = [];
    const carries: Signal[] = [];
    for (let c = 0; c < C; c++) {
      const col = m.instance(`col${c}`, ternaryDot({ rows: R, act: p.act }));
      m.set(col.x, xMasked);
      // Weight (r, c) is code r*C + c of the tile.
      m.set(col.w, cat(...Array.from({ length: R }, (_, i) => wQ.slice(2 * ((R - 1 - i) * C + c) + 1, 2 * ((R - 1 - i) * C + c)))));
      dots.push(col.dot);
      carries.push(col.carry);
    }
    const rd = at[at.length - 2]!; // the stage whose registers feed the last column level
    const rdFirst = rd.first;
    if (!rdFirst) throw new Error('ternary core: walkControl dropped `first` before the accumulator read');
    const accOld = amem.readSync(rd.tok.trunc(Math.max(1, log2ceil(Math.max(2, p.mmax)))), { enable: rd.valid.and(rdFirst.not()), name: 'acc_word' });
    const acc = at[at.length - 1]!;
    const v2 = acc.valid;
    const tok2 = acc.tok;
    const last2 = acc.last;

    // ---- stage 2: accumulate, write back or emit ----------------------------------------------
    // The memory read for this token was issued before last cycle's write of the same token
    // landed, so that write is forwarded; a first k-tile adds to zero. Both selects are known a
    // stage early (the token being read against the one being written back), so each is a
    // register, not a compare. Each reaches all cols x accBits adder inputs, a fanout that
    // nextpnr routes slowly across the chip, so each column has its own copy. Yosys merges
    // flip-flops with the same input (a keep attribute does not stop it), so the copies differ
    // where their value is never used: with no step in rd (nothing to accumulate next cycle),
    // copy i is 1 when rd's token and last bit spell i. Columns share copies only past the
    // 2^(bits of tok + 1) distinct ones.
    const writeBack = m.let('write_back', v2.and(last2.not()));
    const sameTok = m.let('acc_same_tok', writeBack.and(tok2.eq(rd.tok)));
    const tag = cat(rd.last, rd.tok);
    const nCopies = Math.min(C, 2 ** tag.width);
    const copies = (name: string, v: Value): Value[] =>
      Array.from({ length: nCopies }, (_, i) => {
        const q = m.reg(`${name}${i}`, Bool);
        m.set(q, mux(rd.valid, v, tag.eq(i)));
        return q;
      });
    const forward = copies('acc_forward', sameTok);
    const zero = copies('acc_first', rdFirst);
    const wbData = m.reg('wb_data', UInt(C * d.accBits));
    const sums: Value[] = [];
    for (let c = 0; c < C; c++) {
      const field = (v: Value) => v.slice(c * d.accBits + d.accBits - 1, c * d.accBits).asSigned();
      const old = mux(zero[c % nCopies]!, 0, mux(forward[c % nCopies]!, field(wbData), field(accOld)));
      // The column's last +1 (dot.ts) is this adder's carry-in.
      sums.push(m.let(`sum${c}`, old.add(dots[c]!.ext(d.accBits)).add(carries[c]!.zext(d.accBits).asSigned())));
    }
    const sumWord = m.let('sum_word', cat(...[...sums].reverse().map((s) => s.asUnsigned())));
    m.when(writeBack, () => amem.write(tok2.trunc(Math.max(1, log2ceil(Math.max(2, p.mmax)))), sumWord));
    m.set(wbData, sumWord);
    m.set(outFifo.in.valid, v2.and(last2));
    m.set(outFifo.in.data, cat(...[...sums].reverse().map((s) => s.ext(32).asUnsigned())));
    return finish({ stall: issuing.and(room.not()), wstall: issuing.and(room).and(wReady.not()), idle: issuing.not().and(cat(...at.map((st) => st.valid)).orReduce().not()) });
  },

  {
    name: (p) => nameWith(`ternary_core_${p.rows}x${p.cols}_a${p.act}_f${p.format}${p.dram ? `_axi${p.dram}` : ''}`, p, CORE_TAGS, defaultsOf(TERNARY_PARAMS)),
    validate: (p) => validate(p),
  },
);

/** What the manifest tells the host about a generated core. */
export function coreExtra(p: TernaryParams): Record<string, unknown> {
  const d = derive(p);
  const dp = dramParams(p);
  const dram = dp ? { dram: { data: dp.data, addr: dp.addr, base: dp.base, burst: dp.burst, ports: dp.ports, ...dramLayout(dp) } } : {};
  return { ternary: { ...p, ...d, ...dram, outFifoDepth: OUT_FIFO_DEPTH, registers: REGISTERS, codes: 'code = w + 1 (0: -1, 1: 0, 2: +1); tile weight (r, c) at index r*cols + c; trit5 byte = sum code_i * 3^i' } };
}
