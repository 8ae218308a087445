// The table-lookup array (generator/cores/ternary/lut-array.ts) under Verilator against a
// plain dot product: every table entry of every pair (tiles where all pairs of all columns use
// one code pair), the activation extremes (-2^(act-1), 2^(act-1)-1, all lanes equal or
// alternating), random beats and codes, back-to-back table switches (one tile per beat) and
// long runs per beat, idle cycles on both inputs. A run with no idle cycles is also checked
// against the cycle recurrence README.md gives for the double-buffered fill. With pipe=cs the
// result is the carry-save pair's sum. The LUT6_2, LUT5
// and CARRY4 instances (adders, compressors, writers) run on the behavioural models in
// sim/vip/xilinx-prims.v. Seeds are printed by the framework (SEED=n re-runs one).

import assert from 'node:assert/strict';
import { XILINX_PRIMS } from '../../sim/vip/xilinx-prims.ts';
import { dutTest, emittedSource, DutSpec, Clock, RisingEdge, type AnyPorts, type Tb } from '../../sim/index.ts';
import { emitDesign } from '../../generator/hdl/index.ts';
import { lutArray, lutDotBits, lutArrayLatency, fillOrder, validateLutArray, type LutArrayParams } from '../../generator/cores/ternary/lut-array.ts';

const PRIMS = XILINX_PRIMS;

// Every pipe and fill on small arrays by default; the 16x16 builds (a minute of Verilator each)
// with LUT_ARRAY_FULL=1. The core's regression (ternary.test.ts) runs the array the core uses,
// 16x16 fill 9 pipe=out, inside the core.
const CONFIGS: LutArrayParams[] = [
  { rows: 8, cols: 5, act: 4, fill: 9, pipe: 'level' },
  { rows: 10, cols: 3, act: 8, fill: 16, pipe: 'out' },
  { rows: 6, cols: 4, act: 4, fill: 16, pipe: 'cs' },
  { rows: 8, cols: 4, act: 8, fill: 9, pipe: 'cs' },
  ...(process.env.LUT_ARRAY_FULL
    ? ([
        { rows: 16, cols: 16, act: 8, fill: 9, pipe: 'out' },
        { rows: 16, cols: 16, act: 8, fill: 16, pipe: 'level' },
        { rows: 16, cols: 16, act: 8, fill: 9, pipe: 'cs' },
      ] as const)
    : []),
];

const weightOf = (code: number): number => (code === 0 ? -1 : code === 2 ? 1 : 0);

interface Beat {
  readonly a: number[];
  /** Tiles against this beat: codes[r][c]. */
  readonly tiles: number[][][];
}

/** The plain reference: column c of a tile is sum_r w(code[r][c]) * a[r], code 3 counting as 0. */
function refDot(a: readonly number[], tile: readonly (readonly number[])[], c: number): number {
  let s = 0;
  for (let r = 0; r < a.length; r++) s += weightOf(tile[r]![c]!) * a[r]!;
  return s;
}

function packX(p: LutArrayParams, a: readonly number[]): bigint {
  let v = 0n;
  for (let r = 0; r < p.rows; r++) v |= BigInt.asUintN(p.act, BigInt(a[r]!)) << BigInt(r * p.act);
  return v;
}

function packW(p: LutArrayParams, tile: readonly (readonly number[])[]): bigint {
  let v = 0n;
  for (let r = 0; r < p.rows; r++) for (let c = 0; c < p.cols; c++) v |= BigInt(tile[r]![c]!) << BigInt(2 * (r * p.cols + c));
  return v;
}

/** The dot product of column c: dot, or with pipe=cs the pair dot + dot_c taken mod 2^dotBits. */
function columnDot(p: LutArrayParams, y: bigint, yc: bigint, c: number): number {
  const bits = lutDotBits(p);
  const mask = (1n << BigInt(bits)) - 1n;
  return Number(BigInt.asIntN(bits, ((y >> BigInt(c * bits)) & mask) + ((yc >> BigInt(c * bits)) & mask)));
}

