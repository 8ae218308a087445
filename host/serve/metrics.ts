// GET /metrics: the server's figures in Prometheus' text format (prom-client), on a registry of
// its own so two servers in one process (the tests) do not share counters.

import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BitLinearBackend } from '../backends/backend.ts';
import type { Engine, StepInfo } from './engine.ts';

export class ServeMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: 'bitnet_requests_total', help: 'HTTP requests answered, by route and status', labelNames: ['route', 'status'] as const, registers: [this.registry] });
  readonly tokens = new Counter({ name: 'bitnet_tokens_total', help: 'Prompt tokens evaluated, and tokens generated (sampled)', labelNames: ['kind'] as const, registers: [this.registry] });
  private readonly batchRows = new Histogram({ name: 'bitnet_batch_rows', help: 'Rows (tokens) of each forward pass: the M of its matmuls', buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256], registers: [this.registry] });
  private readonly batchSeqs = new Histogram({ name: 'bitnet_batch_sequences', help: 'Sequences in each forward pass', buckets: [1, 2, 4, 8, 16, 32, 64], registers: [this.registry] });
  private readonly promptTps = new Gauge({ name: 'bitnet_prompt_tokens_per_second', help: 'Prompt tokens per second of the last forward pass that had any (summed over the pipeline groups running beside it)', registers: [this.registry] });
  private readonly decodeTps = new Gauge({ name: 'bitnet_decode_tokens_per_second', help: 'Generated tokens per second (all sequences) of the last forward pass that decoded any (summed over the pipeline groups running beside it)', registers: [this.registry] });

  constructor(engine: Engine, backend: BitLinearBackend) {
    new Gauge({ name: 'bitnet_queue_depth', help: 'Requests waiting for a slot', registers: [this.registry], collect() { this.set(engine.queueDepth); } });
    new Gauge({ name: 'bitnet_active_sequences', help: 'Sequences holding a slot (prompt eval or decoding)', registers: [this.registry], collect() { this.set(engine.activeSequences); } });
    new Gauge({ name: 'bitnet_slots', help: 'Slots (KV caches), --parallel', registers: [this.registry], collect() { this.set(engine.o.parallel); } });
    // Link figures only where there is a link (a board backend: lanes > 0); the cpu backend has none.
    // Read at every scrape: a split backend's stats are the sum of its boards', made afresh.
    if (backend.stats.lanes > 0) {
      new Gauge({ name: 'bitnet_link_bytes', help: 'Bytes over the link since the backend opened, by direction', labelNames: ['direction'] as const, registers: [this.registry], collect() { const s = backend.stats; this.set({ direction: 'out' }, s.bytesOut); this.set({ direction: 'in' }, s.bytesIn); } });
      new Gauge({ name: 'bitnet_link_requests', help: 'Link requests since the backend opened', registers: [this.registry], collect() { this.set(backend.stats.requests); } });
      new Gauge({ name: 'bitnet_link_retries', help: 'Link retries since the backend opened', registers: [this.registry], collect() { this.set(backend.stats.retries); } });
      new Gauge({ name: 'bitnet_board_cycles', help: 'Core cycles since the backend opened', registers: [this.registry], collect() { this.set(backend.stats.boardCycles); } });
    }
    // Per board (a split backend has several; the cpu and one board are board 0): the time it
    // ran matmuls, so rate() over a window is its busy fraction, the figure that shows whether
    // the pipeline schedule keeps every board working (--pipeline-groups).
    const sched = engine.schedule;
    const names = backend.boardNames ?? [backend.name];
    new Gauge({ name: 'bitnet_board_busy_seconds', help: 'Seconds each board spent running matmuls since the server started (rate() is its busy fraction)', labelNames: ['board', 'name'] as const, registers: [this.registry], collect() { sched.busyMs.forEach((ms, b) => this.set({ board: String(b), name: names[b] ?? '' }, ms / 1000)); } });
    new Gauge({ name: 'bitnet_pipeline_groups', help: 'Groups of sequences stepping through the layers on their own, --pipeline-groups', registers: [this.registry], collect() { this.set(sched.groups); } });
    engine.onStep = (st) => this.step(st);
  }

  /**
   * Each pipeline group's last pass: when it ended, how long it took, and its rows. The server's
   * rate is the sum over the passes that ran at the same time as the one just ended; a group
   * whose last pass ended before this one began is not running beside it (one stream can move
   * from group to group pass by pass, and an idle group's old pass would count forever).
   */
  private readonly lastPass: { end: number; ms: number; promptRows: number; decodeRows: number }[] = [];

  private step(s: StepInfo): void {
    this.batchRows.observe(s.rows);
    this.batchSeqs.observe(s.sequences);
    if (s.promptRows) this.tokens.inc({ kind: 'prompt' }, s.promptRows);
    if (s.sampled) this.tokens.inc({ kind: 'generated' }, s.sampled);
    const end = performance.now();
    this.lastPass[s.group] = { end, ms: s.ms, promptRows: s.promptRows, decodeRows: s.decodeRows };
    const beside = this.lastPass.filter((p) => p !== undefined && p.end > end - s.ms);
    // A pass's time is its prompt and decode rows' together: each rate is over the whole pass.
    const rate = (rows: (p: (typeof beside)[number]) => number): number => beside.reduce((a, p) => a + rows(p) / (Math.max(p.ms, 1e-3) / 1000), 0);
    // When no pass beside this one had any rows of a kind, its gauge keeps the last value.
    const prompt = rate((p) => p.promptRows);
    const decode = rate((p) => p.decodeRows);
    if (prompt > 0) this.promptTps.set(prompt);
    if (decode > 0) this.decodeTps.set(decode);
  }
}
