// The C++ side of the Verilator bridge: a flat extern "C" API over one Verilated model,
// called from Node through koffi. Port access is by index into the table that the
// TypeScript side generates in vb_ports.h, so the same file serves every design.
//
// Two things live here rather than in TypeScript because crossing the language boundary
// costs ~25 ns a call:
//   - vb_run(): toggles a clock for many cycles without returning to JavaScript;
//   - streams: valid/ready sources, sinks and monitors driven inside that loop, with the
//     same decisions (xorshift32 idle/back-pressure draws) as the TypeScript drivers, so a
//     test can switch between the two paths and see the same cycles.
//
// Verilog $stop/$fatal and Verilator's internal fatal errors throw a C++ exception that
// each entry point catches and reports as status 2 with a message; they never call
// abort() on the Node process. A real crash (SIGSEGV inside the model) prints which model
// and simulation time before the process dies, instead of dying silently.

#include "vb_ports.h"
#include "verilated.h"
#if VM_TRACE_FST
#include "verilated_fst_c.h"
typedef VerilatedFstC VbTrace;
#else
#include "verilated_vcd_c.h"
typedef VerilatedVcdC VbTrace;
#endif
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>
#include <algorithm>
#include <deque>
#include <memory>
#include <unordered_map>

namespace {

struct VbFatal {
  std::string msg;
};

std::string where(const char* file, int line) {
  if (file && file[0]) return std::string(file) + ":" + std::to_string(line) + ": ";
  return "";
}

enum StreamKind { SOURCE = 0, SINK = 1, MONITOR = 2 };

// Captured words: a push is one compare and one store (std::vector's push_back stayed an
// out-of-line call in the engine's loop), and room is made without touching it.
// Blocks of freed buffers, kept for the next model's streams: their pages are already
// mapped, so a sink in the next test does not fault in fresh memory for every 1024 beats
// (in this VM that was the largest single cost of capturing a beat). At most 64 MiB kept.
// Large blocks are also asked for as huge pages: this VM spent ~14 µs on each 4 KiB page
// fault, ~14 ns per captured beat on a buffer's first use; with 2 MiB pages a block of a
// million beats takes two faults. (Transparent huge pages are usually "madvise" only.)
struct FreeWords {
  void operator()(uint32_t* p) const { free(p); }
};
typedef std::unique_ptr<uint32_t[], FreeWords> Words;
constexpr size_t HUGE_BYTES = (size_t)2 << 20;
Words allocWords(size_t& n) {
  size_t bytes = n * sizeof(uint32_t);
  void* p = nullptr;
  if (bytes >= HUGE_BYTES) {
    bytes = (bytes + HUGE_BYTES - 1) / HUGE_BYTES * HUGE_BYTES;
    if (posix_memalign(&p, HUGE_BYTES, bytes) != 0) p = nullptr;
#ifdef MADV_HUGEPAGE
    if (p) madvise(p, bytes, MADV_HUGEPAGE);
#endif
    n = bytes / sizeof(uint32_t);
  } else {
    p = malloc(bytes ? bytes : sizeof(uint32_t));
  }
  if (!p) throw std::bad_alloc();
  return Words(static_cast<uint32_t*>(p));
}

struct BlockPool {
  std::vector<std::pair<size_t, Words>> blocks;
  size_t words = 0;
  static constexpr size_t MAX_WORDS = (size_t)16 << 20;
  Words take(size_t want, size_t& got) {
    for (size_t i = 0; i < blocks.size(); i++) {
      if (blocks[i].first < want) continue;
      got = blocks[i].first;
      Words b = std::move(blocks[i].second);
      words -= got;
      blocks.erase(blocks.begin() + i);
      return b;
    }
    got = want;
    return allocWords(got);
  }
  void give(Words b, size_t n) {
    if (!b || words + n > MAX_WORDS) return;
    words += n;
    blocks.emplace_back(n, std::move(b));
  }
};
BlockPool g_pool;

struct WordBuf {
  Words p;
  size_t n = 0, cap = 0;
  WordBuf() = default;
  WordBuf(WordBuf&& o) noexcept : p(std::move(o.p)), n(o.n), cap(o.cap) { o.n = o.cap = 0; }
  WordBuf& operator=(WordBuf&& o) noexcept {
    g_pool.give(std::move(p), cap);
    p = std::move(o.p);
    n = o.n;
    cap = o.cap;
    o.n = o.cap = 0;
    return *this;
  }
  ~WordBuf() { g_pool.give(std::move(p), cap); }
  void reserve(size_t want) {
    if (want <= cap) return;
    size_t got;
    Words q = g_pool.take(want, got);
    want = got;
    if (n) memcpy(q.get(), p.get(), n * sizeof(uint32_t));
    g_pool.give(std::move(p), cap);
    p = std::move(q);
    cap = want;
  }
  inline void push(uint32_t v) {
    if (n == cap) reserve(cap < 1024 ? 1024 : 2 * cap);
    p[n++] = v;
  }
  /** Room for k more words at the end, returned for writing. */
  uint32_t* extend(size_t k) {
    if (n + k > cap) reserve(std::max(n + k, 2 * cap));
    uint32_t* at = p.get() + n;
    n += k;
    return at;
  }
  void dropFront(size_t k) {
    memmove(p.get(), p.get() + k, (n - k) * sizeof(uint32_t));
    n -= k;
  }
};

struct Stream {
  int kind;
  int valid, ready;
  std::vector<int> data;  // port indices; a beat is their words concatenated
  int beatWords;
  std::vector<uint32_t> queue;  // SOURCE: words of beats; those before `head` are consumed
  size_t head = 0;
  bool presenting = false;     // SOURCE: valid is high with the head beat
  uint32_t rng;
  uint32_t threshold;          // SOURCE: idle draw; SINK: back-pressure draw
  WordBuf captured;                // SINK/MONITOR
  uint64_t beats = 0;              // accepted (SOURCE) or captured (SINK/MONITOR)
  uint64_t target = 0;             // SINK/MONITOR: run until this many beats
  bool fire = false;               // sampled valid && ready before the edge
  // Direct access for the common shape (one-bit valid/ready in 8-bit containers, one data
  // port of 1, 2 or 4 bytes): the engine's per-cycle work is then a few loads and stores,
  // which is what lets it run near a hand-written C++ loop on a tiny design.
  uint8_t* vp = nullptr;
  uint8_t* rp = nullptr;
  void* dp = nullptr;
  int dbytes = 0;
  uint32_t dmask = 0;
};

struct AxiMem;  // vb_axi_mem.h

// A probability as the threshold a xorshift32 draw must fall below (the TypeScript drivers' XorShift32.chance).
uint32_t threshold(double prob) { return prob <= 0 ? 0 : prob >= 1 ? UINT32_MAX : (uint32_t)std::floor(prob * 4294967296.0); }

uint32_t xorshift32(uint32_t& s) {
  s ^= s << 13;
  s ^= s >> 17;
  s ^= s << 5;
  return s;
}

}  // namespace

