// Text in and out through the model directory's tokenizer.json (@huggingface/tokenizers),
// with the BitNet chat format when the directory's chat template is the BitNet one.
// A model directory may have no tokenizer: the CLI then takes token ids (--tokens).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { CheckpointError, excerpt, quoted, reason } from './errors.ts';
import { readJsonFile } from './file-source.ts';
import { modelDirFile } from './model-dir.ts';
import { openGguf } from './gguf.ts';
import { tokenizerFromGguf } from './gguf-tokenizer.ts';

export class TextCodec {
  private constructor(
    private readonly tok: Tokenizer,
    readonly chatTemplate: string | undefined,
    readonly bosToken: string | undefined,
    readonly file: string,
  ) {}

  /** Where load() looks: tokenizer.json in the model directory, or beside a .gguf file. */
  static expectedPath(modelPath: string): string {
    const dir = fs.existsSync(modelPath) && fs.statSync(modelPath).isDirectory() ? modelPath : path.dirname(modelPath);
    return path.join(dir, 'tokenizer.json');
  }

  /**
   * The tokenizer of a model: tokenizer.json in its directory (or beside a .gguf), else the
   * vocabulary a .gguf carries; undefined when it has neither.
   */
  static load(modelPath: string): TextCodec | undefined {
    const dir = path.dirname(TextCodec.expectedPath(modelPath));
    const file = modelDirFile(dir, 'tokenizer.json');
    if (!fs.existsSync(file)) return modelPath.endsWith('.gguf') && fs.existsSync(modelPath) ? TextCodec.fromGguf(modelPath) : undefined;
    const read = (f: string): Record<string, unknown> => {
      const v = readJsonFile(f);
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new CheckpointError(f, `must be a JSON object, got ${excerpt(v)}`);
      return v as Record<string, unknown>;
    };
    const cfgFile = modelDirFile(dir, 'tokenizer_config.json');
    const cfg = fs.existsSync(cfgFile) ? read(cfgFile) : {};
    const json = read(file);
    let tok: Tokenizer;
    try {
      tok = new Tokenizer(json, cfg);
    } catch (e) {
      throw new CheckpointError(file, `the tokenizer cannot be built (${reason(e)})`);
    }
    checkPostProcessor(json.post_processor, tok, file, 'post_processor');
    const bos = typeof cfg.bos_token === 'string' ? cfg.bos_token : undefined;
    return new TextCodec(tok, typeof cfg.chat_template === 'string' ? cfg.chat_template : undefined, bos, file);
  }

  private static fromGguf(file: string): TextCodec | undefined {
    const g = openGguf(file);
    g.close();
    const t = tokenizerFromGguf(g.metadata, file);
    if (!t) return undefined;
    let tok: Tokenizer;
    try {
      tok = new Tokenizer(t.json, t.config);
    } catch (e) {
      throw new CheckpointError(file, `the tokenizer in the GGUF metadata cannot be built (${reason(e)})`);
    }
    const cfg = t.config;
    return new TextCodec(tok, typeof cfg.chat_template === 'string' ? cfg.chat_template : undefined, typeof cfg.bos_token === 'string' ? cfg.bos_token : undefined, file);
  }

  encode(text: string): number[] {
    const { ids, tokens } = this.tok.encode(text);
    // The library gives undefined for a piece with no id (no unk_token): never a prompt of holes.
    const bad = ids.findIndex((id: number | undefined) => !Number.isSafeInteger(id) || id! < 0);
    if (bad >= 0) throw new CheckpointError(this.file, `the text's piece ${quoted(String(tokens[bad]))} has no id in the vocabulary and the model has no unk_token`);
    return ids;
  }

  decode(ids: readonly number[]): string {
    return this.tok.decode([...ids], { skip_special_tokens: true });
  }

  /**
   * A one-turn chat prompt. Only the BitNet b1.58 2B-4T format ("User: …<|eot_id|>Assistant: ")
   * is rendered; other templates are refused by name rather than approximated.
   */
  chat(user: string, system?: string): string {
    return this.chatMessages([...(system ? [{ role: 'system' as const, content: system }] : []), { role: 'user', content: user }]);
  }

