// A BitLinear backend on a board reached through the link protocol (the simulated board,
// a UART, or XDMA): weights are placed by plan.ts and uploaded once (skipped when the
// board's tag says it already holds them); a matmul becomes the board's runs over K-chunks,
// token groups of at most mmax and n-tile ranges, with partial products summed exactly.

import { createHash } from 'node:crypto';
import { LinkClient, type Identity } from '../link/client.ts';
import { MAX_ANSWER, MAX_ACTIVATIONS } from '../../common/protocol.ts';
import { shapeFromIdentity, kTiles, type CoreShape } from '../../common/core-layout.ts';
import { coreModes } from '../../common/core-model.ts';
import type { IntMatrix } from '../../common/reference.ts';
import { ternaryDigest, type PackedTernary } from '../model/ternary.ts';
import { BackendError, emptyStats, type BitLinearBackend, type LoadOptions } from './backend.ts';
import { blockMatrix, planWeights, type Block, type Plan } from './plan.ts';
import { blankTag, decodeProbe, sameMatrix, tagMatrix, tagProbe } from './tag.ts';

export interface BoardOptions {
  /** The identity hash the RTL this host expects reports; undefined skips the check. */
  readonly expectedHash?: string;
  readonly force?: boolean;
  /** Upload even when the tag says the board holds these weights. */
  readonly reload?: boolean;
  /** Called by close() after the link is closed (e.g. to stop an in-process board). */
  readonly onClose?: () => Promise<void>;
  /**
   * Called after each weight upload and each run: throws when the board reports a fault the
   * protocol cannot carry (a PCIe card's STATUS word: board DRAM answered an error).
   */
  readonly checkHealth?: () => void;
}

export class BoardBackend implements BitLinearBackend {
  readonly stats = emptyStats();
  identity: Identity | undefined;
  shape: CoreShape | undefined;
  plan: Plan | undefined;
  private weights: readonly PackedTernary[] = [];
  /** The block now in the scratch region. */
  private scratch: Block | undefined;

  constructor(
    readonly name: string,
    readonly client: LinkClient,
    readonly opts: BoardOptions = {},
  ) {}

  async load(weights: readonly PackedTernary[], o: LoadOptions = {}): Promise<void> {
    // A board returns one int32 sum over all of K per output; a tensor whose blocks have
    // different scales needs a sum per block, which the host computes (never the board).
    const blocky = weights.find((w) => w.blockScales);
    if (blocky) throw new BackendError(`${this.name}: tensor '${blocky.name}' has per-block scales (its blocks' d differ); a board returns one sum per output over all inputs, so this model runs only with --backend cpu`);
    const s = await this.connect();
    const id = this.identity!;
    const bits = o.actBits ?? 8;
    if (s.act < bits) throw new BackendError(`${this.name}: the board takes int${s.act} activations but the model quantizes them to int${bits} (the board's modes: ${coreModes(s).join(', ')})`);
    const plan = planWeights(s, weights);
    Object.assign(this, { plan, weights });
    this.stats.lanes = s.rows * s.cols;
    o.log?.(placementLine(this.name, s.wdepth, plan));
    const h = createHash('sha256').update(`${id.hash};${s.wdepth};${plan.blocks.map((b) => `${b.weight}:${b.k0}:${b.nt0}:${b.NT}@${b.base}${b.pinned ? 'p' : 's'}`).join(',')};`);
    for (const w of weights) ternaryDigest(w, h);
    const tag = tagMatrix(s, h.digest());
    if (!this.opts.reload && sameMatrix(await this.readTile(plan.tagTile), tag)) {
      this.stats.weightsReused = true;
      this.syncLinkStats();
      o.progress?.(1, 1, 'weights already on the board');
      return;
    }
    // Blank the tag first: an upload cut short must not look complete to the next run.
    await this.writeTile(blankTag(s), plan.tagTile);
    const pinned = plan.blocks.filter((b) => b.pinned);
    const total = pinned.reduce((a, b) => a + b.tiles, 0);
    let done = 0;
    for (const b of pinned) {
      await this.upload(b);
      done += b.tiles;
      o.progress?.(done, total, weights[b.weight]!.name);
    }
    await this.writeTile(tag, plan.tagTile);
    this.syncLinkStats();
  }

  /**
   * Identify the board (checking its RTL against the expected hash, once) and return its
   * core's shape: what a caller needs before deciding which weights go to this board.
   */
  async connect(): Promise<CoreShape> {
    if (this.shape) return this.shape;
    const id = this.opts.expectedHash ? await this.client.connect(this.opts.expectedHash, { force: this.opts.force }) : await this.client.identify();
    this.identity = id;
    this.shape = shapeFromIdentity(id);
    return this.shape;
  }

  /** The link's counters since connecting, uploads included. */
  private syncLinkStats(): void {
    const c = this.client.stats;
    Object.assign(this.stats, { requests: c.requests, retries: c.retries, bytesOut: c.bytesOut, bytesIn: c.bytesIn });
  }