struct Vb {
  VerilatedContext* ctx;
  VB_MODEL* top;
  void* port[VB_NPORTS > 0 ? VB_NPORTS : 1];
  VbTrace* trace = nullptr;
  double traceScale = 1;  // picoseconds -> the model's time precision
  uint64_t lastDump = 0;
  bool dumped = false;
  double time = 0;        // picoseconds
  std::string msg;
  std::string finishAt;
  std::vector<Stream> streams;
  std::vector<std::unique_ptr<AxiMem>> mems;
  uint64_t evals = 0;
  // The change log of passively watched ports (vb_log_watch): during vb_run every change
  // of one of them is recorded with its time, so monitors that only sample can decode a
  // run in bulk afterwards instead of keeping the run in JavaScript edge by edge.
  std::vector<int> logPorts;
  std::vector<uint32_t> logLast;
  std::vector<double> logTime;
  std::vector<int32_t> logPort;
  std::vector<uint32_t> logValue;
  size_t logCap = 1 << 16;  // entries; a run stops after the edge that fills it
  bool drove = false;       // the stream engine changed an input since this was cleared
  // A call with an id that names no port, stream or memory (a bug in the caller, never
  // the design's): remembered and reported by every later status, so nothing runs on.
  std::string misuse;
};

namespace {

Vb* g_current = nullptr;  // the model inside an entry point, for hooks and the crash report
std::string g_recent;     // the tail of the model's printed output
const char* g_op = "";
volatile sig_atomic_t g_inModel = 0;
struct sigaction g_prev[32];

// Every entry point makes its model the thread's Verilator context: the runtime's hooks
// ($finish) and scope teardown act on Verilated::threadContextp(), which is otherwise the
// last model constructed. With two models of one design in a process, a $finish marked
// the other one finished, and freeing the older one last locked a deleted context and hung.
struct Enter {
  Enter(Vb* h, const char* op) {
    g_current = h;
    g_op = op;
    g_inModel = 1;
    if (h && h->ctx) Verilated::threadContextp(h->ctx);
  }
  ~Enter() { g_inModel = 0; }
};

void crashHandler(int sig, siginfo_t* info, void* uc) {
  if (g_inModel) {
    char buf[512];
    int n = snprintf(buf, sizeof buf,
                     "\nbitnet-fpga: the Verilated model '%s' crashed with signal %d (%s) during %s at simulation time %.0f ps; "
                     "the Node process cannot continue. Re-run with waves to see the last cycles.\n",
                     VB_TOP_NAME, sig, strsignal(sig), g_op, g_current ? g_current->time : -1.0);
    if (n > 0) (void)!write(2, buf, (size_t)n);
  }
  // Hand the signal on (Node's own handlers, e.g. for WebAssembly traps), else die by it.
  struct sigaction& prev = g_prev[sig];
  if ((prev.sa_flags & SA_SIGINFO) && prev.sa_sigaction) {
    prev.sa_sigaction(sig, info, uc);
    return;
  }
  if (prev.sa_handler != SIG_DFL && prev.sa_handler != SIG_IGN && prev.sa_handler) {
    prev.sa_handler(sig);
    return;
  }
  signal(sig, SIG_DFL);
  raise(sig);
}

void installCrashHandler() {
  static bool done = false;
  if (done) return;
  done = true;
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL}) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = crashHandler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, &g_prev[sig]);
  }
}

inline void setPort(Vb* h, int i, uint64_t v) {
  const VbPortInfo& p = vb_ports[i];
  if (p.width < 64) v &= (UINT64_C(1) << p.width) - 1;
  switch (p.bytes) {
    case 1: *static_cast<uint8_t*>(h->port[i]) = (uint8_t)v; break;
    case 2: *static_cast<uint16_t*>(h->port[i]) = (uint16_t)v; break;
    case 4: *static_cast<uint32_t*>(h->port[i]) = (uint32_t)v; break;
    case 8: *static_cast<uint64_t*>(h->port[i]) = v; break;
    default: {
      uint32_t* w = static_cast<uint32_t*>(h->port[i]);
      w[0] = (uint32_t)v;
      if (p.words > 1) w[1] = (uint32_t)(v >> 32);
      for (int k = 2; k < p.words; k++) w[k] = 0;
    }
  }
}

