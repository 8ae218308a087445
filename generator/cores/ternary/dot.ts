// One column of the array: the dot product of `rows` activations with `rows` ternary
// weights, with no multiplier. A weight code c (= w + 1: 0 -> -1, 1 -> 0, 2 -> +1) makes
// each term a, ~a or 0; since -a = ~a + 1, the +1s of the negated terms are counted
// once (a popcount) and added at the end instead of rippling a carry-in per term. Each
// leaf is then a 3-input function of (a bit, negate, nonzero) that synthesis folds into
// the first adder level's LUTs.

import { defineModule, UInt, SInt, mux, type Value } from '../../hdl/index.ts';
import { log2ceil } from './params.ts';

export const ternaryDot = defineModule(
  'ternary_dot',
  (m, p: { rows: number; act: number; [k: string]: number }) => {
    const x = m.input('x', UInt(p.rows * p.act));
    const w = m.input('w', UInt(2 * p.rows));
    const dotBits = p.act + log2ceil(p.rows) + 1;
    const dot = m.output('dot', SInt(dotBits));

    const terms: Value[] = [];
    const negs: Value[] = [];
    for (let r = 0; r < p.rows; r++) {
      const a = x.slice(r * p.act + p.act - 1, r * p.act).asSigned();
      const code = w.slice(2 * r + 1, 2 * r);
      const nonzero = code.bit(0).not(); // codes 0 and 2
      const negate = code.eq(0).named(`neg${r}`);
      terms.push(m.let(`t${r}`, mux(nonzero, mux(negate, a.not(), a), 0)));
      negs.push(negate);
    }
    // Balanced tree of widening adds: no overflow at any level. Level l's sums are named
    // sum_l<l>_<i> should the Verilog need a wire for them.
    let level = terms;
    for (let l = 1; level.length > 1; l++) {
      const next: Value[] = [];
      for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? level[i]!.addWide(level[i + 1]!).named(`sum_l${l}_${i / 2}`) : level[i]!);
      level = next;
    }
    const negCount = negs.map((n) => n.zext(log2ceil(p.rows + 1))).reduce((s, n) => s.add(n)).named('neg_count');
    const sum = level[0]!.ext(dotBits).add(negCount.zext(dotBits).asSigned());
    m.set(dot, sum);
    return { x, w, dot };
  },
  { name: (p) => `ternary_dot_r${p.rows}_a${p.act}` },
);
