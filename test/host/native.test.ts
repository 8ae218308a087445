// The native CPU kernels (host/native): the ternary GEMM/GEMV equals the JS lookup-table
// kernel exactly on every ISA the machine has, the float head is within float32 rounding of
// a float64 reference and independent of the thread count, q8 quantization is the
// documented formula, wrong lengths are refused, and koffi passes typed arrays uncopied.
// Seeds: $SEED (see common/rng.ts) or the default, printed.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TernaryKernel } from '../../host/infer/cpu-kernel.ts';
import { roundHalfEven } from '../../host/infer/quant.ts';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from '../../host/model/dtypes.ts';
import type { PackedTernary } from '../../host/model/ternary.ts';
import { loadNative, nativeUnavailableReason, type HeadDtype, type NativeIsa, type NativeKernels } from '../../host/native/native.ts';
import { XorShift32, globalSeed } from '../../common/rng.ts';

const ISAS: readonly NativeIsa[] = ['scalar', 'avx2', 'avx512vnni'];

/** A Uint8Array of n bytes starting `off` bytes into a fresh 64-aligned-or-not buffer. */
function bytesAt(n: number, off: number): Uint8Array {
  return new Uint8Array(new ArrayBuffer(n + off + 64), off, n);
}

function packed(codes: Uint8Array, N: number, K: number, stride: number): PackedTernary {
  return { name: `w${N}x${K}`, rows: N, cols: K, stride, codes, scale: { op: 'div', value: 1 } };
}

/** Random codes 0..2 (or any byte with `anyByte`: code 3 counts as +2 in both kernels). */
function randomCodes(rng: XorShift32, N: number, stride: number, off: number, anyByte: boolean): Uint8Array {
  const c = bytesAt(N * stride, off);
  for (let i = 0; i < c.length; i++) {
    if (anyByte) c[i] = rng.next() & 0xff;
    else c[i] = rng.int(0, 2) | (rng.int(0, 2) << 2) | (rng.int(0, 2) << 4) | (rng.int(0, 2) << 6);
  }
  return c;
}

function randomActs(rng: XorShift32, n: number, extreme: boolean): Int8Array {
  const x = new Int8Array(new ArrayBuffer(n + 64), rng.int(0, 63), n);
  for (let i = 0; i < n; i++) x[i] = extreme ? rng.pick([-128, 127]) : rng.int(-128, 127);
  return x;
}