inline uint64_t getPort(Vb* h, int i) {
  const VbPortInfo& p = vb_ports[i];
  uint64_t v;
  switch (p.bytes) {
    case 1: v = *static_cast<uint8_t*>(h->port[i]); break;
    case 2: v = *static_cast<uint16_t*>(h->port[i]); break;
    case 4: v = *static_cast<uint32_t*>(h->port[i]); break;
    case 8: v = *static_cast<uint64_t*>(h->port[i]); break;
    default: {
      const uint32_t* w = static_cast<uint32_t*>(h->port[i]);
      return w[0] | ((uint64_t)w[1] << 32);
    }
  }
  // Verilator does not promise clean bits above a port's width in its container.
  return p.width < 64 ? v & ((UINT64_C(1) << p.width) - 1) : v;
}

inline void setWords(Vb* h, int i, const uint32_t* in) {
  const VbPortInfo& p = vb_ports[i];
  if (p.bytes != 0) {
    setPort(h, i, in[0] | (p.words > 1 ? (uint64_t)in[1] << 32 : 0));
    return;
  }
  uint32_t* w = static_cast<uint32_t*>(h->port[i]);
  for (int k = 0; k < p.words; k++) w[k] = in[k];
  if (p.width % 32) w[p.words - 1] &= (UINT32_C(1) << (p.width % 32)) - 1;
}

inline void getWords(Vb* h, int i, uint32_t* out) {
  const VbPortInfo& p = vb_ports[i];
  if (p.bytes != 0) {
    uint64_t v = getPort(h, i);
    out[0] = (uint32_t)v;
    if (p.words > 1) out[1] = (uint32_t)(v >> 32);
    return;
  }
  const uint32_t* w = static_cast<uint32_t*>(h->port[i]);
  for (int k = 0; k < p.words; k++) out[k] = w[k];
  if (p.width % 32) out[p.words - 1] &= (UINT32_C(1) << (p.width % 32)) - 1;
}

// Evaluate at time t (ps). Throws VbFatal. Waves are dumped once per time step by the
// caller (dumpAt): a VCD cannot hold two values of a signal at one time.
inline void evalAt(Vb* h, double t) {
  h->time = t;
  h->ctx->time(h->traceScale == 1 ? (uint64_t)t : (uint64_t)std::llround(t * h->traceScale));
  h->top->eval();
  h->evals++;
}

inline void dumpAt(Vb* h, double t) {
  if (!h->trace) return;
  uint64_t ut = (uint64_t)std::llround(t * h->traceScale);
  if (h->dumped && ut <= h->lastDump) return;
  h->trace->dump(ut);
  h->lastDump = ut;
  h->dumped = true;
}

int fail(Vb* h, const std::string& m) {
  h->msg = m;
  return 2;
}

int status(Vb* h) {
  if (!h->misuse.empty()) return fail(h, h->misuse);
  return h->ctx->gotFinish() ? 1 : 0;
}

// Bounds checks for the ids JavaScript passes in; each failure names the entry point. A
// call that returns a status reports it at once; a port access, which returns a value,
// is remembered (sticky) and fails the next evaluation.
bool misused(Vb* h, const char* fn, const char* what, int id, size_t count, bool sticky) {
  if (id >= 0 && (size_t)id < count) return false;
  std::string m = std::string(fn) + ": " + what + " id " + std::to_string(id) + " out of range (" + std::to_string(count) + " exist)";
  if (sticky && h->misuse.empty()) h->misuse = m;
  h->msg = m;
  return true;
}
bool badPort(Vb* h, const char* fn, int i, bool sticky = false) { return misused(h, fn, "port", i, (size_t)VB_NPORTS, sticky); }
Stream* streamAt(Vb* h, const char* fn, int id) { return misused(h, fn, "stream", id, h->streams.size(), false) ? nullptr : &h->streams[id]; }
AxiMem* memAt(Vb* h, const char* fn, int id) { return misused(h, fn, "AXI memory", id, h->mems.size(), false) ? nullptr : h->mems[id].get(); }

// Set a port the engine drives, noting whether an input changed (a change-logged run then re-evaluates).
inline void drive(Vb* h, int port, uint64_t v) {
  if (getPort(h, port) == v) return;
  setPort(h, port, v);
  h->drove = true;
}

inline uint32_t loadData(const Stream& s) {
  switch (s.dbytes) {
    case 1: return *static_cast<const uint8_t*>(s.dp) & s.dmask;
    case 2: return *static_cast<const uint16_t*>(s.dp) & s.dmask;
    default: return *static_cast<const uint32_t*>(s.dp) & s.dmask;
  }
}
inline void storeData(Stream& s, uint32_t v) {
  v &= s.dmask;
  switch (s.dbytes) {
    case 1: *static_cast<uint8_t*>(s.dp) = (uint8_t)v; break;
    case 2: *static_cast<uint16_t*>(s.dp) = (uint16_t)v; break;
    default: *static_cast<uint32_t*>(s.dp) = v;
  }
}
inline void driveBit(Vb* h, uint8_t* p, uint8_t v) {
  if (*p == v) return;
  *p = v;
  h->drove = true;
}

// streamUpdate for the direct-access shape: the same decisions, in the same order.
__attribute__((always_inline)) inline void streamUpdateDirect(Vb* h, Stream& s) {
  if (s.kind == SOURCE) {
    if (s.presenting && s.fire) {
      s.head++;
      s.presenting = false;
      s.beats++;
      if (s.head == s.queue.size()) {
        s.queue.clear();
        s.head = 0;
      }
    }
    if (!s.presenting) {
      if (s.head < s.queue.size() && !(s.threshold && xorshift32(s.rng) < s.threshold)) {
        storeData(s, s.queue[s.head]);
        s.presenting = true;
        h->drove = true;
      }
      driveBit(h, s.vp, s.presenting ? 1 : 0);
    }
  } else if (s.kind == SINK) {
    driveBit(h, s.rp, s.threshold && xorshift32(s.rng) < s.threshold ? 0 : 1);
  }
  s.fire = false;
}