function codesFor(p: LutArrayParams): number[] {
  return p.fill === 16 ? [0, 1, 2, 3] : [0, 1, 2];
}

/** Beats and tiles: the corner set, then random ones. J (tiles per beat) from 1 to 2 fills. */
function makeBeats(tb: Tb, p: LutArrayParams, randomBeats: number): Beat[] {
  const r = tb.rng;
  const lo = -(2 ** (p.act - 1));
  const hi = 2 ** (p.act - 1) - 1;
  const codes = codesFor(p);
  const uniform = (ci: number, cj: number): number[][] => Array.from({ length: p.rows }, (_, row) => Array<number>(p.cols).fill(row % 2 === 0 ? ci : cj));
  const randomTile = (): number[][] => Array.from({ length: p.rows }, () => Array.from({ length: p.cols }, () => r.pick(codes)));
  // Every entry of every table, read by every column at once.
  const everyEntry = codes.flatMap((ci) => codes.map((cj) => uniform(ci, cj)));
  const corners: number[][] = [
    Array<number>(p.rows).fill(lo),
    Array<number>(p.rows).fill(hi),
    Array.from({ length: p.rows }, (_, i) => (i % 2 ? lo : hi)),
    Array.from({ length: p.rows }, (_, i) => (i % 2 ? hi : lo)),
    Array<number>(p.rows).fill(0),
    Array.from({ length: p.rows }, (_, i) => (i % 3 === 0 ? lo : i % 3 === 1 ? -1 : 1)),
  ];
  const beats: Beat[] = corners.map((a) => ({ a, tiles: [...everyEntry, randomTile()] }));
  for (let b = 0; b < randomBeats; b++) {
    const a = Array.from({ length: p.rows }, () => (r.chance(0.15) ? r.pick([lo, hi]) : r.int(lo, hi)));
    const j = r.chance(0.3) ? 1 : r.int(1, 2 * p.fill);
    beats.push({ a, tiles: Array.from({ length: j }, randomTile) });
  }
  return beats;
}

/**
 * Drives beats and tiles through the array, one coroutine a cycle: inputs set after an edge,
 * readies read settled, transfers counted at the next edge; every y beat is checked in order.
 * Returns the cycle (from the first) of every x acceptance and of every tile acceptance.
 */
