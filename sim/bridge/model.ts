// A loaded Verilated model: the koffi binding of vb.cpp's extern "C" API. One shared
// library per built model is loaded once per process; each Model is one instance with
// its own VerilatedContext, so tests can create and drop instances freely.

import koffi from 'koffi';
import type { BuiltModel } from './build.ts';
import { words32, type PortInfo } from './ports.ts';

interface Api {
  vb_new: (name: string) => unknown;
  vb_free: (h: unknown) => void;
  vb_nports: () => number;
  vb_port_name: (i: number) => string;
  vb_port_width: (i: number) => number;
  vb_message: (h: unknown) => string;
  vb_finish_at: (h: unknown) => string;
  vb_evals: (h: unknown) => number;
  vb_set: (h: unknown, i: number, v: number | bigint) => void;
  vb_get: (h: unknown, i: number) => number | bigint;
  vb_set_words: (h: unknown, i: number, w: Uint32Array) => void;
  vb_get_words: (h: unknown, i: number, w: Uint32Array) => void;
  vb_eval: (h: unknown, t: number) => number;
  vb_edge: (h: unknown, i: number, level: number, t: number) => number;
  vb_trace_open: (h: unknown, path: string) => number;
  vb_trace_close: (h: unknown) => void;
  vb_trace_flush: (h: unknown) => void;
  vb_trace_dump: (h: unknown, t: number) => void;
  vb_stream_add: (h: unknown, kind: number, valid: number, ready: number, data: Int32Array, ndata: number, seed: number, prob: number) => number;
  vb_stream_push: (h: unknown, id: number, words: Uint32Array, nbeats: number) => number;
  vb_stream_target: (h: unknown, id: number, beats: number) => number;
  vb_stream_prob: (h: unknown, id: number, prob: number) => number;
  vb_stream_beats: (h: unknown, id: number) => number;
  vb_stream_queued: (h: unknown, id: number) => number;
  vb_stream_captured: (h: unknown, id: number) => number;
  vb_stream_take: (h: unknown, id: number, out: Uint32Array, max: number) => number;
  vb_run: (h: unknown, clk: number, max: number, hi: number, lo: number, untilDone: number, io: Float64Array) => number;
  vb_bench_cycles: (h: unknown, clk: number, n: number, inPort: number, outPort: number) => number;
  vb_streams_sample: (h: unknown) => void;
  vb_streams_update: (h: unknown) => number;
  vb_axi_mem_add: (h: unknown, ports: Int32Array, base: number, size: number, latency: number, seed: number, stall: number) => number;
  vb_axi_mem_write: (h: unknown, id: number, addr: number, bytes: Uint8Array, n: number) => number;
  vb_axi_mem_read: (h: unknown, id: number, addr: number, out: Uint8Array, n: number) => number;
  vb_axi_mem_error_range: (h: unknown, id: number, lo: number, hi: number) => number;
  vb_axi_mem_set: (h: unknown, id: number, latency: number, stall: number) => number;
  vb_axi_mem_stats: (h: unknown, id: number, out: Float64Array) => number;
  vb_streams_done: (h: unknown) => number;
  vb_selftest_crash: (h: unknown) => void;
  vb_log_watch: (h: unknown, i: number) => number;
  vb_log_unwatch: (h: unknown, i: number) => number;
  vb_log_capacity: (h: unknown, n: number) => void;
  vb_log_count: (h: unknown) => number;
  vb_log_take: (h: unknown, times: Float64Array, ports: Int32Array, values: Uint32Array, max: number) => number;
}