// Drive a stream's outputs for the coming cycle (after a rising edge, or at attach).
void streamUpdate(Vb* h, Stream& s) {
  if (s.vp) return streamUpdateDirect(h, s);
  if (s.kind == SOURCE) {
    if (s.presenting && s.fire) {
      s.head += s.beatWords;
      s.presenting = false;
      s.beats++;
      if (s.head == s.queue.size()) {
        s.queue.clear();
        s.head = 0;
      }
    }
    if (!s.presenting) {
      // The draw is made exactly as the TypeScript driver makes it (see XorShift32.chance).
      if (s.head < s.queue.size() && !(s.threshold && xorshift32(s.rng) < s.threshold)) {
        const uint32_t* w = s.queue.data() + s.head;
        for (int port : s.data) {
          setWords(h, port, w);
          w += vb_ports[port].words;
        }
        s.presenting = true;
        h->drove = true;
      }
      drive(h, s.valid, s.presenting ? 1 : 0);
    }
  } else if (s.kind == SINK) {
    drive(h, s.ready, s.threshold && xorshift32(s.rng) < s.threshold ? 0 : 1);
  }
  s.fire = false;
}

// Sample handshakes in the settled state just before a rising edge.
void streamSample(Vb* h, Stream& s) {
  if (s.vp) {
    s.fire = (*s.vp & *s.rp & 1) != 0;
    if (s.fire && s.kind != SOURCE) {
      s.captured.push(loadData(s));
      s.beats++;
    }
    return;
  }
  s.fire = getPort(h, s.valid) && getPort(h, s.ready);
  if (s.fire && s.kind != SOURCE) {
    uint32_t* w = s.captured.extend(s.beatWords);
    for (int port : s.data) {
      getWords(h, port, w);
      w += vb_ports[port].words;
    }
    s.beats++;
  }
}

inline bool streamsDone(Vb* h) {
  bool any = false;
  for (Stream& s : h->streams) {
    if (s.kind == SOURCE) {
      any = true;
      if (s.presenting || s.head < s.queue.size()) return false;
    } else if (s.target) {
      any = true;
      if (s.beats < s.target) return false;
    }
  }
  return any;
}

#include "vb_axi_mem.h"

// Record the changes of the logged ports in the state just evaluated at t.
inline void logChanges(Vb* h, double t) {
  for (size_t k = 0; k < h->logPorts.size(); k++) {
    uint32_t v = (uint32_t)getPort(h, h->logPorts[k]);
    if (v == h->logLast[k]) continue;
    h->logLast[k] = v;
    h->logTime.push_back(t);
    h->logPort.push_back(h->logPorts[k]);
    h->logValue.push_back(v);
  }
}

// Every stream and memory device: sample before a rising edge, drive after it.
void devicesSample(Vb* h) {
  for (Stream& s : h->streams) streamSample(h, s);
  for (auto& m : h->mems) axiSample(h, *m);
}
void devicesUpdate(Vb* h) {
  for (Stream& s : h->streams) streamUpdate(h, s);
  for (auto& m : h->mems) axiUpdate(h, *m);
  if (!h->mems.empty()) h->drove = true;  // not tracked port by port: assume it drove
}

// vb_run's loop for the common case: no waveform, no change log, no AXI memory, every
// stream of the direct-access shape, the clock a one-byte port and whole-picosecond
// phases. It makes the same evaluations, samples and drives as the general loop below,
// in the same order, but with nothing per cycle that the case rules out: no per-device
// dispatch, no waveform or log checks, the model time kept as an integer (no conversion
// per evaluation), and captured beats stored into room reserved up front (no capacity
// check per beat). On a tiny design that bookkeeping was a quarter of each cycle.
bool directCase(Vb* h, int clk, double t, double maxCycles, double hi, double lo) {
  if (h->trace || !h->logPorts.empty() || !h->mems.empty() || !h->misuse.empty() || h->traceScale != 1) return false;
  if (vb_ports[clk].bytes != 1) return false;
  for (const Stream& s : h->streams)
    if (!s.vp) return false;
  if (t < 0 || t != std::floor(t) || hi != std::floor(hi) || lo != std::floor(lo)) return false;
  return t + (maxCycles + 1) * (hi + lo) < 9007199254740992.0;  // 2^53: every time exact in a double
}

__attribute__((always_inline)) inline void sampleDirect(Stream& s) {
  s.fire = (*s.vp & *s.rp & 1) != 0;
  if (s.fire && s.kind != SOURCE) {
    s.captured.p[s.captured.n++] = loadData(s);  // room reserved by runDirect
    s.beats++;
  }
}

// A monitor on exactly the ports of an earlier sink or monitor (a StreamMonitor on a sink's
// stream, the usual case) captures the same beats: in runDirect it is not sampled, and the
// beats its twin captured are copied into its buffer in bulk at the end of each segment
// and when the run stops for any reason (a monitor with a target of its own is sampled).
struct Twin {
  Stream* mon;
  Stream* of;
  size_t from;  // of's captured words when the copy was last brought up to date
};

void syncTwins(std::vector<Twin>& twins) {
  for (Twin& w : twins) {
    size_t k = w.of->captured.n - w.from;
    if (!k) continue;
    memcpy(w.mon->captured.extend(k), w.of->captured.p.get() + w.from, k * sizeof(uint32_t));
    w.mon->beats += k;
    w.from = w.of->captured.n;
  }
}

int runDirectLoop(Vb* h, int clk, double maxCycles, double hi, double lo, bool untilDone, double& t, int& level, double& cycles, Stream* const* S, size_t ns, std::vector<Twin>& twins);

