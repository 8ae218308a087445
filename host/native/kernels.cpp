// Native CPU kernels for the host runtime (loaded by native.ts through koffi).
//
//  - nk_ternary_gemm: Y (M x N, int32) = X (M x K, int8) W^T for W in the PackedTernary
//    layout (row n at codes + n*stride, trit k in bits 2(k&3) of byte k>>2, code = w + 1).
//    Exact: the result equals host/infer/cpu-kernel.ts bit for bit.
//  - nk_matvec: out (M x rows, f32) = X (M x cols, f32) W^T for W in f32 / f16 / bf16 / q8.
//  - nk_quantize_q8: per-32-column-block absmax int8 quantization of a float matrix.
//
// The ternary scheme (llama.cpp's TQ2_0 idea): codes are unpacked with shift/and into
// u8 lanes 0..3, multiplied with int8 activations by vpdpbusd (AVX-512 VNNI) or
// pmaddubsw + pmaddwd (AVX2), and sum_k x[k] is subtracted once per activation row
// (w = code - 1). The byte j of a 64-byte chunk holds trits 4j..4j+3, so the lanes of
// (bytes >> 2l) & 3 are trits 4j+l: each activation row is permuted once per call into
// "planes" (chunk c, plane l, lane j) = x[256c + 4j + l], zero past K. Since the padded
// activations are zero, whatever the padding codes hold contributes nothing.
//
// Every path is exact integer arithmetic, so the ternary results do not depend on the ISA,
// the blocking or the thread count. The float kernels give every output row one fixed
// sequence of operations (four lane-wise accumulators taking the column groups in turn,
// then one fixed reduction), whatever the thread count or M; only the ISA changes it.
//
// Threads: a small pool (see pool::run) over output rows, in items of whole row blocks
// taken dynamically (so a thread the OS delays does not hold the others up); the kernel
// that computes a given row never depends on the thread count or on which thread takes it.

#include <immintrin.h>
#include <sys/mman.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <algorithm>
#include <array>
#include <utility>
#include <vector>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#define NK_VERSION 1

#define T_AVX512_ATTR target("avx512f,avx512bw,avx512vl,avx512vnni,avx512dq,fma,f16c,avx2")
#define T_AVX2_ATTR target("avx2,fma,f16c")
#define T_AVX512 __attribute__((T_AVX512_ATTR))
#define T_AVX512_FN __attribute__((T_AVX512_ATTR))
#define T_AVX2 __attribute__((T_AVX2_ATTR))

enum { ISA_SCALAR = 0, ISA_AVX2 = 1, ISA_AVX512VNNI = 2 };
enum { DT_F32 = 0, DT_F16 = 1, DT_BF16 = 2, DT_Q8 = 3 };

// Software prefetch distance (bytes) for weights streamed from memory.
#ifndef NK_PF
#define NK_PF 6144
#endif

// Work items per thread (taken dynamically).
#ifndef TERN_ITEMS
#define TERN_ITEMS 4
#endif

static int g_best_isa = -1;
static int g_isa = -1;
static int g_threads = 1;

static int detect_isa() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("fma") &&
      __builtin_cpu_supports("avx2"))
    return ISA_AVX512VNNI;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    // F16C has no __builtin_cpu_supports name in every GCC: CPUID.1:ECX bit 29.
    unsigned a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
    if (c & (1u << 29)) return ISA_AVX2;
  }
  return ISA_SCALAR;
}

static void ensure_init() {
  if (g_best_isa < 0) {
    g_best_isa = detect_isa();
    g_isa = g_best_isa;
  }
}

// Scratch that grows and is never shrunk, 64-byte aligned.
struct Scratch {
  void *p = nullptr;
  size_t n = 0;
  void *get(size_t bytes) {
    if (bytes > n) {
      free(p);
      size_t sz = (bytes + 63) & ~(size_t)63;
      p = aligned_alloc(64, sz);
      n = p ? sz : 0;
    }
    return p;
  }
};
static thread_local Scratch t_xprep;  // calling thread: permuted activations + row sums
static thread_local Scratch t_wunp;   // each worker: unpacked weight rows for the GEMM

static inline int nthreads_for(size_t work_units) {
  int t = g_threads;
  if ((size_t)t > work_units) t = (int)work_units;
  return t < 1 ? 1 : t;
}

// ---------------------------------------------------------------------------------------
// Threads: a small pool instead of OpenMP regions.
//
// A call publishes a job (n items) and works on it itself; workers claim items with a CAS
// on one 64-bit ticket (job generation << 32 | next item), so an item is only ever taken
// for the job it belongs to. The caller waits only for items that were claimed: a worker
// that the OS has not scheduled yet (another process on the other core) claims nothing
// and costs nothing, where an OpenMP region would wait for it at its barrier, a scheduler
// tick. Idle workers spin for NK_SPIN_US, then sleep on a condition variable. The gaps
// between two matmuls of a decode step are the host's JS work (norms, attention: 0.1-1 ms);
// a worker woken from sleep costs about 0.1 ms per call here, so at 300 us of spinning the
// 120 matmuls of a 2B-4T token took 24.5 ms with 1 ms gaps against 11.5 ms back to back, and
// 17.5 ms at 3 ms of spinning. Calls from inside a job, or from
// two threads at once, run serially in the caller.

#ifndef NK_SPIN_US
#define NK_SPIN_US 3000
#endif

namespace pool {
typedef void (*item_fn)(const void *ctx, long i);

struct State {
  std::atomic<uint64_t> ticket{0};  // generation << 32 | next item
  std::atomic<long> done{0};
  std::atomic<long> n{0};
  std::atomic<item_fn> fn{nullptr};
  std::atomic<const void *> ctx{nullptr};
  std::atomic<int> helpers{0};  // workers 0 .. helpers-1 take part in the current job
  std::atomic<int> sleepers{0};
  std::atomic<bool> busy{false};
  std::mutex mu;
  std::condition_variable cv;
  int nworkers = 0;  // started so far (only the caller holding `busy` changes it)
};
// Never destroyed: the workers are detached and live until the process exits.
static State &st = *new State();

static inline uint32_t gen_of(uint64_t t) { return (uint32_t)(t >> 32); }

// Claim and run items of job `g` until none are left (or the job is no longer `g`). All
// seq_cst: a claim that read the fields of another job cannot succeed, because the caller
// closes the ticket (index 0xffffffff) before it writes a new job's fields.
static void run_items(uint32_t g) {
  for (;;) {
    uint64_t t = st.ticket.load();
    if (gen_of(t) != g) return;
    const long i = (long)(t & 0xffffffffu);
    const long n = st.n.load();
    const item_fn fn = st.fn.load();
    const void *ctx = st.ctx.load();
    if (i >= n) return;
    if (!st.ticket.compare_exchange_weak(t, t + 1)) continue;
    fn(ctx, i);  // the ticket was still (g, i): n, fn, ctx were g's
    st.done.fetch_add(1, std::memory_order_release);
  }
}

static void worker(int idx) {
  uint32_t seen = gen_of(st.ticket.load(std::memory_order_acquire));
  for (;;) {
    uint64_t t;
    auto spin_start = std::chrono::steady_clock::now();
    int k = 0;
    while (gen_of(t = st.ticket.load(std::memory_order_acquire)) == seen) {
      _mm_pause();
      if ((++k & 255) != 0) continue;
      if (std::chrono::steady_clock::now() - spin_start < std::chrono::microseconds(NK_SPIN_US)) continue;
      std::unique_lock<std::mutex> lk(st.mu);
      st.sleepers.fetch_add(1);  // seq_cst: the caller's ticket store and sleepers load order against this
      st.cv.wait(lk, [&] { return gen_of(st.ticket.load()) != seen; });
      st.sleepers.fetch_sub(1);
      spin_start = std::chrono::steady_clock::now();
    }
    seen = gen_of(t);
    if (idx < st.helpers.load()) run_items(seen);
  }
}

template <class F>
static void trampoline(const void *ctx, long i) {
  (*(const F *)ctx)(i);
}

// f(0 .. n-1) on up to nt threads (the caller and nt - 1 workers), items taken dynamically.
template <class F>
static void run(int nt, long n, const F &f) {
  bool expected = false;
  if (nt <= 1 || n <= 1 || n >= 0xffffffffL || !st.busy.compare_exchange_strong(expected, true)) {
    for (long i = 0; i < n; i++) f(i);
    return;
  }
  const int helpers = std::min(nt - 1, 255);
  while (st.nworkers < helpers) {
    std::thread(worker, st.nworkers).detach();
    st.nworkers++;
  }
  const uint32_t g0 = gen_of(st.ticket.load());
  st.ticket.store(((uint64_t)g0 << 32) | 0xffffffffu);  // close the last job: no late claim on it succeeds
  st.n.store(n);
  st.fn.store(&trampoline<F>);
  st.ctx.store(&f);
  st.helpers.store(helpers);
  st.done.store(0);
  const uint32_t g = g0 + 1;
  st.ticket.store((uint64_t)g << 32);  // publishes the job
  if (st.sleepers.load() > 0) {
    std::lock_guard<std::mutex> lk(st.mu);
    st.cv.notify_all();
  }
  run_items(g);
  while (st.done.load(std::memory_order_acquire) < n) _mm_pause();
  st.busy.store(false, std::memory_order_release);
}
}  // namespace pool

