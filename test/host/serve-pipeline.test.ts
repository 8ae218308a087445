// The serving engine's pipeline schedule (host/serve/pipeline.ts) on two stand-in boards
// (host/backends/timed.ts: the cpu kernel's products, each call taking a fixed time on the
// clock): with two groups, calls on board 0 and board 1 overlap in time; every pass still walks
// the weights in order, one call at a time, and a board runs one call at a time; with one group
// they never overlap; and every request's tokens are the same request's alone on the cpu,
// while requests join, finish and are cancelled between passes.

import assert from 'node:assert/strict';
import { fixture } from './fixtures.ts';
import { Engine, BackendFailure, type JobRequest, type JobResult } from '../../host/serve/engine.ts';
import { Sequence } from '../../host/infer/sequence.ts';
import { BackendError } from '../../host/backends/backend.ts';
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

/** Two stand-in boards; `fail(n)` true makes board 1's n-th call (from 1) fail as a lost link would. */
async function twoBoards(model: BitNetModel, msPerCall: number, fail?: (n: number) => boolean): Promise<LayerSplitBackend<TimedBackend>> {
  const shape = shapeOf({ rows: 4, cols: 4, format: 2, dram: 128, ports: 1 });
  const boards = [0, 1].map((b) => new TimedBackend(`stand-in ${b}`, shape, () => msPerCall / 1000));
  if (fail) {
    const b1 = boards[1]!;
    const matmul = b1.matmul.bind(b1);
    let n = 0;
    b1.matmul = async (...a) => {
      if (fail(++n)) throw new BackendError('stand-in 1: link gone (injected)');
      return matmul(...a);
    };
  }
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
      // How much they overlap is a speed (about 85 % of board 0's busy time here): logged, not asserted.
      console.log(`      board 1 busy for ${together.toFixed(0)} ms of board 0's ${busy0.toFixed(0)} ms`);
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

  /** Four requests at once with two groups; what each gave, or the name and message it failed with. */
  async function settle(e: Engine): Promise<(JobResult | string)[]> {
    const rs = await Promise.allSettled(REQS.map((r) => e.submit(r).result));
    return rs.map((r) => (r.status === 'fulfilled' ? r.value : `${(r.reason as Error).name}: ${(r.reason as Error).message}`));
  }
  /** Every slot came back: none active, and a new request runs. */
  async function slotsBack(e: Engine, label: string): Promise<void> {
    await e.idle();
    assert.equal(e.activeSequences, 0, `${label}: sequences still hold slots`);
    assert.deepEqual([...(await e.submit(REQS[3]!).result).tokens], want[3], `${label}: a request after it`);
    await e.idle();
  }

  it('a board lost for one call fails only the pass that called it (503s); the other group finishes exactly, and every slot comes back', async () => {
    const split = await twoBoards(model, 1, (n) => n === 7);
    try {
      const e = new Engine(model, split, { ...OPTS, groups: 2 });
      const got = await settle(e);
      const failed = got.filter((r) => typeof r === 'string');
      assert.ok(failed.length > 0 && failed.length < REQS.length, `some requests fail, not all: ${JSON.stringify(got)}`);
      for (const f of failed) assert.match(f as string, /link gone \(injected\)/);
      got.forEach((r, i) => typeof r !== 'string' && assert.deepEqual(r.tokens, want[i], `request ${i} finished as alone`));
      await slotsBack(e, 'after the lost call');
    } finally {
      await split.close();
    }
  });

  it('a board lost for good fails every request with the link named, nothing hangs, and the slots come back for when it returns', async () => {
    let down = true;
    const split = await twoBoards(model, 1, () => down);
    try {
      const e = new Engine(model, split, { ...OPTS, groups: 2 });
      const got = await settle(e);
      for (const r of got) assert.match(String(r), new RegExp(`^${BackendFailure.name}: .*link gone`), 'every request failed with the link error');
      down = false;
      await slotsBack(e, 'after the board came back');
    } finally {
      await split.close();
    }
  });

  it('a bug in the middle of a pass (not a backend failure) fails its requests and frees every slot, with one group', async () => {
    const advance = Sequence.prototype.advance;
    let calls = 0;
    Sequence.prototype.advance = function (this: Sequence, ...a: Parameters<typeof advance>) {
      if (++calls === 2) throw new Error('injected bug'); // the first of a pass of two: the second is left unprocessed
      return advance.apply(this, a);
    };
    try {
      const cpu = new CpuBackend();
      await cpu.load(bitLinears(model));
      const e = new Engine(model, cpu, { ...OPTS, parallel: 2, groups: 1 });
      const got = await Promise.allSettled([e.submit(REQS[0]!).result, e.submit(REQS[1]!).result]);
      assert.ok(got.every((r) => r.status === 'rejected' && /injected bug/.test(String(r.reason))), 'both requests failed with the bug');
      Sequence.prototype.advance = advance;
      await slotsBack(e, 'after the bug');
      await cpu.close();
    } finally {
      Sequence.prototype.advance = advance;
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
