// `bitnet-fpga bench SUITE`: figures, never assertions.

import { ParamError } from '../../../generator/cores/registry.ts';
import { quoted } from '../flags.ts';

interface BenchRecord {
  metric: string;
  value: number;
  unit: string;
  config: Record<string, unknown>;
}

// --pes was bounded by the option table.
const SUITES: Record<string, (o: { pes: number }) => Promise<BenchRecord[]>> = {
  hdl: async (o) => {
    const { hdlBench } = await import('../../../generator/bench/hdl-bench.ts');
    return hdlBench(o.pes);
  },
  core: async () => {
    const { coreBench } = await import('../../../sim/bench/core-bench.ts');
    return coreBench();
  },
  link: async () => {
    const { linkBench } = await import('../../bench/link-bench.ts');
    return linkBench();
  },
  sim: async () => {
    const { simBench } = await import('../../../sim/bench/sim-bench.ts');
    return simBench();
  },
  host: async () => {
    const { hostBench } = await import('../../bench/host-bench.ts');
    return hostBench();
  },
  serve: async () => {
    const { serveBench, SERVE_CLIENTS } = await import('../../bench/serve-bench.ts');
    const { pipelineBench, simPipelineBench } = await import('../../bench/pipeline-bench.ts');
    const { batchProjection, shapeOf } = await import('../../../sim/bench/board-projection.ts');
    const { SERVING_BOARD: b } = await import('../../../common/projection.ts');
    return [...(await serveBench()), ...(await pipelineBench(b, shapeOf(b.core, b.mmax))), ...(await simPipelineBench()), ...batchProjection(SERVE_CLIENTS)];
  },
};
const PLANNED: string[] = [];
/** Tables a suite's records also make, printed after them (not with --json: the records hold the same figures). */
const TABLES: Record<string, (r: BenchRecord[]) => Promise<string | undefined>> = {
  core: async (r) => (await import('../../../common/projection.ts')).projectionTable(r),
  serve: async (r) => [...(await import('../../../common/projection.ts')).serveTable(r), ...(await import('../../bench/pipeline-bench.ts')).pipelineTable(r)].join('\n').trim() || undefined,
  sim: async (r) => (await import('../../../sim/bench/sim-bench.ts')).simTable(r),
  host: async (r) => (await import('../../bench/fortunes-ppl.ts')).fortunesPplTable(r),
};

export async function benchCommand(suite: string, o: { json?: boolean; pes: number }): Promise<void> {
  const names = suite === 'all' ? Object.keys(SUITES) : [suite];
  const records: BenchRecord[] = [];
  for (const name of names) {
    // Object.hasOwn: `bench constructor` names no suite.
    const run = Object.hasOwn(SUITES, name) ? SUITES[name] : undefined;
    if (!run) {
      if (PLANNED.includes(name)) throw new ParamError(`bench suite '${name}' is not implemented yet; available: ${Object.keys(SUITES).join(', ')}`);
      throw new ParamError(`unknown bench suite ${quoted(name)}; available: ${Object.keys(SUITES).join(', ')}, all`);
    }
    records.push(...(await run(o)));
  }
  const tables: string[] = [];
  for (const name of names) {
    const t = Object.hasOwn(TABLES, name) ? await TABLES[name]!(records) : undefined;
    if (t) tables.push(t);
  }
  if (o.json) {
    console.log(JSON.stringify(records, null, 2));
    return;
  }
  const w = Math.max(...records.map((r) => r.metric.length));
  for (const r of records) {
    const v = Math.abs(r.value) >= 100 ? r.value.toFixed(0) : r.value.toPrecision(3);
    console.log(`${r.metric.padEnd(w)}  ${v.padStart(12)} ${r.unit.padEnd(12)} ${JSON.stringify(r.config)}`);
  }
  for (const t of tables) console.log(`\n${t}`);
}
