// The PCIe top as the XDMA IP sees it: AXI4-Lite registers (the host's `…_user` device)
// and AXI4-Stream H2C/C2H (the `…_h2c_0` / `…_c2h_0` devices), driven by the AXI VIPs.
// Requests are split over 64-bit beats with a partial last beat, responses come back one
// per C2H packet under back-pressure, and results equal the integer reference.

import assert from 'node:assert/strict';
import { emitCore, findCore, resolveParams } from '../../generator/cores/registry.ts';
import { XDMA_MAGIC, XDMA_REG } from '../../common/xdma-regs.ts';
import { engineParams, type BoardParams } from '../../generator/cores/board.ts';
import { OP, STATUS, identityBytes } from '../../generator/cores/link/engine.ts';
import { coreExtra } from '../../generator/cores/ternary/core.ts';
import { emittedDut, dutTest, Clock, ClockCycles, AxiLiteMaster, axiLitePorts, AxiLiteError, AxisSource, AxisSink, axisPorts, withTimeout, type AnyPorts, type Tb } from '../../sim/index.ts';
import { encodeFrame, FrameDecoder, type Frame } from '../../common/frame.ts';
import { coreShape, packWeights, packActivations, tileWords, nTiles } from '../../common/core-layout.ts';
import { ternaryMatmul, matrix } from '../../common/reference.ts';

const PARAMS = { rows: 4, cols: 4, act: 8, format: 2, kmax: 64, mmax: 4, wdepth: 64, acc: 0, stage: 8, idle: 1024, axis: 64 };
const core = findCore('xdma');
const design = emitCore(core, resolveParams(core, PARAMS));
const dut = emittedDut(design);
const ENGINE = engineParams({ ...PARAMS, phy: 0, clk: 125_000_000, baud: 115_200 } as BoardParams);
const u32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];

async function start(d: AnyPorts, tb: Tb, backpressure = 0.3) {
  const clock = new Clock(d.axi_aclk!, 8, 'ns').start(); // 125 MHz, the XDMA IP's user clock at Gen2 x1
  const axi = new AxiLiteMaster(clock, axiLitePorts(d, 's_axil_'));
  const h2c = new AxisSource(clock, axisPorts(d, 's_axis_h2c_'), { idle: 0.2, seed: tb.rng.fork() });
  const c2h = new AxisSink(clock, axisPorts(d, 'm_axis_c2h_'), { backpressure, seed: tb.rng.fork() });
  d.axi_aresetn!.value = 0;
  await ClockCycles(d.axi_aclk!, 4);
  d.axi_aresetn!.value = 1;
  let seq = 0;
  /** One request, written as one H2C transfer; its answer is the next C2H packet, whole. */
  const call = async (op: number, payload: number[] = []): Promise<Frame> => {
    seq = (seq + 1) & 255;
    h2c.send(encodeFrame({ seq, op, payload: Uint8Array.from(payload) }));
    const packet = await withTimeout(c2h.recv(), 2, 'ms');
    const frames = new FrameDecoder().push(packet);
    assert.equal(frames.length, 1, `one C2H packet holds exactly one response (got ${frames.length} in ${packet.length} bytes)`);
    assert.equal(frames[0]!.seq, seq);
    return frames[0]!;
  };
  return { clock, axi, h2c, c2h, call };
}

