// The request bodies of POST /v1/completions and /v1/chat/completions, checked field by field:
// a bad one is an ApiError naming the field (OpenAI's error object's `param`) and what was
// expected. Nothing here is sized by a number from the request: token counts are checked
// against the context once the prompt is tokenized (http.ts).

import type { ChatMessage } from '../model/tokenizer.ts';

/** An OpenAI-style error: {error: {message, type, param, code}} with an HTTP status. */
export class ApiError extends Error {
  /** Seconds for a Retry-After header (429). */
  retryAfter?: number;

  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly type: string = status >= 500 ? 'server_error' : 'invalid_request_error',
  ) {
    super(message);
    this.name = 'ApiError';
  }

  body(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** Seeds feed xorshift32 (sampler.ts): 32 bits, as run's -s. */
const SEED_MAX = 2 ** 32 - 1;
/** OpenAI's limit on stop sequences. */
const STOPS_MAX = 4;
/** Characters of one stop sequence at most: each generated token is matched against every stop's tail. */
const STOP_CHARS_MAX = 256;

export interface SamplingFields {
  readonly model: string;
  /** max_tokens as given; undefined: the endpoint's default. */
  readonly maxTokens: number | undefined;
  readonly temperature: number | undefined;
  readonly topP: number | undefined;
  readonly topK: number | undefined;
  readonly seed: number | undefined;
  readonly stop: readonly string[];
  readonly stream: boolean;
  readonly includeUsage: boolean;
}

export interface CompletionRequest extends SamplingFields {
  /** Text, or token ids. */
  readonly prompt: string | readonly number[];
}

export interface ChatRequest extends SamplingFields {
  readonly messages: readonly ChatMessage[];
}

const bad = (param: string, expected: string, code = 'invalid_value'): ApiError => new ApiError(400, `${param}: expected ${expected}`, param, code);

function object(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(what, 'a JSON object', 'invalid_type');
  return v as Record<string, unknown>;
}

const SAMPLING = ['model', 'max_tokens', 'temperature', 'top_p', 'top_k', 'seed', 'stop', 'stream', 'stream_options', 'n', 'user', 'frequency_penalty', 'presence_penalty'];
const COMPLETION = [...SAMPLING, 'prompt', 'echo', 'logprobs', 'best_of', 'suffix', 'logit_bias'];
const CHAT = [...SAMPLING, 'messages', 'max_completion_tokens', 'logprobs', 'logit_bias'];

function unknownFields(b: Record<string, unknown>, known: readonly string[]): void {
  for (const k of Object.keys(b)) if (!known.includes(k)) throw new ApiError(400, `unrecognized request argument: ${k}`, k, 'unknown_parameter');
}

/** Fields this server does not implement: accepted only at the value that means "off". */
function unsupported(b: Record<string, unknown>, field: string, off: readonly unknown[]): void {
  const v = b[field];
  if (v !== undefined && v !== null && !off.includes(v)) throw new ApiError(400, `${field}: not implemented by this server (only ${off.map((x) => JSON.stringify(x)).join(' or ')} is accepted)`, field, 'unsupported_parameter');
}

function optNumber(b: Record<string, unknown>, f: string, ok: (n: number) => boolean, expected: string): number | undefined {
  const v = b[f];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw bad(f, expected, typeof v === 'number' ? 'invalid_value' : 'invalid_type');
  return v;
}

function optInt(b: Record<string, unknown>, f: string, min: number, max: number): number | undefined {
  return optNumber(b, f, (n) => Number.isSafeInteger(n) && n >= min && n <= max, max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`);
}

function samplingFields(b: Record<string, unknown>, maxTokensField: string): SamplingFields {
  if (typeof b.model !== 'string' || b.model === '') throw bad('model', "a model name (GET /v1/models lists this server's)", b.model === undefined ? 'missing_required_parameter' : 'invalid_type');
  unsupported(b, 'n', [1]);
  unsupported(b, 'frequency_penalty', [0]);
  unsupported(b, 'presence_penalty', [0]);
  unsupported(b, 'logprobs', [false]);
  if (b.logit_bias !== undefined && b.logit_bias !== null && !(typeof b.logit_bias === 'object' && Object.keys(b.logit_bias).length === 0)) throw new ApiError(400, 'logit_bias: not implemented by this server', 'logit_bias', 'unsupported_parameter');
  if (b.user !== undefined && typeof b.user !== 'string') throw bad('user', 'a string', 'invalid_type');
  // max_tokens is bounded by the context once the prompt is known; here only its type.
  const maxTokens = optInt(b, maxTokensField, 0, Number.MAX_SAFE_INTEGER) ?? (maxTokensField !== 'max_tokens' ? optInt(b, 'max_tokens', 0, Number.MAX_SAFE_INTEGER) : undefined);
  const temperature = optNumber(b, 'temperature', (n) => n >= 0 && n <= 2, 'a number from 0 to 2');
  const topP = optNumber(b, 'top_p', (n) => n > 0 && n <= 1, 'a number above 0 and at most 1');
  const topK = optInt(b, 'top_k', 0, 1 << 24);
  const seed = optInt(b, 'seed', 0, SEED_MAX);
  let stop: string[] = [];
  if (typeof b.stop === 'string') stop = [b.stop];
  else if (Array.isArray(b.stop)) stop = b.stop as string[];
  else if (b.stop !== undefined && b.stop !== null) throw bad('stop', `a string or an array of at most ${STOPS_MAX} strings`, 'invalid_type');
  if (stop.length > STOPS_MAX || stop.some((s) => typeof s !== 'string' || s === '' || s.length > STOP_CHARS_MAX)) throw bad('stop', `a string or an array of at most ${STOPS_MAX} non-empty strings of at most ${STOP_CHARS_MAX} characters`);
  if (b.stream !== undefined && b.stream !== null && typeof b.stream !== 'boolean') throw bad('stream', 'a boolean', 'invalid_type');
  let includeUsage = false;
  if (b.stream_options !== undefined && b.stream_options !== null) {
    const so = object(b.stream_options, 'stream_options');
    for (const k of Object.keys(so)) if (k !== 'include_usage') throw new ApiError(400, `unrecognized request argument: stream_options.${k}`, `stream_options.${k}`, 'unknown_parameter');
    if (so.include_usage !== undefined && typeof so.include_usage !== 'boolean') throw bad('stream_options.include_usage', 'a boolean', 'invalid_type');
    includeUsage = so.include_usage === true;
  }
  return { model: b.model, maxTokens, temperature, topP, topK, seed, stop, stream: b.stream === true, includeUsage };
}

export function parseCompletionRequest(body: unknown): CompletionRequest {
  const b = object(body, 'body');
  unknownFields(b, COMPLETION);
  unsupported(b, 'echo', [false]);
  unsupported(b, 'best_of', [1]);
  unsupported(b, 'suffix', ['']);
  const s = samplingFields(b, 'max_tokens');
  const p = b.prompt;
  let prompt: string | number[];
  if (typeof p === 'string') prompt = p;
  else if (Array.isArray(p) && p.length > 0 && p.every((t) => Number.isSafeInteger(t) && (t as number) >= 0)) prompt = p as number[];
  else if (p === undefined) throw bad('prompt', 'a string or an array of token ids', 'missing_required_parameter');
  else throw bad('prompt', 'a string or a non-empty array of token ids (integers >= 0); several prompts in one request are not supported', 'invalid_type');
  if (prompt.length === 0) throw bad('prompt', 'a non-empty string');
  return { ...s, prompt };
}

export function parseChatRequest(body: unknown): ChatRequest {
  const b = object(body, 'body');
  unknownFields(b, CHAT);
  const s = samplingFields(b, 'max_completion_tokens');
  if (!Array.isArray(b.messages) || b.messages.length === 0) throw bad('messages', 'a non-empty array of {role, content}', b.messages === undefined ? 'missing_required_parameter' : 'invalid_type');
  const messages = b.messages.map((m: unknown, i: number): ChatMessage => {
    const at = `messages[${i}]`;
    const o = object(m, at);
    if (o.role !== 'system' && o.role !== 'user' && o.role !== 'assistant' && o.role !== 'developer') throw bad(`${at}.role`, "'system', 'user' or 'assistant' (the BitNet template's roles)");
    let content: string;
    if (typeof o.content === 'string') content = o.content;
    else if (Array.isArray(o.content)) {
      content = o.content
        .map((part: unknown, j: number) => {
          const q = object(part, `${at}.content[${j}]`);
          if (q.type !== 'text' || typeof q.text !== 'string') throw bad(`${at}.content[${j}]`, "a text part {type: 'text', text: string} (this model reads text only)");
          return q.text;
        })
        .join('');
    } else throw bad(`${at}.content`, 'a string or an array of text parts', 'invalid_type');
    // OpenAI's newer name for the system role; the BitNet template knows "System".
    return { role: o.role === 'developer' ? 'system' : o.role, content };
  });
  return { ...s, messages };
}
