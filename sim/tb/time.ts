// Simulation time is an integer number of picoseconds held in a JS number (exact up to
// 2^53 ps, about 2.5 hours of simulated time), like cocotb's sim steps with a fixed 1 ps
// precision. Models are built with `--timescale 1ps/1ps`.

export type TimeUnit = 'ps' | 'ns' | 'us' | 'ms' | 's' | 'step';

const SCALE: Record<TimeUnit, number> = { step: 1, ps: 1, ns: 1e3, us: 1e6, ms: 1e9, s: 1e12 };

export function toPs(value: number, unit: TimeUnit = 'ns', what = 'time'): number {
  const scale = SCALE[unit];
  if (scale === undefined) throw new RangeError(`${what}: unknown time unit '${unit}'; expected one of ${Object.keys(SCALE).join(', ')}`);
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${what}: ${value} ${unit} is not a non-negative finite time`);
  const ps = value * scale;
  const rounded = Math.round(ps);
  if (Math.abs(ps - rounded) > 1e-6 * Math.max(1, ps)) throw new RangeError(`${what}: ${value} ${unit} is not a whole number of picoseconds (the simulation precision)`);
  return rounded;
}

/** '10 us', '250ns', '3ms', or a number of ns. */
export function parseTime(t: string | number, what = 'time'): number {
  if (typeof t === 'number') return toPs(t, 'ns', what);
  const m = /^\s*([\d.]+(?:e[+-]?\d+)?)\s*(ps|ns|us|ms|s|step)?\s*$/.exec(t);
  if (!m) throw new RangeError(`${what}: cannot read '${t}' as a time; expected e.g. '10 us' or '250 ns'`);
  return toPs(Number(m[1]), (m[2] ?? 'ns') as TimeUnit, what);
}

export function formatTime(ps: number): string {
  if (ps >= 1e9 && ps % 1e6 === 0) return `${(ps / 1e9).toString()} ms`;
  if (ps >= 1e6 && ps % 1e3 === 0) return `${(ps / 1e6).toString()} us`;
  if (ps >= 1e3 && ps % 1 === 0) return `${(ps / 1e3).toString()} ns`;
  return `${ps} ps`;
}
