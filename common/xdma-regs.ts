// The PCIe top's AXI4-Lite register bank (the XDMA driver's `…_user` device): the top
// (generator/boards/xdma.ts) builds it, the host's XDMA transport and the pcie backend read
// it, xdma-sim mirrors it into a file. Byte offsets; every register is 32 bits.

import { PROTOCOL_VERSION, SYNC0, SYNC1 } from './protocol.ts';

/** MAGIC reads 0xB17F00vv: the link's sync bytes and its protocol version. */
export const XDMA_MAGIC = ((SYNC0 << 24) | (SYNC1 << 16) | PROTOCOL_VERSION) >>> 0;

/** Byte offsets on the AXI4-Lite bus (the `…_user` device). */
export const XDMA_REG = {
  MAGIC: 0x00,
  /** rows | cols << 8 | act << 16 | format << 24 */
  SHAPE: 0x04,
  /** Write 1 to bit 0: reset the SoC (engine and core; weights stay) and the stream converters. */
  CONTROL: 0x08,
  /** bit 0: the core is computing; bit 1: response bytes wait for the host to read C2H; bit 2: a weight access to board DRAM failed (SLVERR/DECERR) since reset. */
  STATUS: 0x0c,
  H2C_BYTES: 0x10,
  C2H_BYTES: 0x14,
  RESPONSES: 0x18,
  /** H2C transfers seen whole (beats with tlast): one per host write(). */
  H2C_PACKETS: 0x1c,
  /** Eight words: the identity hash, in the byte order IDENTIFY sends it. */
  IDENTITY: 0x20,
} as const;

/** The STATUS register's bits. */
export const XDMA_STATUS = { BUSY: 1 << 0, C2H_PENDING: 1 << 1, DDR_ERROR: 1 << 2 } as const;

/** Words in the bank (IDENTITY's eight are the last): what xdma-sim mirrors. */
export const XDMA_NREGS = 16;
