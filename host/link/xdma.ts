// The link over the Xilinx XDMA driver's character devices: requests are written to
// `<prefix>_h2c_0`, responses read from `<prefix>_c2h_0` (the PCIe top sends each one as a
// C2H packet), and `<prefix>_user` is the AXI4-Lite register bank (pread/pwrite at its
// offsets). Before any DMA the bank's MAGIC and identity words are checked, so a wrong
// bitstream or a driver bound to another card is caught with one register read.
// The same code runs against xdma-sim, where the devices are FIFOs and a file.

import { open, read, close, fstatSync, readSync, writeSync, openSync, closeSync, constants, existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { LinkError, type Transport } from './client.ts';
import { XDMA_MAGIC, XDMA_REG } from '../../common/xdma-regs.ts';
import { MAX_PAYLOAD } from '../../common/protocol.ts';
import { writeAll } from '../../common/write-all.ts';

const openP = promisify(open);
/** Large enough for any response (the largest payload, its 13 bytes of framing, slack): a C2H read returns one packet. */
const READ_BYTES = MAX_PAYLOAD + 64;

export function xdmaDevices(prefix: string): { user: string; h2c: string; c2h: string } {
  return { user: `${prefix}_user`, h2c: `${prefix}_h2c_0`, c2h: `${prefix}_c2h_0` };
}

/** The AXI4-Lite bank through `<prefix>_user`. */
export class XdmaRegisters {
  constructor(
    private readonly fd: number,
    readonly path: string,
  ) {}

  read32(offset: number): number {
    const b = Buffer.alloc(4);
    let n: number;
    try {
      n = readSync(this.fd, b, 0, 4, offset);
    } catch (e) {
      throw new LinkError(`${this.path}: register read at 0x${offset.toString(16)} failed: ${(e as Error).message}`);
    }
    if (n !== 4) throw new LinkError(`${this.path}: register read at 0x${offset.toString(16)} returned ${n} of 4 bytes (past the register bank?)`);
    return b.readUInt32LE(0);
  }

  write32(offset: number, value: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(value >>> 0, 0);
    try {
      if (writeSync(this.fd, b, 0, 4, offset) !== 4) throw new Error('short write');
    } catch (e) {
      throw new LinkError(`${this.path}: register write at 0x${offset.toString(16)} failed: ${(e as Error).message}`);
    }
  }

  /** The identity hash as hex, in IDENTIFY's byte order. */
  identity(): string {
    const b = Buffer.alloc(32);
    for (let i = 0; i < 8; i++) b.writeUInt32LE(this.read32(XDMA_REG.IDENTITY + 4 * i), 4 * i);
    return b.toString('hex');
  }
}

export interface XdmaLink {
  readonly transport: Transport;
  readonly regs: XdmaRegisters;
}

/** Why an XDMA device file is missing, or undefined when it exists: one message for the CLI's early check and for opening. */
export function missingXdmaDevice(path: string, what: string): string | undefined {
  return existsSync(path) ? undefined : `${path}: no such device (${what}); is the XDMA driver loaded (modprobe xdma) and the board's bitstream configured? List the devices with: ls ${path.replace(/_[a-z0-9]+$/, '')}_*`;
}

/** The three device files of an XDMA card and what each is, as messages name them. */
export const XDMA_DEVICE_ROLES = [['user', 'the AXI4-Lite register device'], ['h2c', 'the host-to-card DMA device'], ['c2h', 'the card-to-host DMA device']] as const;

async function openDevice(path: string, flags: number, what: string, timeoutMs: number): Promise<number> {
  const missing = missingXdmaDevice(path, what);
  if (missing) throw new LinkError(missing);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new LinkError(`${path}: did not open within ${timeoutMs} ms (${what})`)), timeoutMs);
  });
  try {
    return await Promise.race([openP(path, flags), deadline]);
  } catch (e) {
    if (e instanceof LinkError) throw e;
    throw new LinkError(`${path}: cannot open (${what}): ${(e as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
}

/** Open the three devices, check MAGIC, and give the link transport and the register bank. */
export async function openXdma(prefix: string, opts: { openTimeoutMs?: number } = {}): Promise<XdmaLink> {
  const dev = xdmaDevices(prefix);
  const t = opts.openTimeoutMs ?? 5000;
  const userFd = await openDevice(dev.user, constants.O_RDWR, 'the AXI4-Lite register device', t);
  const regs = new XdmaRegisters(userFd, dev.user);
  try {
    const magic = regs.read32(XDMA_REG.MAGIC);
    if (magic !== XDMA_MAGIC) throw new LinkError(`${dev.user}: MAGIC reads 0x${magic.toString(16).padStart(8, '0')}, expected 0x${XDMA_MAGIC.toString(16)}: the card does not hold a bitnet-fpga XDMA bitstream (or one of another protocol version)`);
  } catch (e) {
    closeSync(userFd);
    throw e;
  }
  const h2cFd = await openDevice(dev.h2c, constants.O_WRONLY, 'the H2C stream', t);
  const c2hFd = await openDevice(dev.c2h, constants.O_RDONLY, 'the C2H stream', t);
  const isFifo = fstatSync(c2hFd).isFIFO();
  let receiver: (bytes: Uint8Array) => void = () => {};
  let closed = false;
  let reading = false;
  const buf = Buffer.alloc(READ_BYTES);
  // One read is always posted, so the card's C2H stream is never left without a buffer.
  const readNext = (): void => {
    if (closed) return;
    reading = true;
    read(c2hFd, buf, 0, buf.length, null, (err, n) => {
      reading = false;
      if (closed) return;
      if (err) {
        // The driver gives up on an idle C2H read after its timeout; post another.
        if ((err as NodeJS.ErrnoException).code === 'ETIMEDOUT' || (err as NodeJS.ErrnoException).code === 'EAGAIN') return void setTimeout(readNext, 1);
        console.error(`${dev.c2h}: read failed: ${err.message}`);
        return;
      }
      if (n > 0) receiver(Uint8Array.from(buf.subarray(0, n)));
      if (n === 0) setTimeout(readNext, 5); // a FIFO whose writer went away
      else readNext();
    });
  };
  const transport: Transport = {
    name: `XDMA ${prefix}`,
    // One write is one H2C transfer; the driver takes it whole.
    write: (bytes) =>
      writeAll(h2cFd, bytes).catch((err: Error) => {
        throw new LinkError(`${dev.h2c}: write failed: ${err.message}`);
      }),
    onData: (cb) => {
      receiver = cb;
      if (!reading) readNext();
    },
    close: async () => {
      if (closed) return;
      closed = true;
      // A read posted on a FIFO would hold the process open: release it with one byte of
      // our own. (The driver's C2H read returns by itself after its c2h_timeout.)
      if (reading && isFifo) {
        const w = openSync(dev.c2h, constants.O_WRONLY | constants.O_NONBLOCK);
        writeSync(w, Buffer.from([0]));
        closeSync(w);
        for (let i = 0; i < 100 && reading; i++) await new Promise((r) => setTimeout(r, 5));
      }
      for (const fd of [h2cFd, c2hFd, userFd]) await promisify(close)(fd).catch(() => {});
    },
  };
  return { transport, regs };
}
