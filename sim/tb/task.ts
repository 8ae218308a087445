// Tasks: concurrent coroutines inside one simulation (cocotb's start_soon). A task is a
// trigger too: `await task` joins it and yields its result.

import { currentKernel, taskContext, type Kernel, type Sub, type TaskLike, type Waiter } from './kernel.ts';
import { CancelledError, Trigger } from './trigger.ts';
import { setMessage } from './error-text.ts';

let taskCount = 0;

export class Task<T = unknown> extends Trigger<T> implements TaskLike {
  readonly waiting = new Set<Waiter>();
  cancelled = false;
  finished = false;
  result: T | undefined;
  error: unknown;
  readonly finishedPromise: Promise<T>;
  private readonly joiners = new Set<Sub<T>>();
  private resolveFinished!: (v: T) => void;
  private rejectFinished!: (e: unknown) => void;

  constructor(
    private readonly k: Kernel,
    readonly name: string,
    private readonly body: () => Promise<T>,
  ) {
    super();
    this.finishedPromise = new Promise<T>((res, rej) => {
      this.resolveFinished = res;
      this.rejectFinished = rej;
    });
    this.finishedPromise.catch(() => {}); // reported through the kernel, not as an unhandled rejection
  }

  /** Run the body now, inside this task's context, until its first await. */
  start(): this {
    this.k.tasks.add(this);
    this.k.awake.add(this);
    this.k.woken++;
    taskContext
      .run(this, () => this.body())
      .then(
        (v) => this.settle(v, undefined, false),
        (e: unknown) => this.settle(undefined, e, true),
      );
    return this;
  }

  private settle(v: T | undefined, e: unknown, failed: boolean): void {
    this.finished = true;
    this.k.tasks.delete(this);
    this.k.blocked(this);
    if (failed) {
      this.error = e;
      if (!(e instanceof CancelledError)) {
        if (e instanceof Error && !e.message.includes(`task '${this.name}'`) && this.name !== 'main') setMessage(e, `in task '${this.name}': ${e.message}`);
        this.k.fail(e);
      }
      this.rejectFinished(e);
    } else {
      this.result = v;
      this.resolveFinished(v as T);
    }
    const joiners = [...this.joiners];
    this.joiners.clear();
    for (const j of joiners) j.fire(v as T);
  }

  /**
   * Stop the task: the trigger it is waiting on rejects with CancelledError inside it, so
   * its `finally` blocks run. A task that catches CancelledError may go on running.
   */
  cancel(): void {
    if (this.finished) return;
    this.cancelled = true;
    for (const w of [...this.waiting]) w.cancel(new CancelledError(this.name));
  }

  get done(): boolean {
    return this.finished;
  }

  subscribe(k: Kernel, sub: Sub<T>): void {
    if (this.finished) {
      k.woken++;
      queueMicrotask(() => sub.fire(this.result as T));
    } else this.joiners.add(sub);
  }

  unsubscribe(_k: Kernel, sub: Sub<T>): void {
    this.joiners.delete(sub);
  }

  describe(): string {
    return `Join(task '${this.name}')`;
  }
}

/** Start `fn` as a concurrent task of the running test (cocotb's start_soon). */
export function startSoon<T>(fn: () => Promise<T>, name?: string): Task<T> {
  const k = currentKernel('startSoon');
  return new Task<T>(k, name ?? (fn.name || `task${++taskCount}`), fn).start();
}
