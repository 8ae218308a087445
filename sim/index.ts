// The testbench framework's public API: `import { dutTest, Clock, RisingEdge } from '…/sim/index.ts'`.

export { buildModel, manifestSource, emittedSource, VerilogError, type ModelSource, type BuiltModel, type WaveFormat } from './bridge/build.ts';
export { Model, ModelError, StreamKind, type ClockEvent, type RunResult } from './bridge/model.ts';
export type { PortInfo } from './bridge/ports.ts';
export { Kernel, SimFailure, SimTimeoutError, MAX_DELTAS } from './tb/kernel.ts';
export { Trigger, CancelledError } from './tb/trigger.ts';
export { RisingEdge, FallingEdge, ValueChange, Edge, ClockCycles, Timer, ReadOnly, ReadWrite, NextTimeStep, Combine, First, withTimeout } from './tb/triggers.ts';
export { Task, startSoon } from './tb/task.ts';
export { SimEvent, Lock, SimQueue } from './tb/sync.ts';
export { Clock } from './tb/clock.ts';
export { Sampler } from './tb/sampler.ts';
export { Signal, SignalError, type Bit, type Writable } from './tb/handle.ts';
export { DutSpec, verilogDut, generatedDut, emittedDut, makeDut, type Ports, type AnyPorts, type NamedPorts, type InPort, type OutPort } from './tb/dut.ts';
export { dutTest, simulate, type Tb, type DutTestOptions } from './tb/test.ts';
export { XorShift32, globalSeed, testSeed } from '../common/rng.ts';
export { formatTime, parseTime, toPs, type TimeUnit } from './tb/time.ts';
export { FastStreams, FastSource, FastSink, runCycles, type StreamPorts, type Beat, type BeatOf } from './tb/fast.ts';
export { StreamSource, StreamSink, StreamMonitor } from './vip/stream.ts';
export { UartSource, UartSink, UartMonitor, describeUartError, type UartOptions, type UartParity, type UartFrame, type UartErrorInjection } from './vip/uart.ts';
export { Scoreboard, ScoreboardError, describeDiff } from './vip/scoreboard.ts';
export { CoverGroup, CoverageError, coverGroups, type Bins, type ItemOptions } from './tb/coverage.ts';
export { AxiLiteMaster, AxiLiteError, axiLitePorts, type AxiLitePorts } from './vip/axilite.ts';
export { AxisSource, AxisSink, axisPorts, type AxisPorts } from './vip/axis.ts';
export { MemoryModel, SramResponder, type SramPorts } from './vip/memory.ts';
export { AxiMemory, axi4Ports, type Axi4Ports, type AxiMemoryOptions, type AxiMemoryStats } from './vip/axi-memory.ts';
