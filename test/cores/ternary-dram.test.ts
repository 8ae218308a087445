// The ternary core with its weights in board DRAM (dram > 0): tiles go out through the
// AXI4 write unit and come back through the read prefetcher, against the C++ AXI4 memory
// model, which fails the run on any broken AXI rule (4 KiB crossings, WLAST, valid
// dropped before ready). Results must equal the bit-exact model; the cycle count must be
// the model's plus the result stalls plus the cycles spent waiting for DRAM.

import assert from 'node:assert/strict';
import { dutTest, Clock, ClockCycles, type Tb } from '../../sim/index.ts';
import { matrix } from '../../common/reference.ts';
import { modelCore } from '../../common/core-model.ts';
import { packWeights, tileWords, dramSlice, coreShape } from '../../common/core-layout.ts';
import { coreDesign, CoreDriver, resetCore } from '../../sim/drivers/ternary.ts';
import { validate, type TernaryParams } from '../../generator/cores/ternary/params.ts';
import { coreExtra } from '../../generator/cores/ternary/core.ts';
import { tokenTiles } from '../../common/projection.ts';

interface Config {
  p: TernaryParams;
  /** Memory latency in cycles and the chance of a stalled handshake. */
  latency: number;
  stall: number;
}

const CONFIGS: Config[] = [
  // One beat per tile, long bursts (a tile is 4 bytes: 1,024 per 4 KiB page), quick memory.
  { p: { rows: 4, cols: 4, act: 8, format: 2, kmax: 64, mmax: 4, wdepth: 2048, acc: 0, dram: 32, mbase: 0x10000 }, latency: 4, stall: 0 },
  // A trit5 tile of 104 bits takes 2 beats of 64; short bursts; a slow, busy controller.
  { p: { rows: 8, cols: 8, act: 8, format: 5, kmax: 128, mmax: 8, wdepth: 256, acc: 0, dram: 64, mburst: 16 }, latency: 30, stall: 0.3 },
  // 12 columns: 192-bit tiles on a 64-bit bus take 3 beats in a 4-beat slot (the pad is never written).
  { p: { rows: 8, cols: 12, act: 4, format: 2, kmax: 96, mmax: 4, wdepth: 512, acc: 0, dram: 64 }, latency: 12, stall: 0.1 },
  // 16x20 trit5: 320 weights in 64 bytes, exactly one 512-bit beat (format 5 that fills DRAM beats).
  { p: { rows: 16, cols: 20, act: 8, format: 5, kmax: 96, mmax: 2, wdepth: 1024, acc: 0, dram: 512 }, latency: 24, stall: 0.1 },
  // Two masters: each carries 8 of a 16-byte tile, two 32-bit beats, from its own region; a busy controller.
  { p: { rows: 8, cols: 8, act: 8, format: 2, kmax: 64, mmax: 4, wdepth: 1024, acc: 0, dram: 32, ports: 2, mburst: 16 }, latency: 10, stall: 0.2 },
  // Four masters, trit5: an 8x10 tile is 16 bytes, 4 per 32-bit master, one beat each.
  { p: { rows: 8, cols: 10, act: 8, format: 5, kmax: 64, mmax: 2, wdepth: 2048, acc: 0, dram: 32, ports: 4, mbase: 0x4000 }, latency: 6, stall: 0.05 },
];

function randomCase(tb: Tb, p: TernaryParams, m1: boolean) {
  const r = tb.rng;
  const lo = -(2 ** (p.act - 1));
  const hi = 2 ** (p.act - 1) - 1;
  const K = r.int(1, p.kmax);
  const N = r.int(1, 4 * p.cols);
  const M = m1 ? 1 : r.int(1, p.mmax);
  return {
    x: matrix(M, K, Int8Array.from({ length: M * K }, () => r.int(lo, hi)), 'X'),
    w: matrix(N, K, Int8Array.from({ length: N * K }, () => r.int(-1, 1)), 'W'),
  };
}

