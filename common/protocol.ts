// The link protocol's numbers (host/link/PROTOCOL.md describes the protocol). The board's
// command engine (generator/cores/link/engine.ts) is built from them, the host's client and
// the simulators speak with them: defined once here so the two ends cannot drift apart.

/** What IDENTIFY's first byte reports; a host refuses nothing on it yet, but it is the place to say "incompatible". */
export const PROTOCOL_VERSION = 1;

/**
 * Request opcodes; an answer carries the request's opcode with bit 7 set. MATMUL_INT4 is
 * MATMUL in the int4-pairs mode, which only boards whose IDENTIFY act byte has
 * IDENTITY_INT4_PAIRS set decode (others answer "unknown opcode"): the frame of every
 * other op is unchanged, so the version stays 1.
 */
export const OP = { IDENTIFY: 0x01, READ_REG: 0x02, WRITE_REG: 0x03, WRITE_WEIGHTS: 0x04, MATMUL: 0x05, RESET: 0x06, MATMUL_INT4: 0x07 } as const;
/** Set in IDENTIFY's act byte (beside the lane width 8) by a board whose core has the int4-pairs mode (dual4=1). */
export const IDENTITY_INT4_PAIRS = 0x80;
/** The status byte that starts every answer's payload. */
export const STATUS = { OK: 0, UNKNOWN_OP: 1, BAD_LENGTH: 2, BAD_ARGS: 3, BUSY: 4 } as const;
/** STATUS values as an error message names them, indexed by value. */
export const STATUS_TEXT: readonly string[] = ['OK', 'unknown opcode', 'bad length', 'bad arguments', 'busy'];

// A frame: SYNC0 SYNC1 | seq u8 | op u8 | len u32le | header-check u8 | payload | crc32 u32le.
export const SYNC0 = 0xb1;
export const SYNC1 = 0x7f;
export const HEADER_BYTES = 9;
export const TRAILER_BYTES = 4;
/** The header check starts from this byte and folds in bytes 0..7 with rotate-left-1 then xor. */
export const HEADER_CHECK_SEED = 0x5a;
/** Largest payload a frame may carry; a larger length in a header is treated as garbage. */
export const MAX_PAYLOAD = 1 << 20;

/** An IDENTIFY answer after its status byte: version (u8), 32-byte hash, rows, cols, act, format (u8 each), kmax, mmax, wdepth, stage (u32le each). */
export const IDENTITY_BYTES = 1 + 32 + 4 + 4 * 4;
/** A MATMUL request's arguments before the activations: wbase, K, N, M (u32le each). */
export const MATMUL_ARGS_BYTES = 16;
/** What a MATMUL answer carries besides its results: the status byte, CYCLES and STALLS (u32le each). */
export const MATMUL_ANSWER_OVERHEAD = 1 + 4 + 4;
/** Most result bytes one MATMUL answer may carry (the board refuses a run that would need more). */
export const MAX_ANSWER = MAX_PAYLOAD - MATMUL_ANSWER_OVERHEAD;
/** Most activation bytes one MATMUL request may carry. */
export const MAX_ACTIVATIONS = MAX_PAYLOAD - MATMUL_ARGS_BYTES;

/** Serial line rates the UART core and the uart backend accept (bits per second). */
export const BAUD = { min: 300, max: 62_500_000 } as const;
