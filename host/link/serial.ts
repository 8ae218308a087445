// A serial port (a board's USB-UART bridge, or board-sim's pseudo-terminal) as a link transport.

import { SerialPort } from 'serialport';
import type { Transport } from './client.ts';
import { LinkError } from './client.ts';

export async function openSerial(path: string, baud: number, opts: { openTimeoutMs?: number } = {}): Promise<Transport> {
  const port = new SerialPort({ path, baudRate: baud, autoOpen: false });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new LinkError(`${path}: did not open within ${opts.openTimeoutMs ?? 5000} ms`)), opts.openTimeoutMs ?? 5000);
    port.open((err) => {
      clearTimeout(timer);
      if (err) reject(new LinkError(`cannot open serial port ${path}: ${err.message}`));
      else resolve();
    });
  });
  // A port that fails under us (the board unplugged, board-sim stopped: EBADF, EIO) emits
  // 'error'; unheard, that is an uncaught exception that kills the process with a stack
  // trace. It is kept and every later write is refused with it, so the request in progress
  // ends as a LinkError naming the port.
  let failed: Error | undefined;
  port.on('error', (err: Error) => void (failed ??= err));
  port.on('close', () => void (failed ??= new Error('the port was closed')));
  return {
    name: `${path} at ${baud} baud`,
    write: (bytes) =>
      new Promise<void>((resolve, reject) => {
        if (failed) return reject(new LinkError(`${path}: ${failed.message}`));
        port.write(Buffer.from(bytes), (err) => (err ? reject(new LinkError(`${path}: write failed: ${err.message}`)) : port.drain((e) => (e ? reject(new LinkError(`${path}: write failed: ${e.message}`)) : resolve()))));
      }),
    onData: (cb) => void port.on('data', (d: Buffer) => cb(new Uint8Array(d))),
    close: () => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve())),
  };
}
