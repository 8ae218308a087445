// The board projection's arithmetic (common/projection.ts): decode is the M = 1 step of the
// batched model, a run reads each weight tile once whatever its token count, a batch larger
// than mmax re-reads the weights, and the link carries M sequences' bytes.

import assert from 'node:assert/strict';
import { BOARDS, SERVING_BOARD, projectDecode, projectServe, stepSeconds, type Board } from '../../common/projection.ts';
import { coreShape, type CoreShape } from '../../common/core-layout.ts';
import { coreExtra } from '../../generator/cores/ternary/core.ts';

const shapeOf = (b: Board, mmax = b.mmax ?? 1): CoreShape => {
  const c = b.core;
  return coreShape({ extra: coreExtra({ rows: c.rows, cols: c.cols, act: 8, format: c.format, kmax: 8192, mmax, wdepth: 2 ** 23, acc: 0, dram: c.dram, ports: c.ports, maddr: 36 }) }, b.name);
};

describe('board projection: decode and batched decode', () => {
  it('decode is the one-sequence step', () => {
    for (const b of BOARDS) {
      const s = shapeOf(b);
      const p = projectDecode(b, s);
      const t = stepSeconds(b, s, 1);
      assert.equal(p.boardSeconds, t.board, b.name);
      assert.equal(p.linkSeconds, t.link, b.name);
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
    for (let i = 1; i < rows.length; i++) {
      assert.ok(rows[i]!.aggregate > rows[i - 1]!.aggregate, `M=${rows[i]!.M} aggregate`);
      assert.ok(rows[i]!.perStream <= rows[i - 1]!.perStream, `M=${rows[i]!.M} per stream`);
    }
    assert.equal(rows[0]!.limit, 'DRAM');
  });
});
