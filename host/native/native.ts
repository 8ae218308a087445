// Native CPU kernels (kernels.cpp) for the host runtime: the exact ternary GEMM/GEMV that
// replaces the JS lookup-table kernel, and the float output head (f32/f16/bf16/q8).
//
// The library is compiled once per machine with g++ into the build cache, keyed by the
// source, the flags, `g++ --version` and the CPU's flags from /proc/cpuinfo (the build is
// -march=native, so another CPU rebuilds), and loaded with koffi. koffi passes a TypedArray
// argument declared as a pointer as a pointer to its own memory for a synchronous call, no
// copy (the test checks it by keeping the pointer in C and reading through it in a later
// call). When g++ is missing or BITNET_NATIVE=0, loadNative() returns undefined and
// nativeUnavailableReason() says why; the caller keeps the JS kernels.
//
// Imports nothing from sim/ or generator/ but the leaf build cache: the inference path must
// not load the HDL library.

import koffi from 'koffi';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, copyFileSync, mkdirSync, accessSync, constants as fsConstants } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cachedBuild, cacheKey, cacheRoot } from '../../sim/toolchain/cache.ts';

export type HeadDtype = 'f32' | 'f16' | 'bf16' | 'q8';
export type NativeIsa = 'scalar' | 'avx2' | 'avx512vnni';

export interface NativeKernels {
  /** The instruction set the kernels run with, e.g. 'avx512vnni', 'avx2', 'scalar'. */
  readonly isa: string;
  /** The best one this CPU has. */
  readonly bestIsa: string;
  readonly threads: number;
  /** Where the library lives in the build cache. */
  readonly library: string;
  setThreads(n: number): void;
  /** Run a lower ISA (for tests and benches); returns the one now in use. */
  setIsa(isa: NativeIsa): string;
  /** Y (M x N int32) = X (M x K int8) W^T, W in the PackedTernary layout; exact. */
  ternaryGemm(codes: Uint8Array, N: number, K: number, stride: number, x: Int8Array, M: number, y: Int32Array): void;
  /**
   * out[m*rows + r] = sum_c W[r,c] x[m*cols + c], float32 accumulation. `w` holds the
   * weights' bytes (any typed array view): float32, IEEE half, bfloat16, or for 'q8' int8
   * with `q8scales` (rows x cols/32 float32; cols a multiple of 32).
   */
  matvec(dtype: HeadDtype, w: ArrayBufferView, rows: number, cols: number, x: Float32Array, M: number, out: Float32Array, q8scales?: Float32Array): void;
  /** Absmax int8 per 32-column block: scale = amax / 127, q = round-half-even(v / scale). */
  quantizeQ8(dtype: Exclude<HeadDtype, 'q8'>, w: ArrayBufferView, rows: number, cols: number): { w8: Int8Array; scales: Float32Array };
  /**
   * Causal grouped-query attention of M new rows at positions pos.. over float32 caches
   * (T x kvHeads*D): out[m][h] = softmax((q[m][h] . k_t) * scale) . v, t = 0..pos+m.
   */
  attention(q: Float32Array, kc: Float32Array, vc: Float32Array, M: number, heads: number, kvHeads: number, D: number, pos: number, scale: number, out: Float32Array): void;
  /** host/infer/quant.ts quantizeRows, bit for bit. */
  quantizeRows(x: Float32Array, M: number, K: number, bits: number, q: Int8Array, scales: Float32Array): void;
  /** The transformer's rescaling of rows row0..row0+N of an M x NT result (op 'div' or 'mul'), bit for bit. */
  rescale(acc: Int32Array, M: number, NT: number, row0: number, N: number, op: 'div' | 'mul', ws: number, scales: Float32Array, out: Float32Array): void;
  /**
   * madvise(MADV_HUGEPAGE) on the 2 MB-aligned interior of a big array, best before it is
   * first written (weights being read in): far fewer page faults (about 10 µs per 4 KB page
   * in a VM) and TLB misses. Returns whether the kernel took the advice.
   */
  adviseHugePages(v: ArrayBufferView): boolean;
  /** Probes for the tests and bench-native.ts; not for the runtime. */
  readonly debug: NativeDebug;
}