// Runs from level/t until maxCycles rising edges, done (untilDone) or a status; returns the status.
int runDirect(Vb* h, int clk, double maxCycles, double hi, double lo, bool untilDone, double& t, int& level, double& cycles) {
  std::vector<Stream*> sampled;
  std::vector<Twin> twins;
  for (Stream& s : h->streams) {
    Stream* of = nullptr;
    if (s.kind == MONITOR && !s.target)
      for (Stream* o : sampled)
        if (o->kind != SOURCE && o->valid == s.valid && o->ready == s.ready && o->data == s.data) of = o;
    if (of) twins.push_back({&s, of, of->captured.n});
    else sampled.push_back(&s);
  }
  int st;
  try {
    st = runDirectLoop(h, clk, maxCycles, hi, lo, untilDone, t, level, cycles, sampled.data(), sampled.size(), twins);
  } catch (...) {
    syncTwins(twins);
    throw;
  }
  syncTwins(twins);
  return st;
}

int runDirectLoop(Vb* h, int clk, double maxCycles, double hi, double lo, bool untilDone, double& t, int& level, double& cycles, Stream* const* S, size_t ns, std::vector<Twin>& twins) {
  uint8_t* const clkp = static_cast<uint8_t*>(h->port[clk]);
  VerilatedContext* const ctx = h->ctx;
  VB_MODEL* const top = h->top;
  const uint64_t uhi = (uint64_t)hi, ulo = (uint64_t)lo;
  uint64_t ut = (uint64_t)t;
  if (level == 0) {
    *clkp = 0;
    h->time = t;
    ctx->time(ut);
    top->eval();
    h->evals++;
    t += lo;
    ut += ulo;
    level = 1;
    if (ctx->gotFinish()) return 1;
  }
  while (true) {
    syncTwins(twins);
    // At most one beat a cycle per stream: run no further than the room every capture has.
    double segment = maxCycles - cycles;
    for (size_t k = 0; k < ns; k++) {
      if (S[k]->kind == SOURCE) continue;
      WordBuf& c = S[k]->captured;
      if (c.cap == c.n) c.reserve(c.n + (size_t)std::min(segment, (double)(1 << 20)));
      segment = std::min(segment, (double)(c.cap - c.n));
    }
    const double end = cycles + segment;
    while (true) {
      for (size_t k = 0; k < ns; k++) sampleDirect(*S[k]);
      *clkp = 1;
      h->time = t;
      ctx->time(ut);
      top->eval();
      h->evals++;
      cycles++;
      for (size_t k = 0; k < ns; k++) streamUpdateDirect(h, *S[k]);
      t += hi;
      ut += uhi;
      level = 0;
      if (ctx->gotFinish()) return 1;
      if (cycles >= maxCycles || (untilDone && streamsDone(h))) return 0;
      *clkp = 0;
      h->time = t;
      ctx->time(ut);
      top->eval();
      h->evals++;
      t += lo;
      ut += ulo;
      level = 1;
      if (ctx->gotFinish()) return 1;
      if (cycles >= end) break;
    }
  }
}

}  // namespace

extern "C" int vb_vprintf(const char* fmt, va_list ap) {
  char buf[4096];
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  if (n < 0) return n;
  fputs(buf, stdout);
  g_recent += buf;
  if (g_recent.size() > 4096) g_recent.erase(0, g_recent.size() - 2048);
  return n;
}

extern "C" int vb_printf(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vb_vprintf(fmt, ap);
  va_end(ap);
  return n;
}

namespace {
// $fatal prints "[time] %Error: file:line: Assertion failed in …: msg" and then stops:
// fold that line into the error instead of a bare "Verilog $stop".
std::string lastErrorLine() {
  size_t at = g_recent.rfind("%Error: ");
  if (at == std::string::npos) return "";
  size_t end = g_recent.find('\n', at);
  std::string line = g_recent.substr(at + 8, end == std::string::npos ? std::string::npos : end - at - 8);
  g_recent.clear();
  return line;
}
}  // namespace

// Verilator's user hooks (the runtime is compiled with VL_USER_FINISH/STOP/FATAL).
void vl_finish(const char* file, int line, const char*) {
  Verilated::threadContextp()->gotFinish(true);
  if (g_current && g_current->finishAt.empty()) g_current->finishAt = where(file, line) + "$finish";
}
void vl_stop(const char* file, int line, const char*) {
  Verilated::threadContextp()->gotFinish(true);
  std::string printed = lastErrorLine();
  throw VbFatal{printed.empty() ? where(file, line) + "Verilog $stop" : printed + " ($stop/$fatal)"};
}
void vl_fatal(const char* file, int line, const char*, const char* msg) {
  Verilated::threadContextp()->gotFinish(true);
  throw VbFatal{where(file, line) + msg};
}

