// Bit-exactness across backends: the same int8 inputs give identical int32 results (===)
// on cpu and on the board SoC under Verilator, whatever the placement (all resident, a
// scratch region, K split over kmax, M over mmax), and full generations agree token for
// token. The tag tile lets a second load skip the upload. uart goes through a real pty.

import assert from 'node:assert/strict';
import { selectBackend } from '../../host/backends/select.ts';
import { simBackend } from '../../host/backends/sim.ts';
import { uartBackend } from '../../host/backends/uart.ts';
import { CpuBackend } from '../../host/backends/cpu.ts';
import { BackendError, type BitLinearBackend } from '../../host/backends/backend.ts';
import { packTernary, type PackedTernary } from '../../host/model/ternary.ts';
import { loadModel } from '../../host/model/load.ts';
import { bitLinears } from '../../host/model/model.ts';
import { generate } from '../../host/infer/generate.ts';
import { startBoardPty } from '../../sim/board-pty.ts';
import { LinkError } from '../../host/link/client.ts';
import { XorShift32, globalSeed } from '../../common/rng.ts';
import { fixture } from './fixtures.ts';

const BOARD = { rows: 4, cols: 4, act: 8, format: 2, kmax: 64, mmax: 2, wdepth: 64, acc: 0, stage: 8, idle: 65536, phy: 0, clk: 12_000_000, baud: 115_200 };
const quiet = { log: () => {} };

function randomWeights(rng: XorShift32, n: number): PackedTernary[] {
  return Array.from({ length: n }, (_, i) => {
    const N = rng.int(1, 30);
    const K = rng.int(1, 150); // up to 150 > kmax 64: split over K on the board
    return packTernary(`w${i}`, { rows: N, cols: K, data: Int8Array.from({ length: N * K }, () => rng.int(-1, 1)) }, { op: 'div', value: 1 });
  });
}

async function sameResults(a: BitLinearBackend, b: BitLinearBackend, ws: PackedTernary[], rng: XorShift32, calls: number): Promise<void> {
  for (let c = 0; c < calls; c++) {
    const i = rng.int(0, ws.length - 1);
    const M = rng.int(1, 7); // up to 7 > mmax 2: split over M
    const x = Int8Array.from({ length: M * ws[i]!.cols }, () => rng.int(-128, 127));
    const ya = await a.matmul(i, x, M);
    const yb = await b.matmul(i, x, M);
    assert.equal(ya.length, yb.length);
    for (let k = 0; k < ya.length; k++) assert.ok(ya[k] === yb[k], `call ${c}: weight ${i} (${ws[i]!.rows}x${ws[i]!.cols}) M=${M}: element ${k} is ${yb[k]} on ${b.name}, ${ya[k]} on ${a.name}`);
  }
}