export interface NativeDebug {
  /** The address the library receives for this view. */
  address(v: ArrayBufferView): bigint;
  keep(v: ArrayBufferView): void;
  peek(i: number): number;
  poke(i: number, v: number): void;
  noop(v: ArrayBufferView): void;
  /** An empty job on all threads of the kernels' pool (the cost of handing work out). */
  parallelNoop(): number;
  /** Read `bytes` bytes of v with `threads` threads (memory bandwidth). */
  streamRead(v: ArrayBufferView, bytes: number, threads: number): number;
  /** The obvious C++ loops, single thread, for comparison. */
  refTernary(codes: Uint8Array, N: number, K: number, stride: number, x: Int8Array, M: number, y: Int32Array): void;
  refMatvecBf16(w: Uint16Array, rows: number, cols: number, x: Float32Array, out: Float32Array): void;
}

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SOURCE = path.join(HERE, 'kernels.cpp');
const LIB = 'kernels.so';
// -fopenmp for the `omp simd` loops only; threads are the library's own pool.
export const NATIVE_FLAGS: readonly string[] = ['-O3', '-march=native', '-std=c++17', '-fPIC', '-shared', '-fopenmp'];
const COMPILE_TIMEOUT_MS = 180_000;

const ISA_NAMES: readonly NativeIsa[] = ['scalar', 'avx2', 'avx512vnni'];
const DTYPES: Record<HeadDtype, { code: number; bytes: number }> = {
  f32: { code: 0, bytes: 4 },
  f16: { code: 1, bytes: 2 },
  bf16: { code: 2, bytes: 2 },
  q8: { code: 3, bytes: 1 },
};

interface Api {
  nk_version: () => number;
  nk_best_isa: () => number;
  nk_get_isa: () => number;
  nk_set_isa: (isa: number) => number;
  nk_set_threads: (n: number) => void;
  nk_get_threads: () => number;
  nk_ternary_gemm: (codes: Uint8Array, N: number, K: number, stride: number, x: Int8Array, M: number, y: Int32Array) => number;
  nk_matvec: (dt: number, w: ArrayBufferView, rows: number, cols: number, x: Float32Array, M: number, out: Float32Array, scales: Float32Array | null) => number;
  nk_quantize_q8: (dt: number, w: ArrayBufferView, rows: number, cols: number, w8: Int8Array, scales: Float32Array) => number;
  nk_quantize_rows: (x: Float32Array, M: number, K: number, bits: number, q: Int8Array, scales: Float32Array) => number;
  nk_rescale: (acc: Int32Array, M: number, NT: number, row0: number, N: number, op: number, ws: number, scales: Float32Array, out: Float32Array) => number;
  nk_attention: (q: Float32Array, kc: Float32Array, vc: Float32Array, M: number, heads: number, kvHeads: number, D: number, pos: number, scale: number, out: Float32Array) => number;
  nk_advise_hugepages: (p: ArrayBufferView, bytes: number) => number;
  nk_address: (p: ArrayBufferView) => number | bigint;
  nk_debug_keep: (p: ArrayBufferView) => void;
  nk_debug_peek: (i: number) => number;
  nk_debug_poke: (i: number, v: number) => void;
  nk_noop: (p: ArrayBufferView, n: number) => void;
  nk_parallel_noop: () => number;
  nk_bench_stream_read: (p: ArrayBufferView, bytes: number, threads: number) => number;
  nk_bench_ref_ternary: (codes: Uint8Array, N: number, K: number, stride: number, x: Int8Array, M: number, y: Int32Array) => void;
  nk_bench_ref_matvec_bf16: (w: Uint16Array, rows: number, cols: number, x: Float32Array, out: Float32Array) => void;
}

