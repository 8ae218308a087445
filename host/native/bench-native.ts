// Measure the native kernels on BitNet-2B-4T shapes (run by hand):
//   npx tsx host/native/bench-native.ts [--quick] [--no-js] [--no-head]
// Prints ms per call, weight GB/s, GMAC/s, the whole 30-layer decode sweep over distinct
// weights (what a token really reads from memory), the head per token, the koffi call
// overhead, and the JS TernaryKernel / JS matVecJs and a plain C++ loop on the same shapes.
// The machine's other load shows up in these numbers: run it on a quiet machine.

import { randomFillSync } from 'node:crypto';
import * as os from 'node:os';
import { loadNative } from './native.ts';
import { TernaryKernel } from '../infer/cpu-kernel.ts';
import { f32Matrix, matVecJs } from '../model/float-matrix.ts';
import type { PackedTernary } from '../model/ternary.ts';

const args = new Set(process.argv.slice(2));
const quick = args.has('--quick');
const withJs = !args.has('--no-js');
const withHead = !args.has('--no-head');

const nk = loadNative();
if (!nk) throw new Error('native kernels unavailable');
const maxThreads = os.availableParallelism();
const threadList = maxThreads > 1 ? [1, maxThreads] : [1];

const HIDDEN = 2560;
const FFN = 6912;
const KV = 640;
const LAYERS = 30;
const VOCAB = 128256;
const M = 128;
/** llama.cpp on this machine (2 threads), from the brief. */
const LLAMA_TG = 12.85;
const LLAMA_PP = 38.85;

/** Best and median ms of repeated runs after a warm-up, within a time budget. */
function time(fn: () => void, minReps = 5, budgetMs = quick ? 300 : 1500): { best: number; median: number } {
  fn();
  const ts: number[] = [];
  const t0 = performance.now();
  while (ts.length < minReps || (performance.now() - t0 < budgetMs && ts.length < 500)) {
    const a = performance.now();
    fn();
    ts.push(performance.now() - a);
  }
  ts.sort((a, b) => a - b);
  return { best: ts[0]!, median: ts[Math.floor(ts.length / 2)]! };
}

function randomTernary(N: number, K: number): PackedTernary {
  const stride = Math.ceil(K / 4);
  const codes = new Uint8Array(N * stride);
  randomFillSync(codes);
  for (let i = 0; i < codes.length; i++) {
    const b = codes[i]!;
    let o = 0;
    for (let l = 0; l < 4; l++) {
      const c = (b >> (2 * l)) & 3;
      o |= (c === 3 ? 1 : c) << (2 * l); // codes 0..2
    }
    codes[i] = o;
  }
  return { name: `w${N}x${K}`, rows: N, cols: K, stride, codes, scale: { op: 'div', value: 1 } };
}

function randomActs(n: number): Int8Array {
  const x = new Int8Array(n);
  randomFillSync(x);
  return x;
}

const f = (v: number, d = 2): string => v.toFixed(d);
const pad = (s: string, n: number): string => s.padStart(n);

console.log(`native kernels: isa ${nk.isa}, ${maxThreads} threads, ${nk.library}`);
console.log('(ms are the best of repeated runs; "hot" = the same matrix again and again, so it may sit in the CPU caches)');

// --- memory bandwidth --------------------------------------------------------------------
{
  const buf = new Uint8Array(1 << 30);
  buf.fill(1);
  const line: string[] = [];
  for (const t of threadList) {
    const { best } = time(() => nk.debug.streamRead(buf, buf.length, t), 3, 1000);
    line.push(`${t} thread${t > 1 ? 's' : ''} ${f(buf.length / best / 1e6, 1)} GB/s`);
  }
  console.log(`memory read (1 GiB, AVX-512 loads + prefetch): ${line.join(', ')}`);
}

