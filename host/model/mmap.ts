// Memory-mapped checkpoint files (libc mmap through koffi). A mapped file's bytes come
// straight from the page cache: no copy, and no first touch of fresh anonymous memory, which
// on these VMs costs seconds per gigabyte. The embedding and output head are used where they
// lie in the file; ternary tensors are decoded from the mapping and their pages released
// afterwards (madvise DONTNEED: the page cache keeps them, the process's RSS does not).
//
// A mapped file that shrinks while mapped would fault on access (as it would for llama.cpp's
// mmap); BITNET_MMAP=0 reads files into memory instead.

import koffi from 'koffi';

interface Libc {
  mmap: (addr: null, len: number, prot: number, flags: number, fd: number, off: number) => unknown;
  madvise: (addr: bigint, len: number, advice: number) => number;
}

let libc: Libc | null | undefined;

function load(): Libc | null {
  if (libc !== undefined) return libc;
  libc = null;
  if (process.env.BITNET_MMAP === '0' || (process.platform !== 'linux' && process.platform !== 'darwin')) return libc;
  try {
    const lib = koffi.load(process.platform === 'linux' ? 'libc.so.6' : 'libc.dylib');
    libc = {
      mmap: lib.func('void *mmap(void *addr, size_t len, int prot, int flags, int fd, int64_t off)') as Libc['mmap'],
      madvise: lib.func('int madvise(uint64_t addr, size_t len, int advice)') as Libc['madvise'],
    };
  } catch {
    libc = null;
  }
  return libc;
}

const PROT_READ = 1;
const MAP_PRIVATE = 2;
const MADV_DONTNEED = 4;
const PAGE = 4096;

export interface Mapping {
  readonly bytes: Uint8Array;
  /** Drop the pages of [offset, offset + length) from this process (they stay in the page cache). */
  release(offset: number, length: number): void;
}

/** Map `size` bytes of the open file `fd` read-only, or undefined where mmap is not available. */
export function mapFile(fd: number, size: number): Mapping | undefined {
  const c = load();
  if (!c || size === 0) return undefined;
  const ptr = c.mmap(null, size, PROT_READ, MAP_PRIVATE, fd, 0);
  const base = ptr === null ? 0n : koffi.address(ptr);
  if (base === 0n || base === 0xffffffffffffffffn) return undefined;
  const bytes = new Uint8Array(koffi.view(ptr, size));
  return {
    bytes,
    release(offset: number, length: number): void {
      // Whole pages inside the range only: the pages at its ends may hold a neighbour's bytes.
      const start = Math.ceil(offset / PAGE) * PAGE;
      const end = Math.floor((offset + length) / PAGE) * PAGE;
      if (end > start) c.madvise(base + BigInt(start), end - start, MADV_DONTNEED);
    },
  };
}
