// An up-counter with enable, synchronous clear and a terminal-count flag: the smallest
// core that exercises registers, reset, a comparison and a registered output.

import { defineModule, UInt, Bool } from '../hdl/index.ts';
import { nameWith } from './naming.ts';
import { COUNTER_PARAMS, defaultsOf } from './param-table.ts';

export interface CounterParams {
  readonly width: number;
  [k: string]: number;
}

export const counter = defineModule(
  'counter',
  (m, p: CounterParams) => {
    const en = m.input('en', Bool);
    const clear = m.input('clear', Bool);
    const count = m.output('count', UInt(p.width), { reg: {} });
    const wrap = m.output('wrap', Bool);
    m.set(wrap, en.and(count.eq((1n << BigInt(p.width)) - 1n)));
    m.when(clear, () => m.set(count, 0)).elseWhen(en, () => m.set(count, count.add(1)));
    return { en, clear, count, wrap };
  },
  { name: (p) => nameWith('counter', p, [['width', 'w']], defaultsOf(COUNTER_PARAMS)) },
);
