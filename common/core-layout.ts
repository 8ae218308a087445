// How data is laid out for the ternary matmul core: weight tiles, activation beats, result
// beats, and the widths that follow from the core's parameters. The generator
// (generator/cores/ternary/params.ts) derives its widths with coreGeometry() and publishes
// them in the manifest (`extra.ternary`); the host reads them from there (coreShape) or,
// with only a board to ask, derives them from IDENTIFY with the same function
// (shapeFromIdentity); the simulators' drivers pack tiles with the same code.

import type { IntMatrix } from './reference.ts';

export interface CoreShape {
  readonly rows: number;
  readonly cols: number;
  readonly act: number;
  readonly format: number;
  readonly kmax: number;
  readonly mmax: number;
  readonly wdepth: number;
  readonly wordBits: number;
  readonly tileBytes: number;
  readonly xBits: number;
  readonly xDepth: number;
  readonly accBits: number;
  /** Present when the weights live in board DRAM behind an AXI4 master. */
  readonly dram?: DramShape;
  /** > 0: the table-lookup array, in activation-stationary blocks of up to jmax n-tiles (core-model.ts has its cycles). */
  readonly jmax?: number;
  /** 1: the int4 mode besides int8 (generator/cores/ternary/dual-int4.ts): two tokens a lane, two a result beat. */
  readonly dual4?: number;
}

/**
 * Where tile t lives in board DRAM: `stride` bytes at base + t * stride, little-endian; with
 * `ports` AXI4 masters, bytes [j * portBits / 8, (j + 1) * portBits / 8) of the tile at
 * base + j * region + t * stride (generator/cores/ternary/dram-layout.ts).
 */
export interface DramShape {
  readonly data: number;
  readonly addr: number;
  readonly base: number;
  readonly ports: number;
  readonly portBits: number;
  readonly stride: number;
  readonly beatsPerTile: number;
  readonly region: number;
  /** Bytes DRAM moves per tile (every port), against wordBytes of weights. */
  readonly movedBytes: number;
  readonly wordBytes: number;
  /** wordBytes / movedBytes: below 1 when a tile leaves part of its beats empty. */
  readonly fill: number;
}

const DRAM_REQUIRED: (keyof DramShape)[] = ['data', 'addr', 'base', 'ports', 'portBits', 'stride', 'beatsPerTile', 'region', 'movedBytes', 'wordBytes', 'fill'];

/** The byte address of port `port`'s share of tile `tile`, and its length in bytes. */
export function dramSlice(d: DramShape, tile: number, port: number): { addr: number; bytes: number } {
  return { addr: d.base + port * d.region + tile * d.stride, bytes: Math.ceil(d.portBits / 8) };
}

/** Weight storage formats: two bits per weight, or five trits per byte. */
export const FORMAT_2BIT = 2;
export const FORMAT_TRIT5 = 5;

/** The widths and depths that follow from the core's parameters. */
export interface CoreGeometry {
  readonly kTilesMax: number;
  /** Bits of one weight-memory word (one tile). */
  readonly wordBits: number;
  /** Bytes of one tile in the trit5 format. */
  readonly tileBytes: number;
  /** Bits of one activation beat (rows lanes). */
  readonly xBits: number;
  /** Activation buffer depth in beats: mmax * ceil(kmax / rows). */
  readonly xDepth: number;
  /** Accumulator width: |y| <= kmax * 2^(act-1) must fit signed. */
  readonly accBits: number;
}

/** Largest magnitude: kmax terms of 2^(act-1) (e.g. -1 * -128); the signed width that holds it. */
export function accBitsNeeded(kmax: number, act: number): number {
  return Math.floor(Math.log2(kmax * 2 ** (act - 1))) + 2;
}

/** The core's geometry from its parameters; `acc` 0 or absent: the accumulator width kmax and act need. */
export function coreGeometry(p: { rows: number; cols: number; act: number; format: number; kmax: number; mmax: number; acc?: number }): CoreGeometry {
  const kTilesMax = Math.ceil(p.kmax / p.rows);
  const tileBytes = Math.ceil((p.rows * p.cols) / 5);
  const wordBits = p.format === FORMAT_2BIT ? 2 * p.rows * p.cols : 8 * tileBytes;
  const accBits = p.acc ? p.acc : accBitsNeeded(p.kmax, p.act);
  return { kTilesMax, wordBits, tileBytes, xBits: p.rows * p.act, xDepth: p.mmax * kTilesMax, accBits };
}

