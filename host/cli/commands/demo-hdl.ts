// `bitnet-fpga demo --hdl`: the hardware side on its own — regenerate the checked-in
// cores, lint them, synthesize them, simulate them three ways, then drive the generated
// FIFO from a TypeScript testbench against the Verilated model.

import { CHECKED_IN, findCore, resolveParams } from '../../../generator/cores/registry.ts';
import { checkDesign } from '../../../sim/equiv/check.ts';
import { doctorReport } from '../../../sim/toolchain/tools.ts';
import { generateCommand } from './generate.ts';
import { printCheck } from './check.ts';
import type { FifoPorts } from '../../../rtl/fifo/fifo.ports.ts';

export async function hdlDemo(): Promise<void> {
  const doc = doctorReport();
  console.log(doc.lines.join('\n'));
  console.log('');
  await generateCommand(undefined, { param: [], all: true });
  for (const entry of CHECKED_IN) {
    const c = findCore(entry.core);
    const r = await checkDesign(c.build(resolveParams(c, entry.params)), { cycles: 1000, seed: Number(process.env.SEED ?? 1), log: (s) => console.log(`[${entry.core}] ${s}`) });
    printCheck(r);
  }
  await fifoTestbench();
}

/** 20,000 random words through rtl/fifo: TypeScript drivers, then the C++ stream engine. */
async function fifoTestbench(): Promise<void> {
  const path = await import('node:path');
  const { generatedDut, simulate, Clock, ClockCycles, RisingEdge, StreamSource, StreamSink, FastStreams, Scoreboard } = await import('../../../sim/index.ts');
  const { rtlRoot } = await import('../paths.ts');
  const fifo = generatedDut<FifoPorts>(path.join(rtlRoot(), 'fifo', 'fifo.manifest.json'));
  const t0 = performance.now();
  const r = await simulate('demo: fifo testbench', { dut: fifo, timeout: '100 ms' }, async (dut, tb) => {
    const clock = new Clock(dut.clk, 10, 'ns').start();
    dut.rst.value = 1;
    await ClockCycles(dut.clk, 2);
    dut.rst.value = 0;
    const words = Array.from({ length: 20_000 }, () => tb.rng.bits(8));
    const half = words.length / 2;
    const sb = new Scoreboard<bigint>('fifo');
    sb.expect(...words);
    const ports = { in: { valid: dut.in_valid, ready: dut.in_ready, data: dut.in_data }, out: { valid: dut.out_valid, ready: dut.out_ready, data: dut.out_data } };
    const src = new StreamSource(clock, ports.in, { idle: 0.2, seed: tb.rng.fork() });
    const snk = new StreamSink(clock, ports.out, { backpressure: 0.3, seed: tb.rng.fork() });
    snk.onBeat((b) => sb.got(b as bigint));
    src.push(...words.slice(0, half));
    const c0 = tb.now();
    while (snk.count < half) await RisingEdge(dut.clk);
    tb.log.info(`TypeScript drivers: ${half} words in ${(tb.now() - c0) / 10_000} cycles`);
    src.stop();
    snk.stop();
    const fast = new FastStreams(clock);
    const fsrc = fast.source(ports.in, { idle: 0.2, seed: tb.rng.fork() });
    const fsnk = fast.sink(ports.out, { backpressure: 0.3, seed: tb.rng.fork() });
    fsrc.push(words.slice(half));
    fsnk.expect(half);
    const cycles = await fast.run({ maxCycles: 1_000_000 });
    for (const b of fsnk.take()) sb.got(b as bigint);
    sb.check();
    tb.log.info(`C++ stream engine: ${half} words in ${cycles} cycles; scoreboard: ${sb.matched} matched, 0 mismatches`);
  });
  for (const line of r.log) console.log(`[testbench] ${line.trim()}`);
  console.log(`[testbench] fifo: pass (seed ${r.seed}, ${((performance.now() - t0) / 1000).toFixed(1)} s wall including the model build)`);
}
