// `bench link`: what the link costs. From the frame layout (host/link/PROTOCOL.md), the
// bytes on the wire per matmul and per token for the BitNet b1.58 2B-4T shapes against the
// minimum any protocol needs (int8 activations in, int32 results out), and what that means
// at the configured baud; then the throughput measured through board-sim's pseudo-terminal.
//
// It lives in host/, not sim/: it measures the host's link client and serial transport
// (what `run --backend uart` uses) against a simulated board, and host/ may import sim/ (board-sim)
// while sim/ imports nothing from host/.

import { BITNET_2B_SHAPES, BITNET_2B_LAYERS as LAYERS, BITNET_2B_PROJECTIONS as PROJECTIONS, matmulWireBytes } from '../../common/perf.ts';
import { coreShape, shapeFromIdentity } from '../../common/core-layout.ts';
import { LinkClient } from '../link/client.ts';
import { openSerial } from '../link/serial.ts';
import { matrix } from '../../common/reference.ts';
import { startBoardPty } from '../../sim/board-pty.ts';
import type { BenchRecord } from '../../sim/bench/sim-bench.ts';

export async function linkBench(opts: { log?: (s: string) => void; baud?: number } = {}): Promise<BenchRecord[]> {
  const log = opts.log ?? ((s: string) => process.stderr.write(`[bench] ${s}\n`));
  const baud = opts.baud ?? 115_200;
  // rtl/ternary_core's configuration, its widths derived as the generator derives them.
  const shape = shapeFromIdentity({ rows: 16, cols: 16, act: 8, format: 2, kmax: 8192, mmax: 16, wdepth: 1024 });
  const out: BenchRecord[] = [];
  for (const l of BITNET_2B_SHAPES) {
    const b = matmulWireBytes(shape, 1, l.K, l.N);
    out.push({ metric: 'link.bytes_per_matmul', value: b.wire, unit: 'bytes', config: { layer: l.name, M: 1, minimum: b.minimum, overhead: b.wire / b.minimum } });
  }
  let wire = 0;
  let minimum = 0;
  for (const p of PROJECTIONS) {
    const b = matmulWireBytes(shape, 1, p.K, p.N);
    wire += b.wire * LAYERS;
    minimum += b.minimum * LAYERS;
  }
  out.push({ metric: 'link.bytes_per_token', value: wire, unit: 'bytes', config: { model: 'BitNet b1.58 2B-4T (30 layers x 7 projections, decode)', minimum, overhead: wire / minimum } });
  out.push({ metric: 'link.tokens_per_second_bound', value: baud / 10 / wire, unit: 'tokens/s', config: { baud, note: '8N1: 10 bits per byte; the link alone, before any compute' } });

  // Measured: MATMULs through board-sim's pseudo-terminal (not rate-limited by a baud rate).
  const board = await startBoardPty({}, { build: { log } });
  try {
    const sim = board.sim;
    const client = new LinkClient(await openSerial(board.path, baud), { timeoutMs: 10_000 });
    const s = coreShape(sim.manifest, 'rtl/board');
    const id = await client.identify();
    const K = Math.min(256, s.kmax);
    const N = 64;
    await client.writeWeights(s, id.stage, matrix(N, K, new Int8Array(N * K).fill(1), 'W'));
    const x = matrix(1, K, new Int8Array(K).fill(3), 'X');
    const before = client.stats.bytesIn + client.stats.bytesOut;
    const t0 = performance.now();
    const n = 50;
    for (let i = 0; i < n; i++) await client.matmul(s, x, N);
    const seconds = (performance.now() - t0) / 1000;
    const bytes = client.stats.bytesIn + client.stats.bytesOut - before;
    out.push({ metric: 'link.pty_throughput', value: bytes / seconds, unit: 'bytes/s', config: { matmuls: n, K, N, board: sim.manifest.top, note: 'both directions; board-sim simulates each request before answering' } });
    out.push({ metric: 'link.pty_fraction_of_baud', value: (bytes * 10) / seconds / baud, unit: 'ratio', config: { baud, note: 'a pseudo-terminal has no baud limit: above 1 means the simulation, not the line, is the limit' } });
    await client.close();
  } finally {
    await board.close();
  }
  return out;
}
