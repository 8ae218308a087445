// Checkpoint files read a piece at a time. A 2B-parameter model is over a gigabyte; reading
// it whole and then copying tensors out of it doubles the peak memory, and keeping views into
// it keeps every byte alive (the packed weights after they were decoded, say). So readers
// parse the header from the front of the file and read each tensor into its own buffer when
// the loader asks for it; what the loader does not keep is freed at once.

import * as fs from 'node:fs';
import * as os from 'node:os';
import { constants as bufferConstants } from 'node:buffer';
import { CheckpointError, reason } from './errors.ts';
import { mapFile, type Mapping } from './mmap.ts';

export class FileSource {
  readonly size: number;
  private fd: number;
  /** The whole file mapped read-only (host/model/mmap.ts), where mmap is available. */
  private readonly map: Mapping | undefined;

  constructor(readonly file: string) {
    const { fd, size } = openRegular(file);
    this.fd = fd;
    this.size = size;
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
    readFully(this.fd, this.file, buf, offset, `${what}: `);
    return new Uint8Array(buf.buffer, buf.byteOffset, length);
  }

  /** Closes the file; a mapping (and views into it) stays valid. */
  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}

/** Fill `buf` from `fd` at `offset`; a failed or short read is one line naming `file` (and `what`, a prefix such as "tensor 'x': "). */
function readFully(fd: number, file: string, buf: Buffer, offset: number, what: string): void {
  for (let done = 0; done < buf.length; ) {
    let n: number;
    try {
      n = fs.readSync(fd, buf, done, Math.min(buf.length - done, 1 << 30), offset + done);
    } catch (e) {
      throw new CheckpointError(file, `${what}read failed at byte ${offset + done} (${reason(e)})`);
    }
    if (n === 0) throw new CheckpointError(file, `${what}the file ended at byte ${offset + done} while reading; it is truncated or being written`);
    done += n;
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

/** What a non-regular file is, for the message that refuses it. */
function kind(st: fs.Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a plain file';
}

/**
 * Open `file` for reading if it is a regular file (after symlinks). A FIFO would block the
 * open until a writer came, and /dev/zero or a pipe never ends and has no size to check, so
 * anything else is refused by name. The file is stat'ed before the open (nothing is opened
 * that is not a regular file) and again after it, opened non-blocking, in case it was
 * replaced in between.
 */
export function openRegular(file: string): { fd: number; size: number } {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    throw new CheckpointError(file, `cannot open (${reason(e)})`);
  }
  if (!st.isFile()) throw new CheckpointError(file, `is ${kind(st)}, expected a regular file`);
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    throw new CheckpointError(file, `cannot open (${reason(e)})`);
  }
  const now = fs.fstatSync(fd);
  if (!now.isFile()) {
    fs.closeSync(fd);
    throw new CheckpointError(file, `is ${kind(now)}, expected a regular file`);
  }
  return { fd, size: now.size };
}

/**
 * A JSON file is read whole, so its size is checked first. 64 MiB is generous: the largest
 * files here are tokenizers (Llama 3's tokenizer.json is 9 MB) and shard indexes (tens of KB).
 */
export const MAX_JSON_BYTES = 64 << 20;

/** The parsed contents of a JSON file (a regular file of at most `limit` bytes, valid UTF-8). */
export function readJsonFile(file: string, limit = MAX_JSON_BYTES): unknown {
  const { fd, size } = openRegular(file);
  let text: string;
  try {
    if (size > limit) throw new CheckpointError(file, `${size} bytes; a JSON file of at most ${limit / 2 ** 20} MiB is read`);
    const buf = Buffer.allocUnsafe(size);
    readFully(fd, file, buf, 0, '');
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
    } catch {
      throw new CheckpointError(file, 'not valid UTF-8');
    }
  } finally {
    fs.closeSync(fd);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(file, `not valid JSON (${reason(e)})`);
  }
}
