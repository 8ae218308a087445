// llama.cpp as the benchmark peer, through node-llama-cpp (its prebuilt CPU binaries ship in
// the npm packages @node-llama-cpp/<platform>): pp (a prompt of `pp` token ids evaluated in
// one batch) and tg (`tg` tokens evaluated one at a time) on the same GGUF file and the same
// thread count as this runtime, measured as llama-bench measures them:
// - the context is created once (n_batch = n_ubatch >= pp, flash attention "auto", the
//   KV cache F16) and the load is not timed;
// - a warm-up first: one pp run and a tg run of one token;
// - then `reps` runs (llama-bench's default 5) of each, every run on an empty KV cache, the
//   logits of the last token computed (pp) or of every token (tg), as llama_batch_get_one
//   asks for; tokens/s is the mean over the runs of tokens / wall time.
// One difference: node-llama-cpp samples a token from those logits (greedy here: an argmax,
// ~0.1 ms of the ~80 ms a 2B token takes) and dispatches each evaluation through its JS batch
// queue; llama-bench only decodes. The token ids are fixed (1000 + i for the prompt, 2000 + i
// for generation) instead of llama-bench's rand(); ternary kernels do not depend on them.
//
// It runs in a child process: a llama.cpp assertion (GGML_ASSERT) aborts the process it is
// in, and the child's peak RSS is llama.cpp's alone. No build or download is ever attempted
// (build: "never", skipDownload, NODE_LLAMA_CPP_SKIP_DOWNLOAD): a missing binary, a file
// llama.cpp cannot load, or a crash gives { ok: false, reason } with llama.cpp's own message.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * llama.cpp's own figures for BitNet b1.58 2B-4T in TQ2_0 on this kind of machine (2
 * threads), from the issue that filed this work: the fallback when the peer cannot run here.
 */
export const LLAMA_CPP_RECORDED = {
  source: 'issue 16, measured by the filer with llama-bench',
  model: 'BitNet b1.58 2B-4T, TQ2_0',
  threads: 2,
  pp: 128,
  tg: 32,
  ppTokPerS: 38.85,
  tgTokPerS: 12.85,
} as const;

export interface LlamaPeerOptions {
  readonly threads: number;
  readonly pp: number;
  readonly tg: number;
  /** Measured runs of each test after the warm-up (llama-bench -r; default 5). */
  readonly reps?: number;
  readonly log?: (s: string) => void;
  /** Kill the child after this long (default 20 minutes). */
  readonly timeoutMs?: number;
}

export type LlamaPeerResult =
  | {
      ok: true;
      ppTokPerS: number;
      tgTokPerS: number;
      /** Model load and context creation (not part of pp/tg). */
      loadMs: number;
      /** node-llama-cpp and llama.cpp release, binary kind. */
      version: string;
      gpu: false;
      threads: number;
      pp: number;
      tg: number;
      reps: number;
      /** Sample standard deviation of the runs' tokens/s (llama-bench's "±"). */
      ppStdev: number;
      tgStdev: number;
      /** tokens/s of each measured run. */
      ppRuns: number[];
      tgRuns: number[];
      /** Peak resident set of the llama.cpp process (MB). */
      peakRssMb: number;
      flashAttention: string;
      /** llama.cpp's CPU features line. */
      systemInfo: string;
    }
  | { ok: false; reason: string };

export type LlamaGreedyResult = { ok: true; tokens: number[]; version: string } | { ok: false; reason: string };

type ChildSpec =
  | { kind: 'bench'; file: string; threads: number; pp: number; tg: number; reps: number }
  | { kind: 'greedy'; file: string; threads: number; prompt: number[]; n: number };

const CHILD_FLAG = '--llama-peer-child';
const RESULT_MARK = '@@llama-peer-result@@';
const THIS_FILE = fileURLToPath(import.meta.url);

/** pp/tg tokens/s of llama.cpp (CPU only) on `file`. */
export async function llamaPeer(file: string, opts: LlamaPeerOptions): Promise<LlamaPeerResult> {
  const { threads, pp, tg } = opts;
  const reps = opts.reps ?? 5;
  for (const [k, v] of [['threads', threads], ['pp', pp], ['tg', tg], ['reps', reps]] as const) {
    if (!Number.isInteger(v) || v < 1) return { ok: false, reason: `${k} must be a positive integer, got ${v}` };
  }
  const r = await runChild<LlamaPeerResult>({ kind: 'bench', file: path.resolve(file), threads, pp, tg, reps }, opts);
  return r;
}

/**
 * Greedy decoding by llama.cpp from token ids: `n` tokens after `prompt` (to check whether
 * the peer computes the same model as this runtime).
 */
