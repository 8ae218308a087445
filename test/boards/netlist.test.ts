// Gate-level simulation (issue 19: "the bitstream itself under test").
//
// 1. The iCEBreaker bitstream (`build --board icebreaker`, cached, so the build test's
//    bitstream is reused) turned back into Verilog by icebox_vlog: the logic cells, block RAMs
//    and routing the board would be programmed with, driven over its RX/TX pins by a
//    bit-level UART at the board's 115200 baud and 12 MHz clock. IDENTIFY answers with the
//    checked-in manifest's identity, weights go in through WRITE_WEIGHTS, and one MATMUL's
//    integers equal the reference.
// 2. The 4x4 ternary core synthesized by synth_ice40 (the cells before placement) running the
//    RTL's own regression (test/support/ternary-regression.ts, the same seed, so the same
//    cases): results === the model's, CYCLES = the model's + STALLS.
//
// Both simulate Yosys' iCE40 cell models (ice40/cells_sim.v) under Verilator, in process.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineModule, defineBlackBox, emitDesign, Bool, UInt, lit, bundlePorts, streamSpec } from '../../generator/hdl/index.ts';
import { uart } from '../../generator/cores/uart.ts';
import { build } from '../../host/cli/commands/build.ts';
import { simulate, Clock, ClockCycles, DutSpec, emittedSource, type AnyPorts } from '../../sim/index.ts';
import { firstDifference } from '../support/first-difference.ts';
import { SimLinkClient } from '../../sim/drivers/link.ts';
import { ascNetlist, synthNetlist, plainPcf, fixPortRedeclarations, type GateNetlist } from '../../sim/toolchain/netlist.ts';
import { coreDesign, CoreDriver, resetCore } from '../../sim/drivers/ternary.ts';
import { CONFIGS, CORE_SUITE, configName, coreRegression } from '../support/ternary-regression.ts';
import { OP, STATUS } from '../../common/protocol.ts';
import { coreShape, packWeights, packActivations, tileWords, nTiles, unpackResults } from '../../common/core-layout.ts';
import { ternaryMatmul, matrix } from '../../common/reference.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MANIFEST = path.join(ROOT, 'rtl/icebreaker/icebreaker_top.manifest.json');

/**
 * How a netlist's model is built: waves of the top's own ports only (the pins; tracing every
 * net of the bitstream doubled its C++), and GCC at -O1 (the bitstream's model took 44 s of CPU
 * to compile at -O1, about 3 minutes at -O2).
 */
const GATE_MODEL = { flags: ['--trace-depth', '1'], cxxOpt: 1 } as const;

interface BoardManifest {
  params: Record<string, number>;
  ports: { name: string; direction: 'input' | 'output'; width: number }[];
  extra: Record<string, unknown> & { board: { identity: string } };
}

/** The netlist's `chip` between the testbench's clock and a UART of the board's own parameters. */
function boardBench(net: GateNetlist, manifest: BoardManifest): DutSpec<AnyPorts> {
  // The ports icebox_vlog names from the .pcf are the top's (the build test checks the .pcf against them).
  const ports = Object.fromEntries(manifest.ports.map((p) => [p.name, { dir: p.direction === 'input' ? ('in' as const) : ('out' as const), shape: p.width === 1 ? Bool : UInt(p.width) }]));
  const chip = defineBlackBox(net.top, ports, { file: net.netlist });
  const { clk, baud } = manifest.params;
  const top = defineModule('icebreaker_gates_tb', (m) => {
    const b = m.blackBox('board', chip);
    const host = m.instance('host', uart({ clk: clk!, baud: baud!, depth: 16 }));
    m.set(b.CLK!, m.sync.clk);
    m.set(b.BTN_N!, lit(1, Bool)); // the button released: the board's reset is its power-on counter alone
    m.set(b.RX!, host.tx);
    m.set(host.rx, b.TX!);
    const send = bundlePorts(m, 'send', streamSpec(UInt(8)), 'sink');
    const recv = bundlePorts(m, 'recv', streamSpec(UInt(8)), 'source');
    m.set(host.in.valid, send.valid);
    m.set(host.in.data, send.data);
    m.set(send.ready, host.in.ready);
    m.set(recv.valid, host.out.valid);
    m.set(recv.data, host.out.data);
    m.set(host.out.ready, recv.ready);
    m.set(m.output('ledr_n', Bool), b.LEDR_N!);
    m.set(m.output('ledg_n', Bool), b.LEDG_N!);
    m.set(m.output('tb_frame_errors', UInt(8)), host.frameErrors);
    return { send, recv };
  });
  const src = emittedSource(emitDesign(top({})), { defines: net.defines, ...GATE_MODEL });
  return new DutSpec<AnyPorts>({ ...src, files: [...src.files, ...net.cellModels] });
}

