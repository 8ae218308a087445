// Timings in the layout llama.cpp prints (people know how to read it), plus the offload
// figures a board adds: link bytes, board cycles, array utilization.

import type { Generation } from './generate.ts';

const f2 = (v: number, w = 10): string => v.toFixed(2).padStart(w);
const rate = (ms: number, n: number): string => `(${f2(n ? ms / n : 0, 8)} ms per token, ${f2(ms > 0 ? (1000 * n) / ms : 0, 8)} tokens per second)`;

export function timingReport(g: Generation, loadMs: number, backend: string): string[] {
  const t = g.timings;
  const o = g.offload;
  const P = 'bitnet_perf_context_print:';
  const total = loadMs + t.promptMs + t.evalMs + t.sampleMs;
  const lines = [
    `bitnet_perf_sampler_print:    sampling time = ${f2(t.sampleMs)} ms / ${String(t.sampleRuns).padStart(5)} runs   ${rate(t.sampleMs, t.sampleRuns)}`,
    `${P}        load time = ${f2(loadMs)} ms`,
    `${P} prompt eval time = ${f2(t.promptMs)} ms / ${String(t.promptTokens).padStart(5)} tokens ${rate(t.promptMs, t.promptTokens)}`,
    `${P}        eval time = ${f2(t.evalMs)} ms / ${String(t.evalRuns).padStart(5)} runs   ${rate(t.evalMs, t.evalRuns)}`,
    `${P}       total time = ${f2(total)} ms / ${String(t.promptTokens + g.tokens.length).padStart(5)} tokens`,
  ];
  const Q = 'bitnet_perf_offload_print:';
  const share = t.promptMs + t.evalMs > 0 ? (100 * t.offloadMs) / (t.promptMs + t.evalMs) : 0;
  lines.push(`${Q}          backend = ${backend}`);
  const forwards = t.promptTokens + t.evalRuns;
  lines.push(`${Q}     offload time = ${f2(t.offloadMs)} ms (${share.toFixed(1)} % of prompt eval + eval), ${o.calls} BitLinear calls, ${(o.macs / 1e6).toFixed(2)} M MACs`);
  lines.push(`${Q}      round trips = ${(t.matmulCalls / Math.max(1, t.forwardPasses)).toFixed(1)} matmuls per forward pass (q/k/v and gate/up fused), ${(t.linkRequests / Math.max(1, forwards)).toFixed(1)} link requests per token`);
  const sp = g.sparsity;
  if (sp.tokens > 0) {
    const per = (z: number, n: number): string => `${(z / sp.tokens).toFixed(1)} of ${(n / sp.tokens).toFixed(0)} zero (${((100 * z) / Math.max(1, n)).toFixed(1)} %)`;
    lines.push(`${Q}   zero inputs/tok = o_proj ${per(sp.oZeros, sp.oInputs)}, down_proj ${per(sp.downZeros, sp.downInputs)}, all layers`);
  }
  if (o.lanes > 0) {
    const util = o.boardCycles ? (100 * o.macs) / (o.boardCycles * o.lanes) : 0;
    lines.push(`${Q}          weights = ${o.weightsReused ? 'already on the board (tag matched), 0 bytes sent' : `${o.weightBytesSent} bytes sent (${o.weightTilesSent} tiles)`}`);
    lines.push(`${Q}       link bytes = ${o.bytesOut} out, ${o.bytesIn} in (${o.requests} requests, ${o.retries} retries)`);
    lines.push(`${Q}     board cycles = ${o.boardCycles} (${o.boardStalls} stalled on results), array utilization = ${util.toFixed(1)} % of ${o.lanes} lanes`);
    // A dual4 board's int4-pairs runs do two int4 MACs a lane a cycle, so utilization can pass 100 %.
    if (o.int4Runs) lines.push(`${Q}   int4-pair runs = ${o.int4Runs} (two tokens a lane: up to 200 % of the lanes)`);
  }
  return lines;
}
