// This runtime's pp/tg figures on a model file, measured the way llama-bench measures them
// (and llama-peer.ts measures llama.cpp): the model loaded and the backend set up once, not
// timed; a warm-up pp run and a one-token tg run; then `reps` runs of each on an empty KV
// cache. pp: `pp` prompt tokens in one forward pass (one M-row matmul per projection), the
// logits of the last token computed. tg: `tg` tokens one at a time, each one's logits
// computed and the next token picked greedily. tokens/s is the mean over the runs.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../model/load.ts';
import { bitLinears, type BitNetModel } from '../model/model.ts';
import { Transformer } from '../infer/transformer.ts';
import { argmax } from '../infer/sampler.ts';
import { quantizeHead } from '../infer/head.ts';
import type { BitLinearBackend } from '../backends/backend.ts';

export interface PpTgOptions {
  readonly pp: number;
  readonly tg: number;
  readonly reps?: number;
  readonly headBits?: 8 | 16;
}

export interface PpTgResult {
  loadMs: number;
  ppTokPerS: number;
  tgTokPerS: number;
  ppRuns: number[];
  tgRuns: number[];
  /** Per tg token: ms in the backend's matmuls, and the rest (the host's own work). */
  tgOffloadMsPerToken: number;
  tgHostMsPerToken: number;
  format: string;
}

const mean = (a: number[]): number => a.reduce((x, y) => x + y, 0) / a.length;

/** Load `file` (timed) and measure pp/tg on `backend`. */
export async function ppTgOnFile(file: string, backend: BitLinearBackend, o: PpTgOptions): Promise<PpTgResult> {
  const t0 = performance.now();
  const loaded = loadModel(file);
  const model = o.headBits === 8 ? { ...loaded, lmHead: quantizeHead(loaded.lmHead) } : loaded;
  await backend.load(bitLinears(model));
  const loadMs = performance.now() - t0;
  return { loadMs, ...(await ppTg(model, backend, o)) };
}

export async function ppTg(model: BitNetModel, backend: BitLinearBackend, o: PpTgOptions): Promise<Omit<PpTgResult, 'loadMs'>> {
  const reps = o.reps ?? 5;
  const tr = new Transformer(model, backend, Math.min(model.config.maxPositions, Math.max(o.pp, o.tg) + 1));
  const prompt = Array.from({ length: o.pp }, (_, i) => (1000 + i) % model.config.vocab);
  const runPp = async (): Promise<number> => {
    tr.reset();
    const t = performance.now();
    await tr.forward(prompt);
    return (1000 * o.pp) / (performance.now() - t);
  };
  let offload = 0;
  let host = 0;
  const runTg = async (n: number): Promise<number> => {
    tr.reset();
    let id = 2000 % model.config.vocab;
    const off0 = tr.time.offload;
    const cpu0 = tr.time.cpu;
    const t = performance.now();
    for (let i = 0; i < n; i++) id = argmax(await tr.forward([id]));
    offload = (tr.time.offload - off0) / n;
    host = (tr.time.cpu - cpu0) / n;
    return (1000 * n) / (performance.now() - t);
  };
  await runPp();
  await runTg(1);
  const ppRuns: number[] = [];
  const tgRuns: number[] = [];
  const tgOff: number[] = [];
  const tgHost: number[] = [];
  for (let r = 0; r < reps; r++) ppRuns.push(await runPp());
  for (let r = 0; r < reps; r++) {
    tgRuns.push(await runTg(o.tg));
    tgOff.push(offload);
    tgHost.push(host);
  }
  return { ppTokPerS: mean(ppRuns), tgTokPerS: mean(tgRuns), ppRuns, tgRuns, tgOffloadMsPerToken: mean(tgOff), tgHostMsPerToken: mean(tgHost), format: model.source.format };
}

// ---- in a child process, so its load time and peak RSS are this runtime's alone ----

const CHILD_FLAG = '--pp-tg-child';
const RESULT_MARK = '@@pp-tg-result@@';
const THIS_FILE = fileURLToPath(import.meta.url);

export interface PpTgChildResult extends PpTgResult {
  peakRssMb: number;
  backend: string;
}

/** ppTgOnFile on the cpu backend (`threads` threads) in a child process. */
export async function ppTgChild(file: string, o: PpTgOptions & { threads: number; timeoutMs?: number; log?: (s: string) => void }): Promise<PpTgChildResult> {
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), THIS_FILE, CHILD_FLAG, JSON.stringify({ file, ...o, log: undefined })], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d;
    o.log?.(d.trimEnd());
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 20 * 60_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  const line = out.split('\n').find((l) => l.startsWith(RESULT_MARK));
  if (!line) throw new Error(`the pp/tg process exited with code ${code} before reporting: ${err.trim().split('\n').slice(-4).join(' | ')}`);
  return JSON.parse(line.slice(RESULT_MARK.length)) as PpTgChildResult;
}

if (process.argv[2] === CHILD_FLAG) {
  const spec = JSON.parse(process.argv[3]!) as PpTgOptions & { file: string; threads: number };
  const { CpuBackend } = await import('../backends/cpu.ts');
  const be = new CpuBackend({ threads: spec.threads });
  const r = await ppTgOnFile(spec.file, be, spec);
  process.stdout.write(`${RESULT_MARK}${JSON.stringify({ ...r, backend: be.name, peakRssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
}