// f(0 .. n-1) on nt threads, items taken dynamically. With one thread, or n = 1, it is a
// plain loop in the caller.
template <class F>
static void parallel_items(int nt, long n, const F &f) {
  pool::run(nt, n, f);
}

// ---------------------------------------------------------------------------------------
// Ternary: activation permutation

// The rows' bytes are read in 64-byte chunks starting `off` bytes before each row (off =
// the rows' common misalignment, so that every load is aligned; 0 when rows differ), so
// byte g of a row sits at "virtual" position v = g + off. xp: M rows of Kp = 256 * nchunks
// bytes, xp[m][256 (v >> 6) + 64 l + (v & 63)] = x[m][4 (v - off) + l], zero where that is
// before the row or past K; sums: M int32.
static void prep_x(const int8_t *x, int M, int K, int off, int nchunks, int8_t *xp, int32_t *sums) {
  const size_t Kp = (size_t)nchunks * 256;
  const int G = (K + 3) / 4;
  const int nt = nthreads_for(M > 16 ? (size_t)M : 1);
  parallel_items(nt, M, [&](long m) {
    const int8_t *xr = x + (size_t)m * K;
    int8_t *o = xp + (size_t)m * Kp;
    for (int c = 0; c < nchunks; c++) {
      int8_t *oc = o + (size_t)c * 256;
      // Row bytes g = 64c + j - off for j in [j0, j1) hold activations 4g .. 4g + 3.
      const int j0 = std::max(0, off - 64 * c);
      const int j1 = std::min(64, G + off - 64 * c);
      const int8_t *xc = xr + 4 * (64 * c - off);
      const bool whole = j0 == 0 && j1 == 64 && 4 * (64 * c + 64 - off) <= K;
      if (whole) {
        for (int j = 0; j < 64; j++) {
          oc[j] = xc[4 * j];
          oc[64 + j] = xc[4 * j + 1];
          oc[128 + j] = xc[4 * j + 2];
          oc[192 + j] = xc[4 * j + 3];
        }
      } else {
        memset(oc, 0, 256);
        for (int j = j0; j < j1; j++)
          for (int l = 0; l < 4; l++) {
            const int k = 4 * (64 * c + j - off) + l;
            if (k < K) oc[l * 64 + j] = xr[k];
          }
      }
    }
    int32_t s = 0;
    for (int k = 0; k < K; k++) s += xr[k];
    sums[m] = s;
  });
}

// ---------------------------------------------------------------------------------------
// Ternary: scalar (portable) path

static void tern_rows_scalar(const uint8_t *codes, int n0, int n1, int G, size_t stride, const int8_t *xp, size_t Kp,
                             const int32_t *sums, int M, int32_t *y, int N) {
  for (int n = n0; n < n1; n++) {
    const uint8_t *row = codes + (size_t)n * stride;
    for (int m = 0; m < M; m++) {
      const int8_t *xm = xp + (size_t)m * Kp;
      int32_t s = 0;
      for (int g = 0; g < G; g++) {
        const unsigned b = row[g];
        const int8_t *xc = xm + (g >> 6) * 256 + (g & 63);
        s += (int32_t)(b & 3) * xc[0] + (int32_t)((b >> 2) & 3) * xc[64] + (int32_t)((b >> 4) & 3) * xc[128] +
             (int32_t)(b >> 6) * xc[192];
      }
      y[(size_t)m * N + n] = s - sums[m];
    }
  }
}

// ---------------------------------------------------------------------------------------
// Ternary: AVX-512 VNNI path

// Chunk masks for rows read from `off` bytes before their start: chunk 0 skips the first
// off bytes, the last chunk stops at the row's end. Masked-out bytes are not read at all.
struct ChunkMasks {
  int nch;
  __mmask64 first, last;
};
static inline ChunkMasks chunk_masks(int G, int off) {
  ChunkMasks m;
  m.nch = (G + off + 63) / 64;
  const int endb = G + off - 64 * (m.nch - 1);  // valid bytes in the last chunk, 1..64
  m.first = ~0ULL << off;
  m.last = ~0ULL >> (64 - endb);
  if (m.nch == 1) m.first = m.last = m.first & m.last;
  return m;
}

T_AVX512 static inline __m512i load_masked512(const uint8_t *p, __mmask64 mk) { return _mm512_maskz_loadu_epi8(mk, (const void *)p); }

// acc += dot4(u8 a, s8 b) per int32 lane. Inline asm because GCC 12 keeps two registers
// per accumulator for the _mm512_dpbusd_epi32 builtin and then spills the microkernel.
// DPBUSDM lets b come from memory (used once), DPBUSD keeps it in a register (reused).
#define DPBUSD(acc, a, b) __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b))
#define DPBUSDM(acc, a, b) __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(a), "vm"(b))

// Each 64-byte chunk of a row is masked in place into its four planes (code << 2l, no
// shifts) and each plane is multiplied with the matching activation plane. Plane l's
// accumulator is then 4^l times its sum, exactly (each product is); tern_fold512 divides
// it out. Bounds: a lane adds K/64 products of at most 192 * 128, below 2^31 for K <= 4M
// (native.ts checks K).
T_AVX512 static inline int32_t tern_fold512(__m512i a0, __m512i a1, __m512i a2, __m512i a3) {
  const __m512i s = _mm512_add_epi32(_mm512_add_epi32(a0, _mm512_srai_epi32(a1, 2)),
                                     _mm512_add_epi32(_mm512_srai_epi32(a2, 4), _mm512_srai_epi32(a3, 6)));
  return _mm512_reduce_add_epi32(s);
}

