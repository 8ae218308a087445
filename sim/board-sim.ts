// board-sim: the board SoC (the byte-stream flavour: bytes enter and leave at the UART
// FIFOs, so no serial line is simulated; or, with `line`, the UART flavour wired to a
// host-end UART so every byte crosses the serial line bit by bit) running under Verilator
// in this process, behind any byte transport. It simulates only while there is something to do: bytes arrive,
// the C++ stream engine runs the clock until the board has answered and gone idle, the
// answer is written back.
//
// With rtl/board's parameters the model is built from the checked-in byte-stream board
// (rtl/board_bytes: rtl/board's SoC and identity, without the UART); any other
// configuration is elaborated by the generator, loaded lazily (sim/elaborate.ts).

import { buildModel, type BuildOptions, type ModelSource } from './bridge/build.ts';
import { Model, StreamKind, type ClockEvent } from './bridge/model.ts';
import { checkedInSource } from './checked-in.ts';
import type { Manifest } from '../generator/hdl/design.ts';
import { headerCheck } from '../common/frame.ts';
import { SYNC0, SYNC1, HEADER_BYTES } from '../common/protocol.ts';

/**
 * The checked-in byte-stream board (generator/cores/registry.ts CHECKED_IN): rtl/board's
 * parameters with phy=0. `phy` is not compared: BoardSim always simulates byte streams.
 */
export const CHECKED_IN_BOARD = 'board_bytes';

/**
 * The sim backend's parameters, checked: rtl/'s own (given as numbers or decimal strings)
 * as they are, anything else through the generator's parameter table (names, ranges,
 * defaults), loaded only then. Throws the generator's ParamError for a bad one.
 */
export async function resolveBoardParams(params: Readonly<Record<string, string | number>>): Promise<Record<string, number>> {
  // fromEntries defines own properties: a `__proto__` given stays a name to refuse, not a prototype.
  const numeric: Record<string, number> = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, typeof v === 'number' ? v : /^\d{1,16}$/.test(v) ? Number(v) : NaN]));
  // phy is not compared (BoardSim always simulates byte streams), but it must be a value the
  // generator accepts (0 or 1): anything else goes to the table below to be refused by name.
  const phyOk = !Object.hasOwn(numeric, 'phy') || numeric.phy === 0 || numeric.phy === 1;
  if (phyOk && checkedInSource(CHECKED_IN_BOARD, numeric, ['phy'])) return numeric;
  const { resolveBoardParams: resolve } = await import('./elaborate.ts');
  return resolve(params);
}

const CHUNK = 20_000;
/** A gap between host writes longer than this counts as the line going quiet. */
const PAUSE_MS = 20;

/**
 * Whether bytes arriving after a gap begin a frame (its sync marker and, as far as they go,
 * a header that passes its check). A pseudo-terminal hands a large write over in pieces,
 * with gaps whenever either process is busy: a gap before a piece that continues a frame is
 * not the host going quiet, and treating it so abandoned valid frames of 128 KiB and more.
 * A host that really stopped mid-frame is heard again when its next request (which starts
 * with a header) arrives.
 */
function startsFrame(b: Uint8Array): boolean {
  if (b[0] !== SYNC0 || (b.length > 1 && b[1] !== SYNC1)) return false;
  return b.length < HEADER_BYTES || headerCheck(b) === b[8];
}

export class BoardSim {
  private readonly src: number;
  private readonly snk: number;
  private readonly clk: number;
  private readonly busy: number;
  private readonly rst: number;
  private readonly rxReady: number;
  /** The board's clock: 100 MHz in simulated time, and where it stands. */
  private static readonly PHASE = { highPs: 5000, lowPs: 5000 } as const;
  private next: ClockEvent = { timePs: 0, level: 1 };
  private readonly idleCycles: number;
  /** With a simulated serial line: the in_flight port, and cycles per idle check (several byte times). */
  private readonly inFlight: number | undefined;
  private readonly chunk: number;
  private running = Promise.resolve();
  cycles = 0;

  private constructor(
    readonly model: Model,
    readonly manifest: Manifest,
    readonly send: (bytes: Uint8Array) => void,
  ) {
    const ix = (n: string): number => {
      const i = model.index.get(n);
      if (i === undefined) throw new Error(`board-sim: the board model has no port '${n}'`);
      return i;
    };
    this.clk = ix('clk');
    this.busy = ix('busy');
    this.idleCycles = Number((manifest.extra as { board?: { idle?: number } }).board?.idle ?? 65536);
    this.rst = ix('rst');
    this.rxReady = ix('rx_ready');
    this.inFlight = model.index.get('in_flight');
    const p = manifest.params as Record<string, number>;
    this.chunk = this.inFlight === undefined ? CHUNK : Math.max(CHUNK, Math.ceil((3 * 10 * p.clk!) / Math.min(p.baud!, p.hostBaud!)));
    this.src = model.streamAdd(StreamKind.Source, ix('rx_valid'), ix('rx_ready'), [ix('rx_data')], 1, 0);
    this.snk = model.streamAdd(StreamKind.Sink, ix('tx_valid'), ix('tx_ready'), [ix('tx_data')], 2, 0);
    model.setBits(ix('rst'), 1);
    this.clock(3);
    model.setBits(ix('rst'), 0);
  }