async function run(dut: AnyPorts, p: LutArrayParams, beats: readonly Beat[], opts: { tb: Tb; xIdle: number; wIdle: number }): Promise<{ xAt: number[]; wAt: number[] }> {
  const clk = dut.clk!;
  const expected: { tile: number; beat: number; dots: number[] }[] = [];
  let xb = 0; // next beat to build
  let xHeld = false; // x_valid raised for beat xb (must stay until accepted)
  let wb = 0; // beat whose tiles stream now
  let wt = 0; // next tile of that beat
  let tileNo = 0;
  let checked = 0;
  const total = beats.reduce((n, b) => n + b.tiles.length, 0);
  const xAt: number[] = [];
  const wAt: number[] = [];
  const latency = lutArrayLatency(p);
  const inFlight: { due: number; e: (typeof expected)[number] }[] = [];
  for (let cycle = 0; checked < total; cycle++) {
    if (cycle > 200 * (total + beats.length * p.fill) + 100) throw new Error(`no progress: ${checked} of ${total} results after ${cycle} cycles`);
    // Inputs for this cycle.
    if (xb < beats.length && (xHeld || !opts.tb.rng.chance(opts.xIdle))) {
      xHeld = true;
      dut.x!.value = packX(p, beats[xb]!.a);
      dut.x_valid!.value = 1;
    } else dut.x_valid!.value = 0;
    // Tiles may be offered before their beat is built: w_ready waits for the tables.
    const wOffer = wb < beats.length && !opts.tb.rng.chance(opts.wIdle);
    if (wOffer) {
      const tile = beats[wb]!.tiles[wt]!;
      dut.w!.value = packW(p, tile);
      dut.w_last!.value = wt === beats[wb]!.tiles.length - 1 ? 1 : 0;
      dut.w_valid!.value = 1;
    } else dut.w_valid!.value = 0;
    const xFire = dut.x_valid!.value === 1n && dut.x_ready!.value === 1n;
    const wFire = dut.w_valid!.value === 1n && dut.w_ready!.value === 1n;
    await RisingEdge(clk);
    if (xFire) {
      xAt.push(cycle);
      xb++;
      xHeld = false;
    }
    if (wFire) {
      // A tile can only be accepted against a built table set, i.e. after its beat was accepted.
      assert.ok(wb < xb, `tile ${tileNo} (beat ${wb}) accepted before its beat's tables were built`);
      const beat = beats[wb]!;
      const tile = beat.tiles[wt]!;
      inFlight.push({ due: cycle + latency - 1, e: { tile: tileNo, beat: wb, dots: Array.from({ length: p.cols }, (_, c) => refDot(beat.a, tile, c)) } });
      wAt.push(cycle);
      tileNo++;
      if (++wt === beat.tiles.length) {
        wt = 0;
        wb++;
      }
    }
    // Outputs registered at this edge.
    if (dut.y_valid!.value === 1n) {
      const next = inFlight.shift();
      if (!next) throw new Error(`cycle ${cycle}: y_valid with no tile in flight`);
      if (cycle !== next.due) throw new Error(`tile ${next.e.tile}: result after ${cycle - next.due + latency} cycles, expected latency ${latency}`);
      const y = dut.dot!.value;
      const yc = p.pipe === 'cs' ? dut.dot_c!.value : 0n;
      for (let c = 0; c < p.cols; c++) {
        const got = columnDot(p, y, yc, c);
        if (got !== next.e.dots[c]) {
          const a = beats[next.e.beat]!.a;
          throw new Error(`tile ${next.e.tile} (beat ${next.e.beat}), column ${c}: expected ${next.e.dots[c]}, got ${got}; activations [${a.join(', ')}]`);
        }
      }
      checked++;
    } else if (inFlight.length && inFlight[0]!.due < cycle) throw new Error(`tile ${inFlight[0]!.e.tile}: no result ${latency} cycles after it was accepted`);
  }
  return { xAt, wAt };
}

/**
 * The double-buffered fill as README.md writes it, for sources that are never idle: fill b+1
 * starts at S = max(E_b, R_{b-1}) (its buffer is free once beat b-1's last tile is in) and ends
 * at E_{b+1} = S + fill; beat b's tiles start at T_b = max(E_b, R_{b-1}) and R_b = T_b + J_b.
 */
function modelCycles(fill: number, js: readonly number[]): { xAt: number[]; wAt: number[] } {
  const xAt: number[] = [];
  const wAt: number[] = [];
  let e = fill; // E_0
  xAt.push(fill - 1);
  let rPrev = 0; // R_{b-1}
  for (let b = 0; b < js.length; b++) {
    const t = Math.max(e, rPrev);
    for (let k = 0; k < js[b]!; k++) wAt.push(t + k);
    if (b + 1 < js.length) {
      const s = Math.max(e, rPrev);
      e = s + fill;
      xAt.push(e - 1);
    }
    rPrev = t + js[b]!;
  }
  return { xAt, wAt };
}

