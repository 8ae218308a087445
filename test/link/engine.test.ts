// The board's command engine in RTL against the host's frame codec: identify, register
// reads and writes through the ternary core's register port, status codes, and frames
// that are corrupted or buried in garbage (dropped unanswered, the rest answered).

import assert from 'node:assert/strict';
import { emitDesign } from '../../generator/hdl/index.ts';
import { identityBytes, OP, STATUS } from '../../generator/cores/link/engine.ts';
import { board, engineParams, type BoardParams } from '../../generator/cores/board.ts';
import { coreExtra } from '../../generator/cores/ternary/core.ts';
import { emittedDut, dutTest, Clock, ClockCycles, FastStreams, type AnyPorts, type Tb } from '../../sim/index.ts';
import { encodeFrame, FrameDecoder, type Frame } from '../../common/frame.ts';
import { coreShape, packWeights, packActivations, tileWords, nTiles } from '../../common/core-layout.ts';
import { ternaryMatmul, matrix } from '../../common/reference.ts';
import { modelCore } from '../../common/core-model.ts';

// The engine with the core behind it: the board SoC in its byte-stream flavour.
const BOARD: BoardParams = { rows: 4, cols: 4, act: 8, format: 2, kmax: 64, mmax: 4, wdepth: 64, acc: 0, stage: 8, idle: 1024, phy: 0, clk: 12_000_000, baud: 115_200 };
const ENGINE = engineParams(BOARD);
const dut = emittedDut(emitDesign(board(BOARD)));

/** Clock, reset, and the C++ stream engine on the board's byte streams. */
async function start(d: AnyPorts, tb: Tb, opts: { idle?: number; backpressure?: number } = {}) {
  const clock = new Clock(d.clk!, 10, 'ns').start();
  d.rst!.value = 1;
  await ClockCycles(d.clk!, 2);
  d.rst!.value = 0;
  const fast = new FastStreams(clock);
  const src = fast.source({ valid: d.rx_valid!, ready: d.rx_ready!, data: d.rx_data! }, { idle: opts.idle ?? 0, seed: tb.rng.fork() });
  const snk = fast.sink({ valid: d.tx_valid!, ready: d.tx_ready!, data: d.tx_data! }, { backpressure: opts.backpressure ?? 0, seed: tb.rng.fork() });
  return { clock, fast, src, snk };
}

const u32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];

describe('link engine (RTL) with the host frame codec', () => {
  dutTest('identify, register writes and reads, status codes, corrupted frames and garbage', { dut, timeout: '10 ms' }, async (d, tb) => {
    const { fast, src, snk } = await start(d, tb, { idle: 0.2, backpressure: 0.3 });
    const dec = new FrameDecoder();
    let expected = 0;
    const exchange = async (bytes: Uint8Array | number[], answers: number): Promise<Frame[]> => {
      src.push(Array.from(bytes));
      expected += answers;
      snk.expect(snk.count + 0); // keep targets cumulative below
      await fast.run({ maxCycles: 20_000 });
      await ClockCycles(d.clk!, 200); // let any response leave
      snk.expect(expected);
      if (answers) await fast.run({ maxCycles: 20_000 });
      return dec.push(Uint8Array.from((snk.take() as bigint[]).map(Number)));
    };
    const req = (seq: number, op: number, payload: number[] = []): Uint8Array => encodeFrame({ seq, op, payload: Uint8Array.from(payload) });

    let [r] = await exchange(req(1, OP.IDENTIFY), 1);
    assert.equal(r!.seq, 1);
    assert.equal(r!.op, OP.IDENTIFY | 0x80);
    assert.deepEqual([...r!.payload], [STATUS.OK, ...identityBytes(ENGINE)]);

    [r] = await exchange(req(2, OP.WRITE_REG, [2, ...u32(57)]), 1); // K = 57
    assert.deepEqual([...r!.payload], [STATUS.OK]);
    [r] = await exchange(req(3, OP.READ_REG, [2]), 1);
    assert.deepEqual([...r!.payload], [STATUS.OK, ...u32(57)]);
    [r] = await exchange(req(4, OP.RESET), 1);
    assert.deepEqual([...r!.payload], [STATUS.OK]);
    [r] = await exchange(req(4, OP.READ_REG, [2]), 1);
    assert.deepEqual([...r!.payload], [STATUS.OK, ...u32(0)], 'RESET clears the core\'s registers');
    [r] = await exchange(req(2, OP.WRITE_REG, [2, ...u32(57)]), 1);
    [r] = await exchange(req(4, OP.READ_REG, [9]), 1); // SHAPE
    assert.deepEqual([...r!.payload], [STATUS.OK, ...u32(4 | (4 << 8) | (8 << 16) | (2 << 24))]);

    [r] = await exchange(req(5, 0x77), 1);
    assert.deepEqual([...r!.payload], [STATUS.UNKNOWN_OP]);
    [r] = await exchange(req(6, OP.READ_REG, [1, 2]), 1);
    assert.deepEqual([...r!.payload], [STATUS.BAD_LENGTH]);
    [r] = await exchange(req(6, OP.READ_REG, [16]), 1);
    assert.deepEqual([...r!.payload], [STATUS.BAD_ARGS], 'register addresses stop at 15');

    // A corrupted frame is not answered; garbage around good frames does not stop them.
    const bad = req(7, OP.WRITE_REG, [2, ...u32(99)]);
    bad[bad.length - 6] ^= 0x10;
    let got = await exchange(bad, 0);
    assert.equal(got.length, 0, 'a frame with a bad CRC must not be answered');
    [r] = await exchange(req(8, OP.READ_REG, [2]), 1);
    assert.deepEqual([...r!.payload], [STATUS.OK, ...u32(57)], 'the corrupted write must not have happened');
    const garbage = [0x00, 0xb1, 0x13, 0xb1, 0x7f, 0xff, 0x42, 0xb1];
    got = await exchange([...garbage, ...req(9, OP.READ_REG, [3]), 0x55, 0xb1, 0x7f, ...req(10, OP.IDENTIFY)], 2);
    assert.deepEqual(got.map((f) => f.seq), [9, 10]);
    tb.log.info(`decoder: ${JSON.stringify(dec.stats)}`);
  });
});