describe('host: backends agree bit for bit', function () {
  it('sim (all weights resident) equals cpu; a second load finds the weights by their tag', async () => {
    const rng = new XorShift32(globalSeed() ^ 1);
    const ws = randomWeights(rng, 4);
    const cpu = new CpuBackend();
    await cpu.load(ws);
    const sim = await simBackend({ ...BOARD, wdepth: 1024 }, quiet);
    try {
      await sim.load(ws);
      assert.equal(sim.plan!.resident, true);
      assert.ok(sim.stats.weightTilesSent > 0);
      await sameResults(cpu, sim, ws, rng, 12);
      const sent = sim.stats.weightTilesSent;
      await sim.load(ws);
      assert.equal(sim.stats.weightsReused, true);
      assert.equal(sim.stats.weightTilesSent, sent, 'no tiles re-sent');
      // Other weights: the tag no longer matches, so they are uploaded.
      const other = randomWeights(rng, 2);
      await cpu.load(other);
      await sim.load(other);
      assert.ok(sim.stats.weightTilesSent > sent);
      await sameResults(cpu, sim, other, rng, 4);
      console.log(`      ${sim.stats.requests} requests, ${sim.stats.boardCycles} board cycles, ${sim.stats.weightTilesSent} tiles sent`);
    } finally {
      await sim.close();
    }
  });

  it('sim with a weight memory smaller than the model (scratch region) equals cpu', async () => {
    const rng = new XorShift32(globalSeed() ^ 2);
    const ws = randomWeights(rng, 6);
    const cpu = new CpuBackend();
    await cpu.load(ws);
    const sim = await simBackend({ ...BOARD, wdepth: 32 }, quiet);
    try {
      await sim.load(ws);
      assert.equal(sim.plan!.resident, false, 'the plan needs a scratch region');
      await sameResults(cpu, sim, ws, rng, 16);
    } finally {
      await sim.close();
    }
  });

  it('sim with the table-lookup array (jmax=2: blocks of 2 n-tiles, the last one short) equals cpu', async () => {
    const rng = new XorShift32(globalSeed() ^ 3);
    const ws = randomWeights(rng, 4);
    const cpu = new CpuBackend();
    await cpu.load(ws);
    const sim = await simBackend({ ...BOARD, wdepth: 1024, jmax: 2 }, quiet);
    try {
      await sim.load(ws);
      // IDENTIFY carries no jmax (the host needs none: same registers, streams and tile layout); the SoC simulated is named after its parameters.
      assert.match(sim.name, /table-lookup jmax 2/, 'the simulated SoC has the table-lookup array');
      await sameResults(cpu, sim, ws, rng, 12);
      console.log(`      jmax=2: ${sim.stats.requests} requests, ${sim.stats.boardCycles} board cycles`);
    } finally {
      await sim.close();
    }
  });

  it('a model generates the same tokens on cpu and sim (8x8 board as rtl/board, K and M split)', async () => {
    const model = loadModel(fixture('tiny-bitnet-a'));
    const run = async (be: BitLinearBackend): Promise<number[]> => {
      try {
        await be.load(bitLinears(model));
        return (await generate(model, be, [1, 17, 42, 99, 5], { n: 6, temperature: 0.8, seed: 11 })).tokens;
      } finally {
        await be.close();
      }
    };
    const cpu = await run(new CpuBackend());
    // kmax 32 < K = 64/160 and mmax 2 < the 5-token prompt: every projection is split.
    const sim = await run(await simBackend({ ...BOARD, rows: 8, cols: 8, kmax: 32, mmax: 2, wdepth: 4096 }, quiet));
    assert.deepEqual(sim, cpu);
  });

  it('uart through board-sim on a pseudo-terminal equals cpu; a board with other RTL is refused', async () => {
    const board = await startBoardPty({ ...BOARD, wdepth: 1024 }, { build: quiet });
    try {
      const rng = new XorShift32(globalSeed() ^ 3);
      const ws = randomWeights(rng, 3);
      const cpu = new CpuBackend();
      await cpu.load(ws);
      const wrong = await uartBackend(board.path, 115200, { expectedHash: 'f'.repeat(64) });
      await assert.rejects(wrong.load(ws), (e: unknown) => e instanceof LinkError && /is not the RTL this host expects/.test(e.message));
      await wrong.close();
      const uart = await uartBackend(board.path, 115200, { expectedHash: board.identity });
      try {
        await uart.load(ws);
        await sameResults(cpu, uart, ws, rng, 6);
        assert.equal(uart.stats.retries, 0);
      } finally {
        await uart.close();
      }
    } finally {
      await board.close();
    }
  });

  it('bad backend specs and unfinished backends say so', async () => {
    await assert.rejects(selectBackend('cpu:fast'), /backend 'cpu' takes no argument but 'js'/);
    await assert.rejects(selectBackend('fpga'), (e: unknown) => e instanceof BackendError && /unknown backend 'fpga': expected cpu\[:js\], sim/.test(e.message));
    await assert.rejects(selectBackend('uart'), /backend 'uart' needs a serial port/);
    await assert.rejects(selectBackend('sim:wdepth=lots'), /parameter 'wdepth=lots' must be name=integer/);
    await assert.rejects(selectBackend('pcie:/nonexistent/xdma0'), /xdma0_user: no such device/);
    await assert.rejects(uartBackend('/dev/does-not-exist', 115200), /cannot open serial port \/dev\/does-not-exist/);
    const sim = await simBackend({ ...BOARD, act: 4 }, quiet);
    await assert.rejects(sim.load(randomWeights(new XorShift32(1), 1), { actBits: 8 }), /the board takes int4 activations but the model quantizes them to int8 \(the board's modes: int4\)/);
    await sim.close();
  });
});
