// Synchronization between tasks: Event, Lock and Queue, as triggers so the kernel sees
// who waits on what (and a task awaiting them stays on the fast path; see Kernel.drain).

import type { Kernel, Sub } from './kernel.ts';
import { Trigger } from './trigger.ts';

/** Fire a subscriber on the next microtask: the condition already holds. */
function fireSoon<T>(k: Kernel, sub: Sub<T>, v: T): void {
  k.woken++;
  queueMicrotask(() => sub.fire(v));
}

export class SimEvent<T = void> {
  private flag = false;
  data: T | undefined;
  private readonly waiters = new Set<Sub<T>>();
  constructor(readonly name = 'event') {}

  /** Wake every waiter; later wait() calls return at once until clear(). */
  set(data?: T): void {
    this.flag = true;
    this.data = data;
    for (const w of [...this.waiters]) w.fire(data as T);
  }
  clear(): void {
    this.flag = false;
  }
  get isSet(): boolean {
    return this.flag;
  }
  wait(): Trigger<T> {
    return new EventWait(this, this.waiters);
  }
}

class EventWait<T> extends Trigger<T> {
  constructor(
    private readonly ev: SimEvent<T>,
    private readonly waiters: Set<Sub<T>>,
  ) {
    super();
  }
  subscribe(k: Kernel, sub: Sub<T>): void {
    if (this.ev.isSet) fireSoon(k, sub, this.ev.data as T);
    else this.waiters.add(sub);
  }
  unsubscribe(_k: Kernel, sub: Sub<T>): void {
    this.waiters.delete(sub);
  }
  describe(): string {
    return `Event('${this.ev.name}').wait()`;
  }
}

export class Lock {
  private held = false;
  private readonly queue: Sub<void>[] = [];
  constructor(readonly name = 'lock') {}
  get locked(): boolean {
    return this.held;
  }
  acquire(): Trigger<void> {
    return new LockAcquire(this);
  }
  /** @internal */
  take(k: Kernel, sub: Sub<void>): void {
    if (!this.held) {
      this.held = true;
      fireSoon(k, sub, undefined);
    } else this.queue.push(sub);
  }
  /** @internal */
  drop(sub: Sub<void>): void {
    const i = this.queue.indexOf(sub);
    if (i >= 0) this.queue.splice(i, 1);
  }
  get waiting(): number {
    return this.queue.length;
  }
  release(): void {
    if (!this.held) throw new Error(`Lock('${this.name}').release(): the lock is not held`);
    const next = this.queue.shift();
    if (next) next.fire(undefined);
    else this.held = false;
  }
}

class LockAcquire extends Trigger<void> {
  constructor(private readonly lock: Lock) {
    super();
  }
  subscribe(k: Kernel, sub: Sub<void>): void {
    this.lock.take(k, sub);
  }
  unsubscribe(_k: Kernel, sub: Sub<void>): void {
    this.lock.drop(sub);
  }
  describe(): string {
    return `Lock('${this.lock.name}').acquire() [held, ${this.lock.waiting} waiting]`;
  }
}

/** An unbounded FIFO between tasks; get() waits while it is empty. */
export class SimQueue<T> {
  private readonly items: T[] = [];
  private readonly getters: Sub<T>[] = [];
  /** Items put in bulk and not yet made (putLater), oldest first. */
  private readonly later: (() => readonly T[])[] = [];
  constructor(readonly name = 'queue') {}
  /** Items waiting (also `.length`, as an array has it; cocotb's qsize()). */
  get size(): number {
    this.make();
    return this.items.length;
  }
  get length(): number {
    return this.size;
  }
  /** Tasks blocked in get(). */
  get waiting(): number {
    return this.getters.length;
  }
  /** No item waiting: a get() would block. */
  empty(): boolean {
    return this.size === 0;
  }
  put(item: T): void {
    this.make();
    const g = this.getters.shift();
    if (g) g.fire(item);
    else this.items.push(item);
  }
  /**
   * Put items that `make` builds when first needed (a passive monitor's bulk delivery:
   * converting a million beats nobody reads costs more than capturing them). Order is kept.
   */
  putLater(make: () => readonly T[]): void {
    this.later.push(make);
    if (this.getters.length) this.make();
  }
  private make(): void {
    while (this.later.length) {
      const batch = this.later.shift()!();
      for (const item of batch) {
        const g = this.getters.shift();
        if (g) g.fire(item);
        else this.items.push(item);
      }
    }
  }
  get(): Trigger<T> {
    return new QueueGet(this);
  }
  /** @internal */
  take(k: Kernel, sub: Sub<T>): void {
    this.make();
    if (this.items.length) fireSoon(k, sub, this.items.shift()!);
    else this.getters.push(sub);
  }
  /** @internal */
  drop(sub: Sub<T>): void {
    const i = this.getters.indexOf(sub);
    if (i >= 0) this.getters.splice(i, 1);
  }
}

class QueueGet<T> extends Trigger<T> {
  constructor(private readonly q: SimQueue<T>) {
    super();
  }
  subscribe(k: Kernel, sub: Sub<T>): void {
    this.q.take(k, sub);
  }
  unsubscribe(_k: Kernel, sub: Sub<T>): void {
    this.q.drop(sub);
  }
  describe(): string {
    return `Queue('${this.q.name}').get() [empty]`;
  }
}
