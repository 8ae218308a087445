// Decode (M = 1) tokens/s of BitNet b1.58 2B-4T on a board, modelled: the core's cycle model
// (common/perf.ts, the formula the RTL's CYCLES register is checked against), the bytes its
// DRAM layout moves per tile (the manifest's extra.ternary.dram), the board's DRAM, the
// clock, and the host link that carries activations in and results out. Every assumption
// a figure rests on is a field of the board below, with its reason, so a table row can be
// traced to them. `bench core` prints the table; the README quotes it.
//
// What a token costs:
//   - weights: every BitLinear of the 30 layers reads all its tiles once (q, k, v, o, gate,
//     up, down; the LM head stays on the host, as the runtime runs it);
//   - a run (one BitLinear on one core) takes, for its tiles, the longer of
//       array:  one tile per cycle at best, one per beatsPerSlot cycles when a tile needs
//               several beats on each port (ports x data bits per cycle at Fmax);
//       DRAM:   movedBytes per tile at the channel's sustained rate (peak x efficiency);
//     plus the pipeline (pipelineCycles) and the memory's latency to the first tile;
//   - with several cores (one per memory channel), each core holds ⌈N-tiles / cores⌉ of every
//     BitLinear and they run side by side, so the slowest (largest) share sets the time;
//   - the link: the host sends the matmuls it fuses (q/k/v, gate/up: 4 per layer), each its
//     wire bytes (matmulWireBytes) at the link's rate plus a fixed time per round trip.
//     Decode is sequential (the next matmul needs this one's result), so the link adds to
//     the board's time rather than overlapping it.
// The host's own work per token (attention, norms, the head) is not in these figures.

import { kTiles, nTiles, type CoreShape } from './core-layout.ts';
import { pipelineCycles } from './core-model.ts';
import { BITNET_2B_LAYERS, BITNET_2B_PROJECTIONS, BITNET_2B_MATMULS, matmulWireBytes } from './perf.ts';

/** A core configuration, as generator parameters (the bench turns it into a CoreShape through the manifest code). */
export interface ProjectedCore {
  readonly rows: number;
  readonly cols: number;
  readonly format: number;
  /** AXI4 data width in bits. */
  readonly dram: number;
  readonly ports: number;
}

export interface Board {
  readonly name: string;
  /** The memory, in words: part, width, transfer rate. */
  readonly memory: string;
  /** Peak bytes/s of one channel (width x transfers/s). */
  readonly peakPerChannel: number;
  /** Independent memory channels, one core on each. */
  readonly channels: number;
  /** Bytes of DRAM on the board. */
  readonly capacity: number;
  /** Sustained / peak for long sequential read bursts, and why that figure. */
  readonly efficiency: number;
  readonly efficiencyWhy: string;
  /** The core's clock and where the figure comes from. */
  readonly fmaxHz: number;
  readonly fmaxWhy: string;
  /** Cycles from a run's first read address to its first tile. */
  readonly latencyCycles: number;
  readonly latencyWhy: string;
  readonly link: { readonly name: string; readonly bytesPerSecond: number; readonly perMatmulSeconds: number; readonly why: string };
  readonly core: ProjectedCore;
  /**
   * Cores splitting every BitLinear's n-tiles (default: one per channel). More cores than
   * channels share them, which buys compute for batched decode, not bandwidth.
   */
  readonly cores?: number;
  readonly coresWhy?: string;
  /** Tokens one run takes (the core's mmax); a batch larger than that re-reads the weights. Default 1. */
  readonly mmax?: number;
}

const GB = 1e9;

/** KV260 with one 512-bit port: the board the 2-port and serving variants start from. */
const KV260: Board = {
  name: 'KV260 (1 port)',
  memory: 'DDR4, 64-bit, 2400 MT/s (PS DDR)',
  peakPerChannel: (64 / 8) * 2400e6,
  channels: 1,
  capacity: 4 * 2 ** 30,
  efficiency: 0.75,
  efficiencyWhy: 'assumed: read-only sequential bursts (no bus turnaround); refresh, row changes and the PS interconnect cost about 25 %',
  fmaxHz: 200e6,
  fmaxWhy: 'assumed for Zynq UltraScale+ -2 fabric; not synthesized here (no Vivado)',
  latencyCycles: 48,
  latencyWhy: 'assumed: PS DDR through an HP port, about 240 ns',
  link: { name: 'Cortex-A53 host over PS-PL AXI (HPM)', bytesPerSecond: 1 * GB, perMatmulSeconds: 2e-6, why: 'assumed: a DMA each way and a poll per matmul on-chip' },
  core: { rows: 16, cols: 20, format: 5, dram: 512, ports: 1 },
};

