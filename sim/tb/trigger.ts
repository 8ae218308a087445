// Triggers are what a task awaits: `await RisingEdge(dut.clk)`. Each is a thenable whose
// then() subscribes a Waiter on behalf of the task that awaits it (known through
// AsyncLocalStorage), so the kernel can say what every task waits on and cancel() can
// reject the right await.
//
// then() calls the await's own resolve function directly when the trigger fires; a
// promise for chaining (`trigger.then(f).then(g)`) is only made if someone asks for it.

import { currentKernel, taskContext, type Kernel, type Sub, type TaskLike, type Waiter as WaiterLike } from './kernel.ts';

export class CancelledError extends Error {
  constructor(task: string) {
    super(`task '${task}' was cancelled`);
    this.name = 'CancelledError';
  }
}

export abstract class Trigger<T = void> implements PromiseLike<T> {
  /** Start delivering to `sub`; it is fired at most once per subscription by the caller's guard. */
  abstract subscribe(k: Kernel, sub: Sub<T>): void;
  abstract unsubscribe(k: Kernel, sub: Sub<T>): void;
  /** What it waits for, with the current values of the signals involved. */
  abstract describe(): string;
  /** The kernel this trigger belongs to (its signal's, or the running test's). */
  kernel(): Kernel {
    return currentKernel(this.constructor.name);
  }

  then<R1 = T, R2 = never>(onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null, onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null): PromiseLike<R1 | R2> {
    const k = this.kernel();
    const w = new Waiter<T>(this, k, taskContext.getStore(), onFulfilled, onRejected);
    w.start();
    return w as PromiseLike<unknown> as PromiseLike<R1 | R2>;
  }
}

class Waiter<T> implements WaiterLike, Sub<T>, PromiseLike<unknown> {
  private done = false;
  private settled = false;
  private ok = true;
  private out: unknown;
  private chained: ((ok: boolean, v: unknown) => void)[] | undefined;

  constructor(
    readonly trigger: Trigger<T>,
    readonly k: Kernel,
    readonly task: TaskLike | undefined,
    private readonly onF: ((v: T) => unknown) | null | undefined,
    private readonly onR: ((e: unknown) => unknown) | null | undefined,
  ) {}

  start(): void {
    const task = this.task;
    if (task) {
      if (task.cancelled) {
        this.k.wake(task);
        this.settle(false, new CancelledError(task.name));
        return;
      }
      task.waiting.add(this);
      this.k.blocked(task);
    }
    this.trigger.subscribe(this.k, this);
  }

  fire(v: T): void {
    this.end(true, v);
  }

  fail(e: unknown): void {
    this.end(false, e);
  }

  cancel(e: unknown): void {
    this.end(false, e);
  }

  /** Leave the trigger and resume the task with a value or an error. */
  private end(ok: boolean, v: unknown): void {
    if (this.done) return;
    this.done = true;
    this.trigger.unsubscribe(this.k, this);
    this.task?.waiting.delete(this);
    this.k.wake(this.task);
    this.settle(ok, v);
  }

  describe(): string {
    return this.trigger.describe();
  }

  private settle(ok: boolean, v: unknown): void {
    this.done = true;
    this.settled = true;
    const f = ok ? this.onF : this.onR;
    if (f) {
      try {
        v = f(v as T);
        ok = true;
      } catch (e) {
        v = e;
        ok = false;
      }
    }
    this.ok = ok;
    this.out = v;
    if (this.chained) for (const c of this.chained) c(ok, v);
    this.chained = undefined;
  }

  // Chaining: only built when someone calls then() on what Trigger.then returned.
  then<R1, R2>(onF?: ((v: unknown) => R1 | PromiseLike<R1>) | null, onR?: ((e: unknown) => R2 | PromiseLike<R2>) | null): Promise<R1 | R2> {
    return new Promise<unknown>((resolve, reject) => {
      const deliver = (ok: boolean, v: unknown): void => (ok ? resolve(v) : reject(v));
      if (this.settled) deliver(this.ok, this.out);
      else (this.chained ??= []).push(deliver);
    }).then(onF, onR);
  }
}
