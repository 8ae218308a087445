// `serve` through the official openai client on 127.0.0.1 with the cpu backend and the
// tiny-fortunes model: completions and chat, streaming and not, equal to `run` with the same
// seed; batched requests equal the same requests alone; cancellation frees the slot; 401,
// 429, bad JSON and bad fields named; a failing backend is a 503 and the server goes on.

import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { fixture } from './fixtures.ts';
import { startServer, serveModel, type Server, type ServeOptions } from '../../host/cli/commands/serve.ts';
import { runModel } from '../../host/cli/commands/run.ts';
import { parseBackendSpec } from '../../host/backends/spec.ts';
import { CpuBackend } from '../../host/backends/cpu.ts';
import { BackendError, type BitLinearBackend } from '../../host/backends/backend.ts';
import { loadModel } from '../../host/model/load.ts';
import { bitLinears } from '../../host/model/model.ts';
import { TextCodec } from '../../host/model/tokenizer.ts';

/** The BitNet 2B-4T chat template (tokenizer_config.json's chat_template), which TextCodec renders. */
const BITNET_TEMPLATE = "{% for message in messages %}{% set content = message['role'] | capitalize + ': '+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ 'Assistant: ' }}{% endif %}";

/** tiny-fortunes with the BitNet chat template added (the fixture has none and is read-only). */
function modelWithChat(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'serve-model-'));
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json']) copyFileSync(fixture('tiny-fortunes', f), path.join(dir, f));
  writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ bos_token: '<s>', eos_token: '</s>', model_max_length: 256, tokenizer_class: 'PreTrainedTokenizerFast', chat_template: BITNET_TEMPLATE }));
  return dir;
}

const base = (model: string, o: Partial<ServeOptions> = {}): ServeOptions => ({ model, backend: parseBackendSpec('cpu'), host: '127.0.0.1', port: 0, parallel: 4, queue: 4, batch: 8, ...o });
const client = (s: Server, apiKey = 'none'): OpenAI => new OpenAI({ baseURL: `${s.url}/v1`, apiKey, maxRetries: 0, timeout: 60_000 });

async function streamText(c: OpenAI, model: string, prompt: string, seed: number, max: number): Promise<{ text: string; finish: string | null; chunks: number }> {
  const st = await c.completions.create({ model, prompt, seed, max_tokens: max, stream: true });
  let text = '';
  let finish: string | null = null;
  let chunks = 0;
  for await (const ch of st) {
    chunks++;
    text += ch.choices[0]?.text ?? '';
    finish = ch.choices[0]?.finish_reason ?? finish;
  }
  return { text, finish, chunks };
}

