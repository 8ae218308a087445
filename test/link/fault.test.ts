// Reliability: the host's link client and board-sim through a proxy that drops, flips,
// inserts and delays bytes and resets the board mid-frame. Every result that comes back
// is bit-exact; a call that cannot get one fails with a LinkError; nothing hangs and no
// wrong result is ever returned. LINK_SOAK=n runs n times as many requests.

import assert from 'node:assert/strict';
import { BoardSim } from '../../sim/board-sim.ts';
import { LinkClient, LinkError } from '../../host/link/client.ts';
import { FaultProxy } from '../../host/link/fault-proxy.ts';
import { coreShape } from '../../common/core-layout.ts';
import { ternaryMatmul, matrix } from '../../common/reference.ts';
import { XorShift32, globalSeed } from '../../common/rng.ts';

const PARAMS = { rows: 4, cols: 4, act: 8, format: 2, kmax: 64, mmax: 4, wdepth: 64, stage: 8, idle: 4096 };
const REQUESTS = 600 * Number(process.env.LINK_SOAK ?? 1);

describe('link under injected faults', () => {
  let sim: BoardSim | undefined;
  after(async () => await sim?.close());

  it(`${REQUESTS} matmuls through drops, flips, insertions, delays and board resets: no wrong result (seed ${globalSeed()})`, async () => {
    const seed = globalSeed();
    let proxy!: FaultProxy;
    sim = await BoardSim.create(PARAMS, (b) => proxy.fromBoard(b), { log: () => {} });
    const board = sim;
    proxy = new FaultProxy({ drop: 0.0005, flip: 0.0005, insert: 0.0005, delay: 0.02, maxDelayMs: 40, reset: 0.004 }, seed, (b) => board.receive(b), () => board.reset());
    const client = new LinkClient(proxy.transport(), { timeoutMs: 100, matmulTimeoutMs: 150, retries: 6 });
    const shape = coreShape(sim.manifest, 'board-sim manifest');
    const rng = new XorShift32(seed);
    const K = 29;
    const N = 7;
    const w = matrix(N, K, Int8Array.from({ length: N * K }, () => rng.int(-1, 1)), 'W');
    proxy.enabled = false;
    await client.writeWeights(shape, 8, w);
    proxy.enabled = true;
    let ok = 0;
    let failed = 0;
    let wrong = 0;
    const t0 = performance.now();
    for (let i = 0; i < REQUESTS; i++) {
      const M = rng.int(1, 4);
      const x = matrix(M, K, Int8Array.from({ length: M * K }, () => rng.int(-128, 127)), 'X');
      try {
        const r = await client.matmul(shape, x, N);
        if (r.y.every((v, j) => v === ternaryMatmul(x, w).data[j])) ok++;
        else wrong++;
      } catch (e) {
        if (!(e instanceof LinkError)) throw e;
        failed++;
      }
    }
    const c = proxy.counts;
    console.log(`      ${REQUESTS} matmuls in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${ok} bit-exact, ${failed} failed with LinkError, ${wrong} wrong; frames sent ${client.stats.requests + client.stats.retries} (${client.stats.retries} retries); faults: ${c.dropped} dropped, ${c.flipped} flipped, ${c.inserted} inserted bytes, ${c.delayed} delayed chunks, ${c.resets} board resets`);
    assert.equal(wrong, 0, 'a wrong result was returned');
    assert.ok(c.dropped + c.flipped + c.inserted + c.resets > 50, 'faults were injected');
    assert.ok(client.stats.retries > 0, 'the client had to retry');
    assert.ok(ok >= REQUESTS * 0.95, `${ok} of ${REQUESTS} calls succeeded`);
  });
});