// Pointers as plain `T *` (not _Out_/_Inout_): koffi hands a TypedArray's own memory to
// the function for the duration of a synchronous call.
const SIGNATURES: Record<keyof Api, string> = {
  nk_version: 'int nk_version()',
  nk_best_isa: 'int nk_best_isa()',
  nk_get_isa: 'int nk_get_isa()',
  nk_set_isa: 'int nk_set_isa(int isa)',
  nk_set_threads: 'void nk_set_threads(int n)',
  nk_get_threads: 'int nk_get_threads()',
  nk_ternary_gemm: 'int nk_ternary_gemm(const uint8_t *codes, int N, int K, int stride, const int8_t *x, int M, int32_t *y)',
  nk_matvec: 'int nk_matvec(int dt, const void *w, int rows, int cols, const float *x, int M, float *out, const float *scales)',
  nk_quantize_q8: 'int nk_quantize_q8(int dt, const void *w, int rows, int cols, int8_t *w8, float *scales)',
  nk_quantize_rows: 'int nk_quantize_rows(const float *x, int M, int K, int bits, int8_t *q, float *scales)',
  nk_rescale: 'int nk_rescale(const int32_t *acc, int M, int NT, int row0, int N, int op, float ws, const float *scales, float *out)',
  nk_attention: 'int nk_attention(const float *q, const float *kc, const float *vc, int M, int heads, int kvHeads, int D, int pos0, float scale, float *out)',
  nk_advise_hugepages: 'int nk_advise_hugepages(void *p, double bytes)',
  nk_address: 'uint64_t nk_address(const void *p)',
  nk_debug_keep: 'void nk_debug_keep(const void *p)',
  nk_debug_peek: 'int nk_debug_peek(int i)',
  nk_debug_poke: 'void nk_debug_poke(int i, int v)',
  nk_noop: 'void nk_noop(const void *p, int n)',
  nk_parallel_noop: 'int nk_parallel_noop()',
  nk_bench_stream_read: 'double nk_bench_stream_read(const void *p, double bytes, int threads)',
  nk_bench_ref_ternary: 'void nk_bench_ref_ternary(const uint8_t *codes, int N, int K, int stride, const int8_t *x, int M, int32_t *y)',
  nk_bench_ref_matvec_bf16: 'void nk_bench_ref_matvec_bf16(const uint16_t *w, int rows, int cols, const float *x, float *out)',
};

/** The compiler failed: the message carries its first error lines. */
export class NativeBuildError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NativeBuildError';
  }
}

export interface LoadOptions {
  threads?: number;
  /** Progress lines (default: stderr). */
  log?: (s: string) => void;
}

let loaded: NativeKernels | undefined;
let unavailable: string | undefined;

/** Why loadNative() returned undefined (undefined when it did not). */
export function nativeUnavailableReason(): string | undefined {
  return unavailable;
}

const defaultLog = (s: string): void => void process.stderr.write(`${s}\n`);

function compiler(): string {
  return process.env.CXX && process.env.CXX.length > 0 ? process.env.CXX : 'g++';
}

/** The `flags` line of /proc/cpuinfo ('' where there is none). */
function cpuFlags(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => /^flags\s*:/.test(l));
    return line ?? '';
  } catch {
    return '';
  }
}

function compilerVersion(cxx: string): string | undefined {
  const r = spawnSync(cxx, ['--version'], { encoding: 'utf8', timeout: 20_000 });
  if (r.error || r.status !== 0) return undefined;
  return r.stdout;
}

function firstErrors(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l.trim().length > 0);
  const errs = lines.filter((l) => /\berror\b/i.test(l));
  return (errs.length > 0 ? errs : lines).slice(0, 8).join('\n');
}