describe('XDMA top (AXI4-Lite + AXI4-Stream)', () => {
  dutTest('registers: magic, shape, identity; unmapped addresses answer SLVERR', { dut, timeout: '1 ms' }, async (d, tb) => {
    const { axi } = await start(d, tb);
    assert.equal(Number(await axi.read(XDMA_REG.MAGIC)), XDMA_MAGIC);
    assert.equal(Number(await axi.read(XDMA_REG.SHAPE)), 4 | (4 << 8) | (8 << 16) | (2 << 24));
    const hash = [ENGINE.h0, ENGINE.h1, ENGINE.h2, ENGINE.h3, ENGINE.h4, ENGINE.h5, ENGINE.h6, ENGINE.h7];
    for (let i = 0; i < 8; i++) assert.equal(Number(await axi.read(XDMA_REG.IDENTITY + 4 * i)), hash[i]! >>> 0, `identity word ${i}`);
    assert.equal(Number(await axi.read(XDMA_REG.STATUS)), 0);
    await assert.rejects(axi.read(0x40), (e: unknown) => e instanceof AxiLiteError && /SLVERR/.test(e.message));
    await assert.rejects(axi.write(0x44, 1), /SLVERR/);
  });

  dutTest('the link over H2C/C2H: identify, registers, CONTROL reset, counters', { dut, timeout: '5 ms' }, async (d, tb) => {
    const { axi, call } = await start(d, tb);
    let r = await call(OP.IDENTIFY);
    assert.deepEqual([...r.payload], [STATUS.OK, ...identityBytes(ENGINE)]);
    r = await call(OP.WRITE_REG, [2, ...u32(57)]);
    assert.deepEqual([...r.payload], [STATUS.OK]);
    r = await call(OP.READ_REG, [2]);
    assert.deepEqual([...r.payload], [STATUS.OK, ...u32(57)]);
    const sent = 3 * 13 + 5 + 1; // three frames' headers and CRCs (13 bytes each), then their payloads
    assert.equal(Number(await axi.read(XDMA_REG.H2C_BYTES)), sent);
    assert.equal(Number(await axi.read(XDMA_REG.H2C_PACKETS)), 3);
    assert.equal(Number(await axi.read(XDMA_REG.RESPONSES)), 3);
    assert.equal(Number(await axi.read(XDMA_REG.C2H_BYTES)), 3 * 13 + (1 + identityBytes(ENGINE).length) + 1 + 5);
    // CONTROL bit 0 resets the SoC: the core's registers clear; the counters and the bus survive.
    await axi.write(XDMA_REG.CONTROL, 1);
    r = await call(OP.READ_REG, [2]);
    assert.deepEqual([...r.payload], [STATUS.OK, ...u32(0)]);
    assert.equal(Number(await axi.read(XDMA_REG.RESPONSES)), 4);
  });

  dutTest('weights and matmul through the streams equal the reference', { dut, timeout: '20 ms', parametrize: { backpressure: [0, 0.5] } }, async (d, tb, p) => {
    const { call } = await start(d, tb, p.backpressure);
    const shape = coreShape({ extra: coreExtra(PARAMS) }, 'core');
    for (let rep = 0; rep < 4; rep++) {
      const K = tb.rng.int(1, 64);
      const N = tb.rng.int(1, 16);
      const M = tb.rng.int(1, 4);
      const w = matrix(N, K, Int8Array.from({ length: N * K }, () => tb.rng.int(-1, 1)), 'W');
      const x = matrix(M, K, Int8Array.from({ length: M * K }, () => (rep === 0 ? -128 : tb.rng.int(-128, 127))), 'X');
      const words = packWeights(shape, w);
      const tw = tileWords(shape);
      const tiles = words.length / tw;
      assert.ok(tiles <= PARAMS.wdepth);
      const bytesOf = (a: Uint32Array): number[] => [...new Uint8Array(a.buffer, a.byteOffset, a.byteLength)];
      for (let t = 0; t < tiles; t += PARAMS.stage) {
        const n = Math.min(PARAMS.stage, tiles - t);
        const r = await call(OP.WRITE_WEIGHTS, [...u32(t), ...bytesOf(words.subarray(t * tw, (t + n) * tw))]);
        assert.deepEqual([...r.payload], [STATUS.OK]);
      }
      const xb: number[] = [];
      for (const v of packActivations(shape, x)) for (let i = 0; i < ENGINE.xBits / 8; i++) xb.push(Number((v >> BigInt(8 * i)) & 0xffn));
      const r = await call(OP.MATMUL, [...u32(0), ...u32(K), ...u32(N), ...u32(M), ...xb]);
      assert.equal(r.payload[0], STATUS.OK);
      const NT = nTiles(shape, N);
      const dv = new DataView(r.payload.buffer, r.payload.byteOffset + 1, r.payload.byteLength - 1);
      const y = new Int32Array(M * N);
      for (let nt = 0; nt < NT; nt++) for (let m = 0; m < M; m++) for (let c = 0; c < 4; c++) {
        const n = nt * 4 + c;
        if (n < N) y[m * N + n] = dv.getInt32(((nt * M + m) * 4 + c) * 4, true);
      }
      assert.deepEqual(y, ternaryMatmul(x, w).data, `M=${M} K=${K} N=${N}`);
      tb.log.info(`M=${M} K=${K} N=${N}: ${r.payload.length + 13} response bytes in one C2H packet`);
    }
  });
});