extern "C" {

int vb_nports() { return VB_NPORTS; }
const char* vb_port_name(int i) { return vb_ports[i].name; }
int vb_port_width(int i) { return vb_ports[i].width; }
const char* vb_top_name() { return VB_TOP_NAME; }

Vb* vb_new(const char* instName) {
  installCrashHandler();
  setvbuf(stdout, nullptr, _IOLBF, 0);  // $display lines appear as they happen, not at exit
  Vb* h = new Vb;
  Enter e(h, "construction");
  h->ctx = new VerilatedContext;
  Verilated::threadContextp(h->ctx);
  h->ctx->traceEverOn(true);
  h->top = new VB_MODEL{h->ctx, instName};
  vb_bind(h->top, h->port);
  h->traceScale = std::pow(10.0, 12 + h->ctx->timeprecision());  // precision -12 = ps
  // Settle the initial state now: Verilator 5 takes the first eval's clock level as the
  // "previous" value, so without this the first edge a testbench drives would be lost.
  try {
    evalAt(h, 0);
  } catch (VbFatal& f) {
    h->msg = f.msg;
  }
  return h;
}

void vb_free(Vb* h) {
  Enter e(h, "final");
  try {
    h->top->final();
  } catch (VbFatal&) {
  }
  if (h->trace) {
    h->trace->close();
    delete h->trace;
  }
  delete h->top;
  delete h->ctx;
  delete h;
  g_current = nullptr;
}

const char* vb_message(Vb* h) { return h->msg.c_str(); }
const char* vb_finish_at(Vb* h) { return h->finishAt.c_str(); }
double vb_evals(Vb* h) { return (double)h->evals; }

// Port access is the hot path: a bad index is recorded and reported by the next eval.
void vb_set(Vb* h, int i, uint64_t v) {
  if (!badPort(h, "vb_set", i, true)) setPort(h, i, v);
}
uint64_t vb_get(Vb* h, int i) { return badPort(h, "vb_get", i, true) ? 0 : getPort(h, i); }
void vb_set_words(Vb* h, int i, const uint32_t* in) {
  if (!badPort(h, "vb_set_words", i, true)) setWords(h, i, in);
}
void vb_get_words(Vb* h, int i, uint32_t* out) {
  if (!badPort(h, "vb_get_words", i, true)) getWords(h, i, out);
}

/** Evaluate at time t (ps). 0 = ok, 1 = $finish reached, 2 = error (vb_message). */
int vb_eval(Vb* h, double t) {
  Enter e(h, "eval");
  try {
    evalAt(h, t);
  } catch (VbFatal& f) {
    return fail(h, f.msg);
  }
  return status(h);
}

/** Set a one-bit port and evaluate: one crossing per clock edge. */
int vb_edge(Vb* h, int i, int level, double t) {
  if (badPort(h, "vb_edge", i)) return 2;
  setPort(h, i, (uint64_t)level);
  return vb_eval(h, t);
}

int vb_trace_open(Vb* h, const char* path) {
  Enter e(h, "trace open");
  if (h->trace) return fail(h, "a waveform is already open");
  h->trace = new VbTrace;
  h->top->trace(h->trace, 99);
  h->trace->open(path);
  if (!h->trace->isOpen()) {
    delete h->trace;
    h->trace = nullptr;
    return fail(h, std::string("cannot open waveform file ") + path);
  }
  h->dumped = false;
  return 0;
}

/** Record the state at time t (ps) in the open waveform: call once at the end of each time step. */
void vb_trace_dump(Vb* h, double t) { dumpAt(h, t); }

void vb_trace_close(Vb* h) {
  if (!h->trace) return;
  h->trace->close();
  delete h->trace;
  h->trace = nullptr;
}

void vb_trace_flush(Vb* h) {
  if (h->trace) h->trace->flush();
}

/** Add a stream engine; returns its id, or -1 (vb_message says why). `prob` is the idle (source) or back-pressure (sink) probability. */
int vb_stream_add(Vb* h, int kind, int valid, int ready, const int32_t* data, int ndata, uint32_t seed, double prob) {
  if (kind != SOURCE && kind != SINK && kind != MONITOR) {
    fail(h, "vb_stream_add: kind " + std::to_string(kind) + " is not a source, sink or monitor");
    return -1;
  }
  if (badPort(h, "vb_stream_add", valid) || badPort(h, "vb_stream_add", ready) || ndata < 0) return -1;
  for (int k = 0; k < ndata; k++)
    if (badPort(h, "vb_stream_add", data[k])) return -1;
  Stream s;
  s.kind = kind;
  s.valid = valid;
  s.ready = ready;
  s.beatWords = 0;
  for (int k = 0; k < ndata; k++) {
    s.data.push_back(data[k]);
    s.beatWords += vb_ports[data[k]].words;
  }
  s.rng = seed ? seed : 0x9e3779b9u;
  s.threshold = threshold(prob);
  if (vb_ports[valid].bytes == 1 && vb_ports[ready].bytes == 1 && ndata == 1) {
    const VbPortInfo& d = vb_ports[data[0]];
    if (d.bytes == 1 || d.bytes == 2 || d.bytes == 4) {
      s.vp = static_cast<uint8_t*>(h->port[valid]);
      s.rp = static_cast<uint8_t*>(h->port[ready]);
      s.dp = h->port[data[0]];
      s.dbytes = d.bytes;
      s.dmask = d.width >= 32 ? UINT32_MAX : (UINT32_C(1) << d.width) - 1;
    }
  }
  h->streams.push_back(std::move(s));
  streamUpdate(h, h->streams.back());
  return (int)h->streams.size() - 1;
}

// Stream and memory calls return 2 (or -1 where they return a count) for an id that names
// nothing; vb_message says which call and id.
int vb_stream_push(Vb* h, int id, const uint32_t* words, int nbeats) {
  Stream* s = streamAt(h, "vb_stream_push", id);
  if (!s) return 2;
  if (nbeats < 0) return fail(h, "vb_stream_push: negative beat count " + std::to_string(nbeats));
  s->queue.insert(s->queue.end(), words, words + (size_t)nbeats * s->beatWords);
  return 0;
}

int vb_stream_target(Vb* h, int id, double beats) {
  Stream* s = streamAt(h, "vb_stream_target", id);
  if (!s) return 2;
  s->target = (uint64_t)beats;
  return 0;
}

/** Change a stream's idle (source) or back-pressure (sink) probability from the next draw on. */
int vb_stream_prob(Vb* h, int id, double prob) {
  Stream* s = streamAt(h, "vb_stream_prob", id);
  if (!s) return 2;
  s->threshold = threshold(prob);
  return 0;
}
double vb_stream_beats(Vb* h, int id) {
  Stream* s = streamAt(h, "vb_stream_beats", id);
  return s ? (double)s->beats : -1;
}
double vb_stream_queued(Vb* h, int id) {
  Stream* s = streamAt(h, "vb_stream_queued", id);
  return s ? (double)((s->queue.size() - s->head) / (s->beatWords ? s->beatWords : 1)) : -1;
}
double vb_stream_captured(Vb* h, int id) {
  Stream* s = streamAt(h, "vb_stream_captured", id);
  return s ? (double)(s->captured.n / (s->beatWords ? s->beatWords : 1)) : -1;
}

/** Move up to maxBeats captured beats into out; returns how many (-1 for a bad id). */
int vb_stream_take(Vb* h, int id, uint32_t* out, int maxBeats) {
  Stream* sp = streamAt(h, "vb_stream_take", id);
  if (!sp || maxBeats < 0) return -1;
  Stream& s = *sp;
  size_t have = s.captured.n / (s.beatWords ? s.beatWords : 1);
  size_t n = have < (size_t)maxBeats ? have : (size_t)maxBeats;
  size_t words = n * s.beatWords;
  if (words) memcpy(out, s.captured.p.get(), words * sizeof(uint32_t));
  s.captured.dropFront(words);
  return (int)n;
}

/** Sample every stream's handshake (call in the settled state just before a rising edge). */
void vb_streams_sample(Vb* h) { devicesSample(h); }

/** Drive every stream's and memory's outputs for the next cycle (call right after a rising edge); 2 on a protocol error. */
int vb_streams_update(Vb* h) {
  try {
    devicesUpdate(h);
  } catch (VbFatal& f) {
    return fail(h, f.msg);
  }
  return 0;
}

/** 1 when every source has drained and every sink with a target reached it. */
int vb_streams_done(Vb* h) { return streamsDone(h) ? 1 : 0; }

/**
 * Add an AXI4 memory slave on the ports listed in AxiPort order (vb_axi_mem.h); returns
 * its id. Serves [base, base + size); `stall` is the chance of withholding each ready/valid.
 */
int vb_axi_mem_add(Vb* h, const int32_t* ports, double base, double size, int latency, uint32_t seed, double stall) {
  for (int k = 0; k < AXI_NPORTS; k++)
    if (badPort(h, "vb_axi_mem_add", ports[k])) return -1;
  auto m = std::make_unique<AxiMem>();
  for (int k = 0; k < AXI_NPORTS; k++) m->port[k] = ports[k];
  m->bytes = vb_ports[ports[RDATA]].width / 8;
  m->dataWords = vb_ports[ports[RDATA]].words;
  m->wData.assign(m->dataWords, 0);
  m->wStrb.assign(vb_ports[ports[WSTRB]].words, 0);
  m->base = (uint64_t)base;
  m->size = (uint64_t)size;
  m->latency = latency < 0 ? 0 : (uint32_t)latency;
  m->rng = seed ? seed : 0x9e3779b9u;
  m->stall = threshold(stall);
  for (int k : {ARREADY, AWREADY, WREADY, RVALID, BVALID}) setPort(h, ports[k], 0);
  h->mems.push_back(std::move(m));
  return (int)h->mems.size() - 1;
}

int vb_axi_mem_write(Vb* h, int id, double addr, const uint8_t* bytes, int n) {
  AxiMem* m = memAt(h, "vb_axi_mem_write", id);
  if (!m) return 2;
  for (int i = 0; i < n; i++) m->poke((uint64_t)addr + i, bytes[i]);
  return 0;
}

int vb_axi_mem_read(Vb* h, int id, double addr, uint8_t* out, int n) {
  AxiMem* m = memAt(h, "vb_axi_mem_read", id);
  if (!m) return 2;
  for (int i = 0; i < n; i++) out[i] = m->peek((uint64_t)addr + i);
  return 0;
}

/** Answer SLVERR for accesses in [lo, hi). */
int vb_axi_mem_error_range(Vb* h, int id, double lo, double hi) {
  AxiMem* m = memAt(h, "vb_axi_mem_error_range", id);
  if (!m) return 2;
  m->errLo = (uint64_t)lo;
  m->errHi = (uint64_t)hi;
  return 0;
}

int vb_axi_mem_set(Vb* h, int id, int latency, double stall) {
  AxiMem* m = memAt(h, "vb_axi_mem_set", id);
  if (!m) return 2;
  m->latency = latency < 0 ? 0 : (uint32_t)latency;
  m->stall = threshold(stall);
  return 0;
}

/** out[0..5] = read bursts, read beats, write bursts, write beats, error responses, cycles with work outstanding. */
int vb_axi_mem_stats(Vb* h, int id, double* out) {
  AxiMem* mp = memAt(h, "vb_axi_mem_stats", id);
  if (!mp) return 2;
  AxiMem& m = *mp;
  out[0] = m.readBursts;
  out[1] = m.readBeats;
  out[2] = m.writeBursts;
  out[3] = m.writeBeats;
  out[4] = m.errors;
  out[5] = m.busyCycles;
  return 0;
}

/**
 * Toggle clock port `clk` without returning to JavaScript. The next clock event is at
 * io[1] (ps) with level io[2]; high and low phases last `hi` and `lo` ps. Stops right
 * after the rising edge that completes maxCycles, or (untilDone) after the rising edge at
 * which every source has drained and every sink with a target has reached it, like a
 * testbench awaiting that edge. On return io[0] = cycles run, io[1]/io[2] = the next
 * clock event. Returns 0/1/2 like vb_eval.
 */
int vb_run(Vb* h, int clk, double maxCycles, double hi, double lo, int untilDone, double* io) {
  if (badPort(h, "vb_run", clk)) return 2;
  if (!(hi > 0 && lo > 0)) return fail(h, "vb_run: clock phases must be positive (high " + std::to_string(hi) + " ps, low " + std::to_string(lo) + " ps)");
  Enter e(h, "run");
  double t = io[1];
  int level = (int)io[2];
  double cycles = 0;
  int st = 0;
  const bool logging = !h->logPorts.empty();
  const bool devices = !h->streams.empty() || !h->mems.empty();
  // At most one beat a cycle: room for this run's beats up front, so a sink's buffer is not
  // copied and faulted in again at every doubling inside the loop (that cost more than the
  // engine's own work on a tiny design).
  for (Stream& s : h->streams) {
    if (s.kind == SOURCE) continue;
    s.captured.reserve(s.captured.n + (size_t)std::min(maxCycles, (double)(1 << 20)) * s.beatWords);
  }
  // The caller has seen every change up to now (it drained the log and watched in JavaScript since).
  for (size_t k = 0; k < h->logPorts.size(); k++) h->logLast[k] = (uint32_t)getPort(h, h->logPorts[k]);
  try {
    if (maxCycles > 0 && !(untilDone && streamsDone(h)) && h->logTime.size() < h->logCap && directCase(h, clk, t, maxCycles, hi, lo)) {
      st = runDirect(h, clk, maxCycles, hi, lo, untilDone, t, level, cycles);
    } else if (maxCycles > 0 && !(untilDone && streamsDone(h)) && h->logTime.size() < h->logCap) {
      while (true) {
        if (level == 1) {
          devicesSample(h);
          setPort(h, clk, 1);
          evalAt(h, t);
          cycles++;
          if (devices) {
            h->drove = false;
            devicesUpdate(h);
            // Show the new inputs at the edge that drove them: in waves, and in the change
            // log at the time the edge-by-edge path sees them (it evaluates after the hooks).
            if (h->trace || (logging && h->drove)) evalAt(h, t);
          }
          if (logging) logChanges(h, t);
          dumpAt(h, t);
          t += hi;
          level = 0;
          if ((st = status(h)) != 0) break;
          if (cycles >= maxCycles || (untilDone && streamsDone(h)) || h->logTime.size() >= h->logCap) break;
        } else {
          setPort(h, clk, 0);
          evalAt(h, t);
          if (logging) logChanges(h, t);
          dumpAt(h, t);
          t += lo;
          level = 1;
          if ((st = status(h)) != 0) break;
        }
      }
    }
  } catch (VbFatal& f) {
    st = fail(h, f.msg);
  }
  io[0] = cycles;
  io[1] = t;
  io[2] = level;
  return st;
}

/** Log every change of port i (at most 32 bits) during vb_run; 2 for a bad or wide port. */
int vb_log_watch(Vb* h, int i) {
  if (badPort(h, "vb_log_watch", i)) return 2;
  if (vb_ports[i].width > 32) return fail(h, std::string("vb_log_watch: ") + vb_ports[i].name + " is wider than the 32 bits the change log holds");
  if (std::find(h->logPorts.begin(), h->logPorts.end(), i) != h->logPorts.end()) return 0;
  h->logPorts.push_back(i);
  h->logLast.push_back((uint32_t)getPort(h, i));
  return 0;
}

/** Stop logging port i (the last monitor on it detached); its entries already logged stay. */
int vb_log_unwatch(Vb* h, int i) {
  if (badPort(h, "vb_log_unwatch", i)) return 2;
  auto it = std::find(h->logPorts.begin(), h->logPorts.end(), i);
  if (it == h->logPorts.end()) return 0;
  h->logLast.erase(h->logLast.begin() + (it - h->logPorts.begin()));
  h->logPorts.erase(it);
  return 0;
}

/** Entries after which a run stops so the caller can drain the log (at least 1). */
void vb_log_capacity(Vb* h, double n) { h->logCap = n < 1 ? 1 : (size_t)n; }

int vb_log_count(Vb* h) { return (int)h->logTime.size(); }

/** Move the whole log out (times in ps, port indices, values) and empty it; returns the entries moved. */
int vb_log_take(Vb* h, double* times, int32_t* ports, uint32_t* values, int max) {
  size_t n = std::min(h->logTime.size(), (size_t)(max < 0 ? 0 : max));
  if (n) {
    memcpy(times, h->logTime.data(), n * sizeof(double));
    memcpy(ports, h->logPort.data(), n * sizeof(int32_t));
    memcpy(values, h->logValue.data(), n * sizeof(uint32_t));
  }
  h->logTime.erase(h->logTime.begin(), h->logTime.begin() + n);
  h->logPort.erase(h->logPort.begin(), h->logPort.begin() + n);
  h->logValue.erase(h->logValue.begin(), h->logValue.begin() + n);
  return (int)n;
}

/** Self-test of the crash report: a deliberate SIGSEGV inside the model's scope. */
void vb_selftest_crash(Vb* h) {
  Enter e(h, "self-test");
  raise(SIGSEGV);
}

/**
 * The benchmark's reference: what a hand-written C++ testbench does each cycle: write an
 * input (when inPort >= 0), clock, read an output (when outPort >= 0). Returns a checksum
 * of what it read so the compiler cannot drop the reads.
 */
double vb_bench_cycles(Vb* h, int clk, double n, int inPort, int outPort) {
  if (badPort(h, "vb_bench_cycles", clk) || (inPort >= 0 && badPort(h, "vb_bench_cycles", inPort)) || (outPort >= 0 && badPort(h, "vb_bench_cycles", outPort))) return -1;
  Enter e(h, "bench");
  uint64_t sum = 0;
  for (uint64_t i = 0; i < (uint64_t)n; i++) {
    if (inPort >= 0) setPort(h, inPort, i);
    setPort(h, clk, 1);
    h->top->eval();
    if (outPort >= 0) sum += getPort(h, outPort);
    setPort(h, clk, 0);
    h->top->eval();
  }
  return (double)(sum & 0xffffffffu);
}

}  // extern "C"
