// `bench host`: tokens/s of each backend on a small model (same model, same prompt, one
// run), and the CPU path on one layer of BitNet b1.58 2B-4T shape with random weights: ms
// per layer, the BitLinear kernel against the plain integer loop side by side, and tokens/s
// extrapolated to 30 layers (the output head is left out and named so).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeModel } from '../model/make-model.ts';
import { loadModel } from '../model/load.ts';
import { bitLinears, PROJECTIONS, projectionShape, type BitNetModel, type LayerWeights, type Projection } from '../model/model.ts';
import { emptyTernary, setTrit, unpackTernary, type PackedTernary } from '../model/ternary.ts';
import type { BitNetConfig } from '../model/config.ts';
import { f32Matrix } from '../model/float-matrix.ts';
import { CpuBackend } from '../backends/cpu.ts';
import { readBoardManifest, selectBackend } from '../backends/select.ts';
import type { BitLinearBackend } from '../backends/backend.ts';
import { generate } from '../infer/generate.ts';
import { Transformer } from '../infer/transformer.ts';
import { TernaryKernel } from '../infer/cpu-kernel.ts';
import { ternaryMatmul } from '../matmul/reference.ts';
import type { BenchRecord } from '../../sim/bench/sim-bench.ts';
import { XorShift32 } from '../../sim/tb/rng.ts';

const BITNET_2B: BitNetConfig = { hidden: 2560, layers: 1, heads: 20, kvHeads: 5, headDim: 128, intermediate: 6912, vocab: 256, maxPositions: 256, ropeTheta: 500000, eps: 1e-5, tied: true, eos: [], linearClass: 'bitlinear', quantMode: 'offline', actBits: 8 };

function randomTernary(name: string, N: number, K: number, rng: XorShift32): PackedTernary {
  const w = emptyTernary(name, N, K, { op: 'div', value: Math.sqrt(K) });
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) setTrit(w, n, k, (rng.next() % 3) - 1);
  return w;
}

function oneLayerModel(c: BitNetConfig): BitNetModel {
  // Seeded (the bench must not depend on Math.random).
  const rng = new XorShift32(2026);
  const ones = (n: number): Float32Array => new Float32Array(n).fill(1);
  const proj = Object.fromEntries(PROJECTIONS.map((p) => [p, randomTernary(p, ...projectionShape(c, p), rng)])) as Record<Projection, PackedTernary>;
  const layer: LayerWeights = { inputNorm: ones(c.hidden), postNorm: ones(c.hidden), attnSubNorm: ones(c.hidden), ffnSubNorm: ones(c.intermediate), proj };
  const embed = f32Matrix(c.vocab, c.hidden, Float32Array.from({ length: c.vocab * c.hidden }, () => (rng.next() / 2 ** 32 - 0.5) * 0.1));
  return { config: c, embed, norm: ones(c.hidden), lmHead: embed, layers: [layer], source: { path: '(in memory)', format: 'random 2B-4T layer' } };
}