const u32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];

describe('gate-level: the iCEBreaker bitstream (icebox_vlog) over its UART pins', function () {
  this.timeout(1_800_000);

  it('IDENTIFY answers the checked-in identity, WRITE_WEIGHTS, and a MATMUL equal to the reference', async () => {
    const t0 = performance.now();
    const out = mkdtempSync(path.join(os.tmpdir(), 'icebreaker-gates-'));
    const r = await build({ board: 'icebreaker', param: [], out, cache: true });
    assert.equal(r.checkedIn, 'rtl/icebreaker');
    const manifest = JSON.parse(readFileSync(MANIFEST, 'utf8')) as BoardManifest;
    const net = await ascNetlist(path.join(out, `${r.top}.asc`), path.join(ROOT, 'constraints/icebreaker/icebreaker.pcf'));
    const dut = boardBench(net, manifest);
    const t1 = performance.now();
    await dut.build();
    const t2 = performance.now();
    const shape = coreShape(manifest, MANIFEST);
    const K = Number(process.env.GATES_K ?? 9);
    const N = Number(process.env.GATES_N ?? 6);
    const M = 2;
    await simulate('icebreaker bitstream: identify, weights, matmul', { dut, timeout: '2 s', wallTimeoutMs: 1_200_000 }, async (d, tb) => {
      const clock = new Clock(d.clk!, Math.round(1e12 / manifest.params.clk!), 'ps').start();
      d.rst!.value = 1;
      await ClockCycles(d.clk!, 3);
      d.rst!.value = 0;
      // The board leaves its power-on reset after 32 cycles; a start bit sent before would be heard late.
      await ClockCycles(d.clk!, 64);
      const link = new SimLinkClient(clock, { rx: { valid: d.send_valid!, ready: d.send_ready!, data: d.send_data! }, tx: { valid: d.recv_valid!, ready: d.recv_ready!, data: d.recv_data! } }, { seed: tb.rng.fork() });
      const poll = { poll: 2000, maxPolls: 2000 };
      const id = await link.request(OP.IDENTIFY, [], poll);
      assert.equal(id.payload[0], STATUS.OK, 'IDENTIFY status');
      assert.equal(Buffer.from(id.payload.subarray(2, 34)).toString('hex'), manifest.extra.board.identity, 'IDENTIFY reports the checked-in manifest identity');
      const w = matrix(N, K, Int8Array.from({ length: N * K }, () => tb.rng.int(-1, 1)), 'W');
      const x = matrix(M, K, Int8Array.from({ length: M * K }, () => tb.rng.pick([-128, 127, tb.rng.int(-128, 127)])), 'X');
      const words = packWeights(shape, w);
      const tw = tileWords(shape);
      const tiles = words.length / tw;
      const stage = manifest.params.stage!;
      for (let t = 0; t < tiles; t += stage) {
        const part = words.subarray(t * tw, Math.min(tiles, t + stage) * tw);
        const wr = await link.request(OP.WRITE_WEIGHTS, [...u32(t), ...new Uint8Array(part.buffer, part.byteOffset, part.byteLength)], poll);
        assert.deepEqual([...wr.payload], [STATUS.OK], `WRITE_WEIGHTS of tiles ${t}.. status`);
      }
      const xb = packActivations(shape, x).flatMap((v) => [0, 1, 2, 3].map((i) => Number((v >> BigInt(8 * i)) & 0xffn)));
      const mm = await link.request(OP.MATMUL, [...u32(0), ...u32(K), ...u32(N), ...u32(M), ...xb], poll);
      assert.equal(mm.payload[0], STATUS.OK, 'MATMUL status');
      const beatBytes = 4 * shape.cols;
      const beats = Array.from({ length: nTiles(shape, N) * M }, (_, b) => {
        let v = 0n;
        for (let i = beatBytes - 1; i >= 0; i--) v = (v << 8n) | BigInt(mm.payload[1 + b * beatBytes + i]!);
        return v;
      });
      const diff = firstDifference(ternaryMatmul(x, w).data, unpackResults(shape, beats, M, N), N);
      if (diff) assert.fail(`MATMUL ${M}x${K}x${N} on the gate-level board: ${diff}`);
      assert.equal(d.tb_frame_errors!.num, 0, 'the testbench UART heard no framing errors');
      assert.equal(d.ledr_n!.num, 1, 'the red LED (frame errors or overruns on the board) stays off');
      tb.log.info(`${tiles} tiles and a ${M}x${K}x${N} matmul in ${(tb.now() / 1e9).toFixed(2)} ms simulated`);
    });
    const t3 = performance.now();
    console.log(`      bitstream ${r.cached ? 'from the cache' : 'built'}, netlist and bench ${((t1 - t0) / 1000).toFixed(1)} s; Verilator ${((t2 - t1) / 1000).toFixed(1)} s; simulation ${((t3 - t2) / 1000).toFixed(1)} s`);
  });
});

