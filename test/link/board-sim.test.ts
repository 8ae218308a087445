// board-sim behind a real pseudo-terminal (socat), the host's link client on the other
// end through `serialport`: identity check, weights, matmul, results equal the integer
// reference, byte for byte over a tty.

import assert from 'node:assert/strict';
import { startBoardPty, type BoardPty } from '../../sim/board-pty.ts';
import { openSerial } from '../../host/link/serial.ts';
import { LinkClient, LinkError } from '../../host/link/client.ts';
import { coreShape } from '../../host/matmul/core-layout.ts';
import { ternaryMatmul, matrix } from '../../host/matmul/reference.ts';
import { XorShift32, globalSeed } from '../../sim/tb/rng.ts';

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