/**
 * The boards of issue 19. Peak rates from the memory's width and transfer rate; efficiencies,
 * clocks, latencies and link figures are assumptions (stated), since no Vivado runs here and
 * Yosys reports no timing for Xilinx parts.
 */
export const BOARDS: readonly Board[] = [
  {
    name: 'Arty A7-100T',
    memory: 'DDR3L, 16-bit, 333 MHz (667 MT/s), MIG 4:1, 128-bit UI',
    peakPerChannel: (16 / 8) * 667e6,
    channels: 1,
    capacity: 256 * 2 ** 20,
    efficiency: 0.7,
    efficiencyWhy: 'assumed: one read stream of long bursts through MIG; refresh and row changes cost DDR3 about 30 % at this width',
    fmaxHz: 100e6,
    fmaxWhy: 'assumed: the Arty top runs its core at the board clock, 100 MHz (rtl/arty)',
    latencyCycles: 24,
    latencyWhy: 'xdma-sim DDR_LATENCY: a MIG at 4:1',
    link: { name: 'UART 6.25 Mbaud (clk/16, the UART core\'s limit), 8N1', bytesPerSecond: 6.25e6 / 10, perMatmulSeconds: 125e-6, why: 'USB 2.0 microframe per round trip through the FT2232H' },
    core: { rows: 16, cols: 20, format: 5, dram: 128, ports: 1 },
  },
  KV260,
  {
    ...KV260,
    name: 'KV260 (2 ports)',
    efficiencyWhy: 'as for one port; both masters share the one controller',
    core: { rows: 16, cols: 40, format: 5, dram: 512, ports: 2 },
  },
  {
    name: 'U280-class HBM',
    memory: 'HBM2, 32 pseudo-channels of 14.4 GB/s (460 GB/s)',
    peakPerChannel: 460 * GB / 32,
    channels: 32,
    capacity: 8 * 2 ** 30,
    efficiency: 0.9,
    efficiencyWhy: 'assumed: each core reads only its own pseudo-channel in long sequential bursts, the access pattern HBM sustains about 90 % of peak on',
    fmaxHz: 250e6,
    fmaxWhy: 'assumed for UltraScale+ -2 fabric; 512 bits at 250 MHz is 16 GB/s, above one pseudo-channel',
    latencyCycles: 64,
    latencyWhy: 'assumed: HBM through its AXI switch, about 250 ns',
    link: { name: 'PCIe Gen3 x16 through XDMA', bytesPerSecond: 12 * GB, perMatmulSeconds: 5e-6, why: 'assumed: an H2C and a C2H DMA per matmul' },
    core: { rows: 16, cols: 20, format: 5, dram: 512, ports: 1 },
  },
];

/**
 * Batched decode (issue 21's serving): M sequences share each pass over the weights. Decode
 * with M = 1 is DRAM-bound, so the cores a board can hold beyond what the bandwidth needs are
 * idle; with 16 cores on KV260's one DDR4 channel, a step of 16 sequences costs little more
 * than a step of one.
 */
export const SERVING_BOARD: Board = {
  ...KV260,
  name: 'KV260, 16 cores (batched decode)',
  core: { rows: 16, cols: 16, format: 2, dram: 512, ports: 1 },
  cores: 16,
  coresWhy: "assumed to fit, not built: 16 cores x 256 MACs at the whole core's 19.6 LUT/MAC (bench core, 16x16 int8 format 2, adder column) is 80 k of the ZU5EV's 117 k LUTs; each core's activation memory (16 tokens x 6,912 int8 = 108 KB) in UltraRAM, 1.7 of its 2.3 MB; the 16 AXI masters share the PS DDR through SmartConnect onto the HP ports",
  mmax: 16,
  link: {
    name: 'PS DDR: the PL writes results and reads activations over the HP ports',
    bytesPerSecond: 4 * GB,
    perMatmulSeconds: 2e-6,
    why: 'assumed: 128-bit HP ports at 250 MHz (4 GB/s); the A53 polls a done word; at M = 16 the results are about 8 % of the weight bytes on the same DDR, not counted against the DRAM',
  },
};

