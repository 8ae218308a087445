// CRC-32 (IEEE, reflected 0xEDB88320) one byte per clock: the eight LFSR steps are
// worked out symbolically at elaboration, so each next-state bit is a plain XOR of some
// state and data bits (no loops, no muxes in the netlist).

import { cat, type Value } from '../../hdl/index.ts';
import { CRC32_POLY as POLY } from '../../../common/crc32.ts';

/** For each of the 32 next-state bits, the inputs it XORs: state bits 0..31, data bits 32..39. */
function taps(): number[][] {
  let state: Set<number>[] = Array.from({ length: 32 }, (_, i) => new Set([i]));
  const xor = (a: Set<number>, b: Set<number>): Set<number> => {
    const out = new Set(a);
    for (const x of b) (out.has(x) ? out.delete(x) : out.add(x));
    return out;
  };
  for (let i = 0; i < 8; i++) {
    const fb = xor(state[0]!, new Set([32 + i])); // lsb ^ data bit i
    const shifted = [...state.slice(1), new Set<number>()];
    state = shifted.map((s, j) => ((POLY >>> j) & 1 ? xor(s, fb) : s));
  }
  return state.map((s) => [...s].sort((a, b) => a - b));
}

const TAPS = taps();

/** The CRC state after one more byte. */
export function crc32Step(state: Value, byte: Value): Value {
  if (state.width !== 32 || byte.width !== 8) throw new RangeError(`crc32Step: state must be 32 bits and byte 8, got ${state.width} and ${byte.width}`);
  const bit = (i: number): Value => (i < 32 ? state.bit(i) : byte.bit(i - 32));
  const bits = TAPS.map((t) => (t.length === 1 ? bit(t[0]!) : cat(...t.map(bit)).xorReduce()));
  return cat(...[...bits].reverse());
}