  private async upload(b: Block): Promise<void> {
    const s = this.shape!;
    const n = await this.client.writeWeights(s, this.identity!.stage, blockMatrix(this.weights[b.weight]!, b, s), b.base);
    this.opts.checkHealth?.();
    this.stats.weightTilesSent += n;
    this.stats.weightBytesSent += n * (s.wordBits / 8);
  }

  private async writeTile(m: IntMatrix, tile: number): Promise<void> {
    await this.client.writeWeights(this.shape!, this.identity!.stage, m, tile);
  }

  /** Read a weight tile back with the balanced-ternary probe. */
  async readTile(tile: number): Promise<IntMatrix> {
    const s = this.shape!;
    const { x, digits } = tagProbe(s);
    const y = new Int32Array(x.rows * s.cols);
    for (let m0 = 0; m0 < x.rows; m0 += s.mmax) {
      const M = Math.min(s.mmax, x.rows - m0);
      const part = await this.client.matmul(s, { rows: M, cols: x.cols, data: x.data.subarray(m0 * x.cols, (m0 + M) * x.cols) }, s.cols, tile);
      y.set(part.y, m0 * s.cols);
    }
    return decodeProbe(s, y, digits);
  }

  async matmul(index: number, x: Int8Array, M: number): Promise<Int32Array> {
    const s = this.shape;
    const plan = this.plan;
    if (!s || !plan) throw new BackendError(`${this.name}: matmul before load()`);
    const w = this.weights[index];
    if (!w) throw new BackendError(`${this.name}: no weight ${index} (${this.weights.length} loaded)`);
    const t0 = performance.now();
    const N = w.rows;
    const K = w.cols;
    const y = new Int32Array(M * N);
    for (const b of plan.byWeight[index]!) {
      if (!b.pinned && this.scratch !== b) {
        this.scratch = undefined;
        await this.upload(b);
        this.scratch = b;
      }
      const KT = kTiles(s, b.K);
      // Tokens per run: mmax, or fewer when mmax rows of activations would not fit one frame.
      const mPerRun = Math.max(1, Math.min(s.mmax, Math.floor(MAX_ACTIVATIONS / (KT * (s.xBits / 8)))));
      const ntPerRun = Math.max(1, Math.floor(MAX_ANSWER / (mPerRun * s.cols * 4)));
      for (let m0 = 0; m0 < M; m0 += mPerRun) {
        const Mc = Math.min(mPerRun, M - m0);
        const xs = new Int8Array(Mc * b.K);
        for (let m = 0; m < Mc; m++) xs.set(x.subarray((m0 + m) * K + b.k0, (m0 + m) * K + b.k0 + b.K), m * b.K);
        // A dual4 board runs activations that fit int4 (a4.8's q/k/v/gate/up inputs) two tokens a
        // lane, in half the cycles; the integers are the same in either mode, only the time differs.
        const int4 = !!s.dual4 && Mc > 1 && xs.every((v) => v >= -8 && v <= 7);
        for (let nt = 0; nt < b.NT; nt += ntPerRun) {
          const n0 = (b.nt0 + nt) * s.cols;
          const Nc = Math.min(Math.min(ntPerRun, b.NT - nt) * s.cols, N - n0);
          const r = await this.client.matmul(s, { rows: Mc, cols: b.K, data: xs }, Nc, b.base + nt * KT, { int4 });
          if (int4) this.stats.int4Runs++;
          this.opts.checkHealth?.();
          this.stats.boardCycles += r.cycles;
          this.stats.boardStalls += r.stalls;
          for (let m = 0; m < Mc; m++) {
            const yo = (m0 + m) * N + n0;
            for (let n = 0; n < Nc; n++) y[yo + n] = (y[yo + n]! + r.y[m * Nc + n]!) | 0;
          }
        }
      }
    }
    this.syncLinkStats();
    this.stats.calls++;
    this.stats.macs += M * N * K;
    this.stats.ms += performance.now() - t0;
    return y;
  }

  async close(): Promise<void> {
    await this.client.close();
    await this.opts.onClose?.();
  }
}

/** Where the weights went, and why a run is slow when they do not fit (rotated tiles are re-sent every forward pass). */
export function placementLine(name: string, wdepth: number, plan: Plan): string {
  const rotating = plan.blocks.filter((b) => !b.pinned).reduce((a, b) => a + b.tiles, 0);
  if (plan.resident) return `${name}: weights resident: ${plan.pinnedTiles} tiles of ${wdepth - 1} (one more holds the tag), sent once`;
  return `${name}: weights do not fit ${wdepth - 1} tiles: ${plan.pinnedTiles} resident, rotating ${rotating} tiles through a ${plan.scratchTiles}-tile scratch region every forward pass (give the board a larger wdepth)`;
}