// Decode and small batches (M = 1..4): one weight row at a time, streamed straight from
// memory (one sequential stream per thread, prefetched NK_PF bytes ahead: this reads
// faster than two or four interleaved rows); each chunk's codes are loaded and masked
// once and applied to every activation row.
template <int MM>
T_AVX512 static void tern_gemvm_avx512(const uint8_t *codes, int n0, int n1, int G, size_t stride, int off, const int8_t *xp,
                                       size_t Kp, const int32_t *sums, int32_t *y, int N) {
  const __m512i mk0 = _mm512_set1_epi8(0x03), mk1 = _mm512_set1_epi8(0x0c), mk2 = _mm512_set1_epi8(0x30),
                mk3 = _mm512_set1_epi8((char)0xc0);
  const ChunkMasks cm = chunk_masks(G, off);
  const int nch = cm.nch;
  for (int n = n0; n < n1; n++) {
    const uint8_t *r0 = codes + (size_t)n * stride - off;
    __m512i a[MM][4];
#pragma GCC unroll 4
    for (int m = 0; m < MM; m++) a[m][0] = a[m][1] = a[m][2] = a[m][3] = _mm512_setzero_si512();
    for (int c = 0; c < nch; c++) {
      const __mmask64 mk = (c == 0 ? cm.first : ~0ULL) & (c == nch - 1 ? cm.last : ~0ULL);
      _mm_prefetch((const char *)(r0 + c * 64 + NK_PF), _MM_HINT_T0);
      const __m512i v = load_masked512(r0 + c * 64, mk);
      const __m512i p0 = _mm512_and_si512(v, mk0), p1 = _mm512_and_si512(v, mk1), p2 = _mm512_and_si512(v, mk2),
                    p3 = _mm512_and_si512(v, mk3);
#pragma GCC unroll 4
      for (int m = 0; m < MM; m++) {
        const int8_t *xc = xp + (size_t)m * Kp + (size_t)c * 256;
        DPBUSDM(a[m][0], p0, *(const __m512i *)(xc));
        DPBUSDM(a[m][1], p1, *(const __m512i *)(xc + 64));
        DPBUSDM(a[m][2], p2, *(const __m512i *)(xc + 128));
        DPBUSDM(a[m][3], p3, *(const __m512i *)(xc + 192));
      }
    }
#pragma GCC unroll 4
    for (int m = 0; m < MM; m++) y[(size_t)m * N + n] = tern_fold512(a[m][0], a[m][1], a[m][2], a[m][3]) - sums[m];
  }
}

// Unpack R rows into planes: wu[r*Kp + 256c + 64l + j] = code at virtual position 64c + j.
T_AVX512 static void tern_unpack_avx512(const uint8_t *codes, int n, int R, int G, size_t stride, int off, uint8_t *wu, size_t Kp) {
  const __m512i m3 = _mm512_set1_epi8(3);
  const ChunkMasks cm = chunk_masks(G, off);
  for (int r = 0; r < R; r++) {
    const uint8_t *row = codes + (size_t)(n + r) * stride - off;
    uint8_t *o = wu + (size_t)r * Kp;
    for (int c = 0; c < cm.nch; c++) {
      const __mmask64 mk = (c == 0 ? cm.first : ~0ULL) & (c == cm.nch - 1 ? cm.last : ~0ULL);
      _mm_prefetch((const char *)(row + c * 64 + NK_PF), _MM_HINT_T0);
      const __m512i v = load_masked512(row + c * 64, mk);
      _mm512_store_si512((void *)(o + c * 256), _mm512_and_si512(v, m3));
      _mm512_store_si512((void *)(o + c * 256 + 64), _mm512_and_si512(_mm512_srli_epi16(v, 2), m3));
      _mm512_store_si512((void *)(o + c * 256 + 128), _mm512_and_si512(_mm512_srli_epi16(v, 4), m3));
      _mm512_store_si512((void *)(o + c * 256 + 192), _mm512_and_si512(_mm512_srli_epi16(v, 6), m3));
    }
  }
}

// R weight rows (unpacked) x MB activation rows over k in [k0, k1), accumulated into acc32.
template <int R, int MB>
T_AVX512 static void tern_mk_avx512(const uint8_t *wu, size_t Kp, const int8_t *x, size_t k0, size_t k1, int32_t *res) {
  __m512i acc[R][MB];
#pragma GCC unroll 8
  for (int r = 0; r < R; r++)
#pragma GCC unroll 8
    for (int m = 0; m < MB; m++) acc[r][m] = _mm512_setzero_si512();
  for (size_t k = k0; k < k1; k += 64) {
    __m512i w[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) w[r] = _mm512_load_si512((const void *)(wu + r * Kp + k));
#pragma GCC unroll 8
    for (int m = 0; m < MB; m++) {
      const __m512i xv = _mm512_load_si512((const void *)(x + m * Kp + k));
#pragma GCC unroll 8
      for (int r = 0; r < R; r++) DPBUSD(acc[r][m], w[r], xv);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; r++)
#pragma GCC unroll 8
    for (int m = 0; m < MB; m++) res[r * MB + m] += _mm512_reduce_add_epi32(acc[r][m]);
}

typedef void (*tern_mk_fn)(const uint8_t *, size_t, const int8_t *, size_t, size_t, int32_t *);

#ifndef TERN_RB
#define TERN_RB 4
#endif
#ifndef TERN_MB
#define TERN_MB 4
#endif
// Columns of a K block: the unpacked rows (RB x KB) stay in L1 and the activations of all
// M rows for the block (M x KB) in L2.
#ifndef TERN_KB
#define TERN_KB 4096
#endif

// Tables of microkernels: table[R - 1][MB - 1].
template <template <int, int> class K, int R, int... I>
static constexpr std::array<tern_mk_fn, sizeof...(I)> mk_row(std::integer_sequence<int, I...>) {
  return {K<R, I + 1>::fn...};
}
template <template <int, int> class K, int MB, int... R>
static constexpr std::array<std::array<tern_mk_fn, MB>, sizeof...(R)> mk_table(std::integer_sequence<int, R...>) {
  return {mk_row<K, R + 1>(std::make_integer_sequence<int, MB>{})...};
}
template <int R, int MB>
struct Mk512 {
  static constexpr tern_mk_fn fn = tern_mk_avx512<R, MB>;
};
static constexpr auto tern_mk512 = mk_table<Mk512, TERN_MB>(std::make_integer_sequence<int, TERN_RB>{});

// ---------------------------------------------------------------------------------------
// Ternary: AVX2 path (pmaddubsw: u8 codes x i8 activations, pair sums <= 2*3*128, no
// saturation; four planes summed in int16 stay <= 3072; pmaddwd with ones to int32)

T_AVX2 static inline void load_chunk256x2(const uint8_t *p, int bytes, __m256i &lo, __m256i &hi) {
  if (bytes >= 64) {
    lo = _mm256_loadu_si256((const __m256i *)p);
    hi = _mm256_loadu_si256((const __m256i *)(p + 32));
  } else {
    alignas(32) uint8_t buf[64];
    memset(buf, 0, 64);
    if (bytes > 0) memcpy(buf, p, (size_t)bytes);
    lo = _mm256_load_si256((const __m256i *)buf);
    hi = _mm256_load_si256((const __m256i *)(buf + 32));
  }
}

// v: 32 code bytes (lanes j = h*32 ..), xc: plane base of the chunk + h*32.
T_AVX2 static inline __m256i tern_half256(__m256i v, const int8_t *xc) {
  const __m256i m3 = _mm256_set1_epi8(3);
  __m256i t = _mm256_maddubs_epi16(_mm256_and_si256(v, m3), _mm256_load_si256((const __m256i *)xc));
  t = _mm256_add_epi16(t, _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(v, 2), m3), _mm256_load_si256((const __m256i *)(xc + 64))));
  t = _mm256_add_epi16(t, _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(v, 4), m3), _mm256_load_si256((const __m256i *)(xc + 128))));
  t = _mm256_add_epi16(t, _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(v, 6), m3), _mm256_load_si256((const __m256i *)(xc + 192))));
  return _mm256_madd_epi16(t, _mm256_set1_epi16(1));
}

T_AVX2 static inline int32_t hsum256_epi32(__m256i a) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

