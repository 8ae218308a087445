// Continuous batching. Requests wait in a bounded queue for one of `parallel` slots (a slot is
// a KV cache of `ctx` positions, so the slots bound the memory); between forward passes,
// finished and cancelled sequences leave and queued ones join. Each pass is ONE
// Transformer.forwardBatch: every decoding sequence's next token plus at most `batch` prompt
// tokens of the sequences still in prompt eval, so every projection is one M-row matmul on the
// backend for all of them, and a long prompt delays running streams by one chunk per pass.
//
// With `groups` G > 1 the active sequences are split into G groups, each with its own loop of
// passes, and pipeline.ts lets each board serve one group at a time: on a model split across
// boards, group g+1 runs board 0's layers while group g runs board 1's (pipeline parallel).
// G = 1 is one loop over every sequence: the single batch of before.

import type { BitLinearBackend } from '../backends/backend.ts';
import type { BitNetModel } from '../model/model.ts';
import { KvCache } from '../infer/kv-cache.ts';
import type { KvBits } from '../infer/numerics-names.ts';
import type { SamplerOptions } from '../infer/sampler.ts';
import { Sequence, type StoppedBy } from '../infer/sequence.ts';
import { Transformer, type Segment } from '../infer/transformer.ts';
import { PipelineSchedule } from './pipeline.ts';

export interface EngineOptions {
  /** Sequences decoded together at most (KV caches kept). */
  readonly parallel: number;
  /** Requests waiting for a slot at most; past it submit() throws QueueFull. */
  readonly queueLimit: number;
  /** Positions of each slot's KV cache. */
  readonly ctx: number;
  /** Prompt tokens per forward pass, over all sequences in prompt eval (run's -b/--batch-size). */
  readonly batch: number;
  readonly kvBits?: KvBits;
  /** Groups of sequences stepping through the layers on their own (pipeline.ts); default 1. */
  readonly groups?: number;
}

export interface JobRequest extends SamplerOptions {
  readonly prompt: readonly number[];
  /** Tokens to generate at most. */
  readonly n: number;
  /** Each sampled token, right after its forward pass. */
  readonly onToken?: (id: number) => void;
}

export interface JobResult {
  readonly tokens: readonly number[];
  /** 'cancelled': the client went away or asked to stop (a stop string). */
  readonly stoppedBy: StoppedBy | 'cancelled';
  readonly promptTokens: number;
}

/** submit() when every slot is busy and the queue is full: the HTTP layer answers 429. */
export class QueueFull extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('the server is busy: every slot is in use and the queue is full');
    this.name = 'QueueFull';
  }
}

