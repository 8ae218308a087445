// The serving engine's pipeline schedule (host/serve/pipeline.ts) on two stand-in boards
// (host/backends/timed.ts: the cpu kernel's products, each call taking a fixed time on the
// clock): with two groups, calls on board 0 and board 1 overlap in time; every pass still walks
// the weights in order, one call at a time, and a board runs one call at a time; with one group
// they never overlap; and every request's tokens are the same request's alone on the cpu,
// while requests join, finish and are cancelled between passes.

import assert from 'node:assert/strict';
import { fixture } from './fixtures.ts';
import { Engine, type JobRequest, type JobResult } from '../../host/serve/engine.ts';
import type { BoardCall } from '../../host/serve/pipeline.ts';
import { CpuBackend } from '../../host/backends/cpu.ts';
import { LayerSplitBackend } from '../../host/backends/layer-split.ts';
import { TimedBackend } from '../../host/backends/timed.ts';
import type { BitLinearBackend } from '../../host/backends/backend.ts';
import { loadModel } from '../../host/model/load.ts';
import { bitLinears, layerOfBitLinears, type BitNetModel } from '../../host/model/model.ts';
import { shapeOf } from '../../sim/bench/board-projection.ts';

const REQS: JobRequest[] = [
  { prompt: [1, 17, 42, 99], n: 8, seed: 3, temperature: 0 },
  { prompt: [5, 6, 7], n: 6, seed: 9, temperature: 0.8 },
  { prompt: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], n: 7, seed: 4, temperature: 0.8, topK: 5 },
  { prompt: [30], n: 9, seed: 5, temperature: 1 },
];
const OPTS = { parallel: 4, queueLimit: 4, ctx: 64, batch: 4 };

/** Each request alone on the cpu backend (one group): what every schedule must give. */
async function alone(model: BitNetModel, reqs: readonly JobRequest[]): Promise<number[][]> {
  const cpu = new CpuBackend();
  await cpu.load(bitLinears(model));
  const e = new Engine(model, cpu, { ...OPTS, parallel: 1 });
  const out: number[][] = [];
  for (const r of reqs) out.push([...(await e.submit(r).result).tokens]);
  await e.idle();
  return out;
}

async function twoBoards(model: BitNetModel, msPerCall: number): Promise<LayerSplitBackend<TimedBackend>> {
  const shape = shapeOf({ rows: 4, cols: 4, format: 2, dram: 128, ports: 1 });
  const boards = [0, 1].map((b) => new TimedBackend(`stand-in ${b}`, shape, () => msPerCall / 1000));
  const split = new LayerSplitBackend(boards);
  await split.load(bitLinears(model), { layerOf: layerOfBitLinears(model) });
  return split;
}

/**
 * Run REQS on `backend` with `groups`: the last request joins once the first has two tokens,
 * and the second is cancelled after its third. Returns the results and every call.
 */
async function serve(model: BitNetModel, backend: BitLinearBackend, groups: number): Promise<{ results: JobResult[]; calls: BoardCall[]; engine: Engine }> {
  const e = new Engine(model, backend, { ...OPTS, groups });
  const calls: BoardCall[] = [];
  e.schedule.onCall = (c) => calls.push(c);
  let late: Promise<JobResult> | undefined;
  let seen0 = 0;
  let seen1 = 0;
  const first = e.submit({ ...REQS[0]!, onToken: () => void (++seen0 === 2 && (late = e.submit(REQS[3]!).result)) });
  const second = e.submit({ ...REQS[1]!, onToken: () => void (++seen1 === 3 && second.cancel()) });
  const third = e.submit(REQS[2]!);
  const results = await Promise.all([first.result, second.result, third.result]);
  assert.ok(late, 'the late request was submitted');
  results.push(await late);
  await e.idle();
  return { results, calls, engine: e };
}

const overlaps = (a: BoardCall, b: BoardCall): boolean => a.t0 < b.t1 && b.t0 < a.t1;