describe('post-synthesis: the ternary core as synth_ice40 cells', function () {
  this.timeout(1_800_000);
  const p = CONFIGS[0]!;

  it(`${configName(p)}: the RTL regression's cases, results and CYCLES equal to the model's`, async () => {
    const t0 = performance.now();
    const rtl = coreDesign(p);
    const net = await synthNetlist(rtl.dut.source.files, rtl.dut.top);
    const dut = new DutSpec<AnyPorts>({ top: net.top, files: [net.netlist, ...net.cellModels], defines: net.defines, ...GATE_MODEL });
    const t1 = performance.now();
    await dut.build();
    const t2 = performance.now();
    // The RTL test's full name: the same seed, so the same shapes and data.
    await simulate(`${CORE_SUITE} ${configName(p)}`, { dut, timeout: '100 ms', wallTimeoutMs: 1_200_000 }, async (d, tb) => {
      const clock = new Clock(d.clk!, 10, 'ns').start();
      await resetCore(d);
      await coreRegression(new CoreDriver(d, clock, rtl.shape, { seed: tb.rng.fork() }), tb, p);
    });
    const t3 = performance.now();
    console.log(`      synth_ice40 ${((t1 - t0) / 1000).toFixed(1)} s; Verilator ${((t2 - t1) / 1000).toFixed(1)} s; simulation ${((t3 - t2) / 1000).toFixed(1)} s`);
  });
});

describe('netlist helpers', () => {
  it("icebox_vlog's pin file: set_io NAME PIN, options dropped; anything else named with its line", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pcf-'));
    const good = path.join(dir, 'good.pcf');
    writeFileSync(good, '# pins\nset_io -nowarn CLK 35 # the oscillator\nset_io RX 6\n\nset_frequency CLK 12\n');
    assert.equal(plainPcf(good), 'set_io CLK 35\nset_io RX 6\n');
    const bad = path.join(dir, 'bad.pcf');
    writeFileSync(bad, 'set_io -nowarn CLK\n');
    assert.throws(() => plainPcf(bad), { name: 'ToolchainError', message: `${bad}: 'set_io -nowarn CLK': expected set_io [-options] NAME PIN` });
  });

  it("icebox_vlog's second declaration of a port (which Verilator refuses) is dropped, other nets kept", () => {
    const v = 'module chip (input CLK, output TX);\n\nwire n1, CLK, n3;\nwire TX;\nreg n4 = 0;\nassign TX = n4;\nendmodule\n';
    assert.equal(fixPortRedeclarations(v), 'module chip (input CLK, output TX);\n\nwire n1, n3;\n\nreg n4 = 0;\nassign TX = n4;\nendmodule\n');
    assert.throws(() => fixPortRedeclarations('module chip (input CLK, output TX);\nreg TX = 0;\n'), /declared a port as a reg/);
  });

  it('a missing icebox_vlog is one message naming it and the apt-get command, not a skip', () => {
    const script = `import { ascNetlist } from './sim/toolchain/netlist.ts';\nascNetlist('none.asc', 'constraints/icebreaker/icebreaker.pcf').then(() => process.exit(0), (e) => { console.error(e.message); process.exit(1); });`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, env: { ...process.env, PATH: mkdtempSync(path.join(os.tmpdir(), 'no-tools-')) }, encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /^icebox_vlog not found \(looked in PATH\); it is needed to turn an iCE40 bitstream back into Verilog for gate-level simulation\.\nInstall it with: +(sudo )?apt-get install -y fpga-icestorm$/m);
  });
});
