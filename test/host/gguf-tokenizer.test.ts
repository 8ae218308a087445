// A GGUF's own vocabulary (tokenizer.ggml.*) as a tokenizer: the same ids and text as the
// model's tokenizer.json, and unsupported tokenizer kinds refused by name.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GgufMetadata, writeGguf } from '../../host/model/gguf-write.ts';
import { TextCodec } from '../../host/model/tokenizer.ts';
import { fixture } from './fixtures.ts';

/** A GGUF holding only tiny-fortunes' vocabulary, as llama.cpp's converter writes it. */
function vocabGguf(extra: (md: GgufMetadata) => void = () => {}): string {
  const tj = JSON.parse(fs.readFileSync(fixture('tiny-fortunes', 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number>; merges: string[] }; added_tokens: { id: number; content: string }[] };
  const n = Object.keys(tj.model.vocab).length + tj.added_tokens.filter((a) => !(a.content in tj.model.vocab)).length;
  const tokens = new Array<string>(n);
  const types = new Array<number>(n).fill(1);
  for (const [t, id] of Object.entries(tj.model.vocab)) tokens[id] = t;
  for (const a of tj.added_tokens) {
    tokens[a.id] = a.content;
    types[a.id] = 3;
  }
  const md = new GgufMetadata().str('general.architecture', 'bitnet').str('tokenizer.ggml.model', 'gpt2').str('tokenizer.ggml.pre', 'gpt2').array('tokenizer.ggml.tokens', 'STRING', tokens).array('tokenizer.ggml.token_type', 'INT32', types).array('tokenizer.ggml.merges', 'STRING', tj.model.merges).u32('tokenizer.ggml.bos_token_id', 256).u32('tokenizer.ggml.eos_token_id', 257).bool('tokenizer.ggml.add_bos_token', true);
  extra(md);
  const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bitnet-vocab-')), 'vocab.gguf');
  writeGguf(f, { metadata: md, tensors: [] });
  return f;
}

describe('host: the tokenizer inside a GGUF', function () {
  it('gives the same ids and text as tokenizer.json on the fortunes held-out text', () => {
    const ref = TextCodec.load(fixture('tiny-fortunes'))!;
    const g = TextCodec.load(vocabGguf())!;
    assert.ok(g, 'a tokenizer from the GGUF metadata');
    const text = fs.readFileSync(fixture('tiny-fortunes', 'eval.txt'), 'utf8').slice(0, 4000);
    const ids = ref.encode(text);
    assert.deepEqual(g.encode(text), ids);
    assert.equal(g.decode(ids), ref.decode(ids));
    assert.equal(g.encode('Hi')[0], 256, 'add_bos_token puts <s> first');
  });

  it("builds Llama 3's pre-tokenizer (llama-bpe, BitNet b1.58 2B-4T's): with a byte vocabulary it splits to the same bytes", () => {
    const ref = TextCodec.load(fixture('tiny-fortunes'))!;
    const g = TextCodec.load(vocabGguf((md) => md.str('tokenizer.ggml.pre', 'llama-bpe')))!;
    const text = "It's 2026: don't panic!\n  Über 3.14159 ideas";
    assert.deepEqual(g.encode(text), ref.encode(text));
  });

  it('refuses a tokenizer kind it does not build, by name', () => {
    const f = vocabGguf((md) => md.str('tokenizer.ggml.model', 'llama'));
    assert.throws(() => TextCodec.load(f), /vocab\.gguf: metadata 'tokenizer\.ggml\.model' is "llama"; only "gpt2"/);
    const p = vocabGguf((md) => md.str('tokenizer.ggml.pre', 'qwen2'));
    assert.throws(() => TextCodec.load(p), /metadata 'tokenizer\.ggml\.pre' is "qwen2"; supported pre-tokenizers/);
    // "default" is llama.cpp's own split for a tokenizer its converter did not recognise: not guessed.
    assert.throws(() => TextCodec.load(vocabGguf((md) => md.str('tokenizer.ggml.pre', 'default'))), /'tokenizer\.ggml\.pre' is "default"/);
  });

  it('keeps tokens named like Object.prototype members', async () => {
    const { tokenizerFromGguf } = await import('../../host/model/gguf-tokenizer.ts');
    const md = new Map<string, import('../../host/model/gguf.ts').GgufValue>([
      ['tokenizer.ggml.model', 'gpt2'],
      ['tokenizer.ggml.pre', 'gpt2'],
      ['tokenizer.ggml.tokens', ['a', 'constructor', 'toString', '__proto__', 'b']],
      ['tokenizer.ggml.merges', []],
    ]);
    const t = tokenizerFromGguf(md, 'x.gguf')!;
    assert.deepEqual(Object.entries((t.json.model as { vocab: Record<string, number> }).vocab), [['a', 0], ['constructor', 1], ['toString', 2], ['__proto__', 3], ['b', 4]]);
    md.delete('tokenizer.ggml.merges');
    assert.throws(() => tokenizerFromGguf(md, 'x.gguf'), /x\.gguf: metadata 'tokenizer\.ggml\.merges' is missing/);
  });

  it('--chat puts the BOS in once when the tokenizer adds it itself', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bitnet-chat-'));
    fs.copyFileSync(fixture('tiny-fortunes', 'tokenizer.json'), path.join(dir, 'tokenizer.json'));
    const cfg = JSON.parse(fs.readFileSync(fixture('tiny-fortunes', 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    cfg.chat_template = "{% for m in messages %}{{ m['role'] | capitalize + ': ' + m['content'] + '<|eot_id|>' }}{% endfor %}{{ 'Assistant: ' }}";
    fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify(cfg));
    const c = TextCodec.load(dir)!;
    const ids = c.encode(c.chat('hi'));
    assert.equal(ids[0], 256);
    assert.equal(ids.filter((i) => i === 256).length, 1, 'one <s>');
  });
});