describe('host: serve pipeline schedule across boards', function () {
  let model: BitNetModel;
  let want: number[][];
  before(async () => {
    model = loadModel(fixture('tiny-bitnet-a'));
    want = await alone(model, REQS);
  });

  const check = (results: JobResult[], label: string): void => {
    // The cancelled request's tokens are a prefix of its own alone (it stopped after 3 or so).
    assert.equal(results[1]!.stoppedBy, 'cancelled', `${label}: request 1 cancelled`);
    assert.deepEqual(results[1]!.tokens, want[1]!.slice(0, results[1]!.tokens.length), `${label}: request 1's tokens before the cancel`);
    for (const i of [0, 2, 3]) assert.deepEqual(results[i]!.tokens, want[i], `${label}: request ${i}'s tokens equal it alone`);
  };

  it('two groups on two boards: board 0 and board 1 calls overlap, each pass walks the layers in order, the tokens are unchanged', async () => {
    const split = await twoBoards(model, 4);
    try {
      const { results, calls, engine } = await serve(model, split, 2);
      check(results, 'two groups');
      const W = bitLinears(model).length;
      // Every pass (ticket) calls every weight once, in order, each after the last answered,
      // and moves from board 0 to board 1 once.
      const passes = new Map<number, BoardCall[]>();
      for (const c of calls) passes.set(c.ticket, [...(passes.get(c.ticket) ?? []), c]);
      for (const [t, cs] of passes) {
        assert.deepEqual(cs.map((c) => c.index), Array.from({ length: W }, (_, i) => i), `pass ${t} walks the weights in order`);
        cs.forEach((c, i) => i > 0 && assert.ok(c.t0 >= cs[i - 1]!.t1, `pass ${t}: call ${i} starts after call ${i - 1} answered`));
        assert.equal(new Set(cs.map((c) => c.group)).size, 1, `pass ${t} is one group's`);
      }
      // A pass holds a board from its first call there to its last: no other pass's call comes between.
      for (const [t, cs] of passes) {
        for (const b of [0, 1]) {
          const mine = cs.filter((c) => c.board === b);
          const from = mine[0]!.t0;
          const to = mine.at(-1)!.t1;
          const between = calls.filter((c) => c.board === b && c.ticket !== t && c.t0 < to && c.t1 > from);
          assert.equal(between.length, 0, `pass ${t} on board ${b}: ${between.length} calls of other passes in between`);
        }
      }
      // A board runs one call at a time.
      for (const b of [0, 1]) {
        const on = calls.filter((c) => c.board === b).sort((x, y) => x.t0 - y.t0);
        on.forEach((c, i) => i > 0 && assert.ok(c.t0 >= on[i - 1]!.t1, `board ${b}: call at ${c.t0} overlaps the one before`));
      }
      // The point: some call on board 0 runs while one of the other group is on board 1.
      const b0 = calls.filter((c) => c.board === 0);
      const b1 = calls.filter((c) => c.board === 1);
      const both = b0.filter((a) => b1.some((b) => b.group !== a.group && overlaps(a, b)));
      const together = b0.reduce((a, x) => a + b1.reduce((s, y) => s + Math.max(0, Math.min(x.t1, y.t1) - Math.max(x.t0, y.t0)), 0), 0);
      const busy0 = b0.reduce((a, x) => a + x.t1 - x.t0, 0);
      assert.ok(both.length > 0, `no board-0 call overlaps a board-1 call of the other group (${calls.length} calls)`);
      // About 85 % here; a quarter leaves room for a loaded machine's late timers.
      assert.ok(together > 0.25 * busy0, `board 1 busy for only ${together.toFixed(0)} ms of board 0's ${busy0.toFixed(0)} ms`);
      assert.ok(engine.schedule.busyMs.every((ms) => ms > 0), `both boards busy: ${engine.schedule.busyMs.map((x) => x.toFixed(0)).join(', ')} ms`);
    } finally {
      await split.close();
    }
  });

  it('one group on two boards: the boards take turns, never overlapping; the same tokens', async () => {
    const split = await twoBoards(model, 1);
    try {
      const { results, calls } = await serve(model, split, 1);
      check(results, 'one group');
      const b1 = calls.filter((c) => c.board === 1);
      assert.ok(!calls.some((a) => a.board === 0 && b1.some((b) => overlaps(a, b))), 'a board-0 call overlaps a board-1 call with one group');
    } finally {
      await split.close();
    }
  });

  it('three groups on two boards (a board has several groups waiting): the same tokens, each board one pass at a time', async () => {
    const split = await twoBoards(model, 2);
    try {
      const { results, calls } = await serve(model, split, 3);
      check(results, 'three groups');
      assert.equal(new Set(calls.map((c) => c.group)).size, 3, 'all three groups ran');
      for (const b of [0, 1]) {
        const on = calls.filter((c) => c.board === b).sort((x, y) => x.t0 - y.t0);
        // Once a pass leaves a board, it does not come back to it.
        const left = new Set<number>();
        on.forEach((c, i) => {
          if (i > 0 && on[i - 1]!.ticket !== c.ticket) left.add(on[i - 1]!.ticket);
          assert.ok(!left.has(c.ticket), `board ${b}: pass ${c.ticket} came back after another pass`);
        });
      }
    } finally {
      await split.close();
    }
  });

  it('two groups on the cpu backend (one board): the same tokens', async () => {
    const cpu = new CpuBackend();
    await cpu.load(bitLinears(model));
    const { results, calls } = await serve(model, cpu, 2);
    check(results, 'cpu, two groups');
    assert.ok(calls.every((c) => c.board === 0));
    await cpu.close();
  });
});
