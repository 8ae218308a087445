// Values as they were just before a clock's rising edge: what the flip-flops sampled
// (a SystemVerilog clocking block's input skew of #1step). A valid/ready monitor reads
// these after RisingEdge to know whether a transfer happened at that edge, in one wake
// per cycle instead of two.

import type { Clock } from './clock.ts';
import type { Signal } from './handle.ts';

export class Sampler<K extends string> {
  readonly values = {} as Record<K, bigint>;
  private readonly remove: () => void;

  constructor(
    readonly clock: Clock,
    readonly signals: Readonly<Record<K, Signal>>,
  ) {
    const k = clock.kernel;
    const entries = Object.entries(signals) as [K, Signal][];
    const hook = (): void => {
      for (const [name, s] of entries) this.values[name] = s.value;
    };
    hook();
    let set = k.beforeEdge.get(clock.signal.index);
    if (!set) k.beforeEdge.set(clock.signal.index, (set = new Set()));
    set.add(hook);
    this.remove = () => set.delete(hook);
  }

  close(): void {
    this.remove();
  }
}