  /** Run the clock in C++ for up to `cycles` (fewer with `untilTaken`: until every queued byte is taken); returns the cycles run. */
  private clock(cycles: number, untilTaken = false): number {
    const r = this.model.run(this.clk, cycles, { from: this.next, ...BoardSim.PHASE, untilDone: untilTaken });
    this.next = r.next;
    return r.cycles;
  }

  /**
   * Build (cached) the byte-stream board with the parameters of rtl/board (from the
   * checked-in Verilog), or others; with `line`, the UART flavour behind a host-end UART.
   */
  static async create(params: Record<string, number>, send: (bytes: Uint8Array) => void, opts: BuildOptions = {}, line?: { hostBaud?: number }): Promise<BoardSim> {
    let src: ModelSource | undefined = line ? undefined : checkedInSource(CHECKED_IN_BOARD, params, ['phy']);
    if (!src) {
      // Not a configuration rtl/ holds: elaborate it. The generator is imported here, lazily,
      // and nowhere else on this path, so the sim backend with rtl/'s parameters (the
      // inference path) never loads the HDL library.
      const { elaborateBoard } = await import('./elaborate.ts');
      src = elaborateBoard(params, line);
    }
    const built = await buildModel(src, opts);
    return new BoardSim(new Model(built), src.manifest!, send);
  }

  /** Bytes from the host. The simulation runs until the board has answered and is idle. */
  receive(bytes: Uint8Array): void {
    if (this.closed) return;
    // Simulated time stands still while nothing arrives; after a pause, let the board see
    // the quiet cycles a real clock would have made (its engine abandons half frames).
    // Quiet time counts from the later of the last byte in and the board's last answer: a
    // host that writes its next request right after an answer has not paused.
    const now = performance.now();
    const paused = now - this.lastActive > PAUSE_MS && startsFrame(bytes);
    this.lastActive = now;
    this.running = this.running.then(() => {
      if (this.closed) return;
      if (paused) this.clock(this.idleCycles + 2);
      this.model.streamPush(this.src, Uint32Array.from(bytes), bytes.length);
      return this.runUntilIdle();
    });
  }

  private lastActive = performance.now();

  private async runUntilIdle(): Promise<void> {
    const m = this.model;
    // With a serial line, bytes can be on the wire where no stream sees them: require two
    // quiet checks in a row, each several byte times long.
    let quietChecks = 0;
    // close() stops the simulation between two steps: a long run or a 1 MiB frame in
    // progress must not hold it (SIGINT to board-sim stops it at once).
    while (!this.closed) {
      // Byte streams: with bytes waiting, stop when the last one is taken. Every cycle run
      // after it is quiet time on the line to the engine, and a frame whose next piece is
      // still on its way would be abandoned after `idle` of them. Once nothing is queued,
      // short steps (a quarter of `idle`) until the board has answered.
      const queued = m.streamQueued(this.src);
      const untilTaken = this.inFlight === undefined && queued > 0;
      const cycles = this.inFlight === undefined && !queued ? Math.max(1, Math.min(this.chunk, this.idleCycles >> 2)) : this.chunk;
      this.cycles += this.clock(cycles, untilTaken);
      const n = m.streamCaptured(this.snk);
      if (n > 0) {
        const buf = new Uint32Array(n);
        m.streamTake(this.snk, buf, n);
        this.send(Uint8Array.from(buf));
      }
      const drained = m.streamQueued(this.src) === 0 && m.getSmall(this.busy) === 0;
      // The engine takes bytes (rx_ready) whenever it is neither executing a request nor
      // answering one: then, with none left and the core idle, it waits for the host.
      const quiet = this.inFlight === undefined ? drained && m.getSmall(this.rxReady) === 1 : n === 0 && drained && m.getSmall(this.inFlight) === 0;
      quietChecks = quiet ? quietChecks + 1 : 0;
      if (quietChecks >= (this.inFlight === undefined ? 1 : 2)) {
        this.lastActive = performance.now();
        return;
      }
      await new Promise((r) => setImmediate(r)); // let the transport deliver bytes meanwhile
    }
  }

  /** Pulse the board's reset (between or in the middle of frames): the engine starts hunting again; weight memory keeps its contents. */
  reset(): void {
    if (this.closed) return;
    this.running = this.running.then(() => {
      if (this.closed) return;
      this.model.setBits(this.rst, 1);
      this.clock(2);
      this.model.setBits(this.rst, 0);
    });
  }

  private closed = false;

  /** Stop at the next simulation step (at most CHUNK cycles away); work in progress and bytes that arrive later are dropped. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.running;
    this.model.free();
  }
}