export async function hostBench(opts: { log?: (s: string) => void; tokens?: number } = {}): Promise<BenchRecord[]> {
  const log = opts.log ?? ((s: string) => console.error(s));
  const out: BenchRecord[] = [];
  const rec = (metric: string, value: number, unit: string, config: Record<string, unknown>): void => {
    out.push({ metric, value, unit, config });
    log(`${metric}: ${value.toFixed(2)} ${unit}`);
  };

  // 1. Every backend on one small model.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bitnet-bench-model-'));
  makeModel(dir, { seed: 1 });
  const model = loadModel(dir);
  const n = opts.tokens ?? 16;
  const prompt = Array.from({ length: 16 }, (_, i) => 32 + i);
  const small = { hidden: model.config.hidden, layers: model.config.layers, intermediate: model.config.intermediate, prompt: prompt.length, generated: n };
  const { startBoardPty } = await import('../../sim/board-pty.ts');
  const boardParams = { ...readBoardManifest().params, wdepth: 2048 };
  const pty = await startBoardPty(boardParams, { build: { log: () => {} } });
  try {
    const specs: [string, () => Promise<BitLinearBackend>][] = [
      ['cpu', async () => new CpuBackend()],
      ['sim', () => selectBackend('sim:wdepth=2048', { log: () => {} })],
      ['uart (board-sim pty)', () => selectBackend(`uart:${pty.path}`, { boardManifest: pty.manifestPath })],
    ];
    for (const [name, make] of specs) {
      const be = await make();
      try {
        const t0 = performance.now();
        await be.load(bitLinears(model));
        const loadMs = performance.now() - t0;
        const g = await generate(model, be, prompt, { n, temperature: 0 });
        const t = g.timings;
        rec(`host.small.${name}.prompt_eval`, (1000 * t.promptTokens) / t.promptMs, 'tokens/s', { ...small, backend: be.name });
        rec(`host.small.${name}.eval`, (1000 * t.evalRuns) / t.evalMs, 'tokens/s', { ...small, backend: be.name });
        rec(`host.small.${name}.load`, loadMs, 'ms', { weightBytes: g.offload.weightBytesSent });
        if (g.offload.lanes) rec(`host.small.${name}.link_bytes_per_token`, (g.offload.bytesOut + g.offload.bytesIn - g.offload.weightBytesSent) / (t.promptTokens + t.evalRuns), 'bytes', {});
      } finally {
        await be.close();
      }
    }
  } finally {
    await pty.close();
  }

  // 2. The CPU path on one BitNet b1.58 2B-4T layer (random weights).
  const c = BITNET_2B;
  const big = oneLayerModel(c);
  const cfg = { hidden: c.hidden, heads: c.heads, kvHeads: c.kvHeads, intermediate: c.intermediate, layers: 'one of 30' };
  const kernel = new TernaryKernel();
  const rng = new XorShift32(7);
  let lutMs = 0;
  let refMs = 0;
  // Warm both loops up on a small shape first, so neither is timed while the JIT compiles it.
  const warm = randomTernary('warm', 64, 256, rng);
  const wx = Int8Array.from({ length: 256 }, () => (rng.next() % 256) - 128);
  for (let i = 0; i < 20; i++) {
    kernel.matmul(warm, wx, 1);
    ternaryMatmul({ rows: 1, cols: 256, data: wx }, unpackTernary(warm));
  }
  for (const p of PROJECTIONS) {
    const w = big.layers[0]!.proj[p];
    const x = Int8Array.from({ length: w.cols }, () => (rng.next() % 256) - 128);
    const dense = unpackTernary(w);
    kernel.matmul(w, x, 1); // warm up
    let t0 = performance.now();
    const reps = 5;
    for (let r = 0; r < reps; r++) kernel.matmul(w, x, 1);
    const lut = (performance.now() - t0) / reps;
    t0 = performance.now();
    ternaryMatmul({ rows: 1, cols: w.cols, data: x }, dense);
    const ref = performance.now() - t0;
    lutMs += lut;
    refMs += ref;
    rec(`host.2b.bitlinear.${p}`, lut, 'ms', { N: w.rows, K: w.cols, M: 1, kernel: 'lookup table (packed 2-bit)' });
  }
  rec('host.2b.bitlinear.layer', lutMs, 'ms', { ...cfg, M: 1, kernel: 'lookup table' });
  rec('host.2b.bitlinear.layer.reference_loop', refMs, 'ms', { ...cfg, M: 1, kernel: 'plain int8 loop (reference.ts)' });
  rec('host.2b.bitlinear.speedup_vs_reference', refMs / lutMs, 'x', { measured: 'side by side, one run' });
  const cpu = new CpuBackend();
  await cpu.load(bitLinears(big));
  const tr = new Transformer(big, cpu, 64);
  await tr.forward(Array.from({ length: 8 }, (_, i) => i)); // some context, and warm-up
  const steps = 5;
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await tr.forward([i]);
  const layerMs = (performance.now() - t0) / steps;
  rec('host.2b.cpu.layer_decode', layerMs, 'ms', { ...cfg, context: '8..13 tokens', includes: 'norms, attention, BitLinears (not the output head)' });
  rec('host.2b.cpu.tokens_per_s_30_layers', 1000 / (30 * layerMs), 'tokens/s', { extrapolated: '30 x one layer', excludes: 'output head (128256 x 2560) and embedding' });
  fs.rmSync(dir, { recursive: true, force: true });
  return out;
}