const REQUIRED: (keyof CoreShape)[] = ['rows', 'cols', 'act', 'format', 'kmax', 'mmax', 'wdepth', 'wordBits', 'tileBytes', 'xBits', 'xDepth', 'accBits'];

/** The core's shape from a manifest object; names the file and field when something is missing. */
export function coreShape(manifest: { extra?: Record<string, unknown> }, file: string): CoreShape {
  const t = manifest.extra?.ternary as Record<string, unknown> | undefined;
  if (!t) throw new Error(`${file}: field 'extra.ternary' is missing; is this the manifest of a ternary matmul core?`);
  for (const k of REQUIRED) if (typeof t[k] !== 'number') throw new Error(`${file}: field 'extra.ternary.${k}' must be a number, got ${JSON.stringify(t[k])}`);
  if (t.dual4 !== undefined && t.dual4 !== 0 && t.dual4 !== 1) throw new Error(`${file}: field 'extra.ternary.dual4' must be 0 or 1, got ${JSON.stringify(t.dual4)}`);
  if (t.jmax !== undefined && typeof t.jmax !== 'number') throw new Error(`${file}: field 'extra.ternary.jmax' must be a number, got ${JSON.stringify(t.jmax)}`);
  const dram = t.dram as Record<string, unknown> | undefined;
  if (dram !== undefined) {
    for (const k of DRAM_REQUIRED) if (typeof dram[k] !== 'number') throw new Error(`${file}: field 'extra.ternary.dram.${k}' must be a number, got ${JSON.stringify(dram[k])}`);
  }
  return t as unknown as CoreShape;
}

export const kTiles = (s: CoreShape, K: number): number => Math.ceil(K / s.rows);
export const nTiles = (s: CoreShape, N: number): number => Math.ceil(N / s.cols);

/** Words of 32 bits per weight tile. */
export const tileWords = (s: CoreShape): number => Math.ceil(s.wordBits / 32);

/**
 * Weight tiles of W (N x K, -1/0/1) in the order the core reads them: n-tile major,
 * k-tile minor; code = w + 1; weight (r, c) of a tile is element r*cols + c; padding is 0.
 * Returns tileWords(s) 32-bit words per tile, little-endian.
 */
export function packWeights(s: CoreShape, w: IntMatrix): Uint32Array {
  const N = w.rows;
  const K = w.cols;
  const NT = nTiles(s, N);
  const KT = kTiles(s, K);
  const tw = tileWords(s);
  const out = new Uint32Array(NT * KT * tw);
  const per = s.rows * s.cols;
  const codes = new Uint8Array(per);
  for (let nt = 0; nt < NT; nt++) {
    for (let kt = 0; kt < KT; kt++) {
      for (let r = 0; r < s.rows; r++) {
        for (let c = 0; c < s.cols; c++) {
          const n = nt * s.cols + c;
          const k = kt * s.rows + r;
          const v = n < N && k < K ? w.data[n * K + k]! : 0;
          if (v !== -1 && v !== 0 && v !== 1) throw new RangeError(`packWeights: W[${n}][${k}] = ${v} is not ternary`);
          codes[r * s.cols + c] = v + 1;
        }
      }
      const base = (nt * KT + kt) * tw;
      if (s.format === FORMAT_2BIT) {
        for (let i = 0; i < per; i++) out[base + (i >> 4)]! |= codes[i]! << ((i & 15) * 2);
      } else {
        for (let b = 0; b < s.tileBytes; b++) {
          let v = 0;
          for (let i = 4; i >= 0; i--) v = v * 3 + (5 * b + i < per ? codes[5 * b + i]! : 1);
          out[base + (b >> 2)]! |= v << ((b & 3) * 8);
        }
      }
    }
  }
  return out;
}

/** Activation beats of X (M x K): token major, k-tile minor; lane r of a beat is k = kt*rows + r. */
export function packActivations(s: CoreShape, x: IntMatrix): bigint[] {
  const M = x.rows;
  const K = x.cols;
  const KT = kTiles(s, K);
  const lo = -(2 ** (s.act - 1));
  const hi = 2 ** (s.act - 1) - 1;
  const mask = (1n << BigInt(s.act)) - 1n;
  const beats: bigint[] = [];
  for (let m = 0; m < M; m++) {
    for (let kt = 0; kt < KT; kt++) {
      let v = 0n;
      for (let r = s.rows - 1; r >= 0; r--) {
        const k = kt * s.rows + r;
        const a = k < K ? x.data[m * K + k]! : 0;
        if (a < lo || a > hi) throw new RangeError(`packActivations: X[${m}][${k}] = ${a} does not fit int${s.act}`);
        v = (v << BigInt(s.act)) | (BigInt(a) & mask);
      }
      beats.push(v);
    }
  }
  return beats;
}

