// Lowering a statement tree to one expression per combinational signal. The emitter writes
// combinational logic as continuous assignments with these mux chains rather than as
// `always @(*)` blocks: Verilator 5.006 was found (by our differential fuzzer) to order two
// such blocks wrongly when one reads the other's output, while `assign` is evaluated right
// by every simulator.

import { mux, type Value } from './value.ts';
import { type Signal, type Stmt } from './ir.ts';
import { enumOf } from './enum.ts';

/** The value `target` ends with after `stmts`, starting from `start`. */
export function lowerAssignments(stmts: readonly Stmt[], target: Signal, start: Value): Value {
  let cur = start;
  for (const s of stmts) {
    switch (s.k) {
      case 'assign':
        if (s.target === target) cur = s.value;
        break;
      case 'if':
        cur = pick(s.cond, lowerAssignments(s.then, target, cur), lowerAssignments(s.else, target, cur));
        break;
      case 'switch': {
        // The first matching case wins; build the chain from the default upwards.
        let acc = lowerAssignments(s.dflt, target, cur);
        for (let i = s.cases.length - 1; i >= 0; i--) {
          const c = s.cases[i]!;
          // Enum members compare by name in the Verilog (state == S_IDLE).
          const e = enumOf(s.sel.shape);
          const named = (v: bigint): Value => {
            const m = e?.memberOf(v);
            return s.sel.eq(e && m !== undefined ? e.of(m) : v);
          };
          const hit = c.values.map(named).reduce((a, b) => a.or(b));
          acc = pick(hit, lowerAssignments(c.body, target, cur), acc);
        }
        cur = acc;
        break;
      }
      case 'memwr':
        break;
    }
  }
  return cur;
}

function pick(c: Value, t: Value, f: Value): Value {
  return t === f ? t : mux(c, t, f);
}
