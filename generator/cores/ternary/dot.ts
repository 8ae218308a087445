// One column of the array: the dot product of `rows` activations with `rows` ternary
// weights, with no multiplier, pipelined so that every stage is one carry chain. A weight
// code c (= w + 1: 0 -> -1, 1 -> 0, 2 -> +1) makes each term a, ~a or 0; since
// -a = ~a + 1, the +1 of a negated term is an adder's carry-in, which costs nothing
// (the chain's first SB_CARRY / CARRY4 takes it). The tree has rows - 1 adders for rows
// +1s, so the last one leaves as `carry`, and the core's accumulator adds it as its own
// carry-in: dot + carry is the dot product. Each leaf is a function of (a bit, the two
// code bits, the core's lane mask) that fits one 4-input LUT; a register follows every
// adder level (columnStages in common/core-model.ts counts them), so a stage is at most
// a leaf LUT, one carry chain and its sum LUT.

import { defineModule, UInt, SInt, Bool, mux, type Value } from '../../hdl/index.ts';
import { log2ceil } from './params.ts';
import { columnStages } from '../../../common/core-model.ts';

export const ternaryDot = defineModule(
  'ternary_dot',
  (m, p: { rows: number; act: number; [k: string]: number }) => {
    const x = m.input('x', UInt(p.rows * p.act));
    const w = m.input('w', UInt(2 * p.rows));
    const dotBits = p.act + log2ceil(p.rows) + 1;
    const dot = m.output('dot', SInt(dotBits));
    const carry = m.output('carry', Bool);

    let level: Value[] = [];
    let negs: Value[] = [];
    for (let r = 0; r < p.rows; r++) {
      const a = x.slice(r * p.act + p.act - 1, r * p.act).asSigned();
      const code = w.slice(2 * r + 1, 2 * r);
      const nonzero = code.bit(0).not(); // codes 0 and 2
      const negate = code.eq(0).named(`neg${r}`);
      level.push(m.let(`t${r}`, mux(nonzero, mux(negate, a.not(), a), 0)));
      negs.push(negate);
    }
    // Balanced tree of widening adds, each taking the +1 of its left operand's first
    // negated term as carry-in; the right operands' +1s wait, registered, for the next
    // level. A partial sum of 2^l terms with all but one +1 stays in act + l bits.
    const reg = (name: string, v: Value): Value => {
      const q = m.reg(name, v.shape);
      m.set(q, v);
      return q;
    };
    let stages = 0;
    if (p.rows === 1) {
      level = [reg('l1_0', level[0]!)];
      negs = [reg('l1_neg0', negs[0]!)];
      stages = 1;
    }
    for (let l = 1; level.length > 1; l++, stages++) {
      const sums: Value[] = [];
      const left: Value[] = [];
      for (let i = 0; i < level.length; i += 2) {
        const a = level[i]!;
        const b = level[i + 1]!;
        const cin = negs[i]!.zext(a.width + 1).asSigned();
        sums.push(reg(`l${l}_${i / 2}`, a.addWide(b).add(cin)));
        left.push(reg(`l${l}_neg${i / 2}`, negs[i + 1]!));
      }
      level = sums;
      negs = left;
    }
    // The core and the cycle model count the column's latency from columnStages.
    if (stages !== columnStages(p.rows)) throw new Error(`ternary_dot: ${stages} register stages for rows=${p.rows}, columnStages says ${columnStages(p.rows)}`);
    m.set(dot, level[0]!.ext(dotBits));
    m.set(carry, negs[0]!);
    return { x, w, dot, carry };
  },
  { name: (p) => `ternary_dot_r${p.rows}_a${p.act}` },
);