/** One batch size of a serving projection. */
export interface ServeRow {
  readonly M: number;
  readonly stepSeconds: number;
  /** Tokens/s of all M sequences together, and of each. */
  readonly aggregate: number;
  readonly perStream: number;
  /** aggregate / aggregate at M = 1. */
  readonly speedup: number;
  readonly limit: string;
}

/** Steps of M = each of `batches` sequences on the serving board, link in series (as projectDecode's end-to-end figure). */
export function projectServe(b: Board, shape: CoreShape, batches: readonly number[]): ServeRow[] {
  const t1 = stepSeconds(b, shape, 1);
  const one = 1 / (t1.board + t1.link);
  return batches.map((M) => {
    const t = stepSeconds(b, shape, M);
    const step = t.board + t.link;
    const aggregate = M / step;
    const limit = t.link > t.board ? 'host link' : t.dram >= t.array ? 'DRAM' : 'ports x Fmax';
    return { M, stepSeconds: step, aggregate, perStream: 1 / step, speedup: aggregate / one, limit };
  });
}

/** The serving projection as `bench core` records it: one record per batch size. */
export function serveRecords(b: Board, rows: readonly ServeRow[]): { metric: string; value: number; unit: string; config: Record<string, string | number | boolean> }[] {
  const c = b.core;
  return rows.map((r) => ({
    metric: 'core.serve_projection',
    value: r.aggregate,
    unit: 'tokens/s',
    config: { board: b.name, core: `${b.cores ?? b.channels} x ${c.rows}x${c.cols} f${c.format} ${c.ports}x${c.dram}b mmax ${b.mmax ?? 1} @${b.fmaxHz / 1e6} MHz`, cores_why: b.coresWhy ?? '', link: b.link.name, link_why: b.link.why, M: r.M, step_ms: r.stepSeconds * 1e3, per_stream_tokens_per_s: r.perStream, vs_M1: r.speedup, binds: r.limit, host_compute: "the host's attention, norms and head for M sequences not counted" },
  }));
}

export interface Projection {
  readonly board: string;
  /** Weight tiles of one token, every core together. */
  readonly tiles: number;
  /** Bytes read from DRAM per token (tiles x movedBytes), and of that, weights (tiles x wordBytes). */
  readonly bytesMoved: number;
  readonly weightBytes: number;
  /** Whether the tiles fit the board's DRAM. */
  readonly fits: boolean;
  /** Seconds per token: the board's matmuls, and of that what the array (ports x Fmax) and DRAM would take alone; the link. */
  readonly boardSeconds: number;
  readonly arraySeconds: number;
  readonly dramSeconds: number;
  readonly linkSeconds: number;
  /** Tokens/s of the board's matmuls alone, and with the link in series. */
  readonly tokensPerSecond: number;
  readonly tokensPerSecondWithLink: number;
  /** What binds the board figure ('DRAM' or 'ports x Fmax'), and the end-to-end one. */
  readonly boardLimit: string;
  readonly limit: string;
  /** Bytes/s the ports can carry (ports x data/8 x Fmax, every core) and the DRAM sustains (every channel). */
  readonly portRate: number;
  readonly dramRate: number;
}

/** Weight tiles one decoded token reads: every BitLinear of every layer (the LM head is the host's). */
export function tokenTiles(shape: CoreShape): number {
  let tiles = 0;
  for (const p of BITNET_2B_PROJECTIONS) tiles += nTiles(shape, p.N) * kTiles(shape, p.K) * BITNET_2B_LAYERS;
  return tiles;
}