// --- koffi call overhead -----------------------------------------------------------------
{
  const small = new Uint8Array(64);
  const big = new Uint8Array(1 << 28);
  const n = 200_000;
  const loop = (fn: () => void): number => {
    for (let i = 0; i < 2000; i++) fn();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn();
    return ((performance.now() - t0) / n) * 1e3;
  };
  const noop = loop(() => nk.debug.noop(small));
  const noopBig = loop(() => nk.debug.noop(big));
  const codes = new Uint8Array(1);
  const x = new Int8Array(4);
  const y = new Int32Array(1);
  const tiny = loop(() => nk.ternaryGemm(codes, 1, 4, 1, x, 1, y));
  nk.setThreads(maxThreads);
  const par = loop(() => nk.debug.parallelNoop());
  console.log(
    `koffi call: ${f(noop, 3)} µs with a 64 B typed array, ${f(noopBig, 3)} µs with 256 MB (no copy); ` +
      `ternaryGemm 1x4 incl. TS checks ${f(tiny, 3)} µs; an empty job on the ${maxThreads}-thread pool ${f(par, 2)} µs`,
  );
}

// --- ternary: per shape ------------------------------------------------------------------
const shapes: [string, number, number][] = [
  ['q,o 2560x2560', HIDDEN, HIDDEN],
  ['k,v 640x2560', KV, HIDDEN],
  ['gate,up 6912x2560', FFN, HIDDEN],
  ['down 2560x6912', HIDDEN, FFN],
];
/** Per layer: q, o, k, v, gate, up, down. */
const perLayer = [0, 0, 1, 1, 2, 2, 3];
const js = new TernaryKernel();
const weights = shapes.map(([, N, K]) => randomTernary(N, K));
const jsGemv: number[] = [];
const jsGemm: number[] = [];
const natGemv: number[][] = [];
const natGemm: number[][] = [];

console.log('\nternary GEMV, M = 1, hot (N x K)');
console.log(`${'shape'.padEnd(19)}${threadList.map((t) => `${pad(`${t}t ms`, 9)}${pad('GB/s', 7)}`).join('')}${pad('C++ loop', 10)}${withJs ? pad('JS ms', 9) + pad('JS/native', 11) : ''}`);
for (const [si, [name, N, K]] of shapes.entries()) {
  const w = weights[si]!;
  const x = randomActs(M * K);
  const y = new Int32Array(M * N);
  const row: number[] = [];
  let line = name.padEnd(19);
  for (const t of threadList) {
    nk.setThreads(t);
    const { best } = time(() => nk.ternaryGemm(w.codes, N, K, w.stride, x, 1, y), 20);
    row.push(best);
    line += `${pad(f(best, 3), 9)}${pad(f(w.codes.length / best / 1e6, 1), 7)}`;
  }
  natGemv.push(row);
  const ref = time(() => nk.debug.refTernary(w.codes, N, K, w.stride, x, 1, y), 3, 300).best;
  line += pad(f(ref, 2), 10);
  if (withJs) {
    const j = time(() => js.matmul(w, x, 1, y), 3, 300).best;
    jsGemv.push(j);
    line += `${pad(f(j, 2), 9)}${pad(f(j / row[row.length - 1]!, 0), 11)}`;
  }
  console.log(line);
}

