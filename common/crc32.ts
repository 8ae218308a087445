// CRC-32 (IEEE 802.3: reflected polynomial 0xEDB88320, init and final XOR 0xFFFFFFFF),
// the check value of every link frame. The board computes the same one byte by byte.

/** The reflected generator polynomial; the board's byte-per-clock CRC unit is derived from it. */
export const CRC32_POLY = 0xedb88320;

/** The raw register after one more byte, bit by bit (no initial or final inversion). */
export function crc32Update(state: number, byte: number): number {
  let c = (state ^ byte) >>> 0;
  for (let k = 0; k < 8; k++) c = c & 1 ? (CRC32_POLY ^ (c >>> 1)) >>> 0 : c >>> 1;
  return c >>> 0;
}

const TABLE = Uint32Array.from({ length: 256 }, (_, n) => crc32Update(0, n));

export function crc32(bytes: Uint8Array, start = 0, end = bytes.length, seed = 0): number {
  let c = ~seed >>> 0;
  for (let i = start; i < end; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
