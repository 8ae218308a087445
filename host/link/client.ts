// The host's link client: the protocol's operations over any byte transport (a serial
// port, a pseudo-terminal to board-sim, XDMA streams). Requests are retried on timeout
// with the same sequence number (every operation is idempotent), answers are accepted
// only with a good CRC and the matching sequence number, and a board whose identity
// hash differs from the RTL the host expects is refused unless forced.

import { FrameDecoder, encodeFrame, type Frame } from '../../common/frame.ts';
import { OP, STATUS_TEXT, MAX_PAYLOAD, IDENTITY_BYTES, MATMUL_ARGS_BYTES, MATMUL_ANSWER_OVERHEAD, IDENTITY_INT4_PAIRS } from '../../common/protocol.ts';
import { coreModes } from '../../common/core-model.ts';
import { packActivations, packActivationPairs, packWeights, tileWords, nTiles, unpackResults, type CoreShape } from '../../common/core-layout.ts';
import type { IntMatrix } from '../../common/reference.ts';

export interface Transport {
  write(bytes: Uint8Array): Promise<void>;
  /** Register the receiver of incoming bytes. */
  onData(cb: (bytes: Uint8Array) => void): void;
  close(): Promise<void>;
  /** For messages: "/dev/ttyUSB1 at 115200 baud". */
  readonly name: string;
}


export class LinkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LinkError';
  }
}

export interface Identity {
  version: number;
  hash: string;
  rows: number;
  cols: number;
  act: number;
  /** 1: the core has the int4-pairs mode (dual4) beside its act-bit lanes, run by MATMUL_INT4. */
  dual4: number;
  format: number;
  kmax: number;
  mmax: number;
  wdepth: number;
  stage: number;
}

export interface LinkStats {
  requests: number;
  retries: number;
  bytesOut: number;
  bytesIn: number;
}

export class LinkClient {
  private readonly dec = new FrameDecoder();
  private seq = 0;
  private waiting: { seq: number; resolve: (f: Frame) => void } | undefined;
  readonly stats: LinkStats = { requests: 0, retries: 0, bytesOut: 0, bytesIn: 0 };

  constructor(
    readonly transport: Transport,
    readonly opts: { timeoutMs?: number; retries?: number; matmulTimeoutMs?: number } = {},
  ) {
    transport.onData((bytes) => {
      this.stats.bytesIn += bytes.length;
      for (const f of this.dec.push(bytes)) {
        const w = this.waiting;
        if (w && f.seq === w.seq) {
          this.waiting = undefined;
          w.resolve(f);
        } // an answer to an earlier try, or garbage that passed the checks: dropped
      }
    });
  }

  /** One request; its answer's payload after the status byte. Throws LinkError with what went wrong. */
  async request(op: number, payload: Uint8Array, opts: { timeoutMs?: number } = {}): Promise<Uint8Array> {
    if (payload.length > MAX_PAYLOAD) throw new LinkError(`${this.transport.name}: op 0x${op.toString(16)} would need a frame of ${payload.length} bytes; the link carries at most ${MAX_PAYLOAD}`);
    const seq = (this.seq = (this.seq + 1) & 255);
    const frame = encodeFrame({ seq, op, payload });
    const timeoutMs = opts.timeoutMs ?? this.opts.timeoutMs ?? 2000;
    const tries = 1 + (this.opts.retries ?? 3);
    this.stats.requests++;
    for (let t = 0; t < tries; t++) {
      if (t > 0) this.stats.retries++;
      this.dec.reset();
      const answer = new Promise<Frame | undefined>((resolve) => {
        const timer = setTimeout(() => {
          this.waiting = undefined;
          resolve(undefined);
        }, timeoutMs);
        this.waiting = {
          seq,
          resolve: (f) => {
            clearTimeout(timer);
            resolve(f);
          },
        };
      });
      this.stats.bytesOut += frame.length;
      await this.transport.write(frame);
      const f = await answer;
      if (!f) continue;
      if (f.op !== (op | 0x80)) throw new LinkError(`${this.transport.name}: answer to op 0x${op.toString(16)} (seq ${seq}) has op 0x${f.op.toString(16)}`);
      const status = f.payload[0];
      if (status !== 0) throw new LinkError(`${this.transport.name}: the board refused op 0x${op.toString(16)} (seq ${seq}): status ${status} (${STATUS_TEXT[status ?? 99] ?? 'unknown status'})`);
      return f.payload.subarray(1);
    }
    throw new LinkError(`${this.transport.name}: no valid answer to op 0x${op.toString(16)} (seq ${seq}) after ${tries} tries of ${timeoutMs} ms; decoder saw ${JSON.stringify(this.dec.stats)}`);
  }