console.log(`\nternary GEMM, M = ${M} (prompt), hot`);
console.log(`${'shape'.padEnd(19)}${threadList.map((t) => `${pad(`${t}t ms`, 9)}${pad('GMAC/s', 8)}`).join('')}${pad('C++ loop', 10)}${withJs ? pad('JS ms', 9) + pad('JS/native', 11) : ''}`);
for (const [si, [name, N, K]] of shapes.entries()) {
  const w = weights[si]!;
  const x = randomActs(M * K);
  const y = new Int32Array(M * N);
  const row: number[] = [];
  let line = name.padEnd(19);
  for (const t of threadList) {
    nk.setThreads(t);
    const { best } = time(() => nk.ternaryGemm(w.codes, N, K, w.stride, x, M, y), 5);
    row.push(best);
    line += `${pad(f(best, 2), 9)}${pad(f((M * N * K) / best / 1e6, 0), 8)}`;
  }
  natGemm.push(row);
  // The C++ loop and JS on 8 rows, scaled to M.
  const ref = (time(() => nk.debug.refTernary(w.codes, N, K, w.stride, x, 8, y), 2, 300).best * M) / 8;
  line += pad(f(ref, 0), 10);
  if (withJs) {
    const j = (time(() => js.matmul(w, x, 8, y), 2, 300).best * M) / 8;
    jsGemm.push(j);
    line += `${pad(f(j, 0), 9)}${pad(f(j / row[row.length - 1]!, 0), 11)}`;
  }
  console.log(line);
}

// --- ternary: the whole model, distinct weights per layer --------------------------------
const sweepMs: number[] = [];
const sweepPpMs: number[] = [];
{
  const layers = Array.from({ length: LAYERS }, () => perLayer.map((i) => ({ ...weights[i]!, codes: weights[i]!.codes.slice() })));
  const bytes = layers.reduce((s, l) => s + l.reduce((t, w) => t + w.codes.length, 0), 0);
  const x1 = randomActs(FFN);
  const xM = randomActs(M * FFN);
  const y = new Int32Array(M * FFN);
  console.log(`\nwhole model: ${LAYERS} layers x 7 BitLinears, distinct weights (${f(bytes / 1e6, 0)} MB, read from DRAM)`);
  for (const t of threadList) {
    nk.setThreads(t);
    const sweep = (m: number, x: Int8Array): void => {
      for (const l of layers) for (const w of l) nk.ternaryGemm(w.codes, w.rows, w.cols, w.stride, x, m, y);
    };
    const dec = time(() => sweep(1, x1), 5, quick ? 500 : 3000).best;
    const pp = time(() => sweep(M, xM), 1, quick ? 500 : 3000).best;
    sweepMs.push(dec);
    sweepPpMs.push(pp);
    console.log(
      `  ${t} thread${t > 1 ? 's' : ''}: decode ${f(dec, 2)} ms per token (${f(bytes / dec / 1e6, 1)} GB/s, ${f(1000 / dec, 1)} tok/s BitLinears only); ` +
        `prompt ${f(pp, 0)} ms per ${M} tokens (${f((M * 1000) / pp, 1)} tok/s, ${f((M * bytes * 4) / pp / 1e6, 0)} GMAC/s)`,
    );
  }
  if (withJs) {
    const jsDec = perLayer.reduce((s, i) => s + jsGemv[i]!, 0) * LAYERS;
    const jsPp = perLayer.reduce((s, i) => s + jsGemm[i]!, 0) * LAYERS;
    console.log(`  JS TernaryKernel (from the per-shape times): decode ${f(jsDec, 0)} ms per token, prompt ${f(jsPp / 1000, 1)} s per ${M} tokens; native/JS = ${f(jsDec / sweepMs[sweepMs.length - 1]!, 0)}x decode, ${f(jsPp / sweepPpMs[sweepPpMs.length - 1]!, 0)}x prompt`);
  }
}

