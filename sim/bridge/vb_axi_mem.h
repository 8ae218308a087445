// An AXI4 memory slave inside the C++ loop, for designs with a memory master (the ternary
// core's weights in board DRAM). It is serviced around each rising edge like the streams,
// so it runs at vb_run's speed and equally when the kernel steps edge by edge.
//
// What it models: a memory window [base, base + size) of sparse 4 KiB pages, INCR bursts
// of the full data width, reads answered in order `latency` cycles after their address
// was accepted, one beat per cycle, writes answered `latency` cycles after their last
// beat; ready and valid withheld at random (seeded xorshift32) to model a busy controller;
// an address range that answers SLVERR and addresses outside the window that answer
// DECERR, as an interconnect does.
//
// What it checks, failing the simulation with the AXI rule broken: a burst that crosses a
// 4 KiB boundary, a size other than the bus width, a burst type other than INCR, valid
// dropped or the address changed before ready, WLAST on the wrong beat.
//
// Included by vb.cpp inside its anonymous namespace: uses setPort/getPort/setWords.

enum AxiPort {
  AWVALID, AWREADY, AWADDR, AWLEN, AWSIZE, AWBURST,
  WVALID, WREADY, WDATA, WSTRB, WLAST,
  BVALID, BREADY, BRESP,
  ARVALID, ARREADY, ARADDR, ARLEN, ARSIZE, ARBURST,
  RVALID, RREADY, RDATA, RRESP, RLAST,
  AXI_NPORTS
};

struct AxiBurst {
  uint64_t addr;
  uint32_t beats;
  uint32_t done = 0;
  uint64_t readyAt = 0;  // cycle from which the first read beat may be presented
};

struct AxiAddrWatch {
  bool waiting = false;  // valid was high without ready at the last edge
  uint64_t addr = 0, len = 0;
};

struct AxiMem {
  int port[AXI_NPORTS];
  int bytes;  // data bus width in bytes
  int dataWords;
  uint64_t base, size, errLo = 0, errHi = 0;
  uint32_t latency, rng, stall;
  std::unordered_map<uint64_t, std::unique_ptr<uint8_t[]>> pages;
  std::deque<AxiBurst> reads, writes;
  std::deque<std::pair<uint64_t, uint8_t>> bresps;  // cycle ready, response
  AxiAddrWatch arWatch, awWatch;
  bool rValid = false, bValid = false;
  bool arFire = false, rFire = false, awFire = false, wFire = false, bFire = false;
  uint64_t arAddr = 0, arLen = 0, arSize = 0, arBurst = 0;
  uint64_t awAddr = 0, awLen = 0, awSize = 0, awBurst = 0;
  std::vector<uint32_t> wData, wStrb;
  bool wLast = false;
  uint64_t cycle = 0;
  // Counters for tests and benchmarks.
  double readBursts = 0, readBeats = 0, writeBursts = 0, writeBeats = 0, errors = 0, busyCycles = 0;
  std::string error;

  uint8_t* page(uint64_t a, bool create) {
    auto it = pages.find(a >> 12);
    if (it != pages.end()) return it->second.get();
    if (!create) return nullptr;
    auto p = std::make_unique<uint8_t[]>(4096);
    memset(p.get(), 0, 4096);
    uint8_t* raw = p.get();
    pages.emplace(a >> 12, std::move(p));
    return raw;
  }
  uint8_t peek(uint64_t a) {
    uint8_t* p = page(a, false);
    return p ? p[a & 4095] : 0;
  }
  void poke(uint64_t a, uint8_t v) { page(a, true)[a & 4095] = v; }

  uint8_t respFor(uint64_t a) const {
    if (a < base || a >= base + size) return 3;  // DECERR
    if (a >= errLo && a < errHi) return 2;       // SLVERR
    return 0;
  }
  bool draw() { return stall && xorshift32(rng) < stall; }
};

std::string hex(uint64_t v) {
  char b[32];
  snprintf(b, sizeof b, "0x%llx", (unsigned long long)v);
  return b;
}

std::string axiCheckBurst(AxiMem& m, const char* ch, uint64_t addr, uint64_t len, uint64_t size, uint64_t burst) {
  std::string what = std::string(ch) + " burst at " + hex(addr) + " (" + std::to_string(len + 1) + " beats)";
  if (burst != 1) return what + ": burst type " + std::to_string(burst) + " is not INCR (1); this memory model serves INCR only";
  if ((1u << size) != (unsigned)m.bytes) return what + ": " + ch + "size = " + std::to_string(size) + " (" + std::to_string(1u << size) + " bytes) is not the bus width (" + std::to_string(m.bytes) + " bytes)";
  if (addr % m.bytes) return what + ": the address is not aligned to the " + std::to_string(m.bytes) + "-byte bus";
  uint64_t last = addr + (len + 1) * m.bytes - 1;
  if ((addr >> 12) != (last >> 12)) return what + " crosses a 4 KiB boundary at " + hex((last >> 12) << 12) + " (AXI4 forbids it)";
  return "";
}

// The master must hold valid and the address until ready (AXI4 A3.2.1).
std::string axiCheckHeld(AxiAddrWatch& w, const char* ch, bool valid, bool ready, uint64_t addr, uint64_t len) {
  std::string err;
  if (w.waiting && !valid) err = std::string(ch) + "valid fell before " + ch + "ready at " + ch + "addr " + hex(w.addr) + " (AXI4: valid stays high until the handshake)";
  else if (w.waiting && (addr != w.addr || len != w.len)) err = std::string(ch) + "addr/" + ch + "len changed from " + hex(w.addr) + "/" + std::to_string(w.len) + " to " + hex(addr) + "/" + std::to_string(len) + " while waiting for " + ch + "ready";
  w.waiting = valid && !ready;
  w.addr = addr;
  w.len = len;
  return err;
}