const SIGNATURES: Record<keyof Api, string> = {
  vb_new: 'void *vb_new(const char *name)',
  vb_free: 'void vb_free(void *h)',
  vb_nports: 'int vb_nports()',
  vb_port_name: 'const char *vb_port_name(int i)',
  vb_port_width: 'int vb_port_width(int i)',
  vb_message: 'const char *vb_message(void *h)',
  vb_finish_at: 'const char *vb_finish_at(void *h)',
  vb_evals: 'double vb_evals(void *h)',
  vb_set: 'void vb_set(void *h, int i, uint64_t v)',
  vb_get: 'uint64_t vb_get(void *h, int i)',
  vb_set_words: 'void vb_set_words(void *h, int i, const uint32_t *w)',
  vb_get_words: 'void vb_get_words(void *h, int i, uint32_t *w)',
  vb_eval: 'int vb_eval(void *h, double t)',
  vb_edge: 'int vb_edge(void *h, int i, int level, double t)',
  vb_trace_open: 'int vb_trace_open(void *h, const char *path)',
  vb_trace_close: 'void vb_trace_close(void *h)',
  vb_trace_flush: 'void vb_trace_flush(void *h)',
  vb_trace_dump: 'void vb_trace_dump(void *h, double t)',
  vb_stream_add: 'int vb_stream_add(void *h, int kind, int valid, int ready, const int32_t *data, int ndata, uint32_t seed, double prob)',
  vb_stream_push: 'int vb_stream_push(void *h, int id, const uint32_t *words, int nbeats)',
  vb_stream_target: 'int vb_stream_target(void *h, int id, double beats)',
  vb_stream_prob: 'int vb_stream_prob(void *h, int id, double prob)',
  vb_stream_beats: 'double vb_stream_beats(void *h, int id)',
  vb_stream_queued: 'double vb_stream_queued(void *h, int id)',
  vb_stream_captured: 'double vb_stream_captured(void *h, int id)',
  vb_stream_take: 'int vb_stream_take(void *h, int id, uint32_t *out, int max)',
  vb_run: 'int vb_run(void *h, int clk, double max, double hi, double lo, int untilDone, double *io)',
  vb_bench_cycles: 'double vb_bench_cycles(void *h, int clk, double n, int inPort, int outPort)',
  vb_streams_sample: 'void vb_streams_sample(void *h)',
  vb_streams_update: 'int vb_streams_update(void *h)',
  vb_axi_mem_add: 'int vb_axi_mem_add(void *h, const int32_t *ports, double base, double size, int latency, uint32_t seed, double stall)',
  vb_axi_mem_write: 'int vb_axi_mem_write(void *h, int id, double addr, const uint8_t *bytes, int n)',
  vb_axi_mem_read: 'int vb_axi_mem_read(void *h, int id, double addr, uint8_t *out, int n)',
  vb_axi_mem_error_range: 'int vb_axi_mem_error_range(void *h, int id, double lo, double hi)',
  vb_axi_mem_set: 'int vb_axi_mem_set(void *h, int id, int latency, double stall)',
  vb_axi_mem_stats: 'int vb_axi_mem_stats(void *h, int id, double *out)',
  vb_streams_done: 'int vb_streams_done(void *h)',
  vb_selftest_crash: 'void vb_selftest_crash(void *h)',
  vb_log_watch: 'int vb_log_watch(void *h, int i)',
  vb_log_unwatch: 'int vb_log_unwatch(void *h, int i)',
  vb_log_capacity: 'void vb_log_capacity(void *h, double n)',
  vb_log_count: 'int vb_log_count(void *h)',
  vb_log_take: 'int vb_log_take(void *h, double *times, int32_t *ports, uint32_t *values, int max)',
};

const libraries = new Map<string, Api>();

function load(path: string, ports: readonly PortInfo[]): Api {
  let api = libraries.get(path);
  if (!api) {
    const lib = koffi.load(path);
    const fns: Record<string, unknown> = {};
    for (const [name, sig] of Object.entries(SIGNATURES)) fns[name] = lib.func(sig);
    api = fns as unknown as Api;
    // The table compiled into the library must be the one we index by.
    const n = api.vb_nports();
    if (n !== ports.length) throw new Error(`${path}: library has ${n} ports, expected ${ports.length}; delete the cache directory and rebuild`);
    ports.forEach((p, i) => {
      if (api!.vb_port_name(i) !== p.name || api!.vb_port_width(i) !== p.width) throw new Error(`${path}: port ${i} is ${api!.vb_port_name(i)}[${api!.vb_port_width(i)}], expected ${p.name}[${p.width}]`);
    });
    libraries.set(path, api);
  }
  return api;
}

