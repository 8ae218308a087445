// Writing a whole packet to a FIFO or character device: the host's XDMA transport writes
// requests into `…_h2c_0` and xdma-sim writes responses into `…_c2h_0` the same way, and
// either may take a write in parts.

import { write } from 'node:fs';

/** Write all of `bytes` to a device or FIFO (a pipe may take them in parts). */
export function writeAll(fd: number, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    let off = 0;
    const more = (): void => {
      write(fd, bytes, off, bytes.length - off, null, (err, n) => {
        if (err) return reject(err);
        off += n;
        if (off < bytes.length) more();
        else resolve();
      });
    };
    more();
  });
}