// M = 1: one row at a time, prefetched ahead (as the AVX-512 path).
T_AVX2 static void tern_gemv_avx2(const uint8_t *codes, int n0, int n1, int G, size_t stride, const int8_t *xp, int32_t sum,
                                  int32_t *y) {
  const int nch = (G + 63) / 64;
  for (int n = n0; n < n1; n++) {
    const uint8_t *r0 = codes + (size_t)n * stride;
    __m256i a0 = _mm256_setzero_si256(), a1 = a0;
    for (int c = 0; c < nch; c++) {
      const int8_t *xc = xp + (size_t)c * 256;
      _mm_prefetch((const char *)(r0 + c * 64 + NK_PF), _MM_HINT_T0);
      __m256i vl, vh;
      load_chunk256x2(r0 + c * 64, G - c * 64, vl, vh);
      a0 = _mm256_add_epi32(a0, tern_half256(vl, xc));
      a1 = _mm256_add_epi32(a1, tern_half256(vh, xc + 32));
    }
    y[n] = hsum256_epi32(_mm256_add_epi32(a0, a1)) - sum;
  }
}

T_AVX2 static void tern_unpack_avx2(const uint8_t *codes, int n, int R, int G, size_t stride, uint8_t *wu, size_t Kp) {
  const __m256i m3 = _mm256_set1_epi8(3);
  const int nch = (G + 63) / 64;
  for (int r = 0; r < R; r++) {
    const uint8_t *row = codes + (size_t)(n + r) * stride;
    uint8_t *o = wu + (size_t)r * Kp;
    for (int c = 0; c < nch; c++) {
      __m256i v[2];
      _mm_prefetch((const char *)(row + c * 64 + NK_PF), _MM_HINT_T0);
      load_chunk256x2(row + c * 64, G - c * 64, v[0], v[1]);
      for (int h = 0; h < 2; h++) {
        for (int l = 0; l < 4; l++) {
          const __m256i p = _mm256_and_si256(_mm256_srli_epi16(v[h], 2 * l), m3);
          _mm256_store_si256((__m256i *)(o + c * 256 + l * 64 + h * 32), p);
        }
      }
    }
  }
}

template <int R, int MB>
T_AVX2 static void tern_mk_avx2(const uint8_t *wu, size_t Kp, const int8_t *x, size_t k0, size_t k1, int32_t *res) {
  __m256i acc[R][MB];
  const __m256i ones = _mm256_set1_epi16(1);
  for (int r = 0; r < R; r++)
    for (int m = 0; m < MB; m++) acc[r][m] = _mm256_setzero_si256();
  for (size_t k = k0; k < k1; k += 32) {
    __m256i w[R];
    for (int r = 0; r < R; r++) w[r] = _mm256_load_si256((const __m256i *)(wu + r * Kp + k));
    for (int m = 0; m < MB; m++) {
      const __m256i xv = _mm256_load_si256((const __m256i *)(x + m * Kp + k));
      for (int r = 0; r < R; r++)
        acc[r][m] = _mm256_add_epi32(acc[r][m], _mm256_madd_epi16(_mm256_maddubs_epi16(w[r], xv), ones));
    }
  }
  for (int r = 0; r < R; r++)
    for (int m = 0; m < MB; m++) res[r * MB + m] += hsum256_epi32(acc[r][m]);
}

#define TERN2_RB 2
#define TERN2_MB 4
template <int R, int MB>
struct Mk256 {
  static constexpr tern_mk_fn fn = tern_mk_avx2<R, MB>;
};
static constexpr auto tern_mk256 = mk_table<Mk256, TERN2_MB>(std::make_integer_sequence<int, TERN2_RB>{});

// ---------------------------------------------------------------------------------------
// Ternary: driver

// Blocked GEMM over rows [n0, n1): unpack RB rows once, then for each K block (the
// unpacked block stays in L1, the activations of all M rows for it in L2) every MB group.
static thread_local Scratch t_acc;
static void tern_gemm_block(int isa, const uint8_t *codes, int n0, int n1, int G, size_t stride, int off, const int8_t *xp,
                            size_t Kp, const int32_t *sums, int M, int32_t *y, int N) {
  const int RB = isa == ISA_AVX512VNNI ? TERN_RB : TERN2_RB;
  const int MB = isa == ISA_AVX512VNNI ? TERN_MB : TERN2_MB;
  uint8_t *wu = (uint8_t *)t_wunp.get((size_t)RB * Kp);
  int32_t *acc = (int32_t *)t_acc.get((size_t)(M + TERN_MB) * RB * sizeof(int32_t));
  // Even K blocks of at most TERN_KB (whole 64-byte steps).
  const size_t nkb = (Kp + TERN_KB - 1) / TERN_KB;
  const size_t KB = ((Kp / 64 + nkb - 1) / nkb) * 64;
  for (int n = n0; n < n1; n += RB) {
    const int R = std::min(RB, n1 - n);
    if (isa == ISA_AVX512VNNI)
      tern_unpack_avx512(codes, n, R, G, stride, off, wu, Kp);
    else
      tern_unpack_avx2(codes, n, R, G, stride, wu, Kp);
    memset(acc, 0, (size_t)M * R * sizeof(int32_t));
    for (size_t k0 = 0; k0 < Kp; k0 += KB) {
      const size_t k1 = std::min(Kp, k0 + KB);
      for (int m0 = 0; m0 < M; m0 += MB) {
        const int mb = std::min(MB, M - m0);
        const tern_mk_fn fn = isa == ISA_AVX512VNNI ? tern_mk512[R - 1][mb - 1] : tern_mk256[R - 1][mb - 1];
        fn(wu, Kp, xp + (size_t)m0 * Kp, k0, k1, acc + (size_t)m0 * R);
      }
    }
    // Group m0 holds its mb x R results as [r * mb + m].
    for (int m0 = 0; m0 < M; m0 += MB) {
      const int mb = std::min(MB, M - m0);
      const int32_t *g = acc + (size_t)m0 * R;
      for (int r = 0; r < R; r++)
        for (int m = 0; m < mb; m++) y[(size_t)(m0 + m) * N + n + r] = g[r * mb + m] - sums[m0 + m];
    }
  }
}

#ifndef TERN_GEMVM_MAX
#define TERN_GEMVM_MAX 4
#endif
static void tern_gemvm_avx512_dispatch(int M, const uint8_t *codes, int n0, int n1, int G, size_t stride, int off, const int8_t *xp,
                                       size_t Kp, const int32_t *sums, int32_t *y, int N) {
  switch (M) {
    case 1: tern_gemvm_avx512<1>(codes, n0, n1, G, stride, off, xp, Kp, sums, y, N); break;
    case 2: tern_gemvm_avx512<2>(codes, n0, n1, G, stride, off, xp, Kp, sums, y, N); break;
    case 3: tern_gemvm_avx512<3>(codes, n0, n1, G, stride, off, xp, Kp, sums, y, N); break;
    default: tern_gemvm_avx512<4>(codes, n0, n1, G, stride, off, xp, Kp, sums, y, N); break;
  }
}

