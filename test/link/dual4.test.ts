// A dual4 board (the int4-pairs mode beside int8, issue 20) through the link: IDENTIFY reports
// the mode, MATMUL_INT4 and MATMUL on one board give the integers of cpu (===) and the
// model's CYCLES, and the a4.8 scheme on a tiny model runs q/k/v/gate/up in the int4 mode and
// o/down in int8 with every product equal to cpu's and the same greedy tokens. A board without
// the mode is asked for it never: the client refuses MATMUL_INT4 naming the board's modes.

import assert from 'node:assert/strict';
import { simBackend } from '../../host/backends/sim.ts';
import { CpuBackend } from '../../host/backends/cpu.ts';
import type { BitLinearBackend } from '../../host/backends/backend.ts';
import { LinkError } from '../../host/link/client.ts';
import { loadModel } from '../../host/model/load.ts';
import { bitLinears, type BitNetModel } from '../../host/model/model.ts';
import { generate } from '../../host/infer/generate.ts';
import { modelCore } from '../../common/core-model.ts';
import { OP, STATUS, MATMUL_ARGS_BYTES } from '../../common/protocol.ts';
import { packActivationPairs, packActivations, type CoreShape } from '../../common/core-layout.ts';
import { matrix, ternaryMatmul } from '../../common/reference.ts';
import { XorShift32, globalSeed } from '../../common/rng.ts';
import { fixture } from '../host/fixtures.ts';

const BOARD = { rows: 8, cols: 8, act: 8, format: 2, kmax: 64, mmax: 4, wdepth: 4096, acc: 0, stage: 8, idle: 65536, phy: 0, clk: 12_000_000, baud: 115_200, dual4: 1 };
const quiet = { log: () => {} };

/** A raw MATMUL or MATMUL_INT4 payload: wbase 0, K, N, M, then the given activation beats. */
function rawMatmul(s: CoreShape, beats: readonly bigint[], K: number, N: number, M: number): Uint8Array {
  const xb = s.xBits / 8;
  const p = new Uint8Array(MATMUL_ARGS_BYTES + beats.length * xb);
  const dv = new DataView(p.buffer);
  [0, K, N, M].forEach((v, i) => dv.setUint32(4 * i, v, true));
  beats.forEach((v, b) => {
    for (let i = 0; i < xb; i++) p[MATMUL_ARGS_BYTES + b * xb + i] = Number((v >> BigInt(8 * i)) & 0xffn);
  });
  return p;
}
const refusedWith = (status: number) => (e: unknown): boolean => e instanceof LinkError && new RegExp(`status ${status} `).test(e.message);

/** Every matmul on both backends, compared element by element; the cpu's result is returned. */
function comparing(cpu: BitLinearBackend, board: BitLinearBackend): BitLinearBackend {
  return {
    name: `${board.name} against cpu`,
    stats: board.stats,
    load: async (ws, o) => {
      await cpu.load(ws, o);
      await board.load(ws, o);
    },
    matmul: async (i, x, M) => {
      const a = await cpu.matmul(i, x, M);
      const b = await board.matmul(i, x, M);
      assert.equal(b.length, a.length);
      for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) assert.fail(`weight ${i} M=${M}: element ${k} is ${b[k]} on ${board.name}, ${a[k]} on cpu`);
      return a;
    },
    close: async () => {
      await cpu.close();
      await board.close();
    },
  };
}