export async function llamaGreedy(file: string, prompt: readonly number[], n: number, opts: { threads?: number; log?: (s: string) => void; timeoutMs?: number } = {}): Promise<LlamaGreedyResult> {
  if (!prompt.length) return { ok: false, reason: 'the prompt is empty' };
  return runChild<LlamaGreedyResult>({ kind: 'greedy', file: path.resolve(file), threads: opts.threads ?? 2, prompt: [...prompt], n }, opts);
}

// ---- parent side ----

async function runChild<R extends { ok: boolean }>(spec: ChildSpec, opts: { log?: (s: string) => void; timeoutMs?: number }): Promise<R | { ok: false; reason: string }> {
  const log = opts.log ?? (() => {});
  if (!fs.existsSync(spec.file)) return { ok: false, reason: `${spec.file}: no such file` };
  let tsx: string;
  try {
    tsx = import.meta.resolve('tsx');
  } catch (e) {
    return { ok: false, reason: `cannot find tsx to run the llama.cpp child process (${(e as Error).message})` };
  }
  const child = spawn(process.execPath, ['--import', tsx, THIS_FILE, CHILD_FLAG, JSON.stringify(spec)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_LLAMA_CPP_SKIP_DOWNLOAD: 'true' },
  });
  const tail: string[] = [];
  let result: R | undefined;
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    out += d;
    let i;
    while ((i = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, i);
      out = out.slice(i + 1);
      if (line.startsWith(RESULT_MARK)) result = JSON.parse(line.slice(RESULT_MARK.length)) as R;
      else if (line.trim()) log(`llama.cpp: ${line}`);
    }
  });
  let err = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    err += d;
    let i;
    while ((i = err.indexOf('\n')) >= 0) {
      const line = err.slice(0, i).trimEnd();
      err = err.slice(i + 1);
      if (!line) continue;
      tail.push(line);
      if (tail.length > 40) tail.shift();
      log(`llama.cpp: ${line}`);
    }
  });
  const timeoutMs = opts.timeoutMs ?? 20 * 60_000;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
  clearTimeout(timer);
  if (err.trim()) tail.push(err.trim());
  if (result) return result;
  const why = timedOut ? `timed out after ${timeoutMs / 1000} s` : signal ? `was killed by ${signal}` : `exited with code ${code}`;
  return { ok: false, reason: `the llama.cpp process (node-llama-cpp) ${why} before reporting: ${explain(tail)}` };
}

/** The lines of a failed child's stderr that say why (llama.cpp's assertion or error), with a hint for known causes. */
function explain(tail: readonly string[]): string {
  const keep = tail.filter((l) => /error|assert|failed|abort|cannot|unable|invalid|not /i.test(l) && !/^\s+at /.test(l));
  const msg = (keep.length ? keep.slice(-4) : tail.slice(-4)).join(' | ') || '(no output)';
  if (/Tokenizer not initialized/.test(msg)) return `${msg} (the file has no vocabulary, tokenizer.ggml.model "none"/"no_vocab": llama.cpp loads that, but node-llama-cpp tokenizes while loading; write a vocabulary, e.g. byteLevelBpeVocab in host/bench/model-2b.ts)`;
  return msg;
}

// ---- child side ----

