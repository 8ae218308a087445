// The host side of the link protocol over a simulated byte stream pair: send a request
// frame into the board's receive stream, collect its transmit stream, decode the answer.
// The serial host driver does the same over a real port.

import { ClockCycles, FastStreams, type Clock, type Signal } from '../index.ts';
import { encodeFrame, FrameDecoder, type Frame } from '../../common/frame.ts';

export interface BytePorts {
  readonly rx: { valid: Signal; ready: Signal; data: Signal };
  readonly tx: { valid: Signal; ready: Signal; data: Signal };
}

export class SimLinkClient {
  private readonly src;
  private readonly snk;
  private readonly dec = new FrameDecoder();
  private seq = 0;

  constructor(
    readonly clock: Clock,
    ports: BytePorts,
    opts: { idle?: number; backpressure?: number; seed?: number } = {},
  ) {
    const fast = new FastStreams(clock);
    this.src = fast.source(ports.rx, { idle: opts.idle ?? 0, seed: (opts.seed ?? 1) + 1 });
    this.snk = fast.sink(ports.tx, { backpressure: opts.backpressure ?? 0, seed: (opts.seed ?? 1) + 2 });
  }

  /** One request, its answer (polled every `poll` cycles, at most `maxPolls` times). */
  async request(op: number, payload: readonly number[] | Uint8Array, opts: { poll?: number; maxPolls?: number } = {}): Promise<Frame> {
    const seq = (this.seq = (this.seq + 1) & 255);
    this.src.push(Array.from(encodeFrame({ seq, op, payload: Uint8Array.from(payload) })));
    for (let i = 0; i < (opts.maxPolls ?? 10_000); i++) {
      await ClockCycles(this.clock.signal, opts.poll ?? 50);
      for (const f of this.dec.push(Uint8Array.from((this.snk.take() as bigint[]).map(Number)))) if (f.seq === seq) return f;
    }
    throw new Error(`no answer to request seq ${seq} op 0x${op.toString(16)} within ${(opts.maxPolls ?? 10_000) * (opts.poll ?? 50)} cycles`);
  }
}