describe('host: serve (OpenAI API, continuous batching)', function () {
  let model: string;
  let server: Server;
  let c: OpenAI;

  before(async () => {
    model = modelWithChat();
    server = await startServer(base(model));
    c = client(server);
  });
  after(async () => server?.close());

  it('lists the model and answers /health', async () => {
    const models = await c.models.list();
    assert.deepEqual(
      models.data.map((m) => m.id),
      [model],
    );
    const h = (await (await fetch(`${server.url}/health`)).json()) as { status: string; slots: number };
    assert.deepEqual([h.status, h.slots], ['ok', 4]);
  });

  it('a completion is what run gives with the same seed; its stream is the same text', async () => {
    const prompt = 'The cat ';
    const r = await runModel({ model, backend: parseBackendSpec('cpu'), prompt, n: 24, temp: 0.8, topK: 40, topP: 0.95, seed: 11, batch: 8 });
    const codec = TextCodec.load(model)!;
    const res = await c.completions.create({ model, prompt, seed: 11, max_tokens: 24 });
    assert.equal(res.choices[0]!.text, codec.decode(r.generation.tokens));
    assert.deepEqual(res.usage, { prompt_tokens: r.generation.prompt.length, completion_tokens: r.generation.tokens.length, total_tokens: r.generation.prompt.length + r.generation.tokens.length });
    assert.equal(res.choices[0]!.finish_reason, r.generation.stoppedBy === 'stop' ? 'stop' : 'length');
    const s = await streamText(c, model, prompt, 11, 24);
    assert.equal(s.text, res.choices[0]!.text);
    assert.ok(s.chunks > 2, `${s.chunks} chunks`);
  });

  it('chat uses the BitNet template as run --chat does; a stream has the role, deltas and usage', async () => {
    const r = await runModel({ model, backend: parseBackendSpec('cpu'), prompt: 'Tell me a fortune', chat: true, n: 16, temp: 0.8, topK: 40, topP: 0.95, seed: 5, batch: 8 });
    const codec = TextCodec.load(model)!;
    const res = await c.chat.completions.create({ model, messages: [{ role: 'user', content: 'Tell me a fortune' }], seed: 5, max_completion_tokens: 16 });
    assert.equal(res.choices[0]!.message.content, codec.decode(r.generation.tokens));
    assert.equal(res.usage!.prompt_tokens, r.generation.prompt.length);
    const st = await c.chat.completions.create({ model, messages: [{ role: 'user', content: 'Tell me a fortune' }], seed: 5, max_completion_tokens: 16, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let role: string | undefined;
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const ch of st) {
      role ??= ch.choices[0]?.delta.role;
      text += ch.choices[0]?.delta.content ?? '';
      usage = ch.usage ?? usage;
    }
    assert.equal(role, 'assistant');
    assert.equal(text, res.choices[0]!.message.content);
    assert.deepEqual(usage, res.usage);
  });

  it('concurrent requests are batched into shared forward passes and each gets exactly its tokens alone', async () => {
    const jobs = [
      { prompt: 'A fool ', seed: 1 },
      { prompt: 'You will be ', seed: 2 },
      { prompt: 'Q: Why did the chicken cross the road? A: ', seed: 3 },
      { prompt: 'Never ', seed: 4 },
      { prompt: 'Love is ', seed: 5 },
    ];
    const seqs0 = await metric(server, 'bitnet_batch_sequences_sum');
    const passes0 = await metric(server, 'bitnet_batch_sequences_count');
    // Five at once on four slots: one waits in the queue and joins when a slot frees.
    const together = await Promise.all(jobs.map((j) => streamText(c, model, j.prompt, j.seed, 20)));
    const seqs = (await metric(server, 'bitnet_batch_sequences_sum')) - seqs0;
    const passes = (await metric(server, 'bitnet_batch_sequences_count')) - passes0;
    assert.ok(seqs / passes > 1.5, `sequences per forward pass ${seqs}/${passes}: the requests were not batched`);
    // The 45-token prompt went in chunks: no pass had more than the 4 decode rows and -b 8 prompt rows.
    assert.equal(await metric(server, 'bitnet_batch_rows_bucket{le="16"}'), await metric(server, 'bitnet_batch_rows_count'));
    assert.ok((await metric(server, 'bitnet_batch_rows_bucket{le="8"}')) < (await metric(server, 'bitnet_batch_rows_count')), 'no pass had more than 8 rows: no prompt chunk ran beside decoding streams');
    for (const [i, j] of jobs.entries()) {
      const alone = await c.completions.create({ model, prompt: j.prompt, seed: j.seed, max_tokens: 20 });
      assert.equal(together[i]!.text, alone.choices[0]!.text, `request ${i}: batched differs from alone`);
    }
    // And the chunked 45-token prompt, batched, is what run gives.
    const r = await runModel({ model, backend: parseBackendSpec('cpu'), prompt: jobs[2]!.prompt, n: 20, temp: 0.8, topK: 40, topP: 0.95, seed: jobs[2]!.seed, batch: 8 });
    assert.equal(together[2]!.text, TextCodec.load(model)!.decode(r.generation.tokens));
  });

  it('a stop string ends the text before it', async () => {
    const full = (await c.completions.create({ model, prompt: 'The ', seed: 3, max_tokens: 30 })).choices[0]!.text;
    const stop = full.slice(8, 10);
    const cut = full.indexOf(stop);
    const res = await c.completions.create({ model, prompt: 'The ', seed: 3, max_tokens: 30, stop });
    assert.equal(res.choices[0]!.text, full.slice(0, cut));
    assert.equal(res.choices[0]!.finish_reason, 'stop');
    const s = await c.completions.create({ model, prompt: 'The ', seed: 3, max_tokens: 30, stop: [stop], stream: true });
    let text = '';
    for await (const ch of s) text += ch.choices[0]?.text ?? '';
    assert.equal(text, full.slice(0, cut));
  });

  it('a client that disconnects frees its slot at the next step', async () => {
    // A backend 1 ms slower per matmul, so the 250 tokens asked for would take seconds.
    const m = loadModel(model);
    const s = await serveModel(m, TextCodec.load(model), await wrappedCpu(m, (call) => new Promise((r) => setTimeout(r, 1)).then(call)), { host: '127.0.0.1', port: 0, parallel: 2, queue: 2, batch: 8, ctx: 256, modelId: 'm' });
    try {
      const cs = client(s);
      const ac = new AbortController();
      const st = await cs.completions.create({ model: 'm', prompt: 'The ', seed: 1, max_tokens: 250, stream: true }, { signal: ac.signal });
      let got = 0;
      try {
        for await (const _ of st) {
          if (++got === 3) ac.abort();
        }
      } catch (e) {
        assert.ok((e as Error).name === 'AbortError' || /abort/i.test((e as Error).message), String(e));
      }
      for (let i = 0; i < 200 && s.engine.activeSequences > 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(s.engine.activeSequences, 0, 'the slot is still held');
      const generated = await metric(s, 'bitnet_tokens_total{kind="generated"}');
      assert.ok(generated >= 3 && generated < 100, `${generated} tokens generated for a client that left after 3`);
      const next = await cs.completions.create({ model: 'm', prompt: 'The ', seed: 1, max_tokens: 4 });
      assert.equal(next.usage!.completion_tokens, 4);
    } finally {
      await s.close();
    }
  });

  it('bad input is a 4xx OpenAI error naming the field; the server goes on', async () => {
    const post = async (body: string): Promise<{ status: number; error: { message: string; type: string; param: string | null; code: string | null } }> => {
      const r = await fetch(`${server.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      return { status: r.status, ...((await r.json()) as { error: { message: string; type: string; param: string | null; code: string | null } }) };
    };
    const j = await post('{"model": "x", "prompt": ');
    assert.equal(j.status, 400);
    assert.deepEqual([j.error.param, j.error.code, j.error.type], ['body', 'invalid_json', 'invalid_request_error']);
    const cases: [Record<string, unknown>, number, string, RegExp][] = [
      [{ model, prompt: 'x', max_tokens: 'a' }, 400, 'max_tokens', /max_tokens: expected an integer >= 0/],
      [{ model, prompt: 'x', temperature: -1 }, 400, 'temperature', /temperature: expected a number from 0 to 2/],
      [{ model, prompt: 7 }, 400, 'prompt', /prompt: expected a string or a non-empty array of token ids/],
      [{ model, prompt: [1, 99999] }, 400, 'prompt', /token id 99999 is outside the vocabulary \(0\.\.257\)/],
      [{ model: 'gpt-4', prompt: 'x' }, 404, 'model', /'gpt-4' is not served here/],
      [{ model, prompt: 'x', max_tokens: 5000 }, 400, 'max_tokens', /exceed the context of 256/],
      [{ model, prompt: 'x'.repeat(300) }, 400, 'prompt', /tokens; the context is 256/],
      [{ model, prompt: 'x', n: 2 }, 400, 'n', /not implemented/],
      [{ model, prompt: 'x', frobnicate: 1 }, 400, 'frobnicate', /unrecognized request argument: frobnicate/],
      [{ model, prompt: 'x', stop: [1] }, 400, 'stop', /stop: expected/],
    ];
    for (const [body, status, param, re] of cases) {
      const r = await post(JSON.stringify(body));
      assert.equal(r.status, status, JSON.stringify(body));
      assert.equal(r.error.param, param, JSON.stringify(body));
      assert.match(r.error.message, re);
    }
    // Through the client: its typed error carries the same.
    await assert.rejects(c.chat.completions.create({ model, messages: [{ role: 'tool' as 'user', content: 'x' }] }), (e: InstanceType<typeof OpenAI.BadRequestError>) => e.status === 400 && e.param === 'messages[0].role');
    assert.equal((await c.completions.create({ model, prompt: 'x', max_tokens: 1 })).usage!.completion_tokens, 1);
  });

  it('a chat template other than BitNet\'s is refused by name (400 on messages); completions still work', async () => {
    const dir = modelWithChat();
    writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ bos_token: '<s>', chat_template: "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}" }));
    const s = await startServer(base(dir, { parallel: 1 }));
    try {
      const cs = client(s);
      await assert.rejects(cs.chat.completions.create({ model: dir, messages: [{ role: 'user', content: 'hi' }] }), (e: InstanceType<typeof OpenAI.BadRequestError>) => e.status === 400 && e.param === 'messages' && e.code === 'unsupported_chat_template' && /not the BitNet one/.test(e.message));
      assert.equal((await cs.completions.create({ model: dir, prompt: 'x', max_tokens: 2 })).usage!.completion_tokens, 2);
    } finally {
      await s.close();
    }
  });

  it('with an API key, a request without it or with another is 401; /health needs none', async () => {
    const s = await startServer(base(model, { apiKey: 'sekrit', parallel: 1 }));
    try {
      await assert.rejects(client(s, 'wrong').models.list(), (e: InstanceType<typeof OpenAI.AuthenticationError>) => e.status === 401 && e.code === 'invalid_api_key');
      const bare = await fetch(`${s.url}/v1/models`);
      assert.equal(bare.status, 401);
      assert.match(((await bare.json()) as { error: { message: string } }).error.message, /Authorization: Bearer/);
      assert.equal((await fetch(`${s.url}/health`)).status, 200);
      assert.equal((await client(s, 'sekrit').completions.create({ model, prompt: 'x', max_tokens: 2 })).usage!.completion_tokens, 2);
    } finally {
      await s.close();
    }
  });

  it('past the slots and the queue a request is 429 with Retry-After', async () => {
    const s = await startServer(base(model, { parallel: 1, queue: 0 }));
    try {
      const cs = client(s);
      const st = await cs.completions.create({ model, prompt: 'The ', seed: 1, max_tokens: 100, stream: true });
      const it = st[Symbol.asyncIterator]();
      await it.next(); // the first stream holds the only slot
      const r = await cs.completions.create({ model, prompt: 'x', max_tokens: 2 }).withResponse().catch((e: unknown) => e);
      assert.ok(r instanceof OpenAI.RateLimitError, String(r));
      assert.equal(r.status, 429);
      assert.match(r.headers.get('retry-after') ?? '', /^\d+$/);
      for (;;) if ((await it.next()).done) break;
      assert.equal((await cs.completions.create({ model, prompt: 'x', max_tokens: 2 })).usage!.completion_tokens, 2);
    } finally {
      await s.close();
    }
  });

  it('a backend failure is a 503 naming the link error for the requests it hit; the server goes on', async () => {
    const m = loadModel(model);
    let failures = 0;
    const flaky = await wrappedCpu(m, (call) => (failures-- > 0 ? Promise.reject(new BackendError('uart:/dev/ttyUSB1: no answer to request 12 after 3 retries')) : call()));
    const s = await serveModel(m, TextCodec.load(model), flaky, { host: '127.0.0.1', port: 0, parallel: 2, queue: 2, batch: 8, ctx: 256, modelId: 'm' });
    try {
      const cs = client(s);
      failures = 1;
      await assert.rejects(cs.completions.create({ model: 'm', prompt: 'x', max_tokens: 3 }), (e: InstanceType<typeof OpenAI.APIError>) => e.status === 503 && /no answer to request 12/.test(e.message));
      assert.equal((await cs.completions.create({ model: 'm', prompt: 'x', max_tokens: 3 })).usage!.completion_tokens, 3);
      assert.equal(s.engine.activeSequences, 0);
    } finally {
      await s.close();
    }
  });
});

describe('host: serve on the command line', function () {
  it('refuses cpu as a second backend, a bad port, a context past the model\'s and more pipeline groups than slots, each in one line', () => {
    const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../host/cli/bin.js');
    const m = fixture('tiny-fortunes');
    for (const [args, re] of [
      [['-dev', 'sim', '--backend', 'cpu'], /^error: -dev\/--device\/--backend cpu: backend 'cpu' cannot be one of several: a model is split across boards \(sim, uart or pcie\), and cpu runs any model whole\n$/],
      [['--port', '65536'], /^error: --port 65536: expected an integer from 0 to 65535\n$/],
      [['-c', '300', '--port', '0'], /^error: -c\/--ctx-size 300: the model's context is 256\n$/],
      [['--pipeline-groups', '5', '--parallel', '4', '--port', '0'], /^error: --pipeline-groups 5: more groups than the --parallel 4 slots; a group needs a sequence of its own\n$/],
    ] as const) {
      const r = spawnSync(process.execPath, [bin, 'serve', '-m', m, ...args], { encoding: 'utf8', timeout: 120_000 });
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, re);
    }
  });
});

/** The cpu backend, loaded with the model's weights, with every matmul going through `around`. */
async function wrappedCpu(m: ReturnType<typeof loadModel>, around: (call: () => Promise<Int32Array>) => Promise<Int32Array>): Promise<BitLinearBackend> {
  const inner = new CpuBackend();
  await inner.load(bitLinears(m));
  return { name: 'wrapped cpu', stats: inner.stats, load: (w) => inner.load(w), matmul: (i, x, M) => around(() => inner.matmul(i, x, M)), close: () => inner.close() };
}

/** One sample's value from /metrics. */
async function metric(s: Server, name: string): Promise<number> {
  const text = await (await fetch(`${s.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : 0;
}
