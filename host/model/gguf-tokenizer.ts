// The vocabulary a GGUF carries (tokenizer.ggml.*), as the tokenizer.json that
// @huggingface/tokenizers reads: llama.cpp's converter stores the Hugging Face BPE vocabulary,
// merges and special tokens there, so a .gguf alone is enough to run with -p "text".
// Only byte-level BPE ("gpt2", which BitNet b1.58 2B-4T's Llama 3 tokenizer is) with a
// pre-tokenizer we know is built; another model type or pre-tokenizer is refused by name
// rather than approximated (a wrong split gives other token ids, silently).

import { CheckpointError, excerpt } from './errors.ts';
import type { GgufValue } from './gguf.ts';

/** llama.cpp's token types (llama_token_type). */
const TOKEN_TYPE = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

/** Llama 3's split (tokenizer.ggml.pre = "llama-bpe"), as in its tokenizer.json. */
const LLAMA3_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

export interface GgufTokenizer {
  readonly json: Record<string, unknown>;
  /** tokenizer_config.json's fields the runtime reads (bos_token, eos_token, chat_template). */
  readonly config: Record<string, unknown>;
}

/** The tokenizer of a GGUF's metadata, or undefined when it has none ("none"/"no_vocab" or no tokens). */
export function tokenizerFromGguf(md: Map<string, GgufValue>, file: string): GgufTokenizer | undefined {
  const model = md.get('tokenizer.ggml.model');
  const tokens = md.get('tokenizer.ggml.tokens');
  if (model === undefined || model === 'none' || model === 'no_vocab' || !Array.isArray(tokens) || tokens.length === 0) return undefined;
  if (model !== 'gpt2') throw new CheckpointError(file, `metadata 'tokenizer.ggml.model' is ${excerpt(model)}; only "gpt2" (byte-level BPE, as BitNet b1.58 2B-4T) is supported from a GGUF: put the model's tokenizer.json beside the file, or pass --tokens`);
  const pre = md.get('tokenizer.ggml.pre');
  let preTokenizer: Record<string, unknown>;
  if (pre === 'llama-bpe' || pre === 'llama3') {
    preTokenizer = {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: LLAMA3_SPLIT }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    };
  } else if (pre === 'gpt2' || pre === 'gpt-2') {
    preTokenizer = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  } else {
    // "default" (or no key) means llama.cpp's converter did not recognise the tokenizer, and
    // llama.cpp then splits its own way: no split here would be the same, so none is guessed.
    throw new CheckpointError(file, `metadata 'tokenizer.ggml.pre' is ${pre === undefined ? 'missing' : excerpt(pre)}; supported pre-tokenizers: llama-bpe, gpt2: put the model's tokenizer.json beside the file, or pass --tokens`);
  }
  const strings = (key: string, list: GgufValue | undefined): string[] => {
    if (list === undefined) return [];
    if (!Array.isArray(list) || !list.every((t) => typeof t === 'string')) throw new CheckpointError(file, `metadata '${key}' must be an array of strings`);
    return list as string[];
  };
  const toks = strings('tokenizer.ggml.tokens', tokens);
  // As llama.cpp: a BPE vocabulary without a merges list is refused (an empty list is a byte vocabulary).
  if (!md.has('tokenizer.ggml.merges')) throw new CheckpointError(file, `metadata 'tokenizer.ggml.merges' is missing; a gpt2 (BPE) vocabulary needs its merges`);
  const merges = strings('tokenizer.ggml.merges', md.get('tokenizer.ggml.merges'));
  const types = md.get('tokenizer.ggml.token_type');
  if (types !== undefined && (!Array.isArray(types) || types.length !== toks.length)) throw new CheckpointError(file, `metadata 'tokenizer.ggml.token_type' must have one entry per token (${toks.length})`);
  // No prototype: tokens named 'constructor' or '__proto__' are tokens like any other.
  const vocab = Object.create(null) as Record<string, number>;
  const added: Record<string, unknown>[] = [];
  toks.forEach((t, id) => {
    const ty = types ? Number((types as GgufValue[])[id]) : TOKEN_TYPE.NORMAL;
    if (!Object.hasOwn(vocab, t)) vocab[t] = id;
    if (ty === TOKEN_TYPE.CONTROL || ty === TOKEN_TYPE.USER_DEFINED) added.push({ id, content: t, single_word: false, lstrip: false, rstrip: false, normalized: ty === TOKEN_TYPE.USER_DEFINED, special: ty === TOKEN_TYPE.CONTROL });
  });
  const id = (key: string): number | undefined => {
    const v = md.get(key);
    const n = typeof v === 'bigint' ? Number(v) : v;
    if (n === undefined) return undefined;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n >= toks.length) throw new CheckpointError(file, `metadata '${key}' is ${excerpt(v)}, not a token id (0..${toks.length - 1})`);
    return n;
  };
  const bos = id('tokenizer.ggml.bos_token_id');
  const eos = id('tokenizer.ggml.eos_token_id');
  const addBos = md.get('tokenizer.ggml.add_bos_token') ?? bos !== undefined;
  const bosTok = bos === undefined ? undefined : toks[bos]!;
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: preTokenizer,
    post_processor:
      addBos === true && bosTok !== undefined
        ? { type: 'TemplateProcessing', single: [{ SpecialToken: { id: bosTok, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }], pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }], special_tokens: { [bosTok]: { id: bosTok, ids: [bos], tokens: [bosTok] } } }
        : null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: pre === 'llama-bpe' || pre === 'llama3', vocab, merges },
  };
  const template = md.get('tokenizer.chat_template');
  const config: Record<string, unknown> = { ...(bosTok !== undefined ? { bos_token: bosTok } : {}), ...(eos !== undefined ? { eos_token: toks[eos] } : {}), ...(typeof template === 'string' ? { chat_template: template } : {}) };
  return { json, config };
}
