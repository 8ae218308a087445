// A model split across several boards by layers: the ranges are contiguous and balanced by
// weight memory, a model one board cannot hold stays resident on two, and the results are
// === cpu's, call for call and token for token.

import assert from 'node:assert/strict';
import { splitLayers, LayerSplitBackend } from '../../host/backends/layer-split.ts';
import { parseBackendSpec, BackendSpecError, MAX_BOARDS } from '../../host/backends/spec.ts';
import { simBackend } from '../../host/backends/sim.ts';
import { CpuBackend } from '../../host/backends/cpu.ts';
import { packTernary, type PackedTernary } from '../../host/model/ternary.ts';
import { runModel } from '../../host/cli/commands/run.ts';
import { XorShift32, globalSeed } from '../../common/rng.ts';
import { fixture } from './fixtures.ts';

// The 4x4 board of backends.test.ts with 1,024 tiles (the same Verilator build).
const BOARD = { rows: 4, cols: 4, act: 8, format: 2, kmax: 64, mmax: 2, wdepth: 1024, acc: 0, stage: 8, idle: 65536, phy: 0, clk: 12_000_000, baud: 115_200 };
const quiet = { log: () => {} };

describe('host: a model split across boards by layers', function () {
  it('splitLayers balances contiguous ranges by each board\'s capacity', () => {
    // Four layers of 10 tiles on two boards of 25: 2 + 2, 80 % full each.
    const even = splitLayers([[10, 10], [10, 10], [10, 10], [10, 10]], [25, 25]);
    assert.deepEqual(even.cuts, [2, 4]);
    assert.ok(Math.abs(even.fill - 0.8) < 1e-9, `fill ${even.fill}`);
    // A board twice as large takes twice the layers.
    assert.deepEqual(splitLayers([[5, 5], [5, 5], [5, 5]], [10, 20]).cuts, [1, 3]);
    // Too large for both: the fill is over 1 and every layer is still placed, in order.
    const over = splitLayers([[30, 30], [30, 30], [30, 30]], [40, 40]);
    assert.deepEqual(over.cuts, [2, 3]);
    assert.ok(over.fill > 1 && Math.abs(over.fill - 1.5) < 1e-6, `fill ${over.fill}`);
    // More boards than layers: the extra board holds none.
    assert.deepEqual(splitLayers([[1, 1, 1], [1, 1, 1]], [8, 8, 8]).cuts, [1, 2, 2]);
  });

  it('a list of boards parses; cpu in a list, and too many boards, are refused by name', () => {
    const s = parseBackendSpec('sim:wdepth=512,mmax=2,sim,uart:/dev/ttyUSB1@115200');
    assert.equal(s.kind, 'boards');
    assert.deepEqual(s.kind === 'boards' && s.members.map((m) => m.kind), ['sim', 'sim', 'uart']);
    assert.deepEqual(s.kind === 'boards' && s.members[0], { kind: 'sim', params: Object.assign(Object.create(null) as object, { wdepth: '512', mmax: '2' }) });
    const refused = (spec: string, why: RegExp): void => assert.throws(() => parseBackendSpec(spec), (e: unknown) => e instanceof BackendSpecError && why.test(e.message));
    refused('sim,cpu', /^backend 'cpu' cannot be one of several: a model is split across boards/);
    refused(Array(MAX_BOARDS + 1).fill('sim').join(','), new RegExp(`^${MAX_BOARDS + 1} backends listed; a model is split across at most ${MAX_BOARDS} boards$`));
    // A comma inside sim's parameters is not a list.
    assert.equal(parseBackendSpec('sim:wdepth=512,mmax=2').kind, 'sim');
  });

  it('weights one board cannot hold stay resident on two, and every result is === cpu', async () => {
    const rng = new XorShift32(globalSeed() ^ 0x5117);
    const w = (name: string, N: number, K: number): PackedTernary => packTernary(name, { rows: N, cols: K, data: Int8Array.from({ length: N * K }, () => rng.int(-1, 1)) }, { op: 'div', value: 1 });
    // 608 + 304 + 64 + 608 tiles on the 4x4 board (K 150 is three K-chunks of kmax 64): 1,584 > 1,023.
    const ws = [w('l0', 64, 150), w('l1a', 32, 150), w('l1b', 16, 64), w('l2', 64, 150)];
    const layerOf = [0, 1, 1, 2];
    const cpu = new CpuBackend();
    await cpu.load(ws);
    const split = new LayerSplitBackend([await simBackend(BOARD, quiet), await simBackend(BOARD, quiet)]);
    try {
      await split.load(ws, { layerOf });
      assert.deepEqual(split.ranges.map((r) => [r.first, r.last]), [[0, 1], [2, 2]]);
      for (const b of split.boards) assert.equal(b.plan!.resident, true, `${b.name} holds its layers resident`);
      assert.match(split.name, /^2 boards: sim \(board 4x4, wdepth 1024\) layers 0-1; sim \(board 4x4, wdepth 1024\) layer 2$/);
      // Calls to both boards at once, as a batch at different layers makes them.
      const calls = Array.from({ length: 8 }, (_, c) => {
        const i = c % ws.length;
        const M = rng.int(1, 3);
        return { i, M, x: Int8Array.from({ length: M * ws[i]!.cols }, () => rng.int(-128, 127)) };
      });
      const ys = await Promise.all(calls.map((c) => split.matmul(c.i, c.x, c.M)));
      for (const [n, c] of calls.entries()) {
        const want = await cpu.matmul(c.i, c.x, c.M);
        const got = ys[n]!;
        const k = want.findIndex((v, j) => v !== got[j]);
        assert.ok(k < 0 && want.length === got.length, `call ${n}: ${ws[c.i]!.name} M=${c.M}: element ${k} is ${got[k]} split, ${want[k]} on cpu`);
      }
      assert.equal(split.stats.calls, calls.length);
      assert.equal(split.stats.lanes, 16);
    } finally {
      await split.close();
    }
  });

  it('run with -dev sim,sim generates the tokens and integers cpu does', async () => {
    const base = { model: fixture('tiny-bitnet-a'), tokens: [1, 17, 42, 99, 5], n: 5, temp: 0.8, topK: 40, topP: 0.95, seed: 7, batch: 512 };
    const cpu = await runModel({ ...base, backend: parseBackendSpec('cpu') });
    const lines: string[] = [];
    const split = await runModel({ ...base, backend: parseBackendSpec('sim,sim') }, { log: (s) => lines.push(s) });
    assert.deepEqual(split.generation.tokens, cpu.generation.tokens);
    assert.equal(split.resultsDigest, cpu.resultsDigest, 'every BitLinear result === cpu');
    assert.match(split.backend, /^2 boards: sim \(board 8x8, wdepth 256\) layer 0; sim \(board 8x8, wdepth 256\) layer 1$/);
    assert.ok(lines.some((l) => /: layer 0, \d+ of 255 weight tiles/.test(l)), lines.join('\n'));
  });
});