function compile(cxx: string, dir: string): void {
  const out = path.join(dir, LIB);
  copyFileSync(SOURCE, path.join(dir, 'kernels.cpp'));
  // Synchronous, so no signal handler runs until g++ returns: a SIGINT to node alone is acted
  // on then (cleanup.ts keeps its handler for that and removes the build directory); a
  // terminal's Ctrl-C reaches g++ too, which shares our process group.
  const r = spawnSync(cxx, [...NATIVE_FLAGS, '-o', out, SOURCE], { encoding: 'utf8', timeout: COMPILE_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) throw new NativeBuildError(`${cxx} ${NATIVE_FLAGS.join(' ')} ${SOURCE}: ${r.error.message}`);
  if (r.status !== 0 || !existsSync(out)) {
    throw new NativeBuildError(`${cxx} failed on ${SOURCE} (exit ${r.status ?? r.signal}):\n${firstErrors(r.stderr ?? '')}`);
  }
  writeFileSync(path.join(dir, 'build.txt'), `${cxx} ${NATIVE_FLAGS.join(' ')} -o ${LIB} kernels.cpp\n`);
}

/**
 * The built library, from the cache or compiled now. cachedBuild is asynchronous only in
 * its last step (renaming the private build directory into place); it runs the build
 * callback synchronously, and a synchronous compile inside it therefore leaves a complete
 * library in the private directory by the time cachedBuild returns. We load that file
 * before the rename (a loaded library survives the rename, or the unlink if another
 * process won the race) so that loadNative can stay synchronous.
 */
function libraryPath(log: (s: string) => void): { load: string; final: string } {
  const cxx = compiler();
  const version = compilerVersion(cxx);
  if (version === undefined) throw new Unavailable(`no C++ compiler: \`${cxx} --version\` failed (install g++, or set CXX)`);
  const source = readFileSync(SOURCE, 'utf8');
  const key = cacheKey([source, NATIVE_FLAGS.join(' '), version, cpuFlags()]);
  const finalLib = path.join(cacheRoot(), 'native', `kernels-${key}`, LIB);
  if (!existsSync(finalLib)) {
    // cachedBuild creates its directories inside a promise: a cache that cannot be written would
    // only show as a missing library. Say why, and let the host run without the kernels.
    try {
      mkdirSync(path.join(cacheRoot(), 'native'), { recursive: true });
      accessSync(path.join(cacheRoot(), 'native'), fsConstants.W_OK);
    } catch (e) {
      throw new Unavailable(`cannot write the build cache ${path.join(cacheRoot(), 'native')} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); set BITNET_FPGA_CACHE to a writable directory`);
    }
  }
  let built: string | undefined;
  let failure: unknown;
  const done = cachedBuild('native', 'kernels', key, LIB, async (dir) => {
    try {
      log('[native] compiling CPU kernels (once per machine) …');
      const t0 = performance.now();
      compile(cxx, dir);
      built = path.join(dir, LIB);
      log(`[native] compiled in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    } catch (e) {
      failure = e;
      throw e;
    }
  });
  done.catch(() => {}); // a failure is reported below, synchronously
  if (failure !== undefined) throw failure;
  if (built !== undefined) return { load: built, final: finalLib };
  if (existsSync(finalLib)) return { load: finalLib, final: finalLib };
  throw new Unavailable(`the build cache did not produce ${finalLib}`);
}

class Unavailable extends Error {}

function checkDim(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) throw new RangeError(`${name} = ${v}: must be an integer in [0, 2^31)`);
}

function isTypedArray(v: unknown): v is ArrayBufferView {
  return ArrayBuffer.isView(v) && !(v instanceof DataView);
}

class Kernels implements NativeKernels {
  readonly bestIsa: string;
  private isaCode: number;
  private nthreads = 1;
  readonly debug: NativeDebug;

  constructor(
    private readonly api: Api,
    readonly library: string,
  ) {
    this.isaCode = api.nk_get_isa();
    this.bestIsa = ISA_NAMES[api.nk_best_isa()] ?? 'scalar';
    const a = api;
    this.debug = {
      address: (v) => BigInt(a.nk_address(v)),
      keep: (v) => a.nk_debug_keep(v),
      peek: (i) => a.nk_debug_peek(i),
      poke: (i, v) => a.nk_debug_poke(i, v),
      noop: (v) => a.nk_noop(v, 0),
      parallelNoop: () => a.nk_parallel_noop(),
      streamRead: (v, bytes, threads) => {
        if (bytes > v.byteLength || bytes % 64 !== 0) throw new RangeError(`streamRead: ${bytes} bytes of ${v.byteLength} (a multiple of 64)`);
        return a.nk_bench_stream_read(v, bytes, threads);
      },
      refTernary: (codes, N, K, stride, x, M, y) => {
        this.checkTernary(codes, N, K, stride, x, M, y);
        a.nk_bench_ref_ternary(codes, N, K, stride, x, M, y);
      },
      refMatvecBf16: (w, rows, cols, x, out) => {
        if (w.length < rows * cols || x.length < cols || out.length < rows) throw new RangeError('refMatvecBf16: short arrays');
        a.nk_bench_ref_matvec_bf16(w, rows, cols, x, out);
      },
    };
  }

  get isa(): string {
    return ISA_NAMES[this.isaCode] ?? 'scalar';
  }

  get threads(): number {
    return this.nthreads;
  }

  setThreads(n: number): void {
    if (!Number.isInteger(n) || n < 1 || n > 1024) throw new RangeError(`threads = ${n}: must be an integer in [1, 1024]`);
    this.api.nk_set_threads(n);
    this.nthreads = this.api.nk_get_threads();
  }

  setIsa(isa: NativeIsa): string {
    const i = ISA_NAMES.indexOf(isa);
    if (i < 0) throw new RangeError(`isa ${isa}: one of ${ISA_NAMES.join(', ')}`);
    this.isaCode = this.api.nk_set_isa(i);
    return this.isa;
  }

  adviseHugePages(v: ArrayBufferView): boolean {
    if (!isTypedArray(v)) throw new TypeError('v: must be a typed array');
    return this.api.nk_advise_hugepages(v, v.byteLength) === 0;
  }

  private checkTernary(codes: Uint8Array, N: number, K: number, stride: number, x: Int8Array, M: number, y: Int32Array): void {
    checkDim('N', N);
    checkDim('K', K);
    checkDim('stride', stride);
    checkDim('M', M);
    if (K > 4_000_000) throw new RangeError(`K = ${K}: above 4,000,000 an int32 sum could overflow`);
    if (!(codes instanceof Uint8Array)) throw new TypeError('codes: must be a Uint8Array');
    if (!(x instanceof Int8Array)) throw new TypeError('x: must be an Int8Array');
    if (!(y instanceof Int32Array)) throw new TypeError('y: must be an Int32Array');
    const G = Math.ceil(K / 4);
    if (stride < G) throw new RangeError(`stride = ${stride}: below ceil(K/4) = ${G} for K = ${K}`);
    const need = N === 0 ? 0 : (N - 1) * stride + G;
    if (codes.length < need) throw new RangeError(`codes: ${codes.length} bytes, need ${need} for N=${N} rows of stride ${stride} (K=${K})`);
    if (x.length < M * K) throw new RangeError(`x: ${x.length} activations, need M*K = ${M}*${K} = ${M * K}`);
    if (y.length < M * N) throw new RangeError(`y: ${y.length} outputs, need M*N = ${M}*${N} = ${M * N}`);
    if (M * N > 0x7fffffff || M * K > 0x7fffffff) throw new RangeError(`M*N or M*K above 2^31`);
  }

  ternaryGemm(codes: Uint8Array, N: number, K: number, stride: number, x: Int8Array, M: number, y: Int32Array): void {
    this.checkTernary(codes, N, K, stride, x, M, y);
    if (N === 0 || M === 0) return;
    const rc = this.api.nk_ternary_gemm(codes, N, K, stride, x, M, y);
    if (rc !== 0) throw new Error(`nk_ternary_gemm failed (${rc}) for N=${N} K=${K} stride=${stride} M=${M}`);
  }

  matvec(dtype: HeadDtype, w: ArrayBufferView, rows: number, cols: number, x: Float32Array, M: number, out: Float32Array, q8scales?: Float32Array): void {
    const dt = DTYPES[dtype];
    if (dt === undefined) throw new RangeError(`dtype ${String(dtype)}: one of ${Object.keys(DTYPES).join(', ')}`);
    checkDim('rows', rows);
    checkDim('cols', cols);
    checkDim('M', M);
    if (!isTypedArray(w)) throw new TypeError('w: must be a typed array');
    if (!(x instanceof Float32Array)) throw new TypeError('x: must be a Float32Array');
    if (!(out instanceof Float32Array)) throw new TypeError('out: must be a Float32Array');
    const wbytes = rows * cols * dt.bytes;
    if (w.byteLength < wbytes) throw new RangeError(`w: ${w.byteLength} bytes, need rows*cols*${dt.bytes} = ${wbytes} for ${dtype} ${rows}x${cols}`);
    if (x.length < M * cols) throw new RangeError(`x: ${x.length} values, need M*cols = ${M}*${cols} = ${M * cols}`);
    if (out.length < M * rows) throw new RangeError(`out: ${out.length} values, need M*rows = ${M}*${rows} = ${M * rows}`);
    if (M * rows > 0x7fffffff || M * cols > 0x7fffffff) throw new RangeError('M*rows or M*cols above 2^31');
    let scales: Float32Array | null = null;
    if (dtype === 'q8') {
      if (cols % 32 !== 0) throw new RangeError(`cols = ${cols}: q8 needs a multiple of 32`);
      if (!(q8scales instanceof Float32Array)) throw new TypeError('q8scales: q8 needs a Float32Array of rows*cols/32 scales');
      if (q8scales.length < (rows * cols) / 32) throw new RangeError(`q8scales: ${q8scales.length} scales, need rows*cols/32 = ${(rows * cols) / 32}`);
      scales = q8scales;
    }
    if (rows === 0 || M === 0) return;
    if (cols === 0) {
      out.fill(0, 0, M * rows);
      return;
    }
    const rc = this.api.nk_matvec(dt.code, w, rows, cols, x, M, out, scales);
    if (rc !== 0) throw new Error(`nk_matvec failed (${rc}) for ${dtype} ${rows}x${cols} M=${M}`);
  }

  quantizeQ8(dtype: Exclude<HeadDtype, 'q8'>, w: ArrayBufferView, rows: number, cols: number): { w8: Int8Array; scales: Float32Array } {
    const dt = DTYPES[dtype];
    if (dt === undefined || dtype === ('q8' as HeadDtype)) throw new RangeError(`dtype ${String(dtype)}: one of f32, f16, bf16`);
    checkDim('rows', rows);
    checkDim('cols', cols);
    if (!isTypedArray(w)) throw new TypeError('w: must be a typed array');
    if (cols % 32 !== 0) throw new RangeError(`cols = ${cols}: q8 needs a multiple of 32`);
    const wbytes = rows * cols * dt.bytes;
    if (w.byteLength < wbytes) throw new RangeError(`w: ${w.byteLength} bytes, need rows*cols*${dt.bytes} = ${wbytes} for ${dtype} ${rows}x${cols}`);
    const w8 = new Int8Array(rows * cols);
    const scales = new Float32Array((rows * cols) / 32);
    if (rows > 0 && cols > 0) {
      const rc = this.api.nk_quantize_q8(dt.code, w, rows, cols, w8, scales);
      if (rc !== 0) throw new Error(`nk_quantize_q8 failed (${rc}) for ${dtype} ${rows}x${cols}`);
    }
    return { w8, scales };
  }

  attention(q: Float32Array, kc: Float32Array, vc: Float32Array, M: number, heads: number, kvHeads: number, D: number, pos: number, scale: number, out: Float32Array): void {
    checkDim('M', M);
    checkDim('heads', heads);
    checkDim('kvHeads', kvHeads);
    checkDim('D', D);
    if (M < 1 || heads < 1 || kvHeads < 1 || D < 1 || heads % kvHeads) throw new RangeError(`attention: M ${M}, heads ${heads}, kvHeads ${kvHeads}, D ${D} (heads a multiple of kvHeads, all >= 1)`);
    if (!Number.isInteger(pos) || pos < 0) throw new RangeError(`attention: pos ${pos}`);
    const qd = heads * D;
    const T = pos + M;
    if (q.length < M * qd) throw new RangeError(`q: ${q.length} floats, need M*heads*D = ${M * qd}`);
    if (out.length < M * qd) throw new RangeError(`out: ${out.length} floats, need ${M * qd}`);
    if (kc.length < T * kvHeads * D || vc.length < T * kvHeads * D) throw new RangeError(`kc/vc: ${kc.length}/${vc.length} floats, need (pos+M)*kvHeads*D = ${T * kvHeads * D}`);
    const rc = this.api.nk_attention(q, kc, vc, M, heads, kvHeads, D, pos, scale, out);
    if (rc !== 0) throw new Error(`nk_attention failed (${rc})`);
  }

  quantizeRows(x: Float32Array, M: number, K: number, bits: number, q: Int8Array, scales: Float32Array): void {
    checkDim('M', M);
    checkDim('K', K);
    if (!Number.isInteger(bits) || bits < 2 || bits > 8) throw new RangeError(`quantizeRows: bits ${bits}, expected 2..8`);
    if (x.length < M * K || q.length < M * K) throw new RangeError(`quantizeRows: x ${x.length} / q ${q.length} values, need M*K = ${M * K}`);
    if (scales.length < M) throw new RangeError(`quantizeRows: ${scales.length} scales, need ${M}`);
    if (this.api.nk_quantize_rows(x, M, K, bits, q, scales) !== 0) throw new Error('nk_quantize_rows failed');
  }

  rescale(acc: Int32Array, M: number, NT: number, row0: number, N: number, op: 'div' | 'mul', ws: number, scales: Float32Array, out: Float32Array): void {
    for (const [k, v] of [['M', M], ['NT', NT], ['row0', row0], ['N', N]] as const) checkDim(k, v);
    if (row0 + N > NT) throw new RangeError(`rescale: rows ${row0}..${row0 + N} of ${NT}`);
    if (acc.length < M * NT || out.length < M * N || scales.length < M) throw new RangeError(`rescale: acc ${acc.length} (need ${M * NT}), out ${out.length} (need ${M * N}), scales ${scales.length} (need ${M})`);
    if (this.api.nk_rescale(acc, M, NT, row0, N, op === 'div' ? 0 : 1, ws, scales, out) !== 0) throw new Error('nk_rescale failed');
  }
}

function open(library: string, shownAs = library): Kernels {
  const lib = koffi.load(library);
  const fns: Record<string, unknown> = {};
  for (const [name, sig] of Object.entries(SIGNATURES)) fns[name] = lib.func(sig);
  return new Kernels(fns as unknown as Api, shownAs);
}

/**
 * The native kernels, built on first use (memoized). undefined when they are unavailable
 * (no g++, or BITNET_NATIVE=0; see nativeUnavailableReason()); throws when the compiler
 * fails on the source or the library does not load.
 */
export function loadNative(opts: LoadOptions = {}): NativeKernels | undefined {
  if (!loaded && unavailable === undefined) {
    if (process.env.BITNET_NATIVE === '0') {
      unavailable = 'disabled by BITNET_NATIVE=0';
    } else {
      try {
        const lib = libraryPath(opts.log ?? defaultLog);
        const k = open(lib.load, lib.final);
        k.setThreads(Math.max(1, os.availableParallelism()));
        loaded = k;
      } catch (e) {
        if (!(e instanceof Unavailable)) throw e;
        unavailable = e.message;
      }
    }
  }
  if (loaded && opts.threads !== undefined) loaded.setThreads(opts.threads);
  return loaded;
}