/** $stop, $fatal, or a Verilator runtime error inside the model. */
export class ModelError extends Error {
  constructor(
    message: string,
    /** For an error inside run(): how far the clock got, so the report's time is right. */
    readonly run?: RunResult,
  ) {
    super(message);
    this.name = 'ModelError';
  }
}

/** The next clock event: its time and the level the clock takes then. */
export interface ClockEvent {
  readonly timePs: number;
  readonly level: 0 | 1;
}
export interface RunResult {
  /** Rising edges run. */
  readonly cycles: number;
  readonly next: ClockEvent;
  /** $finish was reached. */
  readonly finished: boolean;
}
/** vb.cpp's stream engine kinds. */
export const StreamKind = { Source: 0, Sink: 1, Monitor: 2 } as const;
export type StreamKind = (typeof StreamKind)[keyof typeof StreamKind];

export const EvalStatus = { Ok: 0, Finished: 1, Error: 2 } as const;
export type EvalStatus = (typeof EvalStatus)[keyof typeof EvalStatus];

export class Model {
  readonly api: Api;
  readonly handle: unknown;
  readonly ports: readonly PortInfo[];
  readonly index: ReadonlyMap<string, number>;
  private freed = false;
  /** Called (in order) by free() before the library lets go of the model: to take what it still holds. */
  readonly beforeFree: (() => void)[] = [];
  private readonly scratch = new Map<number, Uint32Array>();

  constructor(
    readonly built: BuiltModel,
    instanceName = 'TOP',
  ) {
    this.ports = built.ports;
    this.api = load(built.library, built.ports);
    this.handle = this.api.vb_new(instanceName);
    this.index = new Map(built.ports.map((p, i) => [p.name, i]));
  }

  get top(): string {
    return this.built.top;
  }

  /** Raw bits of a port (unsigned), as bigint. */
  getBits(i: number): bigint {
    const w = this.ports[i]!.width;
    if (w <= 64) return BigInt(this.api.vb_get(this.handle, i));
    const buf = this.words(w);
    this.api.vb_get_words(this.handle, i, buf);
    let v = 0n;
    for (let k = buf.length - 1; k >= 0; k--) v = (v << 32n) | BigInt(buf[k]!);
    return v;
  }

  /** A port of at most 32 bits as a number (no bigint allocation on the hot path). */
  getSmall(i: number): number {
    return Number(this.api.vb_get(this.handle, i));
  }

  /** Set raw bits (already range-checked by the caller). */
  setBits(i: number, v: bigint | number): void {
    const w = this.ports[i]!.width;
    if (w <= 64) {
      this.api.vb_set(this.handle, i, v);
      return;
    }
    const buf = this.words(w);
    if (typeof v === 'number' || v < 0x100000000n) {
      buf.fill(0);
      buf[0] = Number(v);
      this.api.vb_set_words(this.handle, i, buf);
      return;
    }
    let b = v;
    for (let k = 0; k < buf.length; k++) {
      buf[k] = Number(b & 0xffffffffn);
      b >>= 32n;
    }
    this.api.vb_set_words(this.handle, i, buf);
  }

  private words(width: number): Uint32Array {
    let b = this.scratch.get(width);
    if (!b) this.scratch.set(width, (b = new Uint32Array(words32(width))));
    return b;
  }

  /** Evaluate at time `ps`; throws ModelError on $stop/$fatal; returns Finished after $finish. */
  eval(ps: number): EvalStatus {
    return this.check(this.api.vb_eval(this.handle, ps));
  }

  /** Set a one-bit port and evaluate, in one call. */
  edge(i: number, level: 0 | 1, ps: number): EvalStatus {
    return this.check(this.api.vb_edge(this.handle, i, level, ps));
  }

  check(status: number): EvalStatus {
    if (status === EvalStatus.Error) throw new ModelError(`${this.top}: ${this.api.vb_message(this.handle)}`);
    return status as EvalStatus;
  }