  /**
   * A conversation in the BitNet format, as its Jinja template renders it: each message
   * "Role: content<|eot_id|>" (role capitalized, content trimmed), the BOS once before the
   * first, then "Assistant: " for the reply.
   */
  chatMessages(messages: readonly ChatMessage[]): string {
    const t = this.chatTemplate;
    if (!t) throw new CheckpointError(this.file, 'the model has no chat_template in tokenizer_config.json; pass the prompt without --chat');
    if (!(t.includes("'Assistant: '") && t.includes('<|eot_id|>'))) throw new CheckpointError(this.file, 'the chat template is not the BitNet one (Role: content<|eot_id|>); rendering other Jinja templates is not supported, pass the formatted prompt without --chat');
    const turns = messages.map((m) => `${m.role[0]!.toUpperCase()}${m.role.slice(1)}: ${m.content.trim()}<|eot_id|>`);
    // The BOS once: not in the text when encode() adds it itself (a TemplateProcessing post-processor).
    const empty = this.tok.encode('').ids;
    const addsBos = this.bosToken !== undefined && empty.length > 0 && this.tok.decode(empty.slice(0, 1), { skip_special_tokens: false }) === this.bosToken;
    return `${addsBos ? '' : (this.bosToken ?? '')}${turns.join('')}Assistant: `;
  }
}

/** One message of a chat, as OpenAI's API and the BitNet template name the roles. */
export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}

/**
 * The tokens a post-processor adds (TemplateProcessing's special tokens, Bert/Roberta's cls
 * and sep, a Sequence's parts) must be in the vocabulary: the library would put `undefined`
 * in the ids of every prompt, and the step that finally trips on it cannot name the cause.
 */
function checkPostProcessor(pp: unknown, tok: Tokenizer, file: string, field: string): void {
  if (typeof pp !== 'object' || pp === null) return;
  const p = pp as Record<string, unknown>;
  const known = (t: unknown): boolean => typeof t === 'string' && tok.token_to_id(t) !== undefined;
  const missing = (where: string, t: unknown): CheckpointError => new CheckpointError(file, `${field}${where} names the token ${excerpt(t)}, which is not in the vocabulary`);
  if (p.type === 'TemplateProcessing') {
    for (const part of ['single', 'pair'] as const) {
      const items = Array.isArray(p[part]) ? (p[part] as unknown[]) : [];
      items.forEach((it, i) => {
        const sp = (it as { SpecialToken?: { id?: unknown } } | null)?.SpecialToken;
        if (sp !== undefined && !known(sp?.id)) throw missing(`.${part}[${i}].SpecialToken.id`, sp?.id);
      });
    }
  } else if (p.type === 'BertProcessing' || p.type === 'RobertaProcessing') {
    for (const part of ['cls', 'sep'] as const) {
      const t = Array.isArray(p[part]) ? (p[part] as unknown[])[0] : p[part];
      if (!known(t)) throw missing(`.${part}`, t);
    }
  } else if (p.type === 'Sequence' && Array.isArray(p.processors)) {
    p.processors.forEach((q, i) => checkPostProcessor(q, tok, file, `${field}.processors[${i}]`));
  }
}

/** Streams text as tokens arrive: decodes the whole sequence and emits what is new, so multi-byte characters split across tokens come out whole. */
export class TextStream {
  private ids: number[] = [];
  private shown = '';
  constructor(
    private readonly codec: TextCodec,
    private readonly out: (s: string) => void,
  ) {}
  push(id: number): void {
    this.ids.push(id);
    const text = this.codec.decode(this.ids);
    if (text.endsWith('\uFFFD')) return; // an incomplete UTF-8 sequence: wait for the rest
    if (text.startsWith(this.shown)) this.out(text.slice(this.shown.length));
    this.shown = text;
  }
}
