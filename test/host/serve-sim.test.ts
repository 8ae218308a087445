// `serve` on the sim backend (the board SoC under Verilator, through the link protocol):
// two concurrent requests share each forward pass's M-row matmuls on the board and get the
// same tokens as on the cpu backend, on one board and split across two (one pipeline group per
// board); /metrics shows the link's figures and each board's busy time.

import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { fixture } from './fixtures.ts';
import { startServer, type Server } from '../../host/cli/commands/serve.ts';
import { parseBackendSpec } from '../../host/backends/spec.ts';

describe('host: serve on the sim backend', function () {
  it('two concurrent requests on sim, and on sim,sim, give the cpu backend\'s tokens; link bytes are in /metrics', async () => {
    const model = fixture('tiny-bitnet-a');
    const reqs = [
      { prompt: [1, 17, 42, 99], seed: 3, temperature: 0 },
      { prompt: [5, 6, 7], seed: 9, temperature: 0.8 },
    ];
    const answers = async (s: Server): Promise<string[]> => {
      const c = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'none', maxRetries: 0, timeout: 300_000 });
      const r = await Promise.all(reqs.map((q) => c.completions.create({ model, prompt: q.prompt, seed: q.seed, temperature: q.temperature, max_tokens: 3 })));
      return r.map((x) => x.choices[0]!.text);
    };
    const opts = { model, host: '127.0.0.1', port: 0, parallel: 2, queue: 2, batch: 8 };
    const cpu = await startServer({ ...opts, backend: parseBackendSpec('cpu') });
    let want: string[];
    try {
      want = await answers(cpu);
    } finally {
      await cpu.close();
    }
    const sim = await startServer({ ...opts, backend: parseBackendSpec('sim') });
    try {
      const got = await answers(sim);
      assert.deepEqual(got, want);
      // No tokenizer: the text is the ids, as run prints them (3 tokens: the sim,sim part runs two
      // pipeline groups, twice the calls of one batch, and the simulation is slow per call).
      assert.match(got[0]!, /^(\d+ ){3}$/);
      const text = await (await fetch(`${sim.url}/metrics`)).text();
      const out = Number(/^bitnet_link_bytes\{direction="out"\} (\d+)/m.exec(text)?.[1]);
      assert.ok(out > 0, 'link bytes out in /metrics');
      const seqs = Number(/^bitnet_batch_sequences_sum (\d+)/m.exec(text)?.[1]);
      const passes = Number(/^bitnet_batch_sequences_count (\d+)/m.exec(text)?.[1]);
      assert.ok(seqs > passes, `sequences ${seqs} over ${passes} passes: not batched`);
    } finally {
      await sim.close();
    }
    // Two boards, a layer each (layer-split.ts): the same tokens again.
    const two = await startServer({ ...opts, backend: parseBackendSpec('sim,sim') });
    try {
      assert.deepEqual(await answers(two), want);
      const text = await (await fetch(`${two.url}/metrics`)).text();
      assert.ok(Number(/^bitnet_link_bytes\{direction="out"\} (\d+)/m.exec(text)?.[1]) > 0, 'link bytes of both boards in /metrics');
      // One pipeline group per board by default, and both boards worked.
      assert.match(text, /^bitnet_pipeline_groups 2$/m);
      for (const b of [0, 1]) assert.ok(Number(new RegExp(`^bitnet_board_busy_seconds\\{board="${b}",name="sim [^"]*"\\} ([\\d.e-]+)$`, 'm').exec(text)?.[1]) > 0, `board ${b}'s busy seconds in /metrics`);
    } finally {
      await two.close();
    }
  });
});
