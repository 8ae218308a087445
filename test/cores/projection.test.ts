// The board projection's arithmetic (common/projection.ts): decode is the M = 1 step of the
// batched model, a run reads each weight tile once whatever its token count, a batch larger
// than mmax re-reads the weights, and the link carries M sequences' bytes.

import assert from 'node:assert/strict';
import { BOARDS, SERVING_BOARD, projectDecode, projectServe, stepSeconds, type Board } from '../../common/projection.ts';
import type { CoreShape } from '../../common/core-layout.ts';
import { shapeOf as coreShapeOf } from '../../sim/bench/board-projection.ts';

const shapeOf = (b: Board, mmax = b.mmax ?? 1): CoreShape => coreShapeOf(b.core, mmax);

describe('board projection: decode and batched decode', () => {
  it('decode tokens/s per board, as the core README quotes them', () => {
    // Board-only and end to end, to 0.1 tok/s: a change of the step model or a board's
    // assumptions shows here and must be carried into the README's tables.
    const want: Record<string, [number, number]> = { 'Arty A7-100T': [2.2, 0.2], 'KV260 (1 port)': [30.6, 27.7], 'KV260 (2 ports)': [34.5, 30.8], 'U280-class HBM': [929.4, 515.2] };
    for (const b of BOARDS) {
      const p = projectDecode(b, shapeOf(b));
      assert.deepEqual([Number(p.tokensPerSecond.toFixed(1)), Number(p.tokensPerSecondWithLink.toFixed(1))], want[b.name], b.name);
    }
  });

  it('a run of M tokens reads its tiles once; past mmax the weights are read again', () => {
    const s = shapeOf(SERVING_BOARD);
    const one = stepSeconds(SERVING_BOARD, s, 1);
    const sixteen = stepSeconds(SERVING_BOARD, s, 16);
    // DRAM time per step is the weights' (the same bytes); the array's grows with the tokens.
    assert.equal(sixteen.dram, one.dram);
    assert.ok(sixteen.array > 8 * one.array, 'array time grows with the tokens');
    assert.ok(sixteen.link > one.link, 'the link carries 16 sequences');
    const single = { ...SERVING_BOARD, mmax: 1 };
    const s1 = shapeOf(single);
    assert.ok(Math.abs(stepSeconds(single, s1, 2).dram - 2 * stepSeconds(single, s1, 1).dram) < 1e-12, 'mmax 1: two sequences read the weights twice');
  });

  it('the serving board gains with the batch, and per-stream speed falls as the array fills', () => {
    const rows = projectServe(SERVING_BOARD, shapeOf(SERVING_BOARD), [1, 2, 4, 8, 16]);
    assert.equal(rows[0]!.speedup, 1);
    // The baseline is one sequence whatever the list starts with.
    assert.equal(projectServe(SERVING_BOARD, shapeOf(SERVING_BOARD), [16])[0]!.speedup, rows[4]!.speedup);
    for (let i = 1; i < rows.length; i++) {
      assert.ok(rows[i]!.aggregate > rows[i - 1]!.aggregate, `M=${rows[i]!.M} aggregate`);
      assert.ok(rows[i]!.perStream <= rows[i - 1]!.perStream, `M=${rows[i]!.M} per stream`);
    }
    assert.equal(rows[0]!.limit, 'DRAM');
  });
});
