// Byte streams to and from AXI4-Stream, so the command engine can sit behind the XDMA
// IP's H2C and C2H streams. Requests arrive as beats of `width` bits (XDMA fills tkeep
// from byte 0 up; only a transfer's last beat is partial); responses leave as beats with
// tlast on the beat that holds a response's last byte, so one C2H read returns one
// response.

import { defineModule, UInt, Bool, cat, mux, lit, bundlePorts, streamSpec, axi4StreamSpec, widthFor } from '../../hdl/index.ts';

export interface AxisParams {
  /** tdata bits: 32, 64, 128 or 256 (the XDMA IP's AXI data width). */
  readonly width: number;
  [k: string]: number;
}

export function validateAxis(p: AxisParams): void {
  if (![32, 64, 128, 256].includes(p.width)) throw new RangeError(`width=${p.width}: the XDMA IP's AXI4-Stream is 32, 64, 128 or 256 bits wide`);
}

/** AXI4-Stream in, bytes out: a beat is held and its kept bytes leave one per cycle, byte 0 first. */
export const axisToBytes = defineModule(
  'axis_to_bytes',
  (m, p: AxisParams) => {
    const n = p.width / 8;
    // No tlast: the protocol's frames delimit themselves, so the H2C stream's is not needed.
    const { tlast: _tlast, ...spec } = axi4StreamSpec(p.width);
    const s = bundlePorts(m, 's_axis', spec, 'sink');
    const out = bundlePorts(m, 'out', streamSpec(UInt(8)), 'source');
    const buf = m.reg('held', UInt(p.width));
    // One bit per byte still to send; shifted down with the data. tkeep holes are not
    // supported: a beat's bytes from its lowest kept one up to its first gap are sent.
    const keep = m.reg('keep', UInt(n));
    const fire = m.let('out_fire', out.valid.and(out.ready));
    const lastByte = m.let('last_byte', keep.slice(n - 1, 1).orReduce().not());
    // A new beat is taken when nothing is held, or as the held beat's last byte leaves.
    m.set(s.tready, keep.eq(0).or(fire.and(lastByte)));
    m.set(out.valid, keep.bit(0));
    m.set(out.data, buf.slice(7, 0));
    m.when(s.tvalid.and(s.tready), () => {
      m.set(buf, s.tdata);
      m.set(keep, s.tkeep);
    }).elseWhen(fire, () => {
      m.set(buf, cat(lit(0, UInt(8)), buf.slice(p.width - 1, 8)));
      m.set(keep, cat(lit(0, Bool), keep.slice(n - 1, 1)));
    });
    return { s, out };
  },
  { name: (p) => `axis_to_bytes_${p.width}`, validate: validateAxis },
);

/** Bytes in (with `last` on a response's final byte), AXI4-Stream out. */
export const bytesToAxis = defineModule(
  'bytes_to_axis',
  (m, p: AxisParams) => {
    const n = p.width / 8;
    const inp = bundlePorts(m, 'in', streamSpec(UInt(8)), 'sink');
    const inLast = m.input('in_last', Bool);
    const mAxis = bundlePorts(m, 'm_axis', axi4StreamSpec(p.width), 'source');
    const bytes = Array.from({ length: n }, (_, i) => m.reg(`acc${i}`, UInt(8)));
    const cnt = m.reg('count', UInt(widthFor(n - 1)));
    const tvalid = m.reg('out_valid', Bool);
    const tdata = m.reg('out_data', UInt(p.width));
    const tkeep = m.reg('out_keep', UInt(n));
    const tlast = m.reg('out_last', Bool);
    m.set(mAxis.tvalid, tvalid);
    m.set(mAxis.tdata, tdata);
    m.set(mAxis.tkeep, tkeep);
    m.set(mAxis.tlast, tlast);
    // The output register is free, or frees up this cycle.
    const free = m.let('out_free', tvalid.not().or(mAxis.tready));
    m.set(inp.ready, free);
    const fire = m.let('in_fire', inp.valid.and(inp.ready));
    const complete = m.let('beat_complete', fire.and(cnt.eq(n - 1).or(inLast)));
    m.when(mAxis.tready, () => m.set(tvalid, 0));
    m.when(fire, () => {
      bytes.forEach((r, i) => m.when(cnt.eq(i), () => m.set(r, inp.data)));
      m.set(cnt, mux(complete, 0, cnt.add(1)));
    });
    m.when(complete, () => {
      // The beat as it stands with this byte in place; bytes above it are not kept.
      const merged = bytes.map((r, i) => mux(cnt.eq(i), inp.data, r));
      m.set(tdata, cat(...merged.reverse()));
      m.set(tkeep, cat(...Array.from({ length: n }, (_, i) => cnt.ge(n - 1 - i))));
      m.set(tlast, inLast);
      m.set(tvalid, 1);
    });
    return { inp, inLast, mAxis };
  },
  { name: (p) => `bytes_to_axis_${p.width}`, validate: validateAxis },
);
