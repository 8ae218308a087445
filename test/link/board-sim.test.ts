// board-sim behind a real pseudo-terminal (socat), the host's link client on the other
// end through `serialport`: identity check, weights, matmul, results equal the integer
// reference, byte for byte over a tty.

import assert from 'node:assert/strict';
import { startBoardPty, type BoardPty } from '../../sim/board-pty.ts';
import { openSerial } from '../../host/link/serial.ts';
import { LinkClient, LinkError } from '../../host/link/client.ts';
import { coreShape } from '../../common/core-layout.ts';
import { ternaryMatmul, matrix } from '../../common/reference.ts';
import { XorShift32, globalSeed } from '../../common/rng.ts';

const PARAMS = { rows: 4, cols: 4, act: 8, format: 2, kmax: 64, mmax: 4, wdepth: 64, stage: 8 };

describe('board-sim over a pseudo-terminal', function () {
  let board: BoardPty | undefined;
  let client: LinkClient | undefined;
  after(async () => {
    await client?.close();
    await board?.close();
  });

  it('identifies, loads weights and multiplies, equal to the integer reference', async () => {
    board = await startBoardPty(PARAMS, { build: { log: () => {} } });
    const sim = board.sim;
    client = new LinkClient(await openSerial(board.path, 115200), { timeoutMs: 3000, retries: 2 });
    const hash = board.identity;
    await assert.rejects(client.connect('0'.repeat(64)), (e: unknown) => e instanceof LinkError && /is not the RTL this host expects/.test(e.message));
    const id = await client.connect(hash);
    assert.equal(id.rows, 4);
    assert.equal(id.stage, 8);
    const shape = coreShape(sim.manifest, 'board-sim manifest');
    const rng = new XorShift32(globalSeed());
    for (let rep = 0; rep < 3; rep++) {
      const K = rng.int(1, 64);
      const N = rng.int(1, 20);
      const M = rng.int(1, 4);
      const w = matrix(N, K, Int8Array.from({ length: N * K }, () => rng.int(-1, 1)), 'W');
      const x = matrix(M, K, Int8Array.from({ length: M * K }, () => rng.int(-128, 127)), 'X');
      await client.writeWeights(shape, id.stage, w);
      const r = await client.matmul(shape, x, N);
      assert.deepEqual(r.y, ternaryMatmul(x, w).data, `M=${M} K=${K} N=${N}`);
    }
    assert.equal(client.stats.retries, 0);
    console.log(`      ${client.stats.requests} requests, ${client.stats.bytesOut} bytes out, ${client.stats.bytesIn} bytes in, ${sim.cycles} board cycles`);
  });
});

describe('board-sim --phy: the serial line simulated bit by bit', function () {
  for (const mismatch of [0.03, -0.03]) {
    it(`a host end ${mismatch > 0 ? '+' : ''}${mismatch * 100} % off the board's baud rate: identify, weights, matmul equal the reference`, async () => {
      const { BoardSim } = await import('../../sim/board-sim.ts');
      const baud = 500_000; // 24 clocks per bit at 12 MHz: short runs, the same receiver
      let receive: (b: Uint8Array) => void = () => {};
      const sim = await BoardSim.create({ ...PARAMS, baud }, (b) => receive(b), { log: () => {} }, { hostBaud: Math.round(baud * (1 + mismatch)) });
      const transport = { name: 'board-sim --phy', write: async (b: Uint8Array) => sim.receive(b), onData: (cb: (b: Uint8Array) => void) => void (receive = cb), close: async () => {} };
      const link = new LinkClient(transport, { timeoutMs: 20_000, retries: 0 });
      try {
        assert.ok(sim.model.index.has('in_flight'), 'the serial-line flavour was built');
        const id = await link.connect((sim.manifest.extra as { board: { identity: string } }).board.identity);
        const shape = coreShape(sim.manifest, 'board-sim --phy manifest');
        const rng = new XorShift32(globalSeed() ^ 7);
        const K = rng.int(1, 64);
        const N = rng.int(1, 12);
        const M = rng.int(1, 4);
        const w = matrix(N, K, Int8Array.from({ length: N * K }, () => rng.int(-1, 1)), 'W');
        const x = matrix(M, K, Int8Array.from({ length: M * K }, () => rng.int(-128, 127)), 'X');
        await link.writeWeights(shape, id.stage, w);
        const { y } = await link.matmul(shape, x, N);
        assert.deepEqual(y, ternaryMatmul(x, w).data, `M=${M} K=${K} N=${N}`);
        assert.equal(link.stats.retries, 0);
        console.log(`      ${link.stats.bytesOut + link.stats.bytesIn} bytes over the simulated line in ${sim.cycles.toLocaleString('en-US')} cycles`);
      } finally {
        await sim.close();
      }
    });
  }
});