  /**
   * Toggle clock port `clk` in C++ for up to `cycles` rising edges, starting from the clock
   * event `from` (the next edge's time and level), with phases of `highPs`/`lowPs`. With
   * `untilDone` it stops at the edge where every stream source has drained and every sink
   * reached its target. Throws ModelError on $stop/$fatal or misuse.
   */
  run(clk: number, cycles: number, o: { readonly from: ClockEvent; readonly highPs: number; readonly lowPs: number; readonly untilDone?: boolean }): RunResult {
    this.live();
    const io = this.runIo;
    io[0] = 0;
    io[1] = o.from.timePs;
    io[2] = o.from.level;
    const st = this.api.vb_run(this.handle, clk, cycles, o.highPs, o.lowPs, o.untilDone ? 1 : 0, io);
    const r: RunResult = { cycles: io[0]!, next: { timePs: io[1]!, level: io[2] ? 1 : 0 }, finished: st === EvalStatus.Finished };
    if (st === EvalStatus.Error) throw new ModelError(`${this.top}: ${this.api.vb_message(this.handle)}`, r);
    return r;
  }
  private readonly runIo = new Float64Array(3);

  // ---- stream engines and AXI memories in C++ (sim/tb/fast.ts, sim/vip/axi-memory.ts) ----
  // Each call checks what the library returns: an id that names nothing is a ModelError
  // naming the call, never a read past the end of a C++ vector.

  /** A stream engine on the given port indices; returns its id. */
  streamAdd(kind: StreamKind, valid: number, ready: number, data: readonly number[], seed: number, prob: number): number {
    this.live();
    const id = this.nonNegative(this.api.vb_stream_add(this.handle, kind, valid, ready, Int32Array.from(data), data.length, seed >>> 0, prob));
    // C++ copies beats of this many 32-bit words in and out: buffers are checked against it here.
    this.beatWords[id] = data.reduce((n, i) => n + words32(this.ports[i]!.width), 0);
    return id;
  }
  private readonly beatWords: number[] = [];
  /** `buf` holds `beats` beats of stream `id`, or the call is refused (C++ would read or write past it). */
  private fits(what: string, id: number, buf: Uint32Array, beats: number): void {
    this.live();
    const bw = this.beatWords[id];
    if (bw !== undefined && !(Number.isInteger(beats) && beats >= 0 && buf.length >= beats * bw)) {
      throw new ModelError(`${this.top}: ${what}: ${beats} beats of ${bw} words need ${beats * bw} words; the buffer holds ${buf.length}`);
    }
  }
  streamPush(id: number, words: Uint32Array, beats: number): void {
    this.fits('streamPush', id, words, beats);
    this.check(this.api.vb_stream_push(this.handle, id, words, beats));
  }
  streamTarget(id: number, beats: number): void {
    this.check(this.api.vb_stream_target(this.handle, id, beats));
  }
  streamProb(id: number, prob: number): void {
    this.check(this.api.vb_stream_prob(this.handle, id, prob));
  }
  /** Beats a source has handed over or a sink/monitor has captured since it was added. */
  streamBeats(id: number): number {
    return this.nonNegative(this.api.vb_stream_beats(this.handle, id));
  }
  /** Beats a source still holds. */
  streamQueued(id: number): number {
    return this.nonNegative(this.api.vb_stream_queued(this.handle, id));
  }
  /** Beats a sink/monitor holds that nobody has taken yet. */
  streamCaptured(id: number): number {
    return this.nonNegative(this.api.vb_stream_captured(this.handle, id));
  }
  /** Move up to `max` captured beats into `out`; returns how many. */
  streamTake(id: number, out: Uint32Array, max: number): number {
    this.fits('streamTake', id, out, max);
    return this.nonNegative(this.api.vb_stream_take(this.handle, id, out, max));
  }
  streamsSample(): void {
    this.api.vb_streams_sample(this.handle);
  }
  streamsUpdate(): void {
    this.check(this.api.vb_streams_update(this.handle));
  }
  streamsDone(): boolean {
    return this.api.vb_streams_done(this.handle) === 1;
  }

