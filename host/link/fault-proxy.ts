// A fault-injecting byte pipe for link tests: drops, flips, inserts and delays bytes in
// both directions and can reset the board mid-frame, all from a seeded generator, with
// counts of what it did.

import type { Transport } from './client.ts';
// The testbench's generator: a failing run replays from its seed.
import { XorShift32 } from '../../common/rng.ts';

export interface FaultRates {
  drop: number;
  flip: number;
  insert: number;
  /** Chance per chunk of holding it back for up to maxDelayMs. */
  delay: number;
  maxDelayMs: number;
  /** Chance per host->board chunk of resetting the board before delivering it. */
  reset: number;
}

export interface FaultCounts {
  dropped: number;
  flipped: number;
  inserted: number;
  delayed: number;
  resets: number;
}

export class FaultProxy {
  readonly counts: FaultCounts = { dropped: 0, flipped: 0, inserted: 0, delayed: 0, resets: 0 };
  private readonly rng: XorShift32;
  private toHost: ((b: Uint8Array) => void) | undefined;
  enabled = true;

  constructor(
    readonly rates: FaultRates,
    seed: number,
    /** Delivers bytes to the board. */
    private readonly toBoard: (b: Uint8Array) => void,
    private readonly resetBoard: () => void,
  ) {
    this.rng = new XorShift32(seed);
  }

  /** Uniform in [0, 1). */
  private u(): number {
    return this.rng.next() / 4294967296;
  }

  private mangle(bytes: Uint8Array): Uint8Array {
    if (!this.enabled) return bytes;
    const out: number[] = [];
    for (const b of bytes) {
      if (this.u() < this.rates.insert) {
        out.push(Math.floor(this.u() * 256));
        this.counts.inserted++;
      }
      if (this.u() < this.rates.drop) {
        this.counts.dropped++;
        continue;
      }
      if (this.u() < this.rates.flip) {
        out.push(b ^ (1 << Math.floor(this.u() * 8)));
        this.counts.flipped++;
      } else out.push(b);
    }
    return Uint8Array.from(out);
  }

  private deliver(bytes: Uint8Array, to: (b: Uint8Array) => void): void {
    const m = this.mangle(bytes);
    if (this.enabled && this.u() < this.rates.delay) {
      this.counts.delayed++;
      setTimeout(() => to(m), Math.floor(this.u() * this.rates.maxDelayMs));
    } else to(m);
  }

  /** The board's output enters here. */
  fromBoard(bytes: Uint8Array): void {
    if (this.toHost) this.deliver(bytes, this.toHost);
  }

  /** The host's side of the pipe. */
  transport(): Transport {
    return {
      name: 'fault proxy',
      write: async (bytes) => {
        if (this.enabled && this.u() < this.rates.reset) {
          this.counts.resets++;
          this.resetBoard();
        }
        this.deliver(bytes, this.toBoard);
      },
      onData: (cb) => void (this.toHost = cb),
      close: async () => {},
    };
  }
}