// --- the head ----------------------------------------------------------------------------
const headMs: Record<string, number[]> = {};
if (withHead) {
  const rows = quick ? VOCAB / 4 : VOCAB;
  const cols = HIDDEN;
  console.log(`\nhead ${rows}x${cols}${quick ? ' (a quarter of the vocabulary, --quick)' : ''}, M = 1, read from DRAM`);
  const bits = new Uint16Array(rows * cols);
  randomFillSync(bits);
  const f16 = new Uint16Array(rows * cols);
  for (let i = 0; i < bits.length; i++) {
    const r = bits[i]!;
    f16[i] = (r & 0x83ff) | 0x2400; // |w| in [2^-6, 2^-5)
    bits[i] = (r & 0x807f) | 0x3c00; // |w| in [2^-7, 2^-6)
  }
  const x = Float32Array.from({ length: 8 * cols }, (_, i) => Math.sin(i * 0.37));
  const out = new Float32Array(8 * rows);
  nk.setThreads(maxThreads);
  const tq = performance.now();
  const q8 = nk.quantizeQ8('bf16', bits, rows, cols);
  console.log(`  quantizeQ8 bf16 -> q8: ${f(performance.now() - tq, 0)} ms (${maxThreads} threads)`);
  const cases: [string, () => void, number][] = [
    ['bf16', () => nk.matvec('bf16', bits, rows, cols, x, 1, out), bits.byteLength],
    ['f16', () => nk.matvec('f16', f16, rows, cols, x, 1, out), f16.byteLength],
    ['q8', () => nk.matvec('q8', q8.w8, rows, cols, x, 1, out, q8.scales), q8.w8.byteLength + q8.scales.byteLength],
  ];
  for (const [name, fn, bytes] of cases) {
    let line = `  ${name.padEnd(5)}`;
    headMs[name] = [];
    for (const t of threadList) {
      nk.setThreads(t);
      const { best } = time(fn, 5);
      headMs[name]!.push(best);
      line += `  ${t}t: ${pad(f(best, 2), 7)} ms/token ${pad(f(bytes / best / 1e6, 1), 5)} GB/s`;
    }
    console.log(line);
  }
  nk.setThreads(maxThreads);
  const m8 = time(() => nk.matvec('bf16', bits, rows, cols, x, 8, out), 3).best;
  console.log(`  bf16 M=8 (W read once for all 8 rows), ${maxThreads}t: ${f(m8, 2)} ms = ${f(m8 / headMs.bf16![headMs.bf16!.length - 1]!, 2)}x M=1`);
  const ref = time(() => nk.debug.refMatvecBf16(bits, rows, cols, x, out), 2, 300).best;
  console.log(`  bf16 plain C++ loop, 1 thread: ${f(ref, 1)} ms`);
  if (withJs) {
    // The JS head (matVecJs) on float32 weights, on 1/16 of the rows, scaled.
    const part = Math.floor(rows / 16);
    const wf = new Float32Array(part * cols);
    const u32 = new Uint32Array(wf.buffer);
    for (let i = 0; i < wf.length; i++) u32[i] = bits[i]! << 16;
    const o = new Float32Array(part);
    const wm = f32Matrix(part, cols, wf);
    const j = time(() => matVecJs(wm, x, 1, o), 2, 500).best * (rows / part);
    console.log(`  JS matVecJs (float32 W, float-matrix.ts): ${f(j, 0)} ms per token = ${f(j / headMs.bf16![headMs.bf16!.length - 1]!, 0)}x native bf16`);
  }
}

// --- summary ------------------------------------------------------------------------------
if (withHead && !quick) {
  console.log(`\nper token, ${maxThreads} threads (BitLinears + head only; attention, norms etc. not included):`);
  const dec = sweepMs[sweepMs.length - 1]!;
  for (const h of ['bf16', 'f16', 'q8']) {
    const ms = dec + headMs[h]![headMs[h]!.length - 1]!;
    console.log(`  ${h.padEnd(5)} head: ${f(ms, 1)} ms = ${f(1000 / ms, 1)} tok/s (llama.cpp tg: ${LLAMA_TG} tok/s, ratio ${f(1000 / ms / LLAMA_TG, 2)})`);
  }
  const pp = sweepPpMs[sweepPpMs.length - 1]!;
  console.log(`  prompt, ${M} tokens (BitLinears only): ${f((M * 1000) / pp, 1)} tok/s (llama.cpp pp128: ${LLAMA_PP} tok/s, ratio ${f((M * 1000) / pp / LLAMA_PP, 2)})`);
}
nk.setThreads(maxThreads);
