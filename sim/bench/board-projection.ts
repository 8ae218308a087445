// `bench core`, weights in DRAM without simulation: the bytes a decoded BitNet-2B-4T token
// moves from DRAM under each tile format and shape (the manifest's DRAM layout: a read moves
// whole beats, so a tile that does not fill its beats moves padding), and the per-board
// decode projection (common/projection.ts). The core shapes come from the generator's own
// manifest code (coreExtra), so the layout is the one the RTL reads.

import { coreExtra } from '../../generator/cores/ternary/core.ts';
import { validate, type TernaryParams } from '../../generator/cores/ternary/params.ts';
import { coreShape, type CoreShape } from '../../common/core-layout.ts';
import { BOARDS, SERVING_BOARD, projectDecode, projectionRecord, projectServe, serveRecords, tokenTiles, type ProjectedCore } from '../../common/projection.ts';
import type { BenchRecord } from './sim-bench.ts';

/** The shape (as the manifest says it) of a decode core: kmax for 2B-4T's largest K (6912), mmax tokens a run. */
export function shapeOf(c: ProjectedCore, mmax = 1): CoreShape {
  const p: TernaryParams = { rows: c.rows, cols: c.cols, act: 8, format: c.format, kmax: 8192, mmax, wdepth: 2 ** 23, acc: 0, dram: c.dram, ports: c.ports, maddr: 36 };
  validate(p);
  return coreShape({ extra: coreExtra(p) }, `${c.rows}x${c.cols} f${c.format} core`);
}

/** Bytes per token, format 2 against format 5, on one 512-bit port. */
export function bytesPerToken(): BenchRecord[] {
  const configs: ProjectedCore[] = [
    { rows: 16, cols: 16, format: 2, dram: 512, ports: 1 },
    { rows: 16, cols: 16, format: 5, dram: 512, ports: 1 },
    { rows: 16, cols: 20, format: 5, dram: 512, ports: 1 },
    { rows: 16, cols: 40, format: 5, dram: 512, ports: 2 },
  ];
  const base = shapeOf(configs[0]!);
  const f2 = tokenTiles(base) * base.dram!.movedBytes;
  return configs.map((c) => {
    const s = shapeOf(c);
    const d = s.dram!;
    const tiles = tokenTiles(s);
    const moved = tiles * d.movedBytes;
    return {
      metric: 'core.dram_bytes_per_token',
      value: moved,
      unit: 'bytes',
      config: { rows: c.rows, cols: c.cols, format: c.format, axi: c.dram, ports: c.ports, tiles, moved_per_tile: d.movedBytes, weight_bytes_per_tile: d.wordBytes, fill: d.fill, vs_f2_16x16: moved / f2, model: 'BitNet b1.58 2B-4T, 30 layers x 7 BitLinears, LM head on the host' },
    };
  });
}

/** Decode tokens/s per board (common/projection.ts BOARDS), one record each; then the serving board's batched decode at 1..16 sequences. */
export function boardProjection(): BenchRecord[] {
  return [...bytesPerToken(), ...BOARDS.map((b) => projectionRecord(b, projectDecode(b, shapeOf(b.core)))), ...batchProjection([1, 2, 4, 8, 16])];
}

/**
 * Tokens/s of `serve`'s batched decode on the serving board (common/projection.ts
 * SERVING_BOARD: M sequences a step share each run's weight reads), one record per M.
 */
export function batchProjection(Ms: readonly number[]): BenchRecord[] {
  const b = SERVING_BOARD;
  return serveRecords(b, projectServe(b, shapeOf(b.core, b.mmax), Ms));
}
