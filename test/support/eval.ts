// Evaluate a combinational expression through a real module and the interpreter, so
// unit tests check operator semantics exactly as designs see them.

import { defineModule, Interpreter, type Shape, type Value, type Signal } from '../../generator/hdl/index.ts';

let n = 0;

/** Build `f(inputs)` into a one-output module, drive `values`, return the output (signed if it is). */
export function evalExpr(shapes: readonly Shape[], f: (...ins: Signal[]) => Value, values: readonly (bigint | number)[]): { value: bigint; shape: Shape } {
  let shape: Shape | undefined;
  const fam = defineModule(`eval${n++}`, (m) => {
    const ins = shapes.map((s, i) => m.input(`i${i}`, s));
    const v = f(...ins);
    shape = v.shape;
    m.set(m.output('y', v.shape), v);
    return {};
  });
  const sim = new Interpreter(fam({}));
  values.forEach((v, i) => sim.set(`i${i}`, v));
  sim.settle();
  return { value: sim.get('y'), shape: shape! };
}