describe('link engine (RTL) under garbage and corruption', () => {
  dutTest('answers every intact request, never a corrupted one, and acts only on verified frames', { dut, timeout: '100 ms' }, async (d, tb) => {
    const { fast, src, snk } = await start(d, tb, { idle: 0.1 });
    const r = tb.rng;
    const intact: { seq: number; expect: number[] }[] = [];
    let kValue = 0;
    let corrupted = 0;
    let garbageBytes = 0;
    const bytes: number[] = [];
    for (let i = 0; i < 300; i++) {
      if (r.chance(0.3)) {
        const g = Array.from({ length: r.int(1, 12) }, () => (r.chance(0.3) ? r.pick([0xb1, 0x7f]) : r.int(0, 255)));
        garbageBytes += g.length;
        bytes.push(...g);
      }
      const seq = i & 255;
      const write = r.chance(0.5);
      const v = r.int(0, 63);
      const frame = encodeFrame(write ? { seq, op: OP.WRITE_REG, payload: Uint8Array.from([2, ...u32(v)]) } : { seq, op: OP.READ_REG, payload: Uint8Array.from([2]) });
      if (r.chance(0.1)) {
        frame[r.int(2, frame.length - 1)] ^= 1 << r.int(0, 7);
        corrupted++;
      } else {
        if (write) kValue = v;
        intact.push({ seq, expect: write ? [STATUS.OK] : [STATUS.OK, ...u32(kValue)] });
      }
      bytes.push(...frame);
      // Wait for the answer before the next request, as the host does.
      src.push(bytes.splice(0));
      await fast.run({ maxCycles: 100_000 });
      await ClockCycles(d.clk!, 120);
    }
    const got = new FrameDecoder().push(Uint8Array.from((snk.take() as bigint[]).map(Number)));
    tb.log.info(`${intact.length} intact requests, ${corrupted} corrupted, ${garbageBytes} garbage bytes; ${got.length} answers`);
    assert.deepEqual(got.map((f) => f.seq), intact.map((x) => x.seq), 'exactly the intact requests are answered, in order');
    got.forEach((f, i) => assert.deepEqual([...f.payload], intact[i]!.expect, `answer to seq ${f.seq}`));
  });
});