async function child(spec: ChildSpec): Promise<Record<string, unknown>> {
  let nlc: typeof import('node-llama-cpp');
  try {
    nlc = await import('node-llama-cpp');
  } catch (e) {
    return { ok: false, reason: `node-llama-cpp is not installed (${(e as Error).message}); it is a devDependency: npm ci` };
  }
  const errors: string[] = [];
  let llama: Awaited<ReturnType<typeof nlc.getLlama>>;
  try {
    llama = await nlc.getLlama({
      gpu: false,
      build: 'never',
      skipDownload: true,
      usePrebuiltBinaries: true,
      progressLogs: false,
      maxThreads: spec.threads,
      logLevel: nlc.LlamaLogLevel.warn,
      logger: (level, message) => {
        const m = message.trimEnd();
        if (!m) return;
        if ((level === nlc.LlamaLogLevel.error || level === nlc.LlamaLogLevel.fatal) && errors.at(-1) !== m) errors.push(m);
        process.stderr.write(`${m}\n`);
      },
    });
  } catch (e) {
    const err = e as Error;
    return { ok: false, reason: `no usable prebuilt llama.cpp binary (node-llama-cpp ${nlcVersion()}, no build or download attempted): ${err.name}${err.message ? `: ${err.message}` : ''} (the binaries are in the optional dependency @node-llama-cpp/${process.platform}-${process.arch}; npm ci installs it)` };
  }
  const version = `node-llama-cpp ${nlcVersion()}, llama.cpp ${llama.llamaCppRelease.release} (${llama.buildType} CPU binary)`;
  try {
    const ctxTokens = spec.kind === 'bench' ? spec.pp + spec.tg : spec.prompt.length + spec.n;
    const batch = spec.kind === 'bench' ? spec.pp : spec.prompt.length;
    const t0 = performance.now();
    let model;
    let context;
    try {
      model = await llama.loadModel({ modelPath: spec.file, gpuLayers: 0 });
      context = await model.createContext({ contextSize: ctxTokens, batchSize: batch, threads: { ideal: spec.threads, min: spec.threads }, sequences: 1, flashAttention: 'auto' });
    } catch (e) {
      const msg = [(e as Error).message, ...errors.slice(-4)].join(' | ');
      return { ok: false, reason: `llama.cpp cannot load ${spec.file}: ${msg}` };
    }
    const loadMs = performance.now() - t0;
    const seq = context.getSequence();
    const next = { generateNext: { token: true, options: { temperature: 0 } } } as const;
    if (spec.kind === 'greedy') {
      const items = spec.prompt.map((t, i) => (i === spec.prompt.length - 1 ? ([t, next] as [number, typeof next]) : t));
      let res = await seq.controlledEvaluate(items as never);
      const tokens: number[] = [];
      let tok = res[spec.prompt.length - 1]?.next?.token;
      while (tok !== undefined && tok !== null && tokens.length < spec.n) {
        tokens.push(tok);
        if (tokens.length === spec.n) break;
        res = await seq.controlledEvaluate([[tok, next]] as never);
        tok = res[0]?.next?.token;
      }
      return { ok: true, tokens, version };
    }
    const { pp, tg, reps } = spec;
    const prompt = Array.from({ length: pp }, (_, i) => (i === pp - 1 ? ([1000 + i, next] as const) : 1000 + i));
    const ppRun = async (): Promise<number> => {
      await seq.clearHistory();
      const t = performance.now();
      const r = await seq.controlledEvaluate(prompt as never);
      const dt = performance.now() - t;
      if (r[pp - 1]?.next?.token === undefined) throw new Error('the prompt evaluation returned no token');
      return (1000 * pp) / dt;
    };
    const tgRun = async (n: number): Promise<number> => {
      await seq.clearHistory();
      const t = performance.now();
      for (let i = 0; i < n; i++) await seq.controlledEvaluate([[2000 + i, next]] as never);
      return (1000 * n) / (performance.now() - t);
    };
    await ppRun(); // warm-up, as llama-bench: one prompt run and one generated token
    await tgRun(1);
    const ppRuns: number[] = [];
    const tgRuns: number[] = [];
    for (let i = 0; i < reps; i++) ppRuns.push(await ppRun());
    for (let i = 0; i < reps; i++) tgRuns.push(await tgRun(tg));
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const stdev = (xs: number[]): number => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1)));
    return {
      ok: true,
      ppTokPerS: mean(ppRuns),
      tgTokPerS: mean(tgRuns),
      ppStdev: stdev(ppRuns),
      tgStdev: stdev(tgRuns),
      loadMs,
      version,
      gpu: false,
      threads: context.currentThreads,
      pp,
      tg,
      reps,
      ppRuns,
      tgRuns,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
      flashAttention: String(context.flashAttention),
      systemInfo: llama.systemInfo.trim(),
    };
  } finally {
    await llama.dispose();
  }
}

function nlcVersion(): string {
  try {
    let dir = path.dirname(fileURLToPath(import.meta.resolve('node-llama-cpp')));
    for (;;) {
      const p = path.join(dir, 'package.json');
      if (fs.existsSync(p)) {
        const j = JSON.parse(fs.readFileSync(p, 'utf8')) as { name?: string; version?: string };
        if (j.name === 'node-llama-cpp') return j.version ?? '?';
      }
      const up = path.dirname(dir);
      if (up === dir) return '?';
      dir = up;
    }
  } catch {
    return '?';
  }
}

if (process.argv[2] === CHILD_FLAG && process.argv[1] && pathToFileURL(path.resolve(process.argv[1])).href === pathToFileURL(THIS_FILE).href) {
  let res: Record<string, unknown>;
  try {
    res = await child(JSON.parse(process.argv[3]!) as ChildSpec);
  } catch (e) {
    res = { ok: false, reason: `llama.cpp peer failed: ${(e as Error).message}` };
  }
  // node-llama-cpp can keep handles open after dispose; once the result is out, leave.
  process.stdout.write(`${RESULT_MARK}${JSON.stringify(res)}\n`, () => process.exit(0));
}
