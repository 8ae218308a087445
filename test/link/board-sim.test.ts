// board-sim behind a real pseudo-terminal (socat), the host's link client on the other
// end through `serialport`: identity check, weights, matmul, results equal the integer
// reference, byte for byte over a tty.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BoardSim } from '../../sim/board-sim.ts';
import { openSerial } from '../../host/link/serial.ts';
import { LinkClient, LinkError } from '../../host/link/client.ts';
import { coreShape } from '../../host/matmul/core-layout.ts';
import { ternaryMatmul, matrix } from '../../host/matmul/reference.ts';
import { XorShift32, globalSeed } from '../../sim/tb/rng.ts';
import { requireTool } from '../../sim/toolchain/tools.ts';

const PARAMS = { rows: 4, cols: 4, act: 8, format: 2, kmax: 64, mmax: 4, wdepth: 64, stage: 8 };

async function ptyPair(): Promise<{ host: string; board: string; socat: ChildProcess }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bitnet-pty-'));
  const host = path.join(dir, 'host');
  const board = path.join(dir, 'board');
  const socat = spawn(requireTool('socat'), [`pty,raw,echo=0,link=${host}`, `pty,raw,echo=0,link=${board}`], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !(existsSync(host) && existsSync(board)); i++) await new Promise((r) => setTimeout(r, 20));
  if (!existsSync(host)) throw new Error('socat did not create the pseudo-terminal pair');
  return { host, board, socat };
}

describe('board-sim over a pseudo-terminal', function () {
  let socat: ChildProcess | undefined;
  let sim: BoardSim | undefined;
  let client: LinkClient | undefined;
  let boardPort: Awaited<ReturnType<typeof openSerial>> | undefined;
  after(async () => {
    await client?.close();
    await boardPort?.close();
    socat?.kill();
    await sim?.close();
  });

  it('identifies, loads weights and multiplies, equal to the integer reference', async () => {
    const pair = await ptyPair();
    socat = pair.socat;
    const port = (boardPort = await openSerial(pair.board, 115200));
    sim = await BoardSim.create(PARAMS, (bytes) => void port.write(bytes), { log: () => {} });
    port.onData((bytes) => sim!.receive(bytes));
    client = new LinkClient(await openSerial(pair.host, 115200), { timeoutMs: 3000, retries: 2 });
    const hash = (sim.manifest.extra as { board: { identity: string } }).board.identity;
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
