// A synchronous FIFO with valid/ready streams on both sides and block-RAM storage.
// The RAM has a registered read port (what block RAM offers), so the head word is
// prefetched: `head` is loaded from the RAM on the same edge that sets `out_valid_q`,
// whenever the output is empty or being consumed. That keeps full throughput (one word
// per cycle in and out) with a registered RAM output.

import { defineModule, UInt, bundlePorts, streamSpec } from '../hdl/index.ts';

export interface FifoParams {
  readonly width: number;
  /** Number of RAM entries; a power of two. The output register holds one more word. */
  readonly depth: number;
  [k: string]: number;
}

export const fifo = defineModule(
  'fifo',
  (m, p: FifoParams) => {
    const aw = Math.log2(p.depth);
    const spec = streamSpec(UInt(p.width));
    const inp = bundlePorts(m, 'in', spec, 'sink');
    const out = bundlePorts(m, 'out', spec, 'source');
    const level = m.output('level', UInt(aw + 2));

    const ram = m.memory('ram', { shape: UInt(p.width), depth: p.depth });
    const wr = m.reg('wr_ptr', UInt(aw));
    const rd = m.reg('rd_ptr', UInt(aw));
    const used = m.reg('used', UInt(aw + 1)); // words in the RAM, not counting the head register
    const outValid = m.reg('out_valid_q', UInt(1));

    const push = m.let('push', inp.valid.and(inp.ready));
    const pop = m.let('pop', out.valid.and(out.ready));
    const fetch = m.let('fetch', used.ne(0).and(outValid.eq(0).or(pop)));

    m.set(inp.ready, used.ne(p.depth));
    m.set(out.valid, outValid);
    m.set(out.data, ram.readSync(rd, { enable: fetch, name: 'head' }));
    m.set(level, used.addWide(outValid));

    m.when(push, () => {
      ram.write(wr, inp.data);
      m.set(wr, wr.add(1));
    });
    m.when(fetch, () => m.set(rd, rd.add(1)));
    m.set(used, used.add(push.ext(aw + 1)).sub(fetch.ext(aw + 1)));
    m.when(fetch, () => m.set(outValid, 1)).elseWhen(pop, () => m.set(outValid, 0));
    return { in: inp, out, level };
  },
  {
    // The example configuration keeps the plain name; others are named by shape, so two
    // FIFOs in one design (the UART's and the matmul core's) never collide.
    name: (p) => (p.width === 8 && p.depth === 16 ? 'fifo' : `fifo_${p.width}x${p.depth}`),
    validate: (p) => {
      if (!Number.isInteger(Math.log2(p.depth)) || p.depth < 2) throw new RangeError(`fifo: depth must be a power of two >= 2, got ${p.depth}`);
    },
  },
);