/**
 * One BitLinear (K inputs, N outputs) for M tokens on the board: seconds of the board, and of
 * the array and the DRAM alone. A run takes up to mmax tokens and reads each of its tiles once,
 * using it for every token (the weight-stationary loop), so a tile costs max(tokens, beats per
 * tile) array cycles and its bytes once per run; the busiest core's share of n-tiles sets the
 * time, and cores sharing a channel share its bandwidth.
 */
export function runSeconds(b: Board, shape: CoreShape, M: number, K: number, N: number): { board: number; array: number; dram: number } {
  const d = shape.dram;
  if (!d) throw new Error(`projection: the ${b.name} core keeps its weights on chip; the projection is for weights in DRAM`);
  const F = b.fmaxHz;
  const cores = b.cores ?? b.channels;
  const mmax = b.mmax ?? 1;
  const beatsPerSlot = (d.stride * 8) / d.data;
  const sustained = (b.peakPerChannel * b.efficiency * b.channels) / cores; // each core's part of the DRAM
  const share = Math.ceil(nTiles(shape, N) / cores) * kTiles(shape, K); // tiles of the busiest core
  const overhead = (pipelineCycles(shape.rows) + b.latencyCycles) / F;
  let board = 0;
  let array = 0;
  let dram = 0;
  for (let m0 = 0; m0 < M; m0 += mmax) {
    const a = (share * Math.max(Math.min(mmax, M - m0), beatsPerSlot)) / F;
    const m = (share * d.movedBytes) / sustained;
    board += Math.max(a, m) + overhead;
    array += a + overhead;
    dram += m + overhead;
  }
  return { board, array, dram };
}

/** One MATMUL's wire time on the board's link (its bytes at the link's rate, plus its fixed cost per round trip). */
export function linkSeconds(b: Board, shape: CoreShape, M: number, K: number, N: number): number {
  return matmulWireBytes(shape, M, K, N).wire / b.link.bytesPerSecond + b.link.perMatmulSeconds;
}

/**
 * One decode step of M sequences (M = 1: plain decode) on the board: seconds of the board's
 * matmuls (every projection's run, runSeconds), of the array and the DRAM alone, and of the
 * link (the fused matmuls the host sends).
 */
export function stepSeconds(b: Board, shape: CoreShape, M: number): { board: number; array: number; dram: number; link: number } {
  let board = 0;
  let array = 0;
  let dram = 0;
  for (const p of BITNET_2B_PROJECTIONS) {
    const r = runSeconds(b, shape, M, p.K, p.N);
    board += r.board * BITNET_2B_LAYERS;
    array += r.array * BITNET_2B_LAYERS;
    dram += r.dram * BITNET_2B_LAYERS;
  }
  let link = 0;
  for (const mm of BITNET_2B_MATMULS) link += linkSeconds(b, shape, M, mm.K, mm.N) * BITNET_2B_LAYERS;
  return { board, array, dram, link };
}

/** The projection of one board, with `shape` the core its `core` field describes (from the manifest code). */
export function projectDecode(b: Board, shape: CoreShape): Projection {
  const d = shape.dram!;
  const F = b.fmaxHz;
  const sustained = b.peakPerChannel * b.efficiency;
  const tiles = tokenTiles(shape);
  const { board, array, dram, link } = stepSeconds(b, shape, 1);
  const bytesMoved = tiles * d.movedBytes;
  const fits = bytesMoved <= b.capacity;
  const boardLimit = dram >= array ? 'DRAM' : 'ports x Fmax';
  const binds = link > board ? 'host link' : boardLimit;
  const limit = fits ? binds : `${binds}; and ${(bytesMoved / 1e6).toFixed(0)} MB of tiles > ${(b.capacity / 1e6).toFixed(0)} MB of DRAM`;
  return {
    board: b.name,
    tiles,
    bytesMoved,
    weightBytes: tiles * d.wordBytes,
    fits,
    boardSeconds: board,
    arraySeconds: array,
    dramSeconds: dram,
    linkSeconds: link,
    tokensPerSecond: 1 / board,
    tokensPerSecondWithLink: 1 / (board + link),
    boardLimit,
    limit,
    portRate: d.ports * (d.data / 8) * F * (b.cores ?? b.channels),
    dramRate: sustained * b.channels,
  };
}

