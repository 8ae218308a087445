// Checkpoint files read a piece at a time. A 2B-parameter model is over a gigabyte; reading
// it whole and then copying tensors out of it doubles the peak memory, and keeping views into
// it keeps every byte alive (the packed weights after they were decoded, say). So readers
// parse the header from the front of the file and read each tensor into its own buffer when
// the loader asks for it; what the loader does not keep is freed at once.

import * as fs from 'node:fs';
import * as os from 'node:os';
import { constants as bufferConstants } from 'node:buffer';
import { CheckpointError } from './errors.ts';
import { mapFile, type Mapping } from './mmap.ts';

export class FileSource {
  readonly size: number;
  private fd: number;
  /** The whole file mapped read-only (host/model/mmap.ts), where mmap is available. */
  private readonly map: Mapping | undefined;

  constructor(readonly file: string) {
    try {
      this.fd = fs.openSync(file, 'r');
    } catch (e) {
      throw new CheckpointError(file, `cannot open (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    this.size = fs.fstatSync(this.fd).size;
    this.map = mapFile(this.fd, this.size);
  }

  /**
   * The bytes at `offset` without a copy where the file is mapped (read-only memory: never
   * write through it), else read into a buffer of their own. `align` is the element size the
   * caller will view them as; a mapped range that is not aligned to it is copied.
   */
  view(offset: number, length: number, what: string, align = 1): Uint8Array {
    if (offset < 0 || length < 0 || offset + length > this.size) throw new CheckpointError(this.file, `${what}: bytes ${offset}..${offset + length} are past the end of the file (${this.size} bytes); the file is truncated`);
    if (this.map && offset % align === 0) return this.map.bytes.subarray(offset, offset + length);
    return this.read(offset, length, what);
  }

  /** Done with a view(): its pages leave this process's memory (the page cache keeps them). */
  release(offset: number, length: number): void {
    this.map?.release(offset, length);
  }

  /**
   * `length` bytes at `offset`, in a buffer of their own (8-byte aligned, so typed-array views
   * of any element size work). `what` names the tensor or field for error messages.
   */
  read(offset: number, length: number, what: string): Uint8Array {
    if (offset < 0 || length < 0 || offset + length > this.size) throw new CheckpointError(this.file, `${what}: bytes ${offset}..${offset + length} are past the end of the file (${this.size} bytes); the file is truncated`);
    checkAllocation(this.file, length, what);
    if (this.map) return new Uint8Array(this.map.bytes.subarray(offset, offset + length));
    // allocUnsafeSlow: never a slice of Node's small-buffer pool, so the start is aligned.
    const buf = Buffer.allocUnsafeSlow(length);
    let done = 0;
    while (done < length) {
      let n: number;
      try {
        n = fs.readSync(this.fd, buf, done, Math.min(length - done, 1 << 30), offset + done);
      } catch (e) {
        throw new CheckpointError(this.file, `${what}: read failed at byte ${offset + done} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
      if (n === 0) throw new CheckpointError(this.file, `${what}: the file ended at byte ${offset + done} while reading; it is truncated or being written`);
      done += n;
    }
    return new Uint8Array(buf.buffer, buf.byteOffset, length);
  }

  /** Closes the file; a mapping (and views into it) stays valid. */
  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}

/**
 * Refuse an allocation no machine here could satisfy, by name, before V8 aborts on it: one
 * buffer is limited by Node (4 GiB) and by the machine's memory.
 */
export function checkAllocation(file: string, bytes: number, what: string): void {
  const limit = Math.min(bufferConstants.MAX_LENGTH, os.totalmem());
  if (bytes > limit) throw new CheckpointError(file, `${what} needs ${(bytes / 2 ** 30).toFixed(2)} GiB in one piece, more than this process can hold (${(limit / 2 ** 30).toFixed(2)} GiB)`);
}