extern "C" int nk_ternary_gemm(const uint8_t *codes, int N, int K, int stride, const int8_t *x, int M, int32_t *y) {
  ensure_init();
  if (N < 0 || K < 0 || M < 0 || stride < (K + 3) / 4) return -1;
  if (N == 0 || M == 0) return 0;
  if (K == 0) {
    memset(y, 0, (size_t)M * N * sizeof(int32_t));
    return 0;
  }
  const int isa = g_isa;
  const int G = (K + 3) / 4;
  // AVX-512 reads rows in aligned chunks when they share one misalignment.
  const int off = isa == ISA_AVX512VNNI && stride % 64 == 0 ? (int)((uintptr_t)codes & 63) : 0;
  const int nch = (G + off + 63) / 64;
  const size_t Kp = (size_t)nch * 256;
  uint8_t *scratch = (uint8_t *)t_xprep.get((size_t)M * Kp + (size_t)M * sizeof(int32_t) + 64);
  if (!scratch) return -2;
  int8_t *xp = (int8_t *)scratch;
  int32_t *sums = (int32_t *)(scratch + (((size_t)M * Kp + 63) & ~(size_t)63));
  prep_x(x, M, K, off, nch, xp, sums);
  const int RB = isa == ISA_AVX512VNNI ? TERN_RB : 2;
  const size_t nblocks = ((size_t)N + RB - 1) / RB;
  // Enough work per thread to pay for waking it (about 32K MACs).
  const int nt = nthreads_for((size_t)N * K * M < (1u << 15) ? 1 : nblocks);
  // Items of whole row blocks taken dynamically (a thread that the OS delays does not hold
  // the others up); about 8 per thread. Integer sums: the result cannot depend on this.
  const size_t per = std::max<size_t>(1, nblocks / ((size_t)nt * TERN_ITEMS));
  const size_t CH = per * RB;
  const long nitems = (long)(((size_t)N + CH - 1) / CH);
  parallel_items(nt, nitems, [&](long it) {
    const int n0 = (int)(it * CH), n1 = (int)std::min((size_t)N, (size_t)(it + 1) * CH);
    if (isa == ISA_SCALAR)
      tern_rows_scalar(codes, n0, n1, G, (size_t)stride, xp, Kp, sums, M, y, N);
    else if (M <= TERN_GEMVM_MAX && isa == ISA_AVX512VNNI)
      tern_gemvm_avx512_dispatch(M, codes, n0, n1, G, (size_t)stride, off, xp, Kp, sums, y, N);
    else if (M == 1)
      tern_gemv_avx2(codes, n0, n1, G, (size_t)stride, xp, sums[0], y);
    else
      tern_gemm_block(isa, codes, n0, n1, G, (size_t)stride, off, xp, Kp, sums, M, y, N);
  });
  return 0;
}

// ---------------------------------------------------------------------------------------
// Float matvec

static inline float half_to_float(uint16_t h) {
  const uint32_t s = (uint32_t)(h & 0x8000) << 16;
  const uint32_t e = (h >> 10) & 0x1f;
  const uint32_t m = h & 0x3ff;
  uint32_t bits;
  if (e == 0) {
    if (m == 0) {
      bits = s;
    } else {  // subnormal: normalize
      int sh = 0;
      uint32_t mm = m;
      while (!(mm & 0x400)) {
        mm <<= 1;
        sh++;
      }
      bits = s | ((uint32_t)(127 - 15 - sh + 1) << 23) | ((mm & 0x3ff) << 13);
    }
  } else if (e == 31) {
    bits = s | 0x7f800000u | (m << 13);
  } else {
    bits = s | ((e + 127 - 15) << 23) | (m << 13);
  }
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

static inline float bf16_to_float(uint16_t h) {
  const uint32_t bits = (uint32_t)h << 16;
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

static inline float load_scalar(int dt, const void *w, size_t i) {
  switch (dt) {
    case DT_F32: return ((const float *)w)[i];
    case DT_F16: return half_to_float(((const uint16_t *)w)[i]);
    case DT_BF16: return bf16_to_float(((const uint16_t *)w)[i]);
    default: return (float)((const int8_t *)w)[i];
  }
}

// Scalar: one row, one activation row; 8 partial sums in a fixed order.
static float mv_row_scalar(int dt, const void *w, size_t row, size_t cols, const float *x, const float *sc) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  const size_t base = row * cols;
  if (dt == DT_Q8) {
    const size_t nb = cols / 32;
    for (size_t b = 0; b < nb; b++) {
      float t[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      for (size_t i = 0; i < 32; i++) t[i & 7] += (float)((const int8_t *)w)[base + b * 32 + i] * x[b * 32 + i];
      const float s = sc[row * nb + b];
      for (int l = 0; l < 8; l++) acc[l] += t[l] * s;
    }
  } else {
    for (size_t c = 0; c < cols; c++) acc[c & 7] += load_scalar(dt, w, base + c) * x[c];
  }
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

// One output row at a time, streamed once from memory: four accumulators of 16 (8 for
// AVX2) lanes take the column groups of each 64-column step in turn, leftover groups go to
// the first ones and the masked tail to the last; they are summed (a0 + a1) + (a2 + a3)
// and reduced in a fixed order. So every row has one fixed sequence of operations, whatever
// the thread count, M or the block it is in. For M > 1 the row (at most cols * 4 bytes)
// stays in L1 while every activation row is applied to it: W is read from memory once.

#ifndef MV_PF
#define MV_PF 4096
#endif
#ifndef MV_ITEMS
#define MV_ITEMS 4
#endif

// AVX-512: 16 weights as float; `mk` for a partial group (the rest zero, not read).
template <int DT>
T_AVX512 static inline __m512 ld512(const void *w, size_t i) {
  if constexpr (DT == DT_F32) return _mm512_loadu_ps((const float *)w + i);
  const __m256i h = _mm256_loadu_si256((const __m256i *)((const uint16_t *)w + i));
  if constexpr (DT == DT_F16) return _mm512_cvtph_ps(h);
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}
template <int DT>
T_AVX512 static inline __m512 ld512m(const void *w, size_t i, __mmask16 mk) {
  if constexpr (DT == DT_F32) return _mm512_maskz_loadu_ps(mk, (const float *)w + i);
  const __m256i h = _mm256_maskz_loadu_epi16(mk, (const void *)((const uint16_t *)w + i));
  if constexpr (DT == DT_F16) return _mm512_cvtph_ps(h);
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}
// MM activation rows (x, x + xs, ...) against one weight row: out[m * os] for m < MM.
// The weights are loaded and converted once for all MM rows; the operations for each
// (row, m) are exactly those of MM = 1.
template <int DT, int MM>
T_AVX512 static void mv_row_avx512(const void *w, size_t row, size_t cols, const float *x, size_t xs, const float *sc, float *out, size_t os) {
  __m512 a[MM][4];
#pragma GCC unroll 4
  for (int m = 0; m < MM; m++) a[m][0] = a[m][1] = a[m][2] = a[m][3] = _mm512_setzero_ps();
  if constexpr (DT == DT_Q8) {
    // Per 32-column block: ((w8 . x) * scale); blocks alternate between four accumulators.
    const size_t nb = cols / 32;
    const int8_t *p = (const int8_t *)w + row * cols;
    const float *s = sc + row * nb;
    auto blk = [&](size_t b, int j) __attribute__((T_AVX512_ATTR, always_inline)) {
      const __m512 w0 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(p + b * 32))));
      const __m512 w1 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(p + b * 32 + 16))));
      const __m512 sv = _mm512_set1_ps(s[b]);
#pragma GCC unroll 4
      for (int m = 0; m < MM; m++) {
        const float *xm = x + m * xs + b * 32;
        const __m512 t = _mm512_fmadd_ps(w1, _mm512_loadu_ps(xm + 16), _mm512_mul_ps(w0, _mm512_loadu_ps(xm)));
        a[m][j] = _mm512_add_ps(a[m][j], _mm512_mul_ps(t, sv));
      }
    };
    size_t b = 0;
    for (; b + 4 <= nb; b += 4) {
      _mm_prefetch((const char *)(p + b * 32 + MV_PF), _MM_HINT_T0);
      _mm_prefetch((const char *)(p + b * 32 + 64 + MV_PF), _MM_HINT_T0);
      blk(b, 0);
      blk(b + 1, 1);
      blk(b + 2, 2);
      blk(b + 3, 3);
    }
    for (int j = 0; b < nb; b++, j++) blk(b, j);
  } else {
    constexpr size_t ES = DT == DT_F32 ? 4 : 2;
    const size_t base = row * cols;
    const uint8_t *wb = (const uint8_t *)w + base * ES;
    auto grp = [&](size_t c, int j) __attribute__((T_AVX512_ATTR, always_inline)) {
      const __m512 wv = ld512<DT>(w, base + c);
#pragma GCC unroll 4
      for (int m = 0; m < MM; m++) a[m][j] = _mm512_fmadd_ps(wv, _mm512_loadu_ps(x + m * xs + c), a[m][j]);
    };
    size_t c = 0;
    for (; c + 64 <= cols; c += 64) {
#pragma GCC unroll 4
      for (size_t o = 0; o < 64 * ES; o += 64) _mm_prefetch((const char *)(wb + c * ES + o + MV_PF), _MM_HINT_T0);
      grp(c, 0);
      grp(c + 16, 1);
      grp(c + 32, 2);
      grp(c + 48, 3);
    }
    int j = 0;
    for (; c + 16 <= cols; c += 16, j++) grp(c, j);
    if (c < cols) {
      const __mmask16 mk = (__mmask16)((1u << (cols - c)) - 1);
      const __m512 wv = ld512m<DT>(w, base + c, mk);
#pragma GCC unroll 4
      for (int m = 0; m < MM; m++) a[m][3] = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps(mk, x + m * xs + c), a[m][3]);
    }
  }
