// Test logs stamped with simulation time, kept in memory and printed when a test fails
// (or always with TB_LOG=1), the way cocotb prints its log with sim time first.

import { formatTime } from './time.ts';

export type Level = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';

export class TbLog {
  readonly lines: string[] = [];
  private readonly echo = process.env.TB_LOG === '1';
  constructor(
    private readonly now: () => number,
    private readonly test: string,
    private readonly keep = 2000,
  ) {}

  private add(level: Level, msg: string): void {
    const line = `${formatTime(this.now()).padStart(14)} ${level.padEnd(7)} ${this.test}: ${msg}`;
    if (this.echo) process.stdout.write(`      ${line}\n`);
    this.lines.push(line);
    if (this.lines.length > this.keep) this.lines.splice(0, this.lines.length - this.keep);
  }
  debug(msg: string): void {
    if (process.env.TB_LOG === '1') this.add('DEBUG', msg);
  }
  info(msg: string): void {
    this.add('INFO', msg);
  }
  warning(msg: string): void {
    this.add('WARNING', msg);
  }
  error(msg: string): void {
    this.add('ERROR', msg);
  }
  tail(n: number): string[] {
    return this.lines.slice(-n);
  }
}
