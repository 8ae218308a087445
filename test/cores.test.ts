// Behaviour of the example cores against software models, through the IR interpreter.

import assert from 'node:assert/strict';
import { Interpreter } from '../generator/hdl/index.ts';
import { fifo } from '../generator/cores/fifo.ts';
import { counter } from '../generator/cores/counter.ts';
import { Rng } from '../sim/equiv/stimulus.ts';

const seed = Number(process.env.SEED ?? 1);

describe('example cores', () => {
  it(`fifo keeps order, never drops or duplicates, and reports its level (seed ${seed})`, () => {
    for (const depth of [2, 4, 16]) {
      const sim = new Interpreter(fifo({ width: 8, depth }));
      const rng = new Rng(seed + depth);
      const model: bigint[] = [];
      sim.set('rst', 1);
      sim.tick();
      sim.set('rst', 0);
      let pushed = 0;
      let popped = 0;
      for (let cycle = 0; cycle < 3000; cycle++) {
        const data = rng.bits(8);
        const phase = Math.floor(cycle / 500) % 3; // fill-heavy, drain-heavy, balanced
        sim.set('in_valid', rng.chance([0.9, 0.3, 0.6][phase]!) ? 1 : 0);
        sim.set('in_data', data);
        sim.set('out_ready', rng.chance([0.3, 0.9, 0.6][phase]!) ? 1 : 0);
        sim.settle();
        assert.equal(Number(sim.get('level')), model.length, `level at cycle ${cycle}`);
        // Ready whenever the RAM has room; never when RAM and output register are both full.
        if (model.length < depth) assert.equal(sim.get('in_ready'), 1n, `in_ready with ${model.length} words at cycle ${cycle}`);
        if (model.length === depth + 1) assert.equal(sim.get('in_ready'), 0n, `in_ready when full at cycle ${cycle}`);
        if (sim.get('out_valid') && sim.get('out_ready')) {
          assert.equal(sim.get('out_data'), model.shift(), `data order at cycle ${cycle}`);
          popped++;
        }
        if (sim.get('in_valid') && sim.get('in_ready')) {
          model.push(data);
          pushed++;
        }
        sim.tick();
      }
      assert.ok(pushed > 500 && popped > 500, `traffic: ${pushed} in, ${popped} out`);
      assert.ok(model.length <= depth + 1);
    }
  });

  it('counter counts when enabled, clears, and flags the wrap', () => {
    const sim = new Interpreter(counter({ width: 4 }));
    sim.set('rst', 1);
    sim.tick();
    sim.set('rst', 0);
    sim.set('en', 1);
    sim.tick('sync', 15);
    assert.equal(sim.get('count'), 15n);
    assert.equal(sim.get('wrap'), 1n);
    sim.tick();
    assert.equal(sim.get('count'), 0n);
    sim.set('clear', 1);
    sim.tick('sync', 3);
    assert.equal(sim.get('count'), 0n);
  });
});