describe('DRAM layout: what a tile moves, ports, refusals', () => {
  const core = (q: Partial<TernaryParams>): TernaryParams => ({ rows: 16, cols: 16, act: 8, format: 2, kmax: 8192, mmax: 1, wdepth: 1 << 20, acc: 0, dram: 512, ...q });
  const layout = (q: Partial<TernaryParams>) => {
    validate(core(q));
    return coreShape({ extra: coreExtra(core(q)) }, 'test').dram!;
  };

  it('a 52-byte trit5 tile still moves a 64-byte beat; 16x20 trit5 fills it; 2 ports split 128 bytes', () => {
    assert.deepEqual([layout({}).wordBytes, layout({}).movedBytes, layout({}).fill], [64, 64, 1]);
    assert.deepEqual([layout({ format: 5 }).wordBytes, layout({ format: 5 }).movedBytes, layout({ format: 5 }).fill], [52, 64, 0.8125]);
    assert.deepEqual([layout({ format: 5, cols: 20 }).wordBytes, layout({ format: 5, cols: 20 }).fill], [64, 1]);
    const two = layout({ format: 5, cols: 40, ports: 2 });
    assert.deepEqual([two.ports, two.portBits, two.stride, two.movedBytes, two.region, two.fill], [2, 512, 64, 128, 64 << 20, 1]);
    assert.deepEqual(dramSlice(two, 3, 1), { addr: (64 << 20) + 3 * 64, bytes: 64 });
    // 256 tiles of 4 bytes fill a quarter page; port 1's region still starts on the next page.
    assert.equal(layout({ rows: 4, cols: 8, kmax: 64, wdepth: 256, dram: 32, ports: 2 }).region, 4096);
  });

  it('decode of BitNet-2B-4T: format 5 on 16x20 moves 20 % fewer bytes per token than format 2 on 16x16', () => {
    const bytes = (q: Partial<TernaryParams>): number => tokenTiles(coreShape({ extra: coreExtra(core(q)) }, 'test')) * layout(q).movedBytes;
    assert.equal(bytes({}), 8_140_800 * 64);
    assert.equal(bytes({ format: 5 }), 8_140_800 * 64, 'the 52-byte tile saves nothing');
    assert.equal(bytes({ format: 5, cols: 20 }), 6_516_480 * 64);
    assert.ok(bytes({ format: 5, cols: 20 }) <= 0.85 * bytes({}));
  });

  it('refuses ports that do not divide the tile, that overrun the address space, or out of range, naming ports', () => {
    assert.throws(() => validate(core({ ports: 3 })), /^RangeError: ports=3: a 512-bit tile does not split into 3 equal byte slices/);
    assert.throws(() => validate(core({ ports: 4, wdepth: 1 << 26 })), /\(4 ports x 67108864 tiles of 64 bytes\) does not fit a 32-bit address space/);
    assert.throws(() => validate(core({ ports: 17 })), /^RangeError: ports=17: ports \(with dram: AXI4 masters/);
  });
});

describe('ternary core with weights in board DRAM (AXI4 master vs memory model)', () => {
  for (const { p, latency, stall } of CONFIGS) {
    const d = coreDesign(p);
    const name = `${p.rows}x${p.cols} int${p.act} ${p.format === 2 ? '2-bit' : 'trit5'}, ${p.ports && p.ports > 1 ? `${p.ports} x ` : ''}${p.dram}-bit AXI, latency ${latency}, stall ${stall}`;
    dutTest(name, { dut: d.dut, timeout: '200 ms', wallTimeoutMs: 600_000 }, async (dut, tb) => {
      const clock = new Clock(dut.clk!, 10, 'ns').start();
      await resetCore(dut);
      const drv = new CoreDriver(dut, clock, d.shape, { seed: tb.rng.fork(), dram: { latency, stall } });
      const mem = drv.mem!;
      const dram = d.shape.dram!;
      // The first matrix starts 3 tiles before a 4 KiB page ends, so its bursts must stop there.
      const pageTiles = 4096 / dram.stride;
      let base = pageTiles + 300 < p.wdepth ? pageTiles - 3 : 0;
      for (const [i, m1] of [false, true, false, true, false].entries()) {
        const { x, w } = randomCase(tb, p, m1);
        // Matrices at different places, so a wrong base address reads someone else's tiles.
        const tiles = await drv.loadWeights(w, base);
        // What the write units stored is the packed tile, little-endian, port j's share at base + j * region + t * stride.
        const words = packWeights(d.shape, w);
        const tw = tileWords(d.shape);
        const t = Math.floor(tiles / 2);
        const want = Buffer.from(words.buffer, words.byteOffset + t * tw * 4, tw * 4);
        drv.mems.forEach((pm, j) => {
          const at = dramSlice(dram, base + t, j);
          const got = pm.read(at.addr, at.bytes);
          assert.deepEqual(Buffer.from(got), want.subarray(j * at.bytes, (j + 1) * at.bytes), `tile ${base + t} in DRAM (port ${j})`);
        });
        const r = await drv.run(x, w.rows, base);
        const model = modelCore(d.shape, x, w);
        const label = `case ${i}: M=${x.rows} K=${x.cols} N=${w.rows}, ${tiles} tiles at ${base}`;
        assert.deepEqual(r.y, model.y, `${label}: results differ`);
        assert.equal(r.cycles, model.cycles + r.stalls + r.wstalls, `${label}: CYCLES ${r.cycles} = model ${model.cycles} + STALLS ${r.stalls} + WSTALLS ${r.wstalls}`);
        assert.ok(r.wstalls >= latency, `${label}: the first tile cannot arrive before the memory's latency (${r.wstalls} < ${latency})`);
        tb.log.info(`${label}: ok, ${r.cycles} cycles (${r.wstalls} waiting for DRAM)`);
        base = (base + tiles + 7) % (p.wdepth - 64);
      }
      for (const [j, pm] of drv.mems.entries()) {
        const s = pm.stats;
        tb.log.info(`DRAM port ${j}: ${s.readBursts} read bursts / ${s.readBeats} beats, ${s.writeBursts} write bursts / ${s.writeBeats} beats, ${s.errors} error responses`);
        assert.equal(s.errors, 0);
        assert.ok(s.readBeats >= s.readBursts && s.readBursts > 0);
        // Every port carries its share of every tile: the same traffic on each.
        assert.deepEqual([s.readBeats, s.writeBeats], [mem.stats.readBeats, mem.stats.writeBeats], `port ${j} moved what port 0 moved`);
      }
      assert.equal((await drv.readReg(1)) & 8, 0, 'STATUS.mem_error stays clear');
      assert.equal(await drv.readReg(14), p.dram, 'WMEM reads the AXI data width');
    });
  }

  const p = CONFIGS[0]!.p;
  const d = coreDesign(p);
  dutTest('a read answered SLVERR sets STATUS bit 3 and the run still ends', { dut: d.dut, timeout: '50 ms', wallTimeoutMs: 300_000 }, async (dut, tb) => {
    const clock = new Clock(dut.clk!, 10, 'ns').start();
    await resetCore(dut);
    const drv = new CoreDriver(dut, clock, d.shape, { seed: tb.rng.fork(), dram: { latency: 3 } });
    const { x, w } = randomCase(tb, p, false);
    const tiles = await drv.loadWeights(w, 0);
    assert.equal((await drv.readReg(1)) & 8, 0);
    const dram = d.shape.dram!;
    drv.mem!.failRange(dram.base + (tiles - 1) * dram.stride, dram.base + tiles * dram.stride);
    await drv.run(x, w.rows, 0);
    assert.equal((await drv.readReg(1)) & 8, 8, 'STATUS bit 3 after an SLVERR');
    assert.ok(drv.mem!.stats.errors > 0);
  });

  dutTest('a soft reset in the middle of a run drains the reads in flight; the next run is exact', { dut: d.dut, timeout: '50 ms', wallTimeoutMs: 300_000 }, async (dut, tb) => {
    const clock = new Clock(dut.clk!, 10, 'ns').start();
    await resetCore(dut);
    const drv = new CoreDriver(dut, clock, d.shape, { seed: tb.rng.fork(), dram: { latency: 40 } });
    const w = matrix(4 * p.cols, p.kmax, Int8Array.from({ length: 4 * p.cols * p.kmax }, () => tb.rng.int(-1, 1)), 'W');
    const x = matrix(1, p.kmax, Int8Array.from({ length: p.kmax }, () => tb.rng.int(-128, 127)), 'X');
    await drv.loadWeights(w, 0);
    // Start a run, then reset the core (not its memory units) while bursts are in flight.
    await drv.writeReg(0, 0b010);
    await drv.start(p.kmax, w.rows, 1, 0);
    await ClockCycles(dut.clk!, 10);
    assert.ok(drv.mem!.stats.readBursts > 0, 'bursts were requested before the reset');
    dut.rst!.value = 1;
    await ClockCycles(dut.clk!, 2);
    dut.rst!.value = 0;
    // The fetcher counts in and drops the beats still owed; the core is busy until then.
    const flushCycles = await drv.idle();
    assert.ok(flushCycles > 0, 'busy while the flushed bursts drain');
    tb.log.info(`flush took ${flushCycles} cycles`);
    const r = await drv.run(x, w.rows, 0);
    assert.deepEqual(r.y, modelCore(d.shape, x, w).y);
  });
});