describe('table-lookup ternary array (Verilator vs a plain dot product)', () => {
  it('refuses a bad parameter with one line naming it', () => {
    const base = CONFIGS[0]!;
    for (const [k, v, re] of [
      ['rows', 7, /^rows must be an even number/],
      ['cols', 0, /^cols must be/],
      ['act', 1, /^act must be/],
      ['fill', 12, /^fill must be 9/],
      ['pipe', 'fast', /^pipe must be/],
      ['rows', 3, /^rows must be an even number/],
    ] as const) {
      assert.throws(() => validateLutArray({ ...base, [k]: v }), (e: Error) => re.test(e.message) && !e.message.includes('\n'));
    }
  });

  it('the fill order visits every entry once, each step +-a of one lane', () => {
    for (const fill of [9, 16]) {
      const o = fillOrder(fill);
      assert.equal(new Set(o.map((s) => s.ci * 4 + s.cj)).size, fill);
      assert.deepEqual([o[0]!.ci, o[0]!.cj], [1, 1]);
      for (let s = 0; s + 1 < o.length; s++) {
        const [a, b] = [o[s]!, o[s + 1]!];
        const di = weightOf(b.ci) - weightOf(a.ci);
        const dj = weightOf(b.cj) - weightOf(a.cj);
        assert.equal(o[s]!.lane === 'i' ? di : dj, o[s]!.neg ? -1 : 1, `step ${s}`);
        assert.equal(o[s]!.lane === 'i' ? dj : di, 0, `step ${s}`);
      }
    }
  });

  for (const p of CONFIGS) {
    // GCC at -O1: each array runs a few thousand cycles, and -O2 about doubled its compile.
    const src = emittedSource(emitDesign(lutArray(p)), { cxxOpt: 1 });
    const dut = new DutSpec<AnyPorts>({ ...src, files: [...src.files, PRIMS] });
    const name = `${p.rows}x${p.cols} int${p.act}, fill ${p.fill}, pipe ${p.pipe}`;
    dutTest(name, { dut, timeout: '10 ms', wallTimeoutMs: 600_000 }, async (dut, tb) => {
      new Clock(dut.clk!, 10, 'ns').start();
      dut.rst!.value = 1;
      dut.x_valid!.value = 0;
      dut.w_valid!.value = 0;
      await RisingEdge(dut.clk!);
      await RisingEdge(dut.clk!);
      dut.rst!.value = 0;
      // Corner beats and random ones with idle cycles on both sides.
      const beats = makeBeats(tb, p, 60);
      await run(dut, p, beats, { tb, xIdle: 0.2, wIdle: 0.2 });
      tb.log.info(`${beats.length} beats, ${beats.reduce((n, b) => n + b.tiles.length, 0)} tiles checked with idle cycles`);
      // Never idle: back-to-back switches (J = 1), J around the fill, long runs; the cycles
      // of every acceptance must be the recurrence's. The array is idle here (all drained).
      const js = [1, 1, 1, p.fill - 1, p.fill, p.fill + 1, 1, 2 * p.fill, 1, 3, p.fill, 1, 1];
      const rng = tb.rng;
      const lo = -(2 ** (p.act - 1));
      const hi = 2 ** (p.act - 1) - 1;
      const codes = codesFor(p);
      const tight: Beat[] = js.map((j) => ({
        a: Array.from({ length: p.rows }, () => rng.int(lo, hi)),
        tiles: Array.from({ length: j }, () => Array.from({ length: p.rows }, () => Array.from({ length: p.cols }, () => rng.pick(codes)))),
      }));
      const got = await run(dut, p, tight, { tb, xIdle: 0, wIdle: 0 });
      const want = modelCycles(p.fill, js);
      const t0 = got.xAt[0]! - want.xAt[0]!;
      assert.deepEqual(got.xAt.map((c) => c - t0), want.xAt, 'cycles of the beats accepted');
      assert.deepEqual(got.wAt.map((c) => c - t0), want.wAt, 'cycles of the tiles accepted');
      // And its closed form: F + sum over all beats but the last of max(J_b, F), plus J_last.
      const closed = p.fill + js.slice(0, -1).reduce((s, j) => s + Math.max(j, p.fill), 0) + js[js.length - 1]!;
      assert.equal(got.wAt[got.wAt.length - 1]! - t0 + 1, closed, 'cycles to the last tile (README formula)');
    });
  }
});