/**
 * Activation beats of X (M x K) for a dual4 core's int4 mode: one beat per token pair and
 * k-tile, pair major; lane r's 8 bits hold token 2p's int4 (low nibble) and token 2p+1's
 * (high nibble, 0 past M), each two's complement.
 */
export function packActivationPairs(s: CoreShape, x: IntMatrix): bigint[] {
  if (!s.dual4) throw new RangeError('packActivationPairs: only a core generated with dual4=1 takes token pairs');
  const M = x.rows;
  const K = x.cols;
  const KT = kTiles(s, K);
  const at = (m: number, k: number): bigint => {
    const a = m < M && k < K ? x.data[m * K + k]! : 0;
    if (a < -8 || a > 7) throw new RangeError(`packActivationPairs: X[${m}][${k}] = ${a} does not fit int4`);
    return BigInt(a) & 15n;
  };
  const beats: bigint[] = [];
  for (let m = 0; m < M; m += 2) {
    for (let kt = 0; kt < KT; kt++) {
      let v = 0n;
      for (let r = s.rows - 1; r >= 0; r--) v = (v << 8n) | (at(m + 1, kt * s.rows + r) << 4n) | at(m, kt * s.rows + r);
      beats.push(v);
    }
  }
  return beats;
}

/** Tokens one result beat carries: a dual4 core's beats have room for two (the int4 mode's pair), only the first used in int8 mode. */
export const beatTokens = (s: CoreShape): number => (s.dual4 ? 2 : 1);
/** Bits of one result beat: cols int32 per token it has room for. */
export const resultBeatBits = (s: Pick<CoreShape, 'cols' | 'dual4'>): number => 32 * s.cols * (s.dual4 ? 2 : 1);

/**
 * Result beats (one per n-tile and token step, n-tile major; cols int32 per token) into Y
 * (M x N). A step is a token, or with `int4` (a dual4 core's int4 mode) a token pair: token
 * 2p in the beat's low cols words, 2p+1 (when < M) above them.
 */
export function unpackResults(s: CoreShape, beats: readonly bigint[], M: number, N: number, int4 = false): Int32Array {
  if (int4 && !s.dual4) throw new RangeError('unpackResults: int4 mode needs a core generated with dual4=1');
  const NT = nTiles(s, N);
  const per = int4 ? 2 : 1;
  const steps = Math.ceil(M / per);
  if (beats.length !== NT * steps) throw new RangeError(`unpackResults: ${beats.length} result beats, expected ${NT} n-tiles x ${steps} ${int4 ? 'token pairs' : 'tokens'} = ${NT * steps}`);
  const y = new Int32Array(M * N);
  for (let nt = 0; nt < NT; nt++) {
    for (let t = 0; t < steps; t++) {
      const beat = beats[nt * steps + t]!;
      for (let h = 0; h < per && t * per + h < M; h++) {
        const m = t * per + h;
        for (let c = 0; c < s.cols; c++) {
          const n = nt * s.cols + c;
          if (n < N) y[m * N + n] = Number(BigInt.asIntN(32, beat >> BigInt(32 * (h * s.cols + c))));
        }
      }
    }
  }
  return y;
}

/**
 * The shape from what a board reports in IDENTIFY (rows, cols, act, format, kmax, mmax,
 * wdepth), derived as the generator derives the manifest's numbers, for a host that has only
 * the board. IDENTIFY does not carry the `acc` parameter, so accBits is the width kmax and
 * act need (what acc=0 builds); no host code depends on it, as results are int32 either way.
 */
export function shapeFromIdentity(id: { rows: number; cols: number; act: number; format: number; kmax: number; mmax: number; wdepth: number; dual4?: number }): CoreShape {
  const g = coreGeometry(id);
  return { rows: id.rows, cols: id.cols, act: id.act, format: id.format, kmax: id.kmax, mmax: id.mmax, wdepth: id.wdepth, wordBits: g.wordBits, tileBytes: g.tileBytes, xBits: g.xBits, xDepth: g.xDepth, accBits: g.accBits, ...(id.dual4 ? { dual4: id.dual4 } : {}) };
}
