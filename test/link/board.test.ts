// The board SoC end to end at bit level: a testbench-side UART talks to the board's UART
// pins; IDENTIFY reports the core's content hash, weights go in through staged frames,
// and MATMUL results come back equal to the integer reference.

import assert from 'node:assert/strict';
import { defineModule, emitDesign, Bool, UInt, bundlePorts, streamSpec } from '../../generator/hdl/index.ts';
import { board, boardIdentity, type BoardParams } from '../../generator/cores/board.ts';
import { uart } from '../../generator/cores/uart.ts';
import { coreExtra } from '../../generator/cores/ternary/core.ts';
import { emittedDut, dutTest, Clock, ClockCycles, type AnyPorts } from '../../sim/index.ts';
import { SimLinkClient } from '../../sim/drivers/link.ts';
import { OP, STATUS } from '../../generator/cores/link/engine.ts';
import { coreShape, packWeights, packActivations, tileWords, nTiles } from '../../common/core-layout.ts';
import { ternaryMatmul, matrix } from '../../common/reference.ts';

const P: BoardParams = { rows: 4, cols: 4, act: 8, format: 2, kmax: 64, mmax: 4, wdepth: 64, acc: 0, stage: 8, idle: 65536, phy: 1, clk: 2_000_000, baud: 125_000 };

const top = defineModule('board_tb', (m) => {
  const b = m.instance('dut', board(P));
  const host = m.instance('host', uart({ clk: P.clk, baud: P.baud, depth: 16 }));
  m.set(b.uartRx!, host.tx);
  m.set(host.rx, b.uartTx!);
  const send = bundlePorts(m, 'send', streamSpec(UInt(8)), 'sink');
  const recv = bundlePorts(m, 'recv', streamSpec(UInt(8)), 'source');
  m.set(host.in.valid, send.valid);
  m.set(host.in.data, send.data);
  m.set(send.ready, host.in.ready);
  m.set(recv.valid, host.out.valid);
  m.set(recv.data, host.out.data);
  m.set(host.out.ready, recv.ready);
  for (const [name, sig] of Object.entries({ busy: b.busy, core_reset: b.coreReset })) m.set(m.output(name, Bool), sig);
  for (const [name, sig] of Object.entries({ tb_frame_errors: host.frameErrors, tb_overruns: host.overruns, tb_tx_level: host.txLevel, tb_rx_level: host.rxLevel })) m.set(m.output(name, UInt(sig.width)), sig);
  return { send, recv };
});

const dut = emittedDut(emitDesign(top({})));
const u32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];

describe('board SoC over its UART pins', () => {
  dutTest('identify, load weights, matmul: results equal the reference', { dut, timeout: '2 s', wallTimeoutMs: 600_000 }, async (d, tb) => {
    const clock = new Clock(d.clk!, 500, 'ns').start();
    d.rst!.value = 1;
    await ClockCycles(d.clk!, 3);
    d.rst!.value = 0;
    const link = new SimLinkClient(clock, { rx: { valid: d.send_valid!, ready: d.send_ready!, data: d.send_data! }, tx: { valid: d.recv_valid!, ready: d.recv_ready!, data: d.recv_data! } }, { seed: tb.rng.fork() });
    const id = await link.request(OP.IDENTIFY, [], { poll: 500 });
    assert.equal(id.payload[0], STATUS.OK);
    assert.equal(Buffer.from(id.payload.subarray(2, 34)).toString('hex'), boardIdentity(P), 'IDENTIFY reports the core content hash');
    const shape = coreShape({ extra: coreExtra(P) }, 'board');
    const K = 37;
    const N = 9;
    const M = 2;
    const w = matrix(N, K, Int8Array.from({ length: N * K }, () => tb.rng.int(-1, 1)), 'W');
    const x = matrix(M, K, Int8Array.from({ length: M * K }, () => tb.rng.int(-128, 127)), 'X');
    const words = packWeights(shape, w);
    const tw = tileWords(shape);
    const tiles = words.length / tw;
    for (let t = 0; t < tiles; t += P.stage) {
      const n = Math.min(P.stage, tiles - t);
      const part = words.subarray(t * tw, (t + n) * tw);
      const r = await link.request(OP.WRITE_WEIGHTS, [...u32(t), ...new Uint8Array(part.buffer, part.byteOffset, part.byteLength)], { poll: 500 });
      assert.deepEqual([...r.payload], [STATUS.OK]);
    }
    const xb = packActivations(shape, x).flatMap((v) => [0, 1, 2, 3].map((i) => Number((v >> BigInt(8 * i)) & 0xffn)));
    const r = await link.request(OP.MATMUL, [...u32(0), ...u32(K), ...u32(N), ...u32(M), ...xb], { poll: 500 });
    assert.equal(r.payload[0], STATUS.OK);
    const dv = new DataView(r.payload.buffer, r.payload.byteOffset + 1);
    const y = new Int32Array(M * N);
    for (let nt = 0; nt < nTiles(shape, N); nt++) for (let m = 0; m < M; m++) for (let c = 0; c < 4; c++) if (nt * 4 + c < N) y[m * N + nt * 4 + c] = dv.getInt32(((nt * M + m) * 4 + c) * 4, true);
    assert.deepEqual(y, ternaryMatmul(x, w).data);
    assert.equal(d.tb_frame_errors!.num, 0);
    tb.log.info(`${tiles} tiles and a ${M}x${K}x${N} matmul over the UART in ${(tb.now() / 1e9).toFixed(2)} ms of simulated time`);
  });
});
