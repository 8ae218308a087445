// The ternary matmul core's register map (word addresses on its reg port). The core
// (generator/cores/ternary/core.ts) decodes it and publishes it in the manifest's
// `extra.ternary.registers`; the link engine's READ_REG/WRITE_REG reach it by address and the
// tests and drivers name registers by it: one table for all of them.

export const REGISTERS = [
  { addr: 0, name: 'CTRL', access: 'w', doc: 'bit0: start a run; bit1: restart activation loading at beat 0; bit2: restart weight loading at WADDR' },
  { addr: 1, name: 'STATUS', access: 'r', doc: 'bit0: busy (a run, or DRAM weight writes awaiting responses); bit1: the last start was refused (bad K/N/M/WBASE, or busy); bit2: weight memory overflow; bit3: a DRAM access answered SLVERR/DECERR since reset' },
  { addr: 2, name: 'K', access: 'rw', doc: 'reduction length, 1..kmax' },
  { addr: 3, name: 'N', access: 'rw', doc: 'output features, >= 1' },
  { addr: 4, name: 'M', access: 'rw', doc: 'tokens, 1..mmax' },
  { addr: 5, name: 'WBASE', access: 'rw', doc: 'first weight tile of the matrix' },
  { addr: 6, name: 'WADDR', access: 'rw', doc: 'where weight loading starts (tile index); a value at or past wdepth reads back as wdepth, loads nothing and raises STATUS.WEIGHT_OVERFLOW on the first beat' },
  { addr: 7, name: 'CYCLES', access: 'r', doc: 'clock cycles of the last run, start to last result' },
  { addr: 8, name: 'STALLS', access: 'r', doc: 'cycles of the last run spent waiting for the result stream' },
  { addr: 9, name: 'SHAPE', access: 'r', doc: 'rows | cols << 8 | act << 16 | format << 24' },
  { addr: 10, name: 'KMAX', access: 'r', doc: 'kmax' },
  { addr: 11, name: 'MMAX', access: 'r', doc: 'mmax' },
  { addr: 12, name: 'WDEPTH', access: 'r', doc: 'weight memory depth in tiles' },
  { addr: 13, name: 'WSTALLS', access: 'r', doc: 'cycles of the last run spent waiting for weight tiles from DRAM' },
  { addr: 14, name: 'WMEM', access: 'r', doc: '0: weights in on-chip block RAM; else the AXI4 data width of the DRAM master' },
] as const;

type Register = (typeof REGISTERS)[number];
export type RegisterName = Register['name'];
/** The names a write reaches and a read returns; the core's decoder must cover each (core.ts). */
export type WritableRegister = Extract<Register, { access: 'w' | 'rw' }>['name'];
export type ReadableRegister = Extract<Register, { access: 'r' | 'rw' }>['name'];
export const isWritable = (r: Register): r is Extract<Register, { access: 'w' | 'rw' }> => r.access.includes('w');
export const isReadable = (r: Register): r is Extract<Register, { access: 'r' | 'rw' }> => r.access.includes('r');
/** Word addresses by name (REG.K is 2), for drivers that name registers rather than number them. */
export const REG = Object.fromEntries(REGISTERS.map((r) => [r.name, r.addr])) as { readonly [N in RegisterName]: number };
/** CTRL's bits (written). */
// INT4, with START, on a dual4 core: this run's activation beats hold token pairs of int4
// (core-layout.ts packActivationPairs) and two tokens go through the array a step. Other
// cores do not decode the bit (their Verilog predates it), so the host refuses to set it
// for them (coreModes in core-model.ts says which cores have the mode).
export const CTRL = { START: 1 << 0, RESTART_ACTIVATIONS: 1 << 1, RESTART_WEIGHTS: 1 << 2, INT4: 1 << 3 } as const;
/** STATUS's bits (read). */
export const CORE_STATUS = { BUSY: 1 << 0, REFUSED: 1 << 1, WEIGHT_OVERFLOW: 1 << 2, MEM_ERROR: 1 << 3 } as const;