#pragma GCC unroll 4
  for (int m = 0; m < MM; m++) out[m * os] = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a[m][0], a[m][1]), _mm512_add_ps(a[m][2], a[m][3])));
}

// AVX2: 8 weights as float; a partial group goes through a zero-padded copy.
template <int DT>
T_AVX2 static inline __m256 ld256(const void *w, size_t i) {
  if constexpr (DT == DT_F32) return _mm256_loadu_ps((const float *)w + i);
  const __m128i h = _mm_loadu_si128((const __m128i *)((const uint16_t *)w + i));
  if constexpr (DT == DT_F16) return _mm256_cvtph_ps(h);
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

T_AVX2 static inline float hsum256_ps(__m256 a) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

template <int DT, int MM>
T_AVX2 static void mv_row_avx2(const void *w, size_t row, size_t cols, const float *x, size_t xs, const float *sc, float *out, size_t os) {
  __m256 a[MM][4];
#pragma GCC unroll 4
  for (int m = 0; m < MM; m++) a[m][0] = a[m][1] = a[m][2] = a[m][3] = _mm256_setzero_ps();
  if constexpr (DT == DT_Q8) {
    const size_t nb = cols / 32;
    const int8_t *p = (const int8_t *)w + row * cols;
    const float *s = sc + row * nb;
    auto blk = [&](size_t b, int j) __attribute__((T_AVX2_ATTR, always_inline)) {
      __m256 wv[4];
#pragma GCC unroll 4
      for (int q = 0; q < 4; q++) wv[q] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(p + b * 32 + q * 8))));
      const __m256 sv = _mm256_set1_ps(s[b]);
#pragma GCC unroll 4
      for (int m = 0; m < MM; m++) {
        const float *xm = x + m * xs + b * 32;
        __m256 t = _mm256_mul_ps(wv[0], _mm256_loadu_ps(xm));
#pragma GCC unroll 4
        for (int q = 1; q < 4; q++) t = _mm256_fmadd_ps(wv[q], _mm256_loadu_ps(xm + q * 8), t);
        a[m][j] = _mm256_add_ps(a[m][j], _mm256_mul_ps(t, sv));
      }
    };
    size_t b = 0;
    for (; b + 4 <= nb; b += 4) {
      _mm_prefetch((const char *)(p + b * 32 + MV_PF), _MM_HINT_T0);
      _mm_prefetch((const char *)(p + b * 32 + 64 + MV_PF), _MM_HINT_T0);
      blk(b, 0);
      blk(b + 1, 1);
      blk(b + 2, 2);
      blk(b + 3, 3);
    }
    for (int j = 0; b < nb; b++, j++) blk(b, j);
  } else {
    constexpr size_t ES = DT == DT_F32 ? 4 : 2;
    const size_t base = row * cols;
    const uint8_t *wb = (const uint8_t *)w + base * ES;
    auto grp = [&](size_t c, int j) __attribute__((T_AVX2_ATTR, always_inline)) {
      const __m256 wv = ld256<DT>(w, base + c);
#pragma GCC unroll 4
      for (int m = 0; m < MM; m++) a[m][j] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x + m * xs + c), a[m][j]);
    };
    size_t c = 0;
    for (; c + 32 <= cols; c += 32) {
#pragma GCC unroll 2
      for (size_t o = 0; o < 32 * ES; o += 64) _mm_prefetch((const char *)(wb + c * ES + o + MV_PF), _MM_HINT_T0);
      grp(c, 0);
      grp(c + 8, 1);
      grp(c + 16, 2);
      grp(c + 24, 3);
    }
    int j = 0;
    for (; c + 8 <= cols; c += 8, j++) grp(c, j);
    if (c < cols) {
      const size_t n = cols - c;
      alignas(32) uint8_t wt[32];
      memset(wt, 0, 32);
      memcpy(wt, wb + c * ES, n * ES);
      const __m256 wv = ld256<DT>(wt, 0);
#pragma GCC unroll 4
      for (int m = 0; m < MM; m++) {
        alignas(32) float xb[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        memcpy(xb, x + m * xs + c, n * 4);
        a[m][3] = _mm256_fmadd_ps(wv, _mm256_load_ps(xb), a[m][3]);
      }
    }
  }
#pragma GCC unroll 4
  for (int m = 0; m < MM; m++) out[m * os] = hsum256_ps(_mm256_add_ps(_mm256_add_ps(a[m][0], a[m][1]), _mm256_add_ps(a[m][2], a[m][3])));
}

typedef void (*mv_fn)(const void *, size_t, size_t, const float *, size_t, const float *, float *, size_t);
#define MV_MM 4

template <int DT, int MM>
static void mv_row_scalar_t(const void *w, size_t row, size_t cols, const float *x, size_t xs, const float *sc, float *out, size_t os) {
  for (int m = 0; m < MM; m++) out[m * os] = mv_row_scalar(DT, w, row, cols, x + m * xs, sc);
}

// table[isa][dt][MM - 1]
#define MV_TAB(F, D) {F<D, 1>, F<D, 2>, F<D, 3>, F<D, 4>}
static const mv_fn mv_table[3][4][MV_MM] = {
    {MV_TAB(mv_row_scalar_t, DT_F32), MV_TAB(mv_row_scalar_t, DT_F16), MV_TAB(mv_row_scalar_t, DT_BF16), MV_TAB(mv_row_scalar_t, DT_Q8)},
    {MV_TAB(mv_row_avx2, DT_F32), MV_TAB(mv_row_avx2, DT_F16), MV_TAB(mv_row_avx2, DT_BF16), MV_TAB(mv_row_avx2, DT_Q8)},
    {MV_TAB(mv_row_avx512, DT_F32), MV_TAB(mv_row_avx512, DT_F16), MV_TAB(mv_row_avx512, DT_BF16), MV_TAB(mv_row_avx512, DT_Q8)},
};
#undef MV_TAB

extern "C" int nk_matvec(int dt, const void *w, int rows, int cols, const float *x, int M, float *out, const float *scales) {
  ensure_init();
  if (dt < 0 || dt > 3 || rows < 0 || cols < 0 || M < 0) return -1;
  if (dt == DT_Q8 && (cols % 32 != 0 || !scales)) return -1;
  if (rows == 0 || M == 0) return 0;
  const mv_fn *fns = mv_table[g_isa][dt];
  const int nt = nthreads_for((size_t)rows * cols * M < (1u << 16) ? 1 : (size_t)rows);
  // Items of rows taken dynamically, about 8 per thread. Each weight row is read once and
  // applied to the activation rows MV_MM at a time.
  const size_t CH = std::max<size_t>(1, (size_t)rows / ((size_t)nt * MV_ITEMS));
  const long nitems = (long)(((size_t)rows + CH - 1) / CH);
  parallel_items(nt, nitems, [&](long it) {
    const size_t r0 = (size_t)it * CH, r1 = std::min((size_t)rows, r0 + CH);
    for (size_t r = r0; r < r1; r++)
      for (int m0 = 0; m0 < M; m0 += MV_MM) {
        const int mm = std::min(MV_MM, M - m0);
        fns[mm - 1](w, r, (size_t)cols, x + (size_t)m0 * cols, (size_t)cols, scales, out + (size_t)m0 * rows + r, (size_t)rows);
      }
  });
  return 0;
}