describe('link: a dual4 board (int8 and int4-pair modes per MATMUL)', function () {
  it('IDENTIFY reports the mode; MATMUL_INT4 and MATMUL on one board equal the reference and the model CYCLES; M odd and even', async () => {
    const sim = await simBackend(BOARD, quiet);
    try {
      const s = await sim.connect();
      assert.equal(s.dual4, 1, 'IDENTIFY: the int4-pairs mode');
      assert.equal(s.act, 8);
      const rng = new XorShift32(globalSeed() ^ 20);
      const client = sim.client;
      for (let rep = 0; rep < 8; rep++) {
        const K = rep === 0 ? 64 : rng.int(1, 64);
        const N = rng.int(1, 20);
        const M = rep < 2 ? 3 + rep : rng.int(1, 4); // 3 (odd) and 4 (even) first
        const w = matrix(N, K, Int8Array.from({ length: N * K }, () => rng.int(-1, 1)), 'W');
        await client.writeWeights(s, sim.identity!.stage, w, 0);
        const x = matrix(M, K, Int8Array.from({ length: M * K }, () => rng.int(-8, 7)), 'X');
        const want = ternaryMatmul(x, w).data;
        for (const int4 of rep % 2 ? [true, false] : [false, true]) {
          const r = await client.matmul(s, x, N, 0, { int4 });
          assert.deepEqual(r.y, want, `${int4 ? 'MATMUL_INT4' : 'MATMUL'} M=${M} K=${K} N=${N}`);
          assert.equal(r.cycles, modelCore(s, x, w, { int4 }).cycles + r.stalls, `${int4 ? 'MATMUL_INT4' : 'MATMUL'} M=${M} K=${K} N=${N}: CYCLES = model + STALLS`);
        }
      }
      // Every sum at an end of its range (what a guard gap one bit short gets wrong): weights all
      // +1 or all -1, each token's activations all -8 or all 7, K = kmax and a partial last tile.
      for (const wv of [1, -1]) {
        for (const [a, b] of [[-8, -8], [7, 7], [-8, 7], [7, -8]] as const) {
          for (const K of [64, 57]) {
            const N = 11;
            const M = 3;
            const w = matrix(N, K, new Int8Array(N * K).fill(wv), 'W');
            await client.writeWeights(s, sim.identity!.stage, w, 0);
            const x = matrix(M, K, Int8Array.from({ length: M * K }, (_, i) => (Math.floor(i / K) % 2 ? b : a)), 'X');
            const r = await client.matmul(s, x, N, 0, { int4: true });
            assert.deepEqual(r.y, ternaryMatmul(x, w).data, `MATMUL_INT4 extremes: w=${wv} a=${a},${b} K=${K} M=${M}`);
          }
        }
      }
    } finally {
      await sim.close();
    }
  });

  it('MATMUL_INT4 on the wire: an odd M drops the absent token whatever its nibble holds; beat counts of the other mode and M > mmax are BAD_ARGS; the board answers on', async () => {
    const sim = await simBackend(BOARD, quiet);
    try {
      const s = await sim.connect();
      const c = sim.client;
      const rng = new XorShift32(globalSeed() ^ 21);
      const K = 20;
      const N = 9;
      const M = 3;
      const w = matrix(N, K, Int8Array.from({ length: N * K }, () => rng.int(-1, 1)), 'W');
      await c.writeWeights(s, sim.identity!.stage, w, 0);
      const x = matrix(M, K, Int8Array.from({ length: M * K }, () => rng.int(-8, 7)), 'X');
      // The last pair's high nibbles hold 7s, not zeros: the board must not count them.
      const x4 = matrix(4, K, Int8Array.from({ length: 4 * K }, (_, i) => (i < M * K ? x.data[i]! : 7)), 'X4');
      const p = await c.request(OP.MATMUL_INT4, rawMatmul(s, packActivationPairs(s, x4), K, N, M));
      const tilesN = Math.ceil(N / s.cols);
      assert.equal(p.length, tilesN * M * 4 * s.cols + 8, 'one result beat per token, the absent one none');
      const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
      const y = new Int32Array(M * N);
      for (let nt = 0; nt < tilesN; nt++) for (let m = 0; m < M; m++) for (let col = 0; col < s.cols; col++) if (nt * s.cols + col < N) y[m * N + nt * s.cols + col] = dv.getInt32(((nt * M + m) * s.cols + col) * 4, true);
      assert.deepEqual(y, ternaryMatmul(x, w).data, 'the odd token pair: the absent token dropped');
      const zeros = matrix(M, 16, new Int8Array(M * 16), 'X');
      await assert.rejects(c.request(OP.MATMUL, rawMatmul(s, packActivationPairs(s, zeros), 16, 8, M)), refusedWith(STATUS.BAD_ARGS), 'MATMUL with pair beats');
      await assert.rejects(c.request(OP.MATMUL_INT4, rawMatmul(s, packActivations(s, zeros), 16, 8, M)), refusedWith(STATUS.BAD_ARGS), 'MATMUL_INT4 with int8 beats');
      await assert.rejects(c.request(OP.MATMUL_INT4, rawMatmul(s, packActivationPairs(s, zeros).slice(0, 3), 16, 8, M)), refusedWith(STATUS.BAD_ARGS), 'MATMUL_INT4 a beat short');
      await assert.rejects(c.request(OP.MATMUL_INT4, rawMatmul(s, packActivationPairs(s, zeros), 16, 8, s.mmax + 1)), refusedWith(STATUS.BAD_ARGS), 'MATMUL_INT4 M > mmax');
      assert.equal((await c.matmul(s, x, N, 0, { int4: true })).y.length, M * N, 'the board answers after the refusals');
    } finally {
      await sim.close();
    }
  });

  it('a4.8 on a tiny model: q/k/v/gate/up in the int4 mode, o/down in int8, every product === cpu, the same tokens', async () => {
    const base = loadModel(fixture('tiny-bitnet-a'));
    const model: BitNetModel = { ...base, config: { ...base.config, actScheme: 'a4.8' } };
    const prompt = [1, 17, 42, 99, 5];
    const cpuOnly = new CpuBackend();
    await cpuOnly.load(bitLinears(model));
    const want = (await generate(model, cpuOnly, prompt, { n: 4, temperature: 0 })).tokens;
    const sim = await simBackend(BOARD, quiet);
    const both = comparing(new CpuBackend(), sim);
    try {
      await both.load(bitLinears(model));
      const got = (await generate(model, both, prompt, { n: 4, temperature: 0 })).tokens;
      assert.deepEqual(got, want);
      // The 5-token prompt is runs of 4 and 1 tokens (mmax 4); the 4-token runs of the fused qkv and
      // gate/up (K = 64: one block each) take the int4 mode, o and down (int8 inputs) and the
      // 1-token runs do not (one token a step either way).
      assert.equal(sim.stats.int4Runs, 2 * model.config.layers, 'int4-pair runs: qkv and gate/up of the 4-token prompt run, every layer');
      console.log(`      ${sim.stats.int4Runs} int4-pair runs, ${sim.stats.boardCycles} board cycles`);
    } finally {
      await both.close();
    }
  });

  it('a board without the mode: MATMUL_INT4 is refused by the client before anything is sent, naming the board\'s modes', async () => {
    // test/host/backends.test.ts's 8x8 board: its build is shared through the cache.
    const sim = await simBackend({ rows: 8, cols: 8, act: 8, format: 2, kmax: 32, mmax: 2, wdepth: 4096, acc: 0, stage: 8, idle: 65536, phy: 0, clk: 12_000_000, baud: 115_200 }, quiet);
    try {
      const s = await sim.connect();
      assert.equal(s.dual4, undefined);
      const before = sim.client.stats.requests;
      const x = matrix(2, 8, new Int8Array(16), 'X');
      await assert.rejects(sim.client.matmul(s, x, 8, 0, { int4: true }), (e: unknown) => e instanceof LinkError && /MATMUL_INT4 needs a board with the int4-pairs mode; this one's modes are int8$/.test(e.message));
      assert.equal(sim.client.stats.requests, before, 'nothing sent');
      // Sent anyway (a host that skipped the check): the board answers "unknown opcode" and goes on.
      await assert.rejects(sim.client.request(OP.MATMUL_INT4, rawMatmul(s, [0n], 8, 8, 2)), refusedWith(STATUS.UNKNOWN_OP));
      assert.equal((await sim.client.identify()).dual4, 0, 'IDENTIFY after it');
    } finally {
      await sim.close();
    }
  });
});