  async identify(): Promise<Identity> {
    const p = await this.request(OP.IDENTIFY, new Uint8Array());
    if (p.length < IDENTITY_BYTES) throw new LinkError(`${this.transport.name}: IDENTIFY answer has ${p.length} bytes, expected ${IDENTITY_BYTES}`);
    const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
    // The act byte is the lane width, 4 or 8, with the int4-pairs flag only beside 8: any other
    // value is a board this host does not understand, refused here rather than misread later.
    const actByte = p[35]!;
    const act = actByte & ~IDENTITY_INT4_PAIRS;
    const dual4 = actByte & IDENTITY_INT4_PAIRS ? 1 : 0;
    if (!(act === 8 || (act === 4 && !dual4))) throw new LinkError(`${this.transport.name}: IDENTIFY's act byte is 0x${actByte.toString(16)}; expected 4, 8, or 8 with the int4-pairs flag 0x${IDENTITY_INT4_PAIRS.toString(16)} (0x88)`);
    return { version: p[0]!, hash: Buffer.from(p.subarray(1, 33)).toString('hex'), rows: p[33]!, cols: p[34]!, act, dual4, format: p[36]!, kmax: dv.getUint32(37, true), mmax: dv.getUint32(41, true), wdepth: dv.getUint32(45, true), stage: dv.getUint32(49, true) };
  }

  /** IDENTIFY and refuse a board built from other RTL, unless forced. */
  async connect(expectedHash: string, opts: { force?: boolean } = {}): Promise<Identity> {
    const id = await this.identify();
    if (id.hash !== expectedHash && !opts.force) {
      throw new LinkError(`${this.transport.name}: the board's RTL (hash ${id.hash.slice(0, 16)}…) is not the RTL this host expects (${expectedHash.slice(0, 16)}…); rebuild the board, point --board-manifest at its manifest, or pass --force (force: true) to use it anyway`);
    }
    return id;
  }

  /** Write W (N x K) as weight tiles from tile `base`, in frames of at most `stage` tiles. */
  async writeWeights(shape: CoreShape, stage: number, w: IntMatrix, base = 0): Promise<number> {
    const words = packWeights(shape, w);
    const tw = tileWords(shape);
    const tileBytes = shape.wordBits / 8;
    const tiles = words.length / tw;
    const bytes = new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
    for (let t = 0; t < tiles; t += stage) {
      const n = Math.min(stage, tiles - t);
      const payload = new Uint8Array(4 + n * tileBytes);
      new DataView(payload.buffer).setUint32(0, base + t, true);
      for (let i = 0; i < n; i++) payload.set(bytes.subarray((t + i) * tw * 4, (t + i) * tw * 4 + tileBytes), 4 + i * tileBytes);
      await this.request(OP.WRITE_WEIGHTS, payload);
    }
    return tiles;
  }

  /** Y = X W^T on the board, with W loaded at tile `base`; `int4`: in the int4-pairs mode (MATMUL_INT4), which only a dual4 board has. */
  async matmul(shape: CoreShape, x: IntMatrix, N: number, base = 0, opts: { int4?: boolean } = {}): Promise<{ y: Int32Array; cycles: number; stalls: number }> {
    const int4 = opts.int4 ?? false;
    if (int4 && !shape.dual4) throw new LinkError(`${this.transport.name}: MATMUL_INT4 needs a board with the int4-pairs mode; this one's modes are ${coreModes(shape).join(', ')}`);
    const M = x.rows;
    const count = nTiles(shape, N) * M;
    const beatBytes = 4 * shape.cols;
    // The answer is a frame too (status, results, CYCLES, STALLS): the board refuses one that would not fit.
    if (count * beatBytes + MATMUL_ANSWER_OVERHEAD > MAX_PAYLOAD) throw new LinkError(`${this.transport.name}: MATMUL of N=${N} M=${M} would answer with ${count * beatBytes + MATMUL_ANSWER_OVERHEAD} bytes; a frame carries at most ${MAX_PAYLOAD}: split N or M`);
    const beats = int4 ? packActivationPairs(shape, x) : packActivations(shape, x);
    const xBytes = shape.xBits / 8;
    const payload = new Uint8Array(MATMUL_ARGS_BYTES + beats.length * xBytes);
    const dv = new DataView(payload.buffer);
    [base, x.cols, N, x.rows].forEach((v, i) => dv.setUint32(4 * i, v, true));
    beats.forEach((v, b) => {
      for (let i = 0; i < xBytes; i++) payload[MATMUL_ARGS_BYTES + b * xBytes + i] = Number((v >> BigInt(8 * i)) & 0xffn);
    });
    const p = await this.request(int4 ? OP.MATMUL_INT4 : OP.MATMUL, payload, { timeoutMs: this.opts.matmulTimeoutMs ?? 30_000 });
    // The board takes exactly the results of the run it started for this request, so an answer of another length is not ours.
    const tailBytes = MATMUL_ANSWER_OVERHEAD - 1; // CYCLES and STALLS after the results
    if (p.length !== count * beatBytes + tailBytes) throw new LinkError(`${this.transport.name}: MATMUL answer has ${p.length} bytes, expected ${count * beatBytes + tailBytes}`);
    const out: bigint[] = [];
    for (let b = 0; b < count; b++) {
      let v = 0n;
      for (let i = beatBytes - 1; i >= 0; i--) v = (v << 8n) | BigInt(p[b * beatBytes + i]!);
      out.push(v);
    }
    const tail = new DataView(p.buffer, p.byteOffset + count * beatBytes, tailBytes);
    return { y: unpackResults(shape, out, M, N), cycles: tail.getUint32(0, true), stalls: tail.getUint32(4, true) };
  }

  async close(): Promise<void> {
    await this.transport.close();
  }
}
