// dutTest(): one mocha test = one fresh model instance, one kernel, one seed.
//
//   dutTest('fifo keeps order', { dut: fifo, timeout: '100 us' }, async (dut, tb) => {
//     new Clock(dut.clk, 10, 'ns').start();
//     await RisingEdge(dut.clk);
//   });
//
// The seed is the global seed ($SEED, default fixed) plus a hash of the test's full name,
// so a test reproduces alone or in any order. On failure the message carries the seed,
// the simulation time, the log tail and a waveform path: when waves were not on, the test
// is run once more with the same seed and waves on, and that file is named.

import { existsSync, mkdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { Model } from '../bridge/model.ts';
import type { WaveFormat } from '../bridge/build.ts';
import { Kernel, type KernelOptions } from './kernel.ts';
import { makeDut, type DutSpec, type Ports } from './dut.ts';
import { Task, startSoon } from './task.ts';
import { TbLog } from './log.ts';
import { XorShift32, globalSeed, testSeed } from '../../common/rng.ts';
import { formatTime, parseTime } from './time.ts';
import { setMessage } from './error-text.ts';

export interface Tb {
  readonly seed: number;
  readonly rng: XorShift32;
  readonly log: TbLog;
  readonly kernel: Kernel;
  readonly model: Model;
  /** Simulation time in ps. */
  now(): number;
  startSoon: typeof startSoon;
  /** The waveform file being written, if any. */
  readonly waves: string | undefined;
}

export interface DutTestOptions<P, A = Record<string, never>> {
  dut: DutSpec<P>;
  /** Simulated-time limit, e.g. '100 us' (default 10 ms). */
  timeout?: string | number;
  /** Wall-clock limit in ms for the simulation (default 120 000; the build is not counted). */
  wallTimeoutMs?: number;
  skip?: boolean | string;
  /** The test must fail (optionally with a message matching this). */
  expectFail?: boolean | string | RegExp;
  /** Dump waves from the start: true (the model's format), 'vcd' or 'fst'. Also $WAVES=1. */
  waves?: boolean | WaveFormat;
  /** A $finish in the design ends the test without failing it. */
  allowFinish?: boolean;
  /** One test per combination: { depth: [4, 16], mode: ['a', 'b'] }. */
  parametrize?: { [K in keyof A]: readonly A[K][] };
}

export type TestBody<P, A> = (dut: Ports<P> & { readonly $top: string }, tb: Tb, args: A) => Promise<void>;

function combinations(p: Record<string, readonly unknown[]>): Record<string, unknown>[] {
  let out: Record<string, unknown>[] = [{}];
  for (const [k, vs] of Object.entries(p)) {
    if (!Array.isArray(vs) || vs.length === 0) throw new RangeError(`parametrize.${k}: expected a non-empty array of values`);
    out = out.flatMap((o) => vs.map((v) => ({ ...o, [k]: v })));
  }
  return out;
}

function safeName(s: string): string {
  return s.replace(/[^\w.-]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 120);
}

export function wavesDir(): string {
  return process.env.WAVES_DIR ?? path.join(process.cwd(), 'test-results', 'waves');
}

interface RunResult {
  error: unknown;
  time: number;
  log: TbLog;
  waves: string | undefined;
}

async function runOnce<P, A>(fullName: string, opts: DutTestOptions<P, A>, body: TestBody<P, A>, args: A, seed: number, waves: WaveFormat | undefined): Promise<RunResult> {
  const built = waves ? await opts.dut.buildWith(waves) : await opts.dut.build();
  const model = new Model(built);
  const kopts: KernelOptions = { simTimeoutPs: parseTime(opts.timeout ?? '10 ms', 'timeout'), wallTimeoutMs: opts.wallTimeoutMs ?? 120_000, allowFinish: opts.allowFinish };
  const kernel = new Kernel(model, kopts);
  const log = new TbLog(() => kernel.now, fullName.split(' ').slice(-4).join(' '));
  let wavesFile: string | undefined;
  if (waves) {
    mkdirSync(wavesDir(), { recursive: true });
    wavesFile = path.join(wavesDir(), `${safeName(fullName)}.${built.waves}`);
    model.openWaves(wavesFile);
  }
  const tb: Tb = { seed, rng: new XorShift32(seed), log, kernel, model, now: () => kernel.now, startSoon, waves: wavesFile };
  const dut = makeDut<P>(kernel, built.top);
  let error: unknown;
  try {
    await kernel.run(() => new Task(kernel, 'main', () => body(dut, tb, args)).start());
  } catch (e) {
    error = e;
  } finally {
    model.closeWaves();
    model.free();
  }
  return { error, time: kernel.now, log, waves: wavesFile };
}

function matches(e: unknown, want: true | string | RegExp): boolean {
  if (want === true) return true;
  const msg = e instanceof Error ? e.message : String(e);
  return typeof want === 'string' ? msg.includes(want) : want.test(msg);
}

/** A word for a POSIX shell, quoted so it reaches the program unchanged. */
function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Mocha's --grep is a regular expression over the full title: this one matches `title` and nothing else. */
export function exactGrep(title: string): string {
  return `^${title.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`;
}

/** The command that runs exactly this test again with this seed, from the project root. */
export function rerunCommand(fullName: string, global: number, file: string | undefined): string {
  const where = file ? `${shellWord(path.relative(process.cwd(), file) || file)} ` : '';
  return `SEED=${global} npx mocha ${where}--grep ${shellWord(exactGrep(fullName))}`;
}

function describeFailure(fullName: string, r: RunResult, seed: number, global: number, rerun: RunResult | undefined, file?: string): Error {
  const e = r.error;
  const base = e instanceof Error ? e : new Error(String(e));
  const lines = [
    base.message,
    `  test: ${fullName}`,
    `  seed: ${seed} (global SEED=${global})`,
    ...(file ? [`  re-run: ${rerunCommand(fullName, global, file)}`] : []),
    `  simulation time: ${formatTime(r.time)}`,
  ];
  const wave = r.waves ?? rerun?.waves;
  if (wave) lines.push(`  waveform: ${wave}${r.waves ? '' : rerun?.error ? ' (re-run with the same seed and waves on)' : ' (the re-run with waves on did NOT fail: the test is not deterministic)'}`);
  const tail = r.log.tail(30);
  if (tail.length) lines.push('  log (last lines):', ...tail.map((l) => `    ${l}`));
  setMessage(base, lines.join('\n'));
  return base;
}

function defineOne<P, A>(title: string, opts: DutTestOptions<P, A>, body: TestBody<P, A>, args: A): void {
  const skip = opts.skip;
  const fn = async function (this: Mocha.Context): Promise<void> {
    const fullName = this.test?.fullTitle() ?? title;
    const global = globalSeed();
    const seed = testSeed(global, fullName);
    const envWaves = process.env.WAVES === '1' || process.env.WAVES === 'vcd' || process.env.WAVES === 'fst';
    const wanted: WaveFormat | undefined = opts.waves === 'fst' || process.env.WAVES === 'fst' ? 'fst' : opts.waves || envWaves ? (opts.dut.source.waves ?? 'vcd') : undefined;
    const r = await runOnce(fullName, opts, body, args, seed, wanted);
    if (opts.expectFail) {
      if (r.error === undefined) throw new Error(`expected this test to fail${opts.expectFail === true ? '' : ` with ${String(opts.expectFail)}`}, but it passed (seed ${seed})`);
      if (!matches(r.error, opts.expectFail)) throw describeFailure(fullName, { ...r, error: new Error(`failed, but not as expected (${String(opts.expectFail)}): ${(r.error as Error).message ?? r.error}`) }, seed, global, undefined, this.test?.file);
      if (r.waves && existsSync(r.waves) && !opts.waves) rmSync(r.waves);
      return;
    }
    if (r.error === undefined) return;
    let rerun: RunResult | undefined;
    if (!wanted && process.env.WAVES !== '0') {
      try {
        rerun = await runOnce(fullName, opts, body, args, seed, opts.dut.source.waves ?? 'vcd');
      } catch {
        rerun = undefined;
      }
    }
    throw describeFailure(fullName, r, seed, global, rerun, this.test?.file);
  };
  if (skip) it.skip(typeof skip === 'string' ? `${title} (skipped: ${skip})` : title, fn);
  else it(title, fn);
}

/**
 * Run one testbench outside mocha (scripts, the demo): a fresh model instance, the same
 * kernel, seed and failure message as dutTest.
 */
export async function simulate<P>(name: string, opts: Omit<DutTestOptions<P>, 'parametrize' | 'skip' | 'expectFail'>, body: TestBody<P, Record<string, never>>): Promise<{ seed: number; timePs: number; log: string[] }> {
  const global = globalSeed();
  const seed = testSeed(global, name);
  const waves = opts.waves === 'fst' || opts.waves === 'vcd' ? opts.waves : opts.waves ? (opts.dut.source.waves ?? 'vcd') : undefined;
  const r = await runOnce(name, opts, body, {}, seed, waves);
  if (r.error !== undefined) throw describeFailure(name, r, seed, global, undefined);
  return { seed, timePs: r.time, log: r.log.lines };
}

/** Define a mocha test that runs `body` against a fresh instance of `opts.dut`. */
export function dutTest<P, A extends Record<string, unknown> = Record<string, never>>(name: string, opts: DutTestOptions<P, A>, body: TestBody<P, A>): void {
  if (!opts.parametrize) {
    defineOne(name, opts, body, {} as A);
    return;
  }
  for (const combo of combinations(opts.parametrize as Record<string, readonly unknown[]>)) {
    const label = Object.entries(combo).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(', ');
    defineOne(`${name} [${label}]`, opts, body, combo as A);
  }
}