/** A projection as `bench core` records it (metric, value in tokens/s, and the figures behind it). */
export function projectionRecord(b: Board, p: Projection): { metric: string; value: number; unit: string; config: Record<string, string | number | boolean> } {
  const c = b.core;
  return {
    metric: 'core.decode_projection',
    value: p.tokensPerSecond,
    unit: 'tokens/s',
    config: {
      board: b.name,
      core: `${c.rows}x${c.cols} f${c.format} ${c.ports}x${c.dram}b${b.channels > 1 ? ` x${b.channels} cores` : ''} @${b.fmaxHz / 1e6} MHz`,
      memory: b.memory,
      peak_GBps: (b.peakPerChannel * b.channels) / GB,
      efficiency: b.efficiency,
      efficiency_why: b.efficiencyWhy,
      dram_GBps: p.dramRate / GB,
      ports_GBps: p.portRate / GB,
      fmax_why: b.fmaxWhy,
      latency_cycles: b.latencyCycles,
      latency_why: b.latencyWhy,
      bytes_per_token: p.bytesMoved,
      weight_bytes_per_token: p.weightBytes,
      fits: p.fits,
      binds: p.boardLimit,
      link: b.link.name,
      link_why: b.link.why,
      link_ms_per_token: p.linkSeconds * 1e3,
      with_link_tokens_per_s: p.tokensPerSecondWithLink,
      end_to_end_binds: p.limit,
      lm_head: 'on the host (not counted)',
    },
  };
}

/** The projection records (projectionRecord) as a small text table: what `bench core` prints after its records. */
export function projectionTable(records: readonly { metric: string; value: number; config: Record<string, unknown> }[]): string | undefined {
  const rows = records.filter((r) => r.metric === 'core.decode_projection');
  if (!rows.length) return undefined;
  const head = ['board', 'core', 'DRAM sustained', 'ports x Fmax', 'MB/token', 'tok/s board', 'binds', 'tok/s +link', 'binds'];
  const gbs = (v: unknown): string => `${(v as number).toFixed(1)} GB/s`;
  const body = rows.map(({ value, config: c }) => [
    String(c.board),
    String(c.core),
    `${gbs(c.dram_GBps)} (${String(c.efficiency)} x ${gbs(c.peak_GBps)})`,
    gbs(c.ports_GBps),
    ((c.bytes_per_token as number) / 1e6).toFixed(0),
    value.toFixed(1),
    String(c.binds),
    (c.with_link_tokens_per_s as number).toFixed((c.with_link_tokens_per_s as number) < 10 ? 2 : 1),
    String(c.end_to_end_binds),
  ]);
  return ['decode projection, BitNet b1.58 2B-4T (30 layers x 7 BitLinears; LM head on the host):', ...textTable(head, body), ...serveTable(records)].join('\n');
}

/** A header, a rule and the rows, each column as wide as its widest cell. */
export function textTable(head: readonly string[], body: readonly string[][]): string[] {
  const all = [head, ...body];
  const w = head.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: readonly string[]): string => r.map((x, i) => x.padEnd(w[i]!)).join('  ').trimEnd();
  return [line(head), line(w.map((n) => '-'.repeat(n))), ...body.map(line)];
}

/** The serving projection's records (serveRecords) as table lines, for `bench core` and `bench serve`. */
export function serveTable(records: readonly { metric: string; value: number; config: Record<string, unknown> }[]): string[] {
  const rows = records.filter((r) => r.metric === 'core.serve_projection');
  if (!rows.length) return [];
  const c0 = rows[0]!.config;
  const head = ['sequences', 'step ms', 'tok/s all', 'tok/s each', 'vs 1', 'binds'];
  const body = rows.map(({ value, config: c }) => [String(c.M), (c.step_ms as number).toFixed(1), value.toFixed(1), (c.per_stream_tokens_per_s as number).toFixed(1), `${(c.vs_M1 as number).toFixed(2)}x`, String(c.binds)]);
  return ['', `batched decode projection, ${String(c0.board)}: ${String(c0.core)}; link in series; ${String(c0.host_compute)}:`, ...textTable(head, body)];
}