// ---------------------------------------------------------------------------------------
// Q8 quantization: per 32-column block, scale = amax / 127, q = round-half-even(v / scale)
// clamped to [-127, 127] (an all-zero block has scale 0 and q 0).

static void q8_row_scalar(int dt, const void *w, size_t r, size_t cols, int8_t *w8, float *scales) {
  const size_t nb = cols / 32;
  for (size_t b = 0; b < nb; b++) {
    const size_t base = r * cols + b * 32;
    float v[32];
    float amax = 0;
    for (int i = 0; i < 32; i++) {
      v[i] = load_scalar(dt, w, base + i);
      amax = std::max(amax, fabsf(v[i]));
    }
    const float s = amax / 127.0f;
    scales[r * nb + b] = s;
    for (int i = 0; i < 32; i++) {
      float q = s > 0 ? nearbyintf(v[i] / s) : 0.0f;  // default rounding mode: half to even
      q = std::min(127.0f, std::max(-127.0f, q));
      w8[base + i] = (int8_t)q;
    }
  }
}

// The same arithmetic in AVX-512 (IEEE division, cvtps2dq rounds half to even as
// nearbyintf does in the default rounding mode): identical results.
template <int DT>
T_AVX512 static void q8_row_avx512(const void *w, size_t r, size_t cols, int8_t *w8, float *scales) {
  const size_t nb = cols / 32;
  const __m512 absmask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
  const __m512i lo = _mm512_set1_epi32(-127), hi = _mm512_set1_epi32(127);
  for (size_t b = 0; b < nb; b++) {
    const size_t base = r * cols + b * 32;
    const __m512 v0 = ld512<DT>(w, base), v1 = ld512<DT>(w, base + 16);
    const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_and_ps(v0, absmask), _mm512_and_ps(v1, absmask)));
    const float s = amax / 127.0f;
    scales[r * nb + b] = s;
    if (!(s > 0)) {
      memset(w8 + base, 0, 32);
      continue;
    }
    const __m512 sv = _mm512_set1_ps(s);
    const __m512i q0 = _mm512_min_epi32(hi, _mm512_max_epi32(lo, _mm512_cvtps_epi32(_mm512_div_ps(v0, sv))));
    const __m512i q1 = _mm512_min_epi32(hi, _mm512_max_epi32(lo, _mm512_cvtps_epi32(_mm512_div_ps(v1, sv))));
    _mm_storeu_si128((__m128i *)(w8 + base), _mm512_cvtepi32_epi8(q0));
    _mm_storeu_si128((__m128i *)(w8 + base + 16), _mm512_cvtepi32_epi8(q1));
  }
}

/** Ask for transparent huge pages on the 2 MB-aligned interior of [p, p + bytes): fewer
 * page faults when fresh memory is first written (about 10 µs per 4 KB page in this VM)
 * and fewer TLB misses when it is streamed. Returns 0 when the kernel took the advice. */
extern "C" int nk_advise_hugepages(void *p, double bytes) {
#ifdef MADV_HUGEPAGE
  const uintptr_t a = ((uintptr_t)p + (1u << 21) - 1) & ~(uintptr_t)((1u << 21) - 1);
  const uintptr_t e = ((uintptr_t)p + (size_t)bytes) & ~(uintptr_t)((1u << 21) - 1);
  if (e <= a) return 1;
  return madvise((void *)a, e - a, MADV_HUGEPAGE) == 0 ? 0 : 2;
#else
  (void)p;
  (void)bytes;
  return 1;
#endif
}

extern "C" int nk_quantize_q8(int dt, const void *w, int rows, int cols, int8_t *w8, float *scales) {
  ensure_init();
  if (dt < 0 || dt > 2 || rows < 0 || cols < 0 || cols % 32 != 0) return -1;
  nk_advise_hugepages(w8, (double)rows * cols);  // the output is usually fresh, untouched memory
  const int isa = g_isa;
  const int nt = nthreads_for((size_t)rows * cols < (1u << 16) ? 1 : (size_t)rows);
  const size_t CH = std::max<size_t>(1, (size_t)rows / ((size_t)nt * 8));
  const long nitems = (long)(((size_t)rows + CH - 1) / CH);
  parallel_items(nt, nitems, [&](long it) {
    const size_t r0 = (size_t)it * CH, r1 = std::min((size_t)rows, r0 + CH);
    for (size_t r = r0; r < r1; r++) {
      if (isa == ISA_AVX512VNNI && dt == DT_F32)
        q8_row_avx512<DT_F32>(w, r, (size_t)cols, w8, scales);
      else if (isa == ISA_AVX512VNNI && dt == DT_F16)
        q8_row_avx512<DT_F16>(w, r, (size_t)cols, w8, scales);
      else if (isa == ISA_AVX512VNNI)
        q8_row_avx512<DT_BF16>(w, r, (size_t)cols, w8, scales);
      else
        q8_row_scalar(dt, w, r, (size_t)cols, w8, scales);
    }
  });
  return 0;
}

// ---------------------------------------------------------------------------------------
// Control and introspection

extern "C" int nk_version(void) { return NK_VERSION; }
extern "C" int nk_best_isa(void) {
  ensure_init();
  return g_best_isa;
}
extern "C" int nk_get_isa(void) {
  ensure_init();
  return g_isa;
}
/** Select an ISA at most the best one the CPU has; returns the one selected. */
extern "C" int nk_set_isa(int isa) {
  ensure_init();
  g_isa = std::max(0, std::min(isa, g_best_isa));
  return g_isa;
}
extern "C" void nk_set_threads(int n) { g_threads = std::max(1, n); }
extern "C" int nk_get_threads(void) { return g_threads; }

// ---------------------------------------------------------------------------------------
// Bench helpers (used by bench-native.ts and the zero-copy test, not by the runtime)

/** The address koffi passed, to check that typed arrays are not copied. */
extern "C" uint64_t nk_address(const void *p) { return (uint64_t)(uintptr_t)p; }
/** Keep a pointer and read through it in a later call: if koffi had passed a copy, a
 * change made from JS between the two calls would not be seen. */
static const volatile uint8_t *g_kept = nullptr;
extern "C" void nk_debug_keep(const void *p) { g_kept = (const volatile uint8_t *)p; }
extern "C" int nk_debug_peek(int i) { return g_kept ? g_kept[i] : -1; }
extern "C" void nk_debug_poke(int i, int v) {
  if (g_kept) ((volatile uint8_t *)g_kept)[i] = (uint8_t)v;
}
extern "C" void nk_noop(const void *p, int n) {
  (void)p;
  (void)n;
}
/** An empty job on all threads: the cost of handing work to the pool and waiting for it. */
extern "C" int nk_parallel_noop(void) {
  std::atomic<int> s{0};
  parallel_items(g_threads, g_threads, [&](long) { s.fetch_add(1, std::memory_order_relaxed); });
  return s.load();
}

/** Read `bytes` bytes (a multiple of 64) with `threads` threads, prefetching as the kernels
 * do; returns a checksum. */
