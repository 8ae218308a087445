// Comparisons of an unsigned value with a constant as plain logic. Yosys turns a `<` or `<=`
// cell into a subtraction, a carry chain as wide as the value, even when one side is a
// constant; written as this sum of products it becomes a small LUT tree instead, so a stage
// that already ends in a chain (a counter's adder before a registered test) keeps one.

import { lit, Bool, type Value } from '../hdl/index.ts';

/** v < k, unsigned, for a constant k: some bit where k has a 1 and v a 0, with every bit above it equal. */
export function ltConst(v: Value, k: number): Value {
  if (k <= 0) return lit(0, Bool);
  if (k >= 2 ** v.width) return lit(1, Bool);
  const bit = (i: number) => Math.floor(k / 2 ** i) % 2;
  const terms: Value[] = [];
  for (let i = v.width - 1; i >= 0; i--) {
    if (!bit(i)) continue;
    let t = v.bit(i).not();
    for (let j = i + 1; j < v.width; j++) t = t.and(bit(j) ? v.bit(j) : v.bit(j).not());
    terms.push(t);
  }
  return terms.reduce((a, t) => a.or(t));
}

/** v <= k, unsigned, for a constant k. */
export function leConst(v: Value, k: number): Value {
  return ltConst(v, k + 1);
}