  /** An AXI4 memory slave on the port indices in AXI4_FIELDS order; returns its id. */
  axiMemAdd(ports: readonly number[], o: { base: number; size: number; latency: number; seed: number; stall: number }): number {
    this.live();
    return this.nonNegative(this.api.vb_axi_mem_add(this.handle, Int32Array.from(ports), o.base, o.size, o.latency, o.seed >>> 0, o.stall));
  }
  axiMemWrite(id: number, addr: number, bytes: Uint8Array): void {
    this.live();
    this.check(this.api.vb_axi_mem_write(this.handle, id, addr, bytes, bytes.length));
  }
  axiMemRead(id: number, addr: number, out: Uint8Array): void {
    this.live();
    this.check(this.api.vb_axi_mem_read(this.handle, id, addr, out, out.length));
  }
  axiMemErrorRange(id: number, lo: number, hi: number): void {
    this.check(this.api.vb_axi_mem_error_range(this.handle, id, lo, hi));
  }
  axiMemSet(id: number, latency: number, stall: number): void {
    this.check(this.api.vb_axi_mem_set(this.handle, id, latency, stall));
  }
  /** [read bursts, read beats, write bursts, write beats, error responses, busy cycles]. */
  axiMemStats(id: number): Float64Array {
    const out = new Float64Array(6);
    this.check(this.api.vb_axi_mem_stats(this.handle, id, out));
    return out;
  }

  // ---- the change log of passively watched ports (sim/tb/passive.ts) ----

  /** Monitors logging each port: the port is logged while at least one is attached. */
  private readonly logWatchers = new Map<number, number>();
  /** Record every change of port `i` (at most 32 bits) during run(); each call needs its logUnwatch. */
  logWatch(i: number): void {
    this.live();
    this.check(this.api.vb_log_watch(this.handle, i));
    this.logWatchers.set(i, (this.logWatchers.get(i) ?? 0) + 1);
  }
  /** Undo one logWatch(i); the last one stops the logging, so a detached monitor's port cannot fill the log. */
  logUnwatch(i: number): void {
    const n = this.logWatchers.get(i) ?? 0;
    if (n === 0) return;
    if (n > 1) return void this.logWatchers.set(i, n - 1);
    this.logWatchers.delete(i);
    if (this.freed) return;
    this.check(this.api.vb_log_unwatch(this.handle, i));
  }
  /** A run stops after the edge at which the log holds this many entries. */
  logCapacity(entries: number): void {
    this.live();
    this.api.vb_log_capacity(this.handle, entries);
  }
  /** Take the whole log, oldest first, and empty it. */
  logTake(): { times: Float64Array; ports: Int32Array; values: Uint32Array } {
    this.live();
    const n = this.api.vb_log_count(this.handle);
    const times = new Float64Array(n);
    const ports = new Int32Array(n);
    const values = new Uint32Array(n);
    if (n) this.api.vb_log_take(this.handle, times, ports, values, n);
    return { times, ports, values };
  }

  /** The C reference loop of `bench sim` (a checksum of what it read). */
  benchCycles(clk: number, cycles: number, inPort: number, outPort: number): number {
    return this.nonNegative(this.api.vb_bench_cycles(this.handle, clk, cycles, inPort, outPort));
  }

  /** Every call into the library after free() would use freed memory. */
  private live(): void {
    if (this.freed) throw new ModelError(`${this.top}: the model was freed`);
  }
  /** An id or count from the library; -1 means misuse, which vb_message names. */
  private nonNegative(v: number): number {
    if (v < 0) throw new ModelError(`${this.top}: ${this.api.vb_message(this.handle)}`);
    return v;
  }

  /** Where $finish was called, when it was. */
  finishedAt(): string {
    return this.api.vb_finish_at(this.handle);
  }

  get evals(): number {
    return this.api.vb_evals(this.handle);
  }

  /** True while a waveform is open: the kernel then dumps at the end of every time step. */
  tracing = false;

  openWaves(file: string): void {
    this.check(this.api.vb_trace_open(this.handle, file));
    this.tracing = true;
  }

  /** Record the state at `ps` (once per time step). */
  dumpWaves(ps: number): void {
    if (this.tracing) this.api.vb_trace_dump(this.handle, ps);
  }

  closeWaves(): void {
    this.tracing = false;
    this.api.vb_trace_close(this.handle);
  }

  flushWaves(): void {
    this.api.vb_trace_flush(this.handle);
  }

  free(): void {
    if (this.freed) return;
    for (const f of this.beforeFree.splice(0)) f();
    this.freed = true;
    this.api.vb_free(this.handle);
  }
}