void axiSample(Vb* h, AxiMem& m) {
  const int* p = m.port;
  bool arv = getPort(h, p[ARVALID]), arr = getPort(h, p[ARREADY]);
  bool awv = getPort(h, p[AWVALID]), awr = getPort(h, p[AWREADY]);
  uint64_t ara = getPort(h, p[ARADDR]), arl = getPort(h, p[ARLEN]);
  uint64_t awa = getPort(h, p[AWADDR]), awl = getPort(h, p[AWLEN]);
  if (m.error.empty()) m.error = axiCheckHeld(m.arWatch, "ar", arv, arr, ara, arl);
  if (m.error.empty()) m.error = axiCheckHeld(m.awWatch, "aw", awv, awr, awa, awl);
  m.arFire = arv && arr;
  m.awFire = awv && awr;
  m.rFire = m.rValid && getPort(h, p[RREADY]);
  m.bFire = m.bValid && getPort(h, p[BREADY]);
  m.wFire = getPort(h, p[WVALID]) && getPort(h, p[WREADY]);
  if (m.arFire) {
    m.arAddr = ara;
    m.arLen = arl;
    m.arSize = getPort(h, p[ARSIZE]);
    m.arBurst = getPort(h, p[ARBURST]);
  }
  if (m.awFire) {
    m.awAddr = awa;
    m.awLen = awl;
    m.awSize = getPort(h, p[AWSIZE]);
    m.awBurst = getPort(h, p[AWBURST]);
  }
  if (m.wFire) {
    getWords(h, p[WDATA], m.wData.data());
    getWords(h, p[WSTRB], m.wStrb.data());
    m.wLast = getPort(h, p[WLAST]);
  }
}

void axiUpdate(Vb* h, AxiMem& m) {
  const int* p = m.port;
  m.cycle++;
  if (!m.reads.empty() || !m.writes.empty() || !m.bresps.empty()) m.busyCycles++;
  if (m.arFire) {
    std::string e = axiCheckBurst(m, "ar", m.arAddr, m.arLen, m.arSize, m.arBurst);
    if (!e.empty() && m.error.empty()) m.error = e;
    m.reads.push_back({m.arAddr, (uint32_t)m.arLen + 1, 0, m.cycle + m.latency});
    m.readBursts++;
  }
  if (m.rFire) {
    AxiBurst& b = m.reads.front();
    m.readBeats++;
    if (++b.done == b.beats) m.reads.pop_front();
    m.rValid = false;
  }
  if (m.awFire) {
    std::string e = axiCheckBurst(m, "aw", m.awAddr, m.awLen, m.awSize, m.awBurst);
    if (!e.empty() && m.error.empty()) m.error = e;
    m.writes.push_back({m.awAddr, (uint32_t)m.awLen + 1});
    m.writeBursts++;
  }
  if (m.wFire) {
    // wready is only offered with a write address in hand, so the front burst is this beat's.
    AxiBurst& b = m.writes.front();
    uint64_t a = b.addr + (uint64_t)b.done * m.bytes;
    uint8_t resp = m.respFor(a);
    if (resp == 0) {
      for (int i = 0; i < m.bytes; i++)
        if ((m.wStrb[i / 32] >> (i % 32)) & 1) m.poke(a + i, (uint8_t)(m.wData[i / 4] >> (8 * (i % 4))));
    }
    m.writeBeats++;
    bool last = ++b.done == b.beats;
    if (m.wLast != last && m.error.empty())
      m.error = "w beat " + std::to_string(b.done) + " of the " + std::to_string(b.beats) + "-beat write burst at " + hex(b.addr) + (m.wLast ? " has WLAST set early" : " is the last but WLAST is low");
    if (last) {
      uint8_t worst = 0;
      for (uint32_t k = 0; k < b.beats; k++) worst = std::max(worst, m.respFor(b.addr + (uint64_t)k * m.bytes));
      if (worst) m.errors++;
      m.bresps.push_back({m.cycle + m.latency, worst});
      m.writes.pop_front();
    }
  }
  if (m.bFire) {
    m.bresps.pop_front();
    m.bValid = false;
  }
  if (!m.error.empty()) throw VbFatal{std::string("AXI4 memory model: ") + m.error};

  // Outputs for the coming cycle. A presented R or B beat stays until taken.
  setPort(h, p[ARREADY], m.reads.size() < 8 && !m.draw());
  setPort(h, p[AWREADY], m.writes.size() < 8 && !m.draw());
  setPort(h, p[WREADY], !m.writes.empty() && !m.draw());
  if (!m.rValid && !m.reads.empty() && m.reads.front().readyAt <= m.cycle && !m.draw()) {
    AxiBurst& b = m.reads.front();
    uint64_t a = b.addr + (uint64_t)b.done * m.bytes;
    uint8_t resp = m.respFor(a);
    std::vector<uint32_t> w(m.dataWords, 0);
    if (resp == 0)
      for (int i = 0; i < m.bytes; i++) w[i / 4] |= (uint32_t)m.peek(a + i) << (8 * (i % 4));
    else
      m.errors++;
    setWords(h, p[RDATA], w.data());
    setPort(h, p[RRESP], resp);
    setPort(h, p[RLAST], b.done + 1 == b.beats);
    m.rValid = true;
  }
  setPort(h, p[RVALID], m.rValid);
  if (!m.bValid && !m.bresps.empty() && m.bresps.front().first <= m.cycle && !m.draw()) {
    setPort(h, p[BRESP], m.bresps.front().second);
    m.bValid = true;
  }
  setPort(h, p[BVALID], m.bValid);
}
