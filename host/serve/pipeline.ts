// The pipeline-parallel schedule of the serving engine (issue 21): the active sequences are
// split into G groups (micro-batches), each group's step is its own walk through every layer,
// and each board (a contiguous layer range, layer-split.ts) serves one group at a time. A group
// holds a board from its first call there until it calls another board or its step ends, and
// a board that comes free goes to the waiting group whose step started first (the one furthest
// along). So two groups on two boards fall into the classic schedule by themselves: group 0
// takes board 0's layers, moves on to board 1, and group 1 takes board 0 meanwhile; while one
// group does its attention, norms, head and sampling on the CPU, the other's matmuls run.
//
// Holding a board for a whole range, rather than queueing call by call, is what makes the
// groups stagger: queued call by call, two groups that start together alternate on board 0
// and reach board 1 about together (an earlier attempt, groups within one pass, measured twice
// the calls and no overlap; releasing after every call here, the test's hold check fails).
//
// A group never holds one board while waiting for another (it lets go first), so no cycle of
// waits can form, whatever order its calls visit the boards in. With one board, or G = 1,
// groups take turns and the calls are those of one batch: the schedule changes the timing,
// never the products (every backend returns exact int32 sums).

import { BackendError, type BitLinearBackend, type OffloadStats } from '../backends/backend.ts';

/** One matmul as the schedule ran it, for tests and traces. */
export interface BoardCall {
  readonly board: number;
  readonly group: number;
  /** The step it belongs to: step tickets are handed out in the order steps start. */
  readonly ticket: number;
  readonly index: number;
  readonly M: number;
  /** performance.now() when the board took the call, and when it answered. */
  readonly t0: number;
  readonly t1: number;
}

interface Waiter {
  readonly lane: Lane;
  readonly go: () => void;
}

export class PipelineSchedule {
  readonly lanes: readonly Lane[];
  /** Milliseconds each board spent on calls (a board runs one at a time), since the schedule was made. */
  readonly busyMs: number[];
  readonly since = performance.now();
  /** Called after every matmul. */
  onCall?: (c: BoardCall) => void;
  private readonly owner: (Lane | undefined)[];
  private readonly waiting: Waiter[][];
  private tickets = 0;

  constructor(
    readonly backend: BitLinearBackend,
    readonly groups: number,
  ) {
    if (!Number.isSafeInteger(groups) || groups < 1) throw new RangeError(`pipeline groups ${groups}: expected an integer >= 1`);
    const B = backend.boardNames?.length ?? 1;
    this.busyMs = Array.from({ length: B }, () => 0);
    this.owner = Array.from({ length: B }, () => undefined);
    this.waiting = Array.from({ length: B }, () => []);
    this.lanes = Array.from({ length: groups }, (_, g) => new Lane(this, g));
  }

  get boards(): number {
    return this.busyMs.length;
  }

  /** The board that runs weight `index`. */
  boardOf(index: number): number {
    const b = this.backend.boardOf?.(index) ?? 0;
    if (!(b >= 0 && b < this.boards)) throw new BackendError(`${this.backend.name}: weight ${index} is on board ${b}, of ${this.boards}`);
    return b;
  }

  /** @internal A step's ticket. */
  nextTicket(): number {
    return this.tickets++;
  }

  /** @internal Wait until `lane` holds board `b`. */
  acquire(b: number, lane: Lane): Promise<void> {
    if (this.owner[b] === undefined) {
      this.owner[b] = lane;
      return Promise.resolve();
    }
    return new Promise((go) => this.waiting[b]!.push({ lane, go }));
  }

  /** @internal `lane` lets board `b` go: the waiting lane whose step started first takes it. */
  release(b: number, lane: Lane): void {
    if (this.owner[b] !== lane) throw new Error(`pipeline: group ${lane.group} releases board ${b}, held by ${this.owner[b]?.group ?? 'none'}`);
    const q = this.waiting[b]!;
    if (q.length === 0) {
      this.owner[b] = undefined;
      return;
    }
    let best = 0;
    for (let i = 1; i < q.length; i++) if (q[i]!.lane.ticket < q[best]!.lane.ticket) best = i;
    const [w] = q.splice(best, 1);
    this.owner[b] = w!.lane;
    w!.go();
  }
}

/**
 * One group's view of the backend: what its Transformer calls. A step is beginStep(), the
 * forward pass's matmuls, endStep(); the matmuls of one step come one after another (the
 * transformer awaits each), so a lane has at most one call in flight.
 */
export class Lane implements BitLinearBackend {
  ticket = -1;
  /** The board this lane holds, if any. */
  private held: number | undefined;

  constructor(
    private readonly s: PipelineSchedule,
    readonly group: number,
  ) {}

  get name(): string {
    return this.s.backend.name;
  }

  get stats(): OffloadStats {
    return this.s.backend.stats;
  }

  beginStep(): void {
    if (this.held !== undefined) throw new Error(`pipeline: group ${this.group} begins a step holding board ${this.held}`);
    this.ticket = this.s.nextTicket();
  }

  /** After the step's last matmul (or its failure): the board it holds goes to the next group. */
  endStep(): void {
    if (this.held === undefined) return;
    const b = this.held;
    this.held = undefined;
    this.s.release(b, this);
  }

  async matmul(index: number, x: Int8Array, M: number): Promise<Int32Array> {
    const b = this.s.boardOf(index);
    if (this.held !== b) {
      this.endStep();
      await this.s.acquire(b, this);
      this.held = b;
    }
    const t0 = performance.now();
    try {
      return await this.s.backend.matmul(index, x, M);
    } finally {
      const t1 = performance.now();
      this.s.busyMs[b]! += t1 - t0;
      this.s.onCall?.({ board: b, group: this.group, ticket: this.ticket, index, M, t0, t1 });
    }
  }

  load(): Promise<void> {
    return Promise.reject(new Error('pipeline lane: load the backend itself; a lane only runs its matmuls'));
  }

  close(): Promise<void> {
    return Promise.reject(new Error('pipeline lane: close the backend itself; a lane only runs its matmuls'));
  }
}
