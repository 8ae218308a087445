// The large benchmark DUT for `bench sim`: an R × C grid of ternary processing elements
// behind valid/ready streams. Row r takes lane r of each input beat; activations move one
// column right per accepted beat, and every PE adds +a, -a or 0 to its accumulator. The
// output beat is the XOR of all accumulators, so every PE is live in the simulation.

import { defineModule, UInt, SInt, mux, bundlePorts, streamSpec, type Value } from '../hdl/index.ts';

export interface GridParams {
  readonly rows: number;
  readonly cols: number;
  [k: string]: number;
}

export const benchGrid = defineModule(
  'bench_grid',
  (m, p: GridParams) => {
    const inp = bundlePorts(m, 'in', streamSpec(UInt(8 * p.rows)), 'sink');
    const out = bundlePorts(m, 'out', streamSpec(UInt(24)), 'source');
    const weights = m.input('weights', UInt(2 * p.cols));
    const outValid = m.reg('out_valid_q', UInt(1));
    const fire = m.let('fire', inp.valid.and(inp.ready));
    m.set(inp.ready, out.ready.or(outValid.eq(0)));
    m.set(out.valid, outValid);
    m.when(fire, () => m.set(outValid, 1)).elseWhen(out.ready, () => m.set(outValid, 0));

    let checksum: Value | undefined;
    for (let r = 0; r < p.rows; r++) {
      let a: Value = inp.data.slice(8 * r + 7, 8 * r).asSigned();
      for (let c = 0; c < p.cols; c++) {
        const areg = m.reg(`a_r${r}_c${c}`, SInt(8));
        const acc = m.reg(`acc_r${r}_c${c}`, SInt(24));
        const w = weights.slice(2 * c + 1, 2 * c).xor(r & 3);
        const wide = areg.ext(24);
        const term = mux(w.eq(1), wide, mux(w.eq(3), wide.neg(), 0));
        m.when(fire, () => {
          m.set(areg, a);
          m.set(acc, acc.add(term));
        });
        a = areg;
        const bits = acc.asUnsigned();
        checksum = checksum ? checksum.xor(bits) : bits;
      }
    }
    m.set(out.data, checksum!);
    return { in: inp, out, weights };
  },
  { name: (p) => `bench_grid_${p.rows}x${p.cols}` },
);