/** The backend failed during a forward pass that held this request: the HTTP layer answers 503. */
export class BackendFailure extends Error {
  constructor(cause: unknown) {
    super(`the backend failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'BackendFailure';
  }
}

/** What one forward pass did, for the metrics. */
export interface StepInfo {
  readonly sequences: number;
  readonly rows: number;
  readonly promptRows: number;
  readonly decodeRows: number;
  /** Tokens sampled after the pass (decoding sequences, and those whose prompt it finished). */
  readonly sampled: number;
  readonly ms: number;
  /** The group that ran it (0 with one group). */
  readonly group: number;
}

interface Job {
  readonly req: JobRequest;
  readonly resolve: (r: JobResult) => void;
  readonly reject: (e: unknown) => void;
  readonly queuedAt: number;
  seq?: Sequence;
  cancelled: boolean;
  /** In a pass now: no other group may take it, and it leaves only after the pass. */
  busy: boolean;
}

export interface JobHandle {
  readonly result: Promise<JobResult>;
  /** Stop the job at the next step (or take it off the queue); its slot is freed then. */
  cancel(): void;
}

export class Engine {
  /** One transformer per group, each calling the backend through its group's lane. */
  private readonly trs: Transformer[];
  readonly schedule: PipelineSchedule;
  private readonly queue: Job[] = [];
  private readonly active: Job[] = [];
  private readonly free: KvCache[] = [];
  /** Each group's loop while it runs. */
  private readonly loops: (Promise<void> | undefined)[];
  private closed = false;
  /** Mean seconds a request spends from submit to finish (exponentially weighted), for Retry-After. */
  private meanJobSeconds = 1;
  /** Called after every forward pass. */
  onStep?: (s: StepInfo) => void;

  constructor(
    readonly model: BitNetModel,
    readonly backend: BitLinearBackend,
    readonly o: EngineOptions,
  ) {
    this.schedule = new PipelineSchedule(backend, o.groups ?? 1);
    this.trs = this.schedule.lanes.map((lane) => new Transformer(model, lane, o.ctx, { kvBits: o.kvBits }));
    this.loops = this.trs.map(() => undefined);
    // The slots' caches are made once and reused (pos reset), so the memory they take is
    // bounded by parallel x ctx however many requests come and go.
    for (let i = 0; i < o.parallel; i++) this.free.push(this.trs[0]!.newCache());
  }

  get queueDepth(): number {
    return this.queue.length;
  }

  get activeSequences(): number {
    return this.active.length;
  }

  submit(req: JobRequest): JobHandle {
    if (this.closed) throw new Error('the engine is closed');
    if (this.active.length + this.queue.length >= this.o.parallel + this.o.queueLimit) throw new QueueFull(Math.max(1, Math.ceil(this.meanJobSeconds)));
    let job!: Job;
    const result = new Promise<JobResult>((resolve, reject) => {
      job = { req, resolve, reject, queuedAt: performance.now(), cancelled: false, busy: false };
    });
    this.queue.push(job);
    this.kick();
    return {
      result,
      cancel: () => {
        job.cancelled = true;
        this.kick();
      },
    };
  }

  /** Refuse new requests and finish the queued and running ones as cancelled. */
  close(): void {
    this.closed = true;
    for (const j of [...this.queue, ...this.active]) j.cancelled = true;
    this.kick();
  }

  /** Resolves once no forward pass is running (after close(): when the backend may be closed). */
  async idle(): Promise<void> {
    for (;;) {
      const running = this.loops.filter((l) => l !== undefined);
      if (running.length === 0) return;
      await Promise.all(running);
    }
  }

  /** Start every group's loop that is not running (each ends when it finds nothing to do). */
  private kick(): void {
    this.loops.forEach((l, g) => {
      if (l) return;
      const run: Promise<void> = this.loop(g)
        .catch((e: unknown) => {
          // A bug, not a backend failure (those are caught per pass): the requests it hit fail
          // with it, and the server stays up for the next ones.
          for (const job of [...this.active, ...this.queue]) {
            // A job in another group's pass keeps its slot until that pass ends (its cache is
            // being written): cancelled, it leaves then.
            if (job.busy) job.cancelled = true;
            else this.release(job);
            job.reject(e);
          }
          this.queue.length = 0;
        })
        .finally(() => {
          if (this.loops[g] === run) this.loops[g] = undefined;
        });
      this.loops[g] = run;
    });
  }

  private finish(job: Job, stoppedBy: JobResult['stoppedBy']): void {
    const seq = job.seq;
    this.meanJobSeconds = 0.8 * this.meanJobSeconds + (0.2 * (performance.now() - job.queuedAt)) / 1000;
    job.resolve({ tokens: seq?.tokens ?? [], stoppedBy, promptTokens: job.req.prompt.length });
  }

  /** Give an active job's slot back (once: a job not active holds none). */
  private release(job: Job): void {
    const i = this.active.indexOf(job);
    if (i < 0) return;
    this.active.splice(i, 1);
    this.free.push(job.seq!.cache);
  }

  /** Admit queued jobs into free slots; drop cancelled ones. */
  private admit(): void {
    for (let i = 0; i < this.queue.length; ) {
      const job = this.queue[i]!;
      if (job.cancelled) {
        this.queue.splice(i, 1);
        this.finish(job, 'cancelled');
        continue;
      }
      i++;
    }
    while (this.queue.length > 0 && this.free.length > 0) {
      const job = this.queue.shift()!;
      const cache = this.free.pop()!;
      cache.pos = 0;
      try {
        job.seq = new Sequence(job.req.prompt, cache, { ...job.req, batch: this.o.batch, stop: this.model.config.eos });
      } catch (e) {
        this.free.push(cache);
        job.reject(e);
        continue;
      }
      this.active.push(job);
    }
  }

  /**
   * The sequences of group g's next pass, marked busy: of those no other group's pass holds,
   * at most its share of the active ones (ceil(active / groups), oldest first), decoding
   * sequences first, then prompt chunks in arrival order while the pass's prompt budget lasts
   * (the first always fits: a chunk is at most batch).
   */
  private claim(): { step: Job[]; segs: Segment[]; promptRows: number; decodeRows: number } {
    const share = Math.ceil(this.active.length / this.trs.length);
    const step: Job[] = [];
    const segs: Segment[] = [];
    let promptRows = 0;
    let decodeRows = 0;
    for (const job of this.active) {
      if (step.length >= share) break;
      if (job.busy || job.seq!.inPrompt) continue;
      step.push(job);
      segs.push({ cache: job.seq!.cache, tokens: job.seq!.input() });
      decodeRows++;
    }
    for (const job of this.active) {
      if (step.length >= share) break;
      const seq = job.seq!;
      if (job.busy || !seq.inPrompt) continue;
      const chunk = Math.min(this.o.batch, seq.promptLeft);
      if (promptRows > 0 && promptRows + chunk > this.o.batch) break;
      step.push(job);
      segs.push({ cache: seq.cache, tokens: seq.input() });
      promptRows += chunk;
    }
    for (const job of step) job.busy = true;
    return { step, segs, promptRows, decodeRows };
  }

  private async loop(g: number): Promise<void> {
    for (;;) {
      // Let the HTTP side run between passes: new requests arrive and closed sockets cancel
      // their jobs (the cpu backend's matmuls finish without yielding to I/O).
      await new Promise<void>((r) => setImmediate(r));
      for (const job of [...this.active]) {
        if (job.cancelled && !job.busy) {
          this.release(job);
          this.finish(job, 'cancelled');
        }
      }
      this.admit();
      const { step, segs, promptRows, decodeRows } = this.claim();
      // Nothing for this group now (the other groups hold every sequence): its loop ends, and
      // the next submit, or another group's finished pass, starts it again. It says so at once,
      // not a few microtasks later, so a pass that ends meanwhile does not take it for running.
      if (step.length === 0) {
        this.loops[g] = undefined;
        return;
      }
      try {
        if (!(await this.pass(g, step, segs, promptRows, decodeRows))) continue;
      } finally {
        // Whatever this pass threw (a bug: kick's catch takes it), its jobs are this group's
        // no longer, so that catch releases them instead of waiting for a pass that never ends.
        for (const job of step) job.busy = false;
      }
      // Sequences this pass let go may be more than this group's share now: another group's
      // loop, if it ended, takes them.
      this.kick();
    }
  }

  /** One forward pass of group g's claimed jobs, then their tokens; false when the backend failed (those jobs are rejected). */
  private async pass(g: number, step: Job[], segs: Segment[], promptRows: number, decodeRows: number): Promise<boolean> {
    const tr = this.trs[g]!;
    const lane = this.schedule.lanes[g]!;
    const t0 = performance.now();
    let logits: Float32Array;
    lane.beginStep(); // outside the catch: a schedule bug is no backend failure
    try {
      try {
        logits = await tr.forwardBatch(segs);
      } finally {
        lane.endStep();
      }
    } catch (e) {
      // The requests in this pass fail (their caches may hold half a step); the server and
      // the other requests go on, and the next pass tries the backend again.
      for (const job of step) {
        job.busy = false;
        this.release(job);
        job.reject(new BackendFailure(e));
      }
      return false;
    }
    const ms = performance.now() - t0;
    let sampled = 0;
    const V = this.model.config.vocab;
    step.forEach((job, i) => {
      job.busy = false;
      const seq = job.seq!;
      const id = seq.advance(logits.subarray(i * V, (i + 1) * V));
      if (id !== undefined) sampled++;
      if (id !== undefined && !job.cancelled) {
        try {
          job.req.onToken?.(id);
        } catch (e) {
          job.cancelled = true;
          job.reject(e);
        }
      }
      if (seq.done) {
        this.release(job);
        this.finish(job, seq.stoppedBy!);
      }
    });
    this.onStep?.({ sequences: segs.length, rows: promptRows + decodeRows, promptRows, decodeRows, sampled, ms, group: g });
    return true;
  }
}
