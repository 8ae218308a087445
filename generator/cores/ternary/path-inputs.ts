// What the core hands each datapath besides the adder array's own (the table-lookup path,
// lut-path.ts; the int4-pairs path, dual-int4.ts): the run's registers and its memories.

import type { MemoryHandle, Signal, Value } from '../../hdl/index.ts';

export interface RunInputs {
  readonly K: Signal;
  readonly N: Signal;
  readonly M: Signal;
  readonly wBase: Signal;
  readonly kTiles: Value;
  /** A run starts (CTRL.START accepted) this cycle. */
  readonly begin: Value;
  readonly wmemRead: (addr: Value, enable: Value) => Value;
  readonly xmem: MemoryHandle;
  /** The accumulators (each path says its word layout). */
  readonly amem: MemoryHandle;
}
