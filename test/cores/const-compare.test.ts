// ltConst / leConst (generator/cores/const-compare.ts) against the numbers, exhaustively on
// small widths and every constant in and around their range, through the IR interpreter.

import assert from 'node:assert/strict';
import { defineModule, UInt, Bool, Interpreter } from '../../generator/hdl/index.ts';
import { ltConst, leConst } from '../../generator/cores/const-compare.ts';

const probe = defineModule(
  'const_compare_probe',
  (m, p: { width: number; k: number; [key: string]: number }) => {
    const v = m.input('v', UInt(p.width));
    const lt = m.output('lt', Bool);
    const le = m.output('le', Bool);
    m.set(lt, ltConst(v, p.k));
    m.set(le, leConst(v, p.k));
    return {};
  },
  { name: (p) => `const_compare_w${p.width}_k${p.k < 0 ? `m${-p.k}` : p.k}` },
);

describe('ltConst / leConst', () => {
  it('agree with < and <= for every value of 1- to 5-bit inputs and every constant from -1 to 2^width + 1', () => {
    for (let width = 1; width <= 5; width++) {
      for (let k = -1; k <= 2 ** width + 1; k++) {
        const sim = new Interpreter(probe({ width, k }));
        for (let v = 0; v < 2 ** width; v++) {
          sim.set('v', v);
          sim.settle();
          assert.equal(sim.get('lt'), v < k ? 1n : 0n, `${v} < ${k} (width ${width})`);
          assert.equal(sim.get('le'), v <= k ? 1n : 0n, `${v} <= ${k} (width ${width})`);
        }
      }
    }
  });
});