describe('host: native CPU kernels', function () {
  let nk: NativeKernels;
  let isas: NativeIsa[] = [];
  const seed = globalSeed();
  const js = new TernaryKernel();

  before(function () {
    const k = loadNative();
    if (!k) {
      console.log(`      native kernels unavailable: ${nativeUnavailableReason()}`);
      this.skip();
    }
    nk = k;
    isas = ISAS.slice(0, ISAS.indexOf(nk.bestIsa as NativeIsa) + 1);
    console.log(`      seed ${seed} (SEED=… to change); best ISA ${nk.bestIsa}; testing ${isas.join(', ')}; library ${nk.library}`);
  });

  afterEach(() => {
    if (nk) {
      nk.setIsa(nk.bestIsa as NativeIsa);
      nk.setThreads(2);
    }
  });

  it('ternaryGemm === TernaryKernel on random shapes, strides and alignments, every ISA', () => {
    const rng = new XorShift32(seed ^ 0x7e4a);
    const Ks = [1, 2, 3, 4, 5, 127, 128, 129, 255, 256, 257, 511, 640, 1000, 2560, 6912];
    const Ms = [1, 2, 3, 7, 64, 130];
    let cases = 0;
    for (const K of Ks) {
      for (let rep = 0; rep < 3; rep++) {
        const M = rng.pick(Ms);
        // Keep the JS reference cheap: fewer rows for big M*K.
        const maxN = M * K > 100_000 ? 9 : M * K > 10_000 ? 40 : 150;
        const N = rep === 0 ? 1 : rng.int(2, maxN);
        const G = Math.ceil(K / 4);
        const stride = rng.int(0, 3) === 0 ? G + rng.int(1, 70) : G; // padding bytes past the row: never read as weights
        const off = rng.int(0, 63);
        const anyByte = rng.int(0, 3) === 0;
        const codes = randomCodes(rng, N, stride, off, anyByte);
        const x = randomActs(rng, M * K, rng.int(0, 4) === 0);
        const want = js.matmul(packed(codes, N, K, stride), x, M);
        for (const isa of isas) {
          nk.setIsa(isa);
          for (const t of [1, 2]) {
            nk.setThreads(t);
            const y = new Int32Array(M * N).fill(0x5a5a5a5a);
            nk.ternaryGemm(codes, N, K, stride, x, M, y);
            if (!y.every((v, i) => v === want[i])) {
              const i = y.findIndex((v, j) => v !== want[j]);
              assert.fail(`seed ${seed}, ${isa}, ${t} threads: M=${M} N=${N} K=${K} stride=${stride} offset=${off} anyByte=${anyByte}: y[${i}] = ${y[i]}, want ${want[i]}`);
            }
          }
        }
        cases++;
      }
    }
    assert.ok(cases >= Ks.length * 3);
  });

  it('no int16 saturation: K=6912 of -128 with all +1, all -1 and all-zero weights', () => {
    const K = 6912;
    const N = 5;
    const stride = K / 4;
    const x = new Int8Array(3 * K).fill(-128);
    for (const [byte, per] of [
      [0xaa, -128],
      [0x00, 128],
      [0x55, 0],
    ] as const) {
      const codes = bytesAt(N * stride, 7).fill(byte);
      for (const isa of isas) {
        nk.setIsa(isa);
        for (const M of [1, 3]) {
          const y = new Int32Array(M * N);
          nk.ternaryGemm(codes, N, K, stride, x, M, y);
          assert.deepEqual([...y], new Array(M * N).fill(per * K), `${isa} M=${M} byte 0x${byte.toString(16)}`);
        }
      }
    }
    // +127 with all +1, and alternating extremes against alternating weights.
    const xp = new Int8Array(K).fill(127);
    const y = new Int32Array(1);
    nk.ternaryGemm(bytesAt(stride, 0).fill(0xaa), 1, K, stride, xp, 1, y);
    assert.equal(y[0], 127 * K);
  });

  it('ternaryGemm: 1 and 2 threads give identical results on model shapes; 1500 calls in a row through the pool', () => {
    const rng = new XorShift32(seed ^ 0x5151);
    for (const [N, K, M] of [
      [2560, 2560, 1],
      [640, 2560, 1],
      [2560, 6912, 1],
      [700, 2560, 64],
      [301, 6912, 7],
    ] as const) {
      const stride = Math.ceil(K / 4);
      const codes = randomCodes(rng, N, stride, rng.int(0, 63), false);
      const x = randomActs(rng, M * K, false);
      const out = [1, 2].map((t) => {
        nk.setThreads(t);
        const y = new Int32Array(M * N);
        nk.ternaryGemm(codes, N, K, stride, x, M, y);
        return y;
      });
      assert.deepEqual(out[0], out[1], `N=${N} K=${K} M=${M}`);
      // A spot check against the JS kernel on a few rows.
      const rows = 3;
      const want = js.matmul(packed(codes.subarray(0, rows * stride), rows, K, stride), x, 1);
      assert.deepEqual([...out[0]!.subarray(0, rows)], [...want]);
    }
    // Many back-to-back calls through the thread pool (as a decode step makes them), with
    // the output array reused: every one complete and the same.
    const N = 640;
    const K = 2560;
    const codes = randomCodes(rng, N, K / 4, 0, false);
    const x = randomActs(rng, 2 * K, false);
    nk.setThreads(1);
    const want1 = new Int32Array(N);
    const want2 = new Int32Array(2 * N);
    nk.ternaryGemm(codes, N, K, K / 4, x, 1, want1);
    nk.ternaryGemm(codes, N, K, K / 4, x, 2, want2);
    nk.setThreads(2);
    const y1 = new Int32Array(N);
    const y2 = new Int32Array(2 * N);
    for (let i = 0; i < 1500; i++) {
      y1.fill(-1);
      nk.ternaryGemm(codes, N, K, K / 4, x, 1, y1);
      if (!y1.every((v, j) => v === want1[j])) assert.fail(`call ${i} (M=1) differs`);
      if (i % 10 === 0) {
        y2.fill(-1);
        nk.ternaryGemm(codes, N, K, K / 4, x, 2, y2);
        if (!y2.every((v, j) => v === want2[j])) assert.fail(`call ${i} (M=2) differs`);
      }
    }
  });

  /** Random weights in dtype, their float64 values, and q8 quantization when asked. */
  function headWeights(rng: XorShift32, dtype: HeadDtype, rows: number, cols: number): { w: ArrayBufferView; wf: Float64Array; scales?: Float32Array } {
    const n = rows * cols;
    const v = Float32Array.from({ length: n }, () => (rng.next() / 2 ** 32 - 0.5) * 2 ** rng.int(-6, 2));
    // Some exact zeros and a zero 32-block.
    for (let i = 0; i < n; i += 97) v[i] = 0;
    if (n >= 64) v.fill(0, 32, 64);
    const wf = new Float64Array(n);
    if (dtype === 'f32') {
      wf.set(v);
      return { w: v, wf };
    }
    if (dtype === 'f16') {
      const h = new Uint16Array(n);
      for (let i = 0; i < n; i++) {
        h[i] = f32ToF16(v[i]!);
        if (i % 211 === 5) h[i] = rng.int(1, 0x3ff) | (rng.int(0, 1) << 15); // subnormals
        wf[i] = f16ToF32(h[i]!);
      }
      return { w: h, wf };
    }
    if (dtype === 'bf16') {
      const b = new Uint16Array(n);
      for (let i = 0; i < n; i++) b[i] = f32ToBf16(v[i]!);
      wf.set(bf16ToF32(b));
      return { w: b, wf };
    }
    const { w8, scales } = nk.quantizeQ8('f32', v, rows, cols);
    for (let i = 0; i < n; i++) wf[i] = w8[i]! * scales[Math.floor(i / 32)]!;
    return { w: w8, wf, scales };
  }

  it('matvec: f32, f16, bf16, q8 within 1e-5 of a float64 reference, every ISA; threads and M do not change a bit', () => {
    const rng = new XorShift32(seed ^ 0x4ead);
    const dtypes: HeadDtype[] = ['f32', 'f16', 'bf16', 'q8'];
    for (const dtype of dtypes) {
      const shapes: [number, number][] =
        dtype === 'q8'
          ? [
              [1, 32],
              [7, 64],
              [37, 2560],
              [1029, 320],
            ]
          : [
              [1, 1],
              [3, 5],
              [5, 17],
              [37, 2560],
              [13, 2567],
              [1029, 333],
            ];
      for (const [rows, cols] of shapes) {
        const M = rng.pick([1, 2, 3]);
        const { w, wf, scales } = headWeights(rng, dtype, rows, cols);
        const x = Float32Array.from({ length: M * cols }, () => (rng.next() / 2 ** 32 - 0.5) * 4);
        const ref = new Float64Array(M * rows);
        const mag = new Float64Array(M * rows);
        for (let m = 0; m < M; m++)
          for (let r = 0; r < rows; r++) {
            let s = 0;
            let a = 0;
            for (let c = 0; c < cols; c++) {
              const p = wf[r * cols + c]! * x[m * cols + c]!;
              s += p;
              a += Math.abs(p);
            }
            ref[m * rows + r] = s;
            mag[m * rows + r] = a;
          }
        for (const isa of isas) {
          nk.setIsa(isa);
          const results: Float32Array[] = [];
          for (const t of [1, 2]) {
            nk.setThreads(t);
            const out = new Float32Array(M * rows).fill(NaN);
            nk.matvec(dtype, w, rows, cols, x, M, out, scales);
            results.push(out);
            for (let i = 0; i < M * rows; i++) {
              const err = Math.abs(out[i]! - ref[i]!);
              assert.ok(err <= 1e-5 * mag[i]! + 1e-30, `${dtype} ${isa} ${t}t ${rows}x${cols} M=${M}: out[${i}] = ${out[i]}, want ${ref[i]} (error ${err}, sum |w x| ${mag[i]})`);
            }
          }
          assert.deepEqual(results[0], results[1], `${dtype} ${isa}: 1 vs 2 threads`);
          // Row m of a batch is the same bits as that row alone.
          const last = new Float32Array(rows);
          nk.matvec(dtype, w, rows, cols, x.subarray((M - 1) * cols), 1, last, scales);
          assert.deepEqual(last, results[0]!.subarray((M - 1) * rows), `${dtype} ${isa}: batch row = single row`);
        }
      }
    }
  });

  it('matvec: a head-sized bf16 matrix is identical on 1 and 2 threads', () => {
    const rows = 4099;
    const cols = 2560;
    const w = new Uint16Array(rows * cols);
    const rng = new XorShift32(seed ^ 0xb16);
    for (let i = 0; i < w.length; i++) w[i] = (rng.next() & 0x807f) | 0x3c00;
    const x = Float32Array.from({ length: 2 * cols }, (_, i) => Math.sin(i));
    const outs = [1, 2].map((t) => {
      nk.setThreads(t);
      const out = new Float32Array(2 * rows);
      nk.matvec('bf16', w, rows, cols, x, 2, out);
      return out;
    });
    assert.deepEqual(outs[0], outs[1]);
  });

  it('quantizeQ8: scale = amax/127, q = round-half-even(v/scale) in float32, every ISA; error at most scale/2', () => {
    const rng = new XorShift32(seed ^ 0x9808);
    for (const dtype of ['f32', 'f16', 'bf16'] as const) {
      const rows = 9;
      const cols = 96;
      const { w, wf } = headWeights(rng, dtype, rows, cols);
      // Halfway cases: v = (k + 0.5) * s for one block.
      if (dtype === 'f32') {
        const f = w as Float32Array;
        f[0] = 127;
        for (let i = 1; i < 32; i++) f[i] = i - 0.5 - 16;
        for (let i = 0; i < 32; i++) wf[i] = f[i]!;
      }
      const runs = isas.map((isa) => {
        nk.setIsa(isa);
        return nk.quantizeQ8(dtype, w, rows, cols);
      });
      for (const r of runs.slice(1)) {
        assert.deepEqual(r.w8, runs[0]!.w8, `${dtype}: the ISAs agree`);
        assert.deepEqual(r.scales, runs[0]!.scales, `${dtype}: the ISAs agree`);
      }
      const { w8, scales } = runs[0]!;
      assert.equal(w8.length, rows * cols);
      assert.equal(scales.length, (rows * cols) / 32);
      for (let b = 0; b < scales.length; b++) {
        let amax = 0;
        for (let i = 0; i < 32; i++) amax = Math.max(amax, Math.abs(wf[b * 32 + i]!));
        const s = Math.fround(amax / 127);
        assert.equal(scales[b], s, `${dtype} block ${b} scale`);
        for (let i = 0; i < 32; i++) {
          const v = wf[b * 32 + i]!;
          const q = s > 0 ? Math.max(-127, Math.min(127, roundHalfEven(Math.fround(v / s)))) : 0;
          assert.equal(w8[b * 32 + i], q === 0 ? 0 : q, `${dtype} [${b * 32 + i}] = ${v}`);
          assert.ok(Math.abs(v - w8[b * 32 + i]! * s) <= (s / 2) * (1 + 1e-6), `${dtype} round trip of ${v}`);
        }
      }
      if (dtype === 'f32') {
        assert.equal(scales[0], 1);
        assert.deepEqual([...w8.subarray(1, 6)], [-16, -14, -14, -12, -12], 'halves go to even');
        assert.equal(scales[1], 0, 'an all-zero block has scale 0');
        assert.ok(w8.subarray(32, 64).every((q) => q === 0));
      }
    }
  });

  it('refuses wrong lengths and shapes with a RangeError naming the argument', () => {
    const K = 100;
    const N = 3;
    const stride = 25;
    const codes = new Uint8Array(N * stride);
    const x = new Int8Array(2 * K);
    const y = new Int32Array(2 * N);
    assert.throws(() => nk.ternaryGemm(codes.subarray(1), N, K, stride, x, 2, y), (e: Error) => e instanceof RangeError && /^codes:/.test(e.message));
    assert.throws(() => nk.ternaryGemm(codes, N, K, stride, x.subarray(1), 2, y), (e: Error) => e instanceof RangeError && /^x:/.test(e.message));
    assert.throws(() => nk.ternaryGemm(codes, N, K, stride, x, 2, y.subarray(1)), (e: Error) => e instanceof RangeError && /^y:/.test(e.message));
    assert.throws(() => nk.ternaryGemm(codes, N, K, 24, x, 2, y), (e: Error) => e instanceof RangeError && /^stride/.test(e.message));
    assert.throws(() => nk.ternaryGemm(codes, N, 1.5, stride, x, 2, y), (e: Error) => e instanceof RangeError && /^K/.test(e.message));
    assert.throws(() => nk.ternaryGemm(codes, -1, K, stride, x, 2, y), (e: Error) => e instanceof RangeError && /^N/.test(e.message));
    const rows = 4;
    const cols = 64;
    const w = new Uint16Array(rows * cols);
    const xf = new Float32Array(cols);
    const out = new Float32Array(rows);
    assert.throws(() => nk.matvec('bf16', w.subarray(1), rows, cols, xf, 1, out), (e: Error) => e instanceof RangeError && /^w:/.test(e.message));
    assert.throws(() => nk.matvec('f32', w, rows, cols, xf, 1, out), (e: Error) => e instanceof RangeError && /^w:/.test(e.message), 'f32 needs 4 bytes a weight');
    assert.throws(() => nk.matvec('f16', w, rows, cols, xf.subarray(1), 1, out), (e: Error) => e instanceof RangeError && /^x:/.test(e.message));
    assert.throws(() => nk.matvec('f16', w, rows, cols, xf, 1, out.subarray(1)), (e: Error) => e instanceof RangeError && /^out:/.test(e.message));
    assert.throws(() => nk.matvec('f16', w, rows, cols, xf, 2, new Float32Array(2 * rows)), (e: Error) => e instanceof RangeError && /^x:/.test(e.message));
    const w8 = new Int8Array(rows * cols);
    assert.throws(() => nk.matvec('q8', w8, rows, cols, xf, 1, out), (e: Error) => e instanceof TypeError && /^q8scales/.test(e.message));
    assert.throws(() => nk.matvec('q8', w8, rows, cols, xf, 1, out, new Float32Array(7)), (e: Error) => e instanceof RangeError && /^q8scales/.test(e.message));
    assert.throws(() => nk.matvec('q8', w8, rows, 48, xf, 1, out, new Float32Array(8)), (e: Error) => e instanceof RangeError && /^cols/.test(e.message));
    assert.throws(() => nk.matvec('f64' as HeadDtype, w, rows, cols, xf, 1, out), (e: Error) => e instanceof RangeError && /^dtype/.test(e.message));
    assert.throws(() => nk.quantizeQ8('bf16', w.subarray(2), rows, cols), (e: Error) => e instanceof RangeError && /^w:/.test(e.message));
    assert.throws(() => nk.quantizeQ8('bf16', w, rows, 40), (e: Error) => e instanceof RangeError && /^cols/.test(e.message));
    assert.throws(() => nk.setThreads(0), RangeError);
    // Empty shapes are fine and touch nothing.
    nk.ternaryGemm(new Uint8Array(0), 0, K, stride, x, 2, new Int32Array(0));
    const y0 = new Int32Array(2).fill(9);
    nk.ternaryGemm(new Uint8Array(0), 2, 0, 0, new Int8Array(0), 1, y0);
    assert.deepEqual([...y0], [0, 0]);
  });

  it('koffi passes typed arrays without copying', () => {
    const big = new Uint8Array(1 << 20);
    nk.debug.keep(big);
    big[123457] = 77;
    assert.equal(nk.debug.peek(123457), 77, 'a write from JS after the call is seen through the kept pointer');
    nk.debug.poke(99, 5);
    assert.equal(big[99], 5, 'a write through the kept pointer is seen from JS');
    const a = nk.debug.address(big);
    assert.equal(nk.debug.address(big.subarray(4096)), a + 4096n);
    assert.equal(nk.debug.address(new Int32Array(big.buffer, 64, 10)), a + 64n);
    nk.debug.keep(new Uint8Array(1));
  });

  it('a compiler error is thrown with its first error lines; a missing compiler is a reason, not an error', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bitnet-native-'));
    try {
      const fake = path.join(dir, 'fake-g++');
      writeFileSync(fake, '#!/bin/sh\nif [ "$1" = "--version" ]; then echo "fake g++ 1.0"; exit 0; fi\necho "kernels.cpp:7:3: error: fake failure" >&2\nexit 1\n');
      chmodSync(fake, 0o755);
      const script =
        "import { loadNative, nativeUnavailableReason } from './host/native/native.ts';" +
        'try { const k = loadNative({ log: () => {} }); console.log(JSON.stringify({ loaded: k !== undefined, reason: nativeUnavailableReason() })); }' +
        ' catch (e) { console.log(JSON.stringify({ error: e.name, message: e.message })); }';
      const run = (cxx: string): Record<string, unknown> => {
        const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
          encoding: 'utf8',
          env: { ...process.env, CXX: cxx, BITNET_FPGA_CACHE: path.join(dir, 'cache'), BITNET_NATIVE: '' },
          timeout: 60_000,
        });
        assert.equal(r.status, 0, r.stderr);
        return JSON.parse(r.stdout.trim()) as Record<string, unknown>;
      };
      const failed = run(fake);
      assert.equal(failed.error, 'NativeBuildError');
      assert.match(String(failed.message), /kernels\.cpp:7:3: error: fake failure/);
      const missing = run(path.join(dir, 'no-such-compiler'));
      assert.equal(missing.loaded, false);
      assert.match(String(missing.reason), /no C\+\+ compiler/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('BITNET_NATIVE=0 makes loadNative return undefined with the reason', function () {
    const script = "import { loadNative, nativeUnavailableReason } from './host/native/native.ts'; console.log(JSON.stringify([loadNative() === undefined, nativeUnavailableReason()]));";
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, BITNET_NATIVE: '0' }, timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout.trim()), [true, 'disabled by BITNET_NATIVE=0']);
  });
});
