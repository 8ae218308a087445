// The HTTP side of `serve`: OpenAI's completions, chat completions (non-streaming and as
// server-sent events), models, plus /health and Prometheus /metrics, on fastify. Every refusal
// is OpenAI's error object {error: {message, type, param, code}} naming the field; a backend
// failure is a 503 for the requests it hit, and the server goes on.

import { randomUUID, createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { TextCodec } from '../model/tokenizer.ts';
import { TextStream } from '../model/tokenizer.ts';
import { DEFAULT_TEMPERATURE } from '../infer/sampler.ts';
import { BackendFailure, QueueFull, type Engine, type JobResult } from './engine.ts';
import type { ServeMetrics } from './metrics.ts';
import { ApiError, parseChatRequest, parseCompletionRequest, type SamplingFields } from './requests.ts';
import { StopText } from './stop-text.ts';

export interface AppOptions {
  /** The name /v1/models lists and requests must give as `model`. */
  readonly modelId: string;
  /** Requests must carry "Authorization: Bearer KEY" (all but /health). */
  readonly apiKey?: string;
  /** Positions of each slot: prompt + max_tokens must fit. */
  readonly ctx: number;
  readonly vocab: number;
  /** Largest request body (bytes). */
  readonly bodyLimit?: number;
}

/** OpenAI's default for the legacy completions endpoint. */
const COMPLETIONS_DEFAULT_MAX_TOKENS = 16;

type Kind = 'completion' | 'chat';

export function buildApp(engine: Engine, codec: TextCodec | undefined, metrics: ServeMetrics, o: AppOptions): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: o.bodyLimit ?? 1 << 20 });
  const created = Math.floor(Date.now() / 1000);
  const keyHash = o.apiKey !== undefined ? createHash('sha256').update(o.apiKey).digest() : undefined;

  const count = (route: string, status: number): void => metrics.requests.inc({ route, status: String(status) });
  app.addHook('onResponse', async (req, reply) => count(req.routeOptions.url ?? 'unmatched', reply.statusCode));

  app.addHook('onRequest', async (req) => {
    if (!keyHash || req.url === '/health') return;
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    // Hashes of equal length, compared in constant time: no timing hint at the key.
    const given = createHash('sha256')
      .update(m?.[1] ?? '')
      .digest();
    if (!m || !timingSafeEqual(given, keyHash)) throw new ApiError(401, m ? 'the API key is not valid' : 'this server needs an API key: send the header "Authorization: Bearer KEY"', null, 'invalid_api_key');
  });

  app.setErrorHandler((err: unknown, _req, reply) => {
    const e = toApiError(err);
    if (e.status === 429 && err instanceof ApiError && err.retryAfter !== undefined) void reply.header('retry-after', String(err.retryAfter));
    void reply.code(e.status).send(e.body());
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send(new ApiError(404, `no route ${req.method} ${req.url.slice(0, 100)}`, null, 'not_found').body());
  });

  app.get('/health', async () => ({ status: 'ok', slots: engine.o.parallel, active: engine.activeSequences, queued: engine.queueDepth }));

  app.get('/v1/models', async () => ({ object: 'list', data: [{ id: o.modelId, object: 'model', created, owned_by: 'bitnet-fpga' }] }));

  app.get('/metrics', async (_req, reply) => {
    void reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  app.post('/v1/completions', (req, reply) => handle('completion', req, reply));
  app.post('/v1/chat/completions', (req, reply) => handle('chat', req, reply));

  /** The prompt's token ids, checked against the vocabulary and the context. */
  function promptIds(kind: Kind, body: unknown): { r: SamplingFields; ids: number[]; param: string } {
    if (kind === 'completion') {
      const r = parseCompletionRequest(body);
      checkModel(r.model);
      let ids: number[];
      if (typeof r.prompt === 'string') {
        if (!codec) throw new ApiError(400, 'prompt: this model has no tokenizer; give the prompt as an array of token ids', 'prompt', 'invalid_value');
        ids = encode(r.prompt, 'prompt');
      } else {
        ids = [...r.prompt];
        const badId = ids.find((t) => t >= o.vocab);
        if (badId !== undefined) throw new ApiError(400, `prompt: token id ${badId} is outside the vocabulary (0..${o.vocab - 1})`, 'prompt', 'invalid_value');
      }
      return { r, ids, param: 'prompt' };
    }
    const r = parseChatRequest(body);
    checkModel(r.model);
    if (!codec) throw new ApiError(400, 'messages: this model has no tokenizer, so no chat format; use /v1/completions with token ids', 'messages', 'invalid_value');
    let text: string;
    try {
      text = codec.chatMessages(r.messages);
    } catch (e) {
      throw new ApiError(400, `messages: ${(e as Error).message}`, 'messages', 'unsupported_chat_template');
    }
    return { r, ids: encode(text, 'messages'), param: 'messages' };
  }

  function encode(text: string, param: string): number[] {
    let ids: number[];
    try {
      ids = codec!.encode(text);
    } catch (e) {
      throw new ApiError(400, `${param}: ${(e as Error).message}`, param, 'invalid_value');
    }
    if (ids.length === 0) throw new ApiError(400, `${param}: the tokenizer makes no tokens of it; give some text`, param, 'invalid_value');
    const badId = ids.find((t) => t >= o.vocab);
    if (badId !== undefined) throw new ApiError(400, `${param}: the tokenizer gave id ${badId}, outside the model's vocabulary (0..${o.vocab - 1})`, param, 'invalid_value');
    return ids;
  }

  function checkModel(model: string): void {
    if (model !== o.modelId) throw new ApiError(404, `model: '${model.slice(0, 100)}' is not served here; this server serves '${o.modelId}' (GET /v1/models)`, 'model', 'model_not_found');
  }

  async function handle(kind: Kind, req: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const { r, ids, param } = promptIds(kind, req.body);
    if (ids.length > o.ctx) throw new ApiError(400, `${param}: ${ids.length} tokens; the context is ${o.ctx} tokens (--ctx)`, param, 'context_length_exceeded');
    const maxField = kind === 'chat' ? 'max_completion_tokens' : 'max_tokens';
    const room = o.ctx - ids.length;
    const n = r.maxTokens ?? (kind === 'chat' ? room : Math.min(COMPLETIONS_DEFAULT_MAX_TOKENS, room));
    if (n > room) throw new ApiError(400, `${maxField}: ${n} tokens after a prompt of ${ids.length} exceed the context of ${o.ctx}; at most ${room}`, maxField, 'context_length_exceeded');
    const id = `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomUUID()}`;
    const head = { id, object: kind === 'chat' ? (r.stream ? 'chat.completion.chunk' : 'chat.completion') : 'text_completion', created: Math.floor(Date.now() / 1000), model: o.modelId };
    const res = reply.raw;
    let streaming = false;
    const sse = (obj: unknown): void => {
      if (res.destroyed) return;
      if (!streaming) {
        // Headers go with the first event, so a request that fails before any text (a
        // backend failure) still gets its status code.
        streaming = true;
        reply.hijack();
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
        if (kind === 'chat') res.write(`data: ${JSON.stringify({ ...head, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] })}\n\n`);
      }
      res.write(`data: ${JSON.stringify(obj)}\n\n`);
    };
    const delta = (text: string): void => {
      if (!r.stream || text === '') return;
      sse({ ...head, choices: [kind === 'chat' ? { index: 0, delta: { content: text }, logprobs: null, finish_reason: null } : { text, index: 0, logprobs: null, finish_reason: null }] });
    };
    const stop = new StopText(r.stop, delta);
    const text = codec ? new TextStream(codec, (s) => stop.push(s)) : undefined;
    let handle: ReturnType<Engine['submit']>;
    try {
      handle = engine.submit({
        prompt: ids,
        n,
        temperature: r.temperature ?? DEFAULT_TEMPERATURE,
        topP: r.topP,
        topK: r.topK,
        seed: r.seed ?? (Math.random() * 2 ** 32) >>> 0,
        onToken: (t) => {
          // Without a tokenizer the text is the ids, as run prints them.
          if (text) text.push(t);
          else stop.push(`${t} `);
          if (stop.stopped) handle.cancel();
        },
      });
    } catch (e) {
      if (!(e instanceof QueueFull)) throw e;
      const busy = new ApiError(429, `${e.message}; retry after ${e.retryAfterSeconds} s`, null, 'rate_limit_exceeded', 'rate_limit_error');
      busy.retryAfter = e.retryAfterSeconds;
      throw busy;
    }
    // A client that goes away frees its slot at the next step; a write racing its going is not an error.
    res.on('error', () => handle.cancel());
    res.on('close', () => {
      if (!res.writableFinished) handle.cancel();
    });
    let result: JobResult;
    try {
      result = await handle.result;
    } catch (e) {
      if (!streaming) throw e;
      // The status is sent: the failure is the stream's last event.
      sse(toApiError(e).body());
      res.end('data: [DONE]\n\n');
      count(req.routeOptions.url ?? 'unmatched', 200);
      return reply;
    }
    stop.end();
    const finish = stop.stopped || result.stoppedBy === 'stop' ? 'stop' : 'length';
    const usage = { prompt_tokens: result.promptTokens, completion_tokens: result.tokens.length, total_tokens: result.promptTokens + result.tokens.length };
    if (!r.stream) {
      const choice = kind === 'chat' ? { index: 0, message: { role: 'assistant', content: stop.all }, logprobs: null, finish_reason: finish } : { text: stop.all, index: 0, logprobs: null, finish_reason: finish };
      return { ...head, choices: [choice], usage };
    }
    if (res.destroyed) return reply;
    sse({ ...head, choices: [kind === 'chat' ? { index: 0, delta: {}, logprobs: null, finish_reason: finish } : { text: '', index: 0, logprobs: null, finish_reason: finish }] });
    if (r.includeUsage) sse({ ...head, choices: [], usage });
    res.end('data: [DONE]\n\n');
    count(req.routeOptions.url ?? 'unmatched', 200);
    return reply;
  }

  app.addHook('onClose', async () => engine.close());
  return app;
}

/** Any error as the API shows it: ours as they are, fastify's body errors named, a failed backend 503, the rest 500. */
function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof BackendFailure) return new ApiError(503, err.message, null, 'backend_unavailable');
  const e = err as { code?: string; statusCode?: number; message?: string };
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ApiError(400, `body: not valid JSON (${e.message ?? ''})`, 'body', 'invalid_json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError(400, 'body: expected a JSON object, got an empty body', 'body', 'invalid_json');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(413, 'body: larger than this server accepts', 'body', 'body_too_large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError(415, 'content-type: expected application/json', 'content-type', 'unsupported_media_type');
  }
  if (err instanceof SyntaxError && e.statusCode === 400) return new ApiError(400, `body: not valid JSON (${err.message})`, 'body', 'invalid_json');
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return new ApiError(e.statusCode, e.message ?? 'bad request');
  return new ApiError(500, `internal error: ${e.message ?? String(err)}`, null, 'internal_error');
}
