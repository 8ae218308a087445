// Five trits per byte: byte = sum of c_i * 3^i with c_i = w_i + 1 (the same code the
// 2-bit format stores). The decoder is a 243-entry table, one per byte of a tile; codes
// of the 13 unused byte values decode to 1 (weight 0).

import { defineModule, UInt, cat, type ModuleBuilder, type Value } from '../../hdl/index.ts';
import { FORMAT_2BIT } from '../../../common/core-layout.ts';

/** The first n base-3 digits of v, two bits each. */
function digits(v: number, n: number): number {
  let out = 0;
  for (let i = 0, x = v; i < n; i++, x = Math.floor(x / 3)) out |= (x % 3) << (2 * i);
  return out;
}

/** Decode the first n (1..5) weights of a byte; the last byte of a tile may hold fewer than five. */
export const trit5Decode = defineModule(
  'trit5_decode',
  (m, p: { n: number; [k: string]: number }) => {
    const trits = m.input('trits', UInt(8));
    const codes = m.output('codes', UInt(2 * p.n));
    const zero = digits(121, p.n); // 121 = 11111 in base 3: all weights 0
    // A read-only table indexed by the byte, so a simulator compiles one array lookup (a
    // 243-arm select per tile byte made Verilator emit megabytes of C++) and synthesis maps
    // the ROM to LUTs as it would the select.
    const rom = m.memory('trit_table', { shape: UInt(2 * p.n), depth: 256, init: Array.from({ length: 256 }, (_, v) => (v < 243 ? digits(v, p.n) : zero)) });
    m.set(codes, rom.read(trits));
    return { trits, codes };
  },
  {
    name: (p) => (p.n === 5 ? 'trit5_decode' : `trit5_decode_n${p.n}`),
    validate: (p) => {
      if (!(p.n >= 1 && p.n <= 5)) throw new RangeError(`n=${p.n}: a byte holds 1 to 5 weights`);
    },
  },
);

/** A tile word's 2-bit codes (code (r, c) at [2*(r*cols + c) +: 2]): as stored, or decoded from five trits per byte. */
export function tileCodes(m: ModuleBuilder, p: { rows: number; cols: number; format: number }, tileBytes: number, word: Value): Value {
  if (p.format === FORMAT_2BIT) return word;
  const parts: Value[] = [];
  for (let b = 0; b < tileBytes; b++) {
    const dec = m.instance(`dec${b}`, trit5Decode({ n: Math.min(5, p.rows * p.cols - 5 * b) }));
    m.set(dec.trits, word.slice(8 * b + 7, 8 * b));
    parts.push(dec.codes);
  }
  return m.let('w_codes', cat(...parts.reverse()));
}