describe('link engine (RTL): weights and matmul', () => {
  dutTest('WRITE_WEIGHTS in staged frames, then MATMUL: results and cycles equal the model', { dut, timeout: '100 ms' }, async (d, tb) => {
    const { src, snk } = await start(d, tb, { idle: 0.1, backpressure: 0.2 });
    const dec = new FrameDecoder();
    // Send a request and poll the decoder for the answer, as the host's link driver will.
    const call = async (seq: number, op: number, payload: number[]): Promise<Frame> => {
      src.push(Array.from(encodeFrame({ seq, op, payload: Uint8Array.from(payload) })));
      for (let spins = 0; spins < 1000; spins++) {
        await ClockCycles(d.clk!, 50);
        const got = dec.push(Uint8Array.from((snk.take() as bigint[]).map(Number)));
        if (got.length) return got[0]!;
      }
      throw new Error(`no answer to seq ${seq} op ${op}`);
    };
    const shape = coreShape({ extra: coreExtra(BOARD) }, 'core');
    for (let rep = 0; rep < 6; rep++) {
      const K = rep === 0 ? 64 : tb.rng.int(1, 64);
      const N = tb.rng.int(1, 14);
      const M = tb.rng.int(1, 4);
      const w = matrix(N, K, Int8Array.from({ length: N * K }, () => tb.rng.int(-1, 1)), 'W');
      const x = matrix(M, K, Int8Array.from({ length: M * K }, () => tb.rng.int(-128, 127)), 'X');
      const words = packWeights(shape, w);
      const tw = tileWords(shape);
      const tiles = words.length / tw;
      const bytesOf = (a: Uint32Array): number[] => [...new Uint8Array(a.buffer, a.byteOffset, a.byteLength)];
      for (let t = 0; t < tiles; t += ENGINE.stage) {
        const n = Math.min(ENGINE.stage, tiles - t);
        const r = await call(t & 255, OP.WRITE_WEIGHTS, [...u32(t), ...bytesOf(words.subarray(t * tw, (t + n) * tw))]);
        assert.deepEqual([...r.payload], [STATUS.OK], `WRITE_WEIGHTS tiles ${t}..${t + n - 1}`);
      }
      const beats = packActivations(shape, x);
      const xb: number[] = [];
      for (const v of beats) for (let i = 0; i < ENGINE.xBits / 8; i++) xb.push(Number((v >> BigInt(8 * i)) & 0xffn));
      const r = await call(200 + rep, OP.MATMUL, [...u32(0), ...u32(K), ...u32(N), ...u32(M), ...xb]);
      assert.equal(r.payload[0], STATUS.OK, `MATMUL status ${r.payload[0]}`);
      const NT = nTiles(shape, N);
      const body = r.payload.subarray(1);
      assert.equal(body.length, NT * M * 4 * 4 + 8);
      const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
      const y = new Int32Array(M * N);
      for (let nt = 0; nt < NT; nt++) for (let m = 0; m < M; m++) for (let c = 0; c < 4; c++) {
        const n = nt * 4 + c;
        if (n < N) y[m * N + n] = dv.getInt32(((nt * M + m) * 4 + c) * 4, true);
      }
      assert.deepEqual(y, ternaryMatmul(x, w).data, `results M=${M} K=${K} N=${N}`);
      if (rep === 5) {
        // RESET keeps the weights: the same run after it gives the same answer.
        assert.deepEqual([...(await call(230, OP.RESET, [])).payload], [STATUS.OK]);
        const again = await call(231, OP.MATMUL, [...u32(0), ...u32(K), ...u32(N), ...u32(M), ...xb]);
        const results = 1 + NT * M * 16; // status and results; CYCLES and STALLS may differ
        assert.deepEqual([...again.payload.subarray(0, results)], [...r.payload.subarray(0, results)], 'results after RESET');
      }
      const cycles = dv.getUint32(NT * M * 16, true);
      const stalls = dv.getUint32(NT * M * 16 + 4, true);
      assert.equal(cycles, modelCore(shape, x, w).cycles + stalls, 'CYCLES from the board = model + STALLS');
      tb.log.info(`M=${M} K=${K} N=${N}: ${tiles} tiles, ${cycles} cycles (${stalls} stalled)`);
    }
    // Bad arguments are refused after verification, not acted on.
    const refused = async (seq: number, op: number, payload: number[], why: string): Promise<void> => {
      const r = await call(seq, op, payload);
      assert.deepEqual([...r.payload], [STATUS.BAD_ARGS], why);
    };
    const beat = Array.from({ length: ENGINE.xBits / 8 }, () => 0);
    await refused(240, OP.MATMUL, [...u32(0), ...u32(65), ...u32(4), ...u32(1)], 'K beyond kmax');
    // K = 64 is 16 k-tiles per n-tile; the memory holds 64 tiles.
    await refused(241, OP.MATMUL, [...u32(60), ...u32(64), ...u32(4), ...u32(1), ...Array(16).fill(beat).flat()], 'weights from tile 60 run past wdepth');
    await refused(242, OP.MATMUL, [...u32(0), ...u32(64), ...u32(20), ...u32(1), ...Array(16).fill(beat).flat()], '5 n-tiles of 16 k-tiles run past wdepth');
    await refused(243, OP.MATMUL, [...u32(0), ...u32(8), ...u32(4), ...u32(1), ...beat, ...beat, ...beat], 'three activation beats where K = 8 needs two');
    await refused(244, OP.MATMUL, [...u32(0), ...u32(8), ...u32(4), ...u32(2), ...beat, ...beat, ...beat], 'three activation beats where M = 2 needs four');
    await refused(245, OP.MATMUL, [...u32(0), ...u32(64), ...u32(4), ...u32(4), ...Array(4 * 16 + 1).fill(beat).flat()], 'more beats than the largest run');
    const tile = Array.from({ length: ENGINE.wordBits / 8 }, () => 0x55);
    await refused(246, OP.WRITE_WEIGHTS, [...u32(60), ...Array(5).fill(tile).flat()], 'tiles 60..64 run past wdepth');
    await refused(247, OP.WRITE_WEIGHTS, [...u32(0), ...Array(ENGINE.stage + 1).fill(tile).flat()], 'more tiles than the staging buffer');
    // The exact fit is accepted: 4 n-tiles of 16 k-tiles fill the memory.
    const r = await call(248, OP.MATMUL, [...u32(0), ...u32(64), ...u32(16), ...u32(1), ...Array(16).fill(beat).flat()]);
    assert.equal(r.payload[0], STATUS.OK, 'a run that ends at the last tile');
    assert.equal(r.payload.length, 1 + 4 * 4 * 4 + 8);
  });
});