T_AVX512 static uint64_t stream_read_avx512(const uint8_t *p, size_t bytes, int threads) {
  std::atomic<uint64_t> total{0};
  const size_t lines = bytes / 64;
  const long items = threads;
  parallel_items(threads, items, [&](long t) T_AVX512_FN {
    const size_t l0 = lines * t / items, l1 = lines * (t + 1) / items;
    __m512i a = _mm512_setzero_si512(), b = a, c = a, d = a;
    size_t l = l0;
    for (; l + 4 <= l1; l += 4) {
      _mm_prefetch((const char *)(p + l * 64 + NK_PF), _MM_HINT_T0);
      _mm_prefetch((const char *)(p + l * 64 + 64 + NK_PF), _MM_HINT_T0);
      _mm_prefetch((const char *)(p + l * 64 + 128 + NK_PF), _MM_HINT_T0);
      _mm_prefetch((const char *)(p + l * 64 + 192 + NK_PF), _MM_HINT_T0);
      a = _mm512_add_epi64(a, _mm512_loadu_si512((const void *)(p + l * 64)));
      b = _mm512_add_epi64(b, _mm512_loadu_si512((const void *)(p + l * 64 + 64)));
      c = _mm512_add_epi64(c, _mm512_loadu_si512((const void *)(p + l * 64 + 128)));
      d = _mm512_add_epi64(d, _mm512_loadu_si512((const void *)(p + l * 64 + 192)));
    }
    for (; l < l1; l++) a = _mm512_add_epi64(a, _mm512_loadu_si512((const void *)(p + l * 64)));
    total.fetch_add((uint64_t)_mm512_reduce_add_epi64(_mm512_add_epi64(_mm512_add_epi64(a, b), _mm512_add_epi64(c, d))));
  });
  return total.load();
}
extern "C" double nk_bench_stream_read(const uint8_t *p, double bytes, int threads) {
  ensure_init();
  if (g_best_isa == ISA_AVX512VNNI) return (double)stream_read_avx512(p, (size_t)bytes, std::max(1, threads));
  uint64_t total = 0;
  for (size_t i = 0; i < (size_t)bytes; i += 8) {
    uint64_t v;
    memcpy(&v, p + i, 8);
    total += v;
  }
  return (double)total;
}

/** A plain C++ loop (what -O3 makes of the obvious code), single thread, for comparison. */
extern "C" void nk_bench_ref_ternary(const uint8_t *codes, int N, int K, int stride, const int8_t *x, int M, int32_t *y) {
  for (int m = 0; m < M; m++)
    for (int n = 0; n < N; n++) {
      const uint8_t *row = codes + (size_t)n * stride;
      const int8_t *xr = x + (size_t)m * K;
      int32_t s = 0;
      for (int k = 0; k < K; k++) s += (((row[k >> 2] >> ((k & 3) * 2)) & 3) - 1) * xr[k];
      y[(size_t)m * N + n] = s;
    }
}
extern "C" void nk_bench_ref_matvec_bf16(const uint16_t *w, int rows, int cols, const float *x, float *out) {
  for (int r = 0; r < rows; r++) {
    float s = 0;
    for (int c = 0; c < cols; c++) s += bf16_to_float(w[(size_t)r * cols + c]) * x[c];
    out[r] = s;
  }
}

// ---- attention -------------------------------------------------------------------------
// Causal attention of M new positions pos0..pos0+M-1 over a float32 KV cache (T x kvHeads x D,
// row-major), grouped-query: query head h reads kv head h / (heads / kvHeads). For each
// (position, head): s_t = (q . k_t) * scale, p = softmax(s), out = sum_t p_t v_t. One
// (position, head) pair is one work item, computed by one thread from start to end, so the
// result does not depend on the thread count. Sums use OpenMP SIMD reductions (a fixed
// order for a given build).
extern "C" int nk_attention(const float *q, const float *kc, const float *vc, int M, int heads, int kvHeads, int D, int pos0, float scale, float *out) {
  if (M <= 0 || heads <= 0 || kvHeads <= 0 || D <= 0 || pos0 < 0 || heads % kvHeads) return -1;
  ensure_init();
  const int group = heads / kvHeads;
  const size_t qd = (size_t)heads * D, kvd = (size_t)kvHeads * D;
  const long items = (long)M * heads;
  // Threads only when there is enough to share: a parallel region costs microseconds on a quiet
  // machine, a scheduler tick when another process holds the other core; a decode step at a
  // short context (20 heads x 40 positions x 128) is about 20 us on one thread.
  const size_t work = (size_t)items * (size_t)(pos0 + M) * (size_t)D;
  parallel_items(work >= ((size_t)1 << 21) ? nthreads_for((size_t)items) : 1, items, [&](long it) {
    const int m = (int)(it / heads), h = (int)(it % heads);
    const int n = pos0 + m + 1;
    const float *qv = q + (size_t)m * qd + (size_t)h * D;
    const size_t ko = (size_t)(h / group) * D;
    float *o = out + (size_t)m * qd + (size_t)h * D;
    thread_local std::vector<float> sbuf;
    if ((int)sbuf.size() < n) sbuf.resize(n);
    float *s = sbuf.data();
    float mx = -INFINITY;
    for (int t = 0; t < n; t++) {
      const float *kt = kc + (size_t)t * kvd + ko;
      float acc = 0.f;
#pragma omp simd reduction(+ : acc)
      for (int d = 0; d < D; d++) acc += qv[d] * kt[d];
      s[t] = acc * scale;
      mx = std::max(mx, s[t]);
    }
    double sum = 0;
    for (int t = 0; t < n; t++) {
      s[t] = expf(s[t] - mx);
      sum += s[t];
    }
    const float inv = (float)(1.0 / sum);
    for (int d = 0; d < D; d++) o[d] = 0.f;
    for (int t = 0; t < n; t++) {
      const float p = s[t] * inv;
      const float *vt = vc + (size_t)t * kvd + ko;
#pragma omp simd
      for (int d = 0; d < D; d++) o[d] += p * vt[d];
    }
  });
  return 0;
}

// ---- activation quantization and rescaling (the JavaScript definitions, bit for bit) ----
// host/infer/quant.ts: s = float(qp / max(absmax(x), float(1e-5))), q = clamp(round half to
// even(float(x * s))). A float product is what Math.fround(x * s) gives (one correctly
// rounded multiply); the quotient is computed in double and rounded once, as there (a double
// quotient of floats rounded to float is the correctly rounded float quotient anyway).
extern "C" int nk_quantize_rows(const float *x, int M, int K, int bits, int8_t *q, float *scales) {
  if (M < 0 || K < 0 || bits < 2 || bits > 8) return -1;
  const int qp = (1 << (bits - 1)) - 1, qn = -(1 << (bits - 1));
  for (int m = 0; m < M; m++) {
    const float *xr = x + (size_t)m * K;
    int8_t *qr = q + (size_t)m * K;
    float amax = 0.f;
    for (int k = 0; k < K; k++) amax = std::max(amax, fabsf(xr[k]));
    const float s = (float)((double)qp / (double)std::max(amax, 1e-5f));
    scales[m] = s;
    for (int k = 0; k < K; k++) {
      const float v = nearbyintf(xr[k] * s);  // default rounding mode: to nearest, ties to even
      qr[k] = v != v ? 0 : (int8_t)(v > qp ? qp : v < qn ? qn : v);  // NaN stores as 0, as in an Int8Array
    }
  }
  return 0;
}

// host/infer/transformer.ts: the rows row0..row0+N of an M x NT int32 result, rescaled:
// 'div' (op 0): out = acc / float(s * ws); 'mul' (op 1): out = float(acc / s) * ws; each in
// double, stored as float.
extern "C" int nk_rescale(const int32_t *acc, int M, int NT, int row0, int N, int op, float ws, const float *scales, float *out) {
  if (M < 0 || N < 0 || row0 < 0 || row0 + N > NT || (op != 0 && op != 1)) return -1;
  for (int m = 0; m < M; m++) {
    const int32_t *a = acc + (size_t)m * NT + row0;
    float *o = out + (size_t)m * N;
    const double s = scales[m];
    if (op == 0) {
      const double d = (float)(s * (double)ws);
      for (int n = 0; n < N; n++) o[n] = (float)((double)a[n] / d);
    } else {
      for (int n = 0; n < N; n++) o[n] = (float)((double)(float)((double)a[n] / s) * (double)ws);
    }
  }
  return 0;
}
