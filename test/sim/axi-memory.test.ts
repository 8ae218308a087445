// The AXI4 memory model (sim/vip/axi-memory.ts) against a master played by hand: bursts
// land and come back with RLAST on the last beat after the configured latency, strobes
// are honoured, SLVERR/DECERR are answered where they should be, and each broken AXI rule
// fails the simulation with the rule named.

import assert from 'node:assert/strict';
import { dutTest, Clock, RisingEdge, ClockCycles, Sampler, AxiMemory, axi4Ports, type Signal } from '../../sim/index.ts';
import { axiPort } from './duts.ts';

type Dut = Record<string, Signal>;
const SAMPLED = ['awready', 'wready', 'bvalid', 'bresp', 'arready', 'rvalid', 'rdata', 'rresp', 'rlast'] as const;
/** The slave's outputs as they were at the last rising edge: what a handshake is judged by. */
let at: Sampler<(typeof SAMPLED)[number]>;
const v = (k: (typeof SAMPLED)[number]): number => Number(at.values[k]);

function idle(d: Dut): void {
  for (const s of ['awvalid', 'wvalid', 'arvalid', 'wlast']) d[s]!.value = 0;
  for (const s of ['bready', 'rready']) d[s]!.value = 1;
  d.awsize!.value = 2; // 4 bytes: the 32-bit bus
  d.arsize!.value = 2;
  d.awburst!.value = 1;
  d.arburst!.value = 1;
  d.wstrb!.value = 0xf;
}

/** Address on AR or AW until the handshake; returns the cycle it was taken. */
async function address(d: Dut, ch: 'ar' | 'aw', addr: number, beats: number): Promise<void> {
  d[`${ch}addr`]!.value = addr;
  d[`${ch}len`]!.value = beats - 1;
  d[`${ch}valid`]!.value = 1;
  do await RisingEdge(d.clk!);
  while (!v(`${ch}ready`));
  d[`${ch}valid`]!.value = 0;
}

async function writeBurst(d: Dut, addr: number, words: number[], strb = 0xf): Promise<number> {
  await address(d, 'aw', addr, words.length);
  for (const [i, w] of words.entries()) {
    d.wdata!.value = w;
    d.wstrb!.value = strb;
    d.wlast!.value = i === words.length - 1 ? 1 : 0;
    d.wvalid!.value = 1;
    do await RisingEdge(d.clk!);
    while (!v('wready'));
  }
  d.wvalid!.value = 0;
  do await RisingEdge(d.clk!);
  while (!v('bvalid'));
  return v('bresp');
}

async function readBurst(d: Dut, addr: number, beats: number): Promise<{ words: number[]; resp: number[]; waited: number }> {
  await address(d, 'ar', addr, beats);
  const words: number[] = [];
  const resp: number[] = [];
  let waited = 0;
  while (words.length < beats) {
    await RisingEdge(d.clk!);
    if (v('rvalid')) {
      words.push(v('rdata'));
      resp.push(v('rresp'));
      assert.equal(v('rlast'), words.length === beats ? 1 : 0, `RLAST on beat ${words.length} of ${beats}`);
    } else if (!words.length) waited++;
  }
  return { words, resp, waited };
}

async function setup(d: Dut, opts: { latency?: number; stall?: number; seed?: number } = {}): Promise<AxiMemory> {
  const clock = new Clock(d.clk!, 10, 'ns').start();
  const mem = new AxiMemory(clock, axi4Ports(d, ''), { base: 0x1000, size: 0x4000, ...opts });
  at = new Sampler(clock, Object.fromEntries(SAMPLED.map((k) => [k, d[k]!])) as Record<(typeof SAMPLED)[number], Signal>);
  idle(d);
  await ClockCycles(d.clk!, 2);
  return mem;
}

describe('AXI4 memory model (sim/vip/axi-memory.ts)', () => {
  dutTest('bursts land, strobes hold, reads come back after the latency with RLAST last', { dut: axiPort, timeout: '1 ms' }, async (d, tb) => {
    const mem = await setup(d, { latency: 7, stall: 0.3, seed: tb.rng.fork() });
    const words = Array.from({ length: 16 }, () => tb.rng.int(0, 0xffffffff));
    assert.equal(await writeBurst(d, 0x1ff0 - 48, words), 0);
    assert.equal(await writeBurst(d, 0x2000, [0x11223344], 0b0101), 0); // bytes 0 and 2 only
    mem.write(0x2004, [0xaa, 0xbb, 0xcc, 0xdd]); // the backdoor
    const r = await readBurst(d, 0x1ff0 - 48, 16);
    assert.deepEqual(r.words, words);
    assert.ok(r.waited >= 7, `first beat after ${r.waited} cycles, latency 7`);
    assert.deepEqual([...mem.read(0x2000, 8)], [0x44, 0, 0x22, 0, 0xaa, 0xbb, 0xcc, 0xdd]);
    const s = mem.stats;
    assert.deepEqual([s.writeBursts, s.writeBeats, s.readBursts, s.readBeats, s.errors], [2, 17, 1, 16, 0]);
  });

  dutTest('SLVERR in the failing range, DECERR outside the window', { dut: axiPort, timeout: '1 ms' }, async (d) => {
    const mem = await setup(d, { latency: 2 });
    mem.failRange(0x3000, 0x3010);
    assert.equal((await readBurst(d, 0x3008, 4)).resp.join(','), '2,2,0,0');
    assert.equal((await readBurst(d, 0x0ff8, 2)).resp.join(','), '3,3');
    assert.equal(await writeBurst(d, 0x300c, [1, 2]), 2, 'the worst beat answers the burst');
    assert.equal(mem.stats.errors, 5);
  });

  dutTest('a burst across a 4 KiB page fails the run', { dut: axiPort, timeout: '1 ms', expectFail: /AXI4 memory model: ar burst at 0x1ff8 \(4 beats\) crosses a 4 KiB boundary at 0x2000/ }, async (d) => {
    await setup(d);
    await readBurst(d, 0x1ff8, 4);
  });

  dutTest('WLAST on the wrong beat fails the run', { dut: axiPort, timeout: '1 ms', expectFail: /w beat 1 of the 2-beat write burst at 0x1000 has WLAST set early/ }, async (d) => {
    await setup(d);
    await address(d, 'aw', 0x1000, 2);
    d.wdata!.value = 1;
    d.wlast!.value = 1;
    d.wvalid!.value = 1;
    await ClockCycles(d.clk!, 4);
  });

  dutTest('ARVALID dropped before ARREADY fails the run', { dut: axiPort, timeout: '1 ms', expectFail: /arvalid fell before arready at araddr 0x1040/ }, async (d) => {
    await setup(d, { stall: 0.999 });
    d.araddr!.value = 0x1040;
    d.arlen!.value = 0;
    d.arvalid!.value = 1;
    await RisingEdge(d.clk!);
    d.arvalid!.value = 0;
    await ClockCycles(d.clk!, 4);
  });

  dutTest('a size other than the bus width fails the run', { dut: axiPort, timeout: '1 ms', expectFail: /arsize = 1 \(2 bytes\) is not the bus width \(4 bytes\)/ }, async (d) => {
    await setup(d);
    d.arsize!.value = 1;
    await readBurst(d, 0x1000, 1);
  });
});
