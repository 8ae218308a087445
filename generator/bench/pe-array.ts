// A benchmark netlist: a chain of small ternary processing elements, each a registered
// int8 activation pass-through and an accumulator that adds +a, -a or 0. Big enough to
// show whether elaboration, checks and emission stay linear in design size.

import { defineModule, UInt, SInt, mux } from '../hdl/index.ts';

export const benchPe = defineModule('bench_pe', (m) => {
  const aIn = m.input('a_in', SInt(8));
  const w = m.input('w', UInt(2)); // 01 = +1, 11 = -1, otherwise 0
  const aOut = m.output('a_out', SInt(8), { reg: {} });
  const acc = m.output('acc', SInt(24), { reg: {} });
  const a = aIn.ext(24);
  const term = mux(w.eq(1), a, mux(w.eq(3), a.neg(), 0));
  m.set(aOut, aIn);
  m.set(acc, acc.add(term));
  return { aIn, w, aOut, acc };
});

export const benchArray = defineModule('bench_array', (m, p: { pes: number; [k: string]: number }) => {
  const aIn = m.input('a_in', SInt(8));
  const weights = m.input('weights', UInt(2));
  const sum = m.output('sum', SInt(24));
  let a = aIn as ReturnType<typeof m.input>;
  let total = undefined as ReturnType<typeof aIn.add> | undefined;
  for (let i = 0; i < p.pes; i++) {
    const pe = m.instance(`pe${i}`, benchPe({}));
    m.set(pe.aIn, a);
    m.set(pe.w, weights.xor(i & 3));
    a = pe.aOut;
    total = total ? total.xor(pe.acc) : pe.acc;
  }
  m.set(sum, total!);
  return { aIn, weights, sum };
});
