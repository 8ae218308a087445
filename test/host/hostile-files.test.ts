// Hostile and malformed model files (issue 17): each is refused in one line that names the
// file and the field, or is harmless. Non-regular files (FIFO, /dev/zero) are tried in a child
// process with a deadline, so a reader that blocks fails this test instead of hanging the suite.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadModel } from '../../host/model/load.ts';
import { parseGguf } from '../../host/model/gguf.ts';
import { parseSafetensors, writeSafetensors } from '../../host/model/safetensors.ts';
import { CheckpointError } from '../../host/model/errors.ts';
import { makeModel } from '../../host/model/make-model.ts';
import { TextCodec } from '../../host/model/tokenizer.ts';
import { bitLinears } from '../../host/model/model.ts';
import { CpuBackend } from '../../host/backends/cpu.ts';
import { Transformer } from '../../host/infer/transformer.ts';
import { generate } from '../../host/infer/generate.ts';
import { fixture } from './fixtures.ts';
import { loadInChild } from './load-in-child.ts';
import { F32, I32, STRING, U64, f32v, ggufLayout, headerOnly, i32v, kv, kvEntries, strv, u64v, withKvs } from './gguf-bytes.ts';

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'bitnet-hostile-'));
const SMALL = { tokenizer: false, vocab: 32, hidden: 16, heads: 2, kvHeads: 1, intermediate: 32, layers: 1 } as const;

function small(opts: Partial<Parameters<typeof makeModel>[1]> = {}): string {
  const dir = tmp();
  makeModel(dir, { ...SMALL, ...opts });
  return dir;
}

/** The CheckpointError fn throws: one line, naming `file` (by its base name) and matching `re`. */
function refused(fn: () => unknown, file: string, re: RegExp): string {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof CheckpointError, `expected a CheckpointError naming ${file}, got ${err === undefined ? 'no error' : `${(err as Error).name}: ${(err as Error).message?.slice(0, 300)}`}`);
  const m = err.message;
  assert.ok(!m.includes('\n'), `one line: ${m.slice(0, 300)}`);
  assert.ok(m.length < 400, `a short message (${m.length} chars): ${m.slice(0, 300)}…`);
  assert.ok(m.includes(path.basename(file)), `names ${file}: ${m}`);
  assert.match(m, re);
  return m;
}

/** Rewrite a model directory's model.safetensors header with `edit` (the data bytes kept, then `tail` appended). */
function editHeader(dir: string, edit: (h: Record<string, any>) => void, tail = Buffer.alloc(0)): string {
  const file = path.join(dir, 'model.safetensors');
  const b = fs.readFileSync(file);
  const n = Number(b.readBigUInt64LE(0));
  const h = JSON.parse(b.subarray(8, 8 + n).toString()) as Record<string, any>;
  edit(h);
  const hb = Buffer.from(JSON.stringify(h));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(hb.length));
  fs.writeFileSync(file, Buffer.concat([len, hb, b.subarray(8 + n), tail]));
  return file;
}

const setConfig = (dir: string, edit: (c: Record<string, unknown>) => void): string => {
  const f = path.join(dir, 'config.json');
  const c = JSON.parse(fs.readFileSync(f, 'utf8')) as Record<string, unknown>;
  edit(c);
  fs.writeFileSync(f, JSON.stringify(c));
  return f;
};

describe('host: hostile model files', function () {
  this.timeout(60000);

  describe('config.json', () => {
    it('null, an array, a number: refused as not an object', () => {
      for (const text of ['null', '[1, 2]', '5', '"x"']) {
        const dir = small();
        fs.writeFileSync(path.join(dir, 'config.json'), text);
        refused(() => loadModel(dir), 'config.json', /config\.json: must be a JSON object of model settings, got /);
      }
    });

    it('counts and sizes that are not positive integers are refused by field', () => {
      const cases: [string, unknown][] = [['num_hidden_layers', 1.5], ['num_hidden_layers', -1], ['num_hidden_layers', '1'], ['max_position_embeddings', 1.5], ['max_position_embeddings', -5], ['max_position_embeddings', 0], ['intermediate_size', 1e400], ['head_dim', 2.5], ['vocab_size', null]];
      for (const [field, v] of cases) {
        const dir = small();
        setConfig(dir, (c) => void (c[field] = v));
        refused(() => loadModel(dir), 'config.json', new RegExp(`field '${field}' must be a positive integer, got `));
      }
      const dir = small();
      fs.writeFileSync(path.join(dir, 'config.json'), fs.readFileSync(path.join(dir, 'config.json'), 'utf8').replace(/"max_position_embeddings":\s*\d+/, '"max_position_embeddings": NaN'));
      refused(() => loadModel(dir), 'config.json', /config\.json: not valid JSON/);
    });

    it('token ids and tie_word_embeddings of the wrong kind are refused by field', () => {
      for (const [field, v, re] of [['eos_token_id', [1.5], /field 'eos_token_id' must be a token id/], ['eos_token_id', 'x', /field 'eos_token_id'/], ['bos_token_id', -1, /field 'bos_token_id'/], ['tie_word_embeddings', 'false', /field 'tie_word_embeddings' must be true or false/], ['quantization_config', 5, /field 'quantization_config' must be an object/]] as const) {
        const dir = small();
        setConfig(dir, (c) => void (c[field] = v));
        refused(() => loadModel(dir), 'config.json', re);
      }
    });

    it('an absurd max_position_embeddings (1e9) is harmless: the KV cache and RoPE tables hold what is used', async () => {
      const dir = small();
      setConfig(dir, (c) => void (c.max_position_embeddings = 1e9));
      const m = loadModel(dir);
      assert.equal(m.config.maxPositions, 1e9);
      const be = new CpuBackend();
      await be.load(bitLinears(m));
      const tr = new Transformer(m, be);
      assert.equal(tr.ctx, 4096, 'the default context is min(4096, the model\'s)');
      await tr.forward([1, 2, 3]);
      assert.ok(tr.cacheCapacity >= 3 && tr.cacheCapacity <= 16, `capacity ${tr.cacheCapacity}`);
      assert.ok(tr.rope.cos.length <= 256 * (m.config.headDim / 2), `rope table of ${tr.rope.cos.length}`);
      const before = process.memoryUsage().arrayBuffers;
      const g = await generate(m, be, [1, 2], { n: 2, temperature: 0 });
      assert.equal(g.tokens.length, 2);
      assert.ok(process.memoryUsage().arrayBuffers - before < 64 << 20, 'generate allocates for what it runs, not for 1e9 positions');
    });

    it('a JSON file over 64 MiB is refused before it is read (sparse file)', () => {
      const dir = small();
      fs.truncateSync(path.join(dir, 'config.json'), (64 << 20) + 1);
      refused(() => loadModel(dir), 'config.json', /config\.json: 67108865 bytes; a JSON file of at most 64 MiB is read/);
    });
  });

  describe('safetensors', () => {
    it('model.safetensors that is a directory', () => {
      const dir = small();
      fs.rmSync(path.join(dir, 'model.safetensors'));
      fs.mkdirSync(path.join(dir, 'model.safetensors'));
      refused(() => loadModel(dir), 'model.safetensors', /model\.safetensors: is a directory, expected a regular file/);
    });

    it('a dtype named after an Object.prototype member is an unknown dtype', () => {
      for (const d of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
        const dir = small();
        editHeader(dir, (h) => void (h['model.norm.weight'].dtype = d));
        refused(() => loadModel(dir), 'model.safetensors', new RegExp(`tensor 'model\\.norm\\.weight': unknown dtype "${d}" \\(expected one of BOOL,`));
      }
    });

    it('overlapping byte ranges, a gap, and bytes after the last tensor are refused (the reference InvalidOffset / MetadataIncompleteBuffer)', () => {
      let dir = small();
      editHeader(dir, (h) => void (h['model.layers.0.post_attention_layernorm.weight'].data_offsets = [...h['model.layers.0.input_layernorm.weight'].data_offsets]));
      refused(() => loadModel(dir), 'model.safetensors', /data_offsets \[\d+, \d+\] overlap tensor '.*'s bytes/);
      dir = small();
      editHeader(dir, (h) => {
        const t = h['model.norm.weight'];
        // A range of the right length inside another tensor's bytes.
        const o = h['model.embed_tokens.weight'].data_offsets[0];
        t.data_offsets = [o + 2, o + 2 + (t.data_offsets[1] - t.data_offsets[0])];
      });
      refused(() => loadModel(dir), 'model.safetensors', /overlap tensor|leave bytes \d+\.\.\d+ of the data unused/);
      dir = small();
      editHeader(dir, () => {}, Buffer.alloc(16));
      refused(() => loadModel(dir), 'model.safetensors', /16 bytes after the last tensor's data/);
    });

    it('__metadata__ must be an object of strings', () => {
      const dir = small();
      editHeader(dir, (h) => void (h.__metadata__ = { format: 5 }));
      refused(() => loadModel(dir), 'model.safetensors', /'__metadata__' must be an object of strings/);
    });
  });

  describe('sharded checkpoints: the index', () => {
    /** The small model split in two shards; returns the directory and its weight_map. */
    function sharded(): { dir: string; map: Record<string, string>; index: string } {
      const dir = small();
      const whole = parseSafetensors(new Uint8Array(fs.readFileSync(path.join(dir, 'model.safetensors'))), 'model.safetensors');
      const names = [...whole.tensors.keys()];
      const map: Record<string, string> = {};
      [names.slice(0, 5), names.slice(5)].forEach((ns, i) => {
        const file = `model-0000${i + 1}-of-00002.safetensors`;
        writeSafetensors(path.join(dir, file), ns.map((n) => ({ name: n, dtype: whole.tensors.get(n)!.dtype, shape: [...whole.tensors.get(n)!.shape], bytes: whole.tensors.get(n)!.bytes })));
        for (const n of ns) map[n] = file;
      });
      fs.rmSync(path.join(dir, 'model.safetensors'));
      const index = path.join(dir, 'model.safetensors.index.json');
      fs.writeFileSync(index, JSON.stringify({ metadata: {}, weight_map: map }));
      return { dir, map, index };
    }

    it('a weight_map value that is a number, null, ".", "", a traversal or an absolute path is refused by field', () => {
      for (const v of [5, null, '.', '', 'a/../b', '../../../../etc/hostname', '/etc/hostname', 'x\\..\\y']) {
        const { dir, map, index } = sharded();
        fs.writeFileSync(index, JSON.stringify({ weight_map: { ...map, 'model.norm.weight': v } }));
        refused(() => loadModel(dir), 'model.safetensors.index.json', /weight_map\['model\.norm\.weight'\] .* is not a file name inside the model directory/);
      }
    });

    it('weight_map itself missing or not an object; the index not JSON, a FIFO-free size check', () => {
      for (const body of ['{}', '{"weight_map": [1]}', '{"weight_map": "x"}', 'null']) {
        const { dir, index } = sharded();
        fs.writeFileSync(index, body);
        refused(() => loadModel(dir), 'model.safetensors.index.json', /field 'weight_map' must be an object/);
      }
    });

    it('a shard linked from elsewhere loads when it is a regular file holding a shard (the user\'s own link); a link to something else is refused by what it is', () => {
      const outside = sharded();
      let { dir, map } = sharded();
      const shard = map['model.norm.weight']!;
      fs.rmSync(path.join(dir, shard));
      fs.symlinkSync(path.join(outside.dir, shard), path.join(dir, shard));
      assert.equal(loadModel(dir).config.layers, 1, 'a link to a shard outside the directory (a --local-dir download, another disk) loads');
      fs.rmSync(path.join(dir, shard));
      fs.symlinkSync('/etc/hostname', path.join(dir, shard));
      refused(() => loadModel(dir), shard, /safetensors/);
      // Inside: a link to a file in a subdirectory of the model directory.
      fs.rmSync(path.join(dir, shard));
      fs.mkdirSync(path.join(dir, 'real'));
      fs.copyFileSync(path.join(outside.dir, shard), path.join(dir, 'real', 'x.bin'));
      fs.symlinkSync(path.join('real', 'x.bin'), path.join(dir, shard));
      assert.equal(loadModel(dir).config.layers, 1);
      // The HF cache: snapshots/<commit>/<file> links to ../../blobs/<etag>.
      ({ dir, map } = sharded());
      const repo = tmp();
      const snap = path.join(repo, 'snapshots', 'c0ffee');
      fs.mkdirSync(snap, { recursive: true });
      fs.mkdirSync(path.join(repo, 'blobs'));
      for (const f of fs.readdirSync(dir)) {
        fs.copyFileSync(path.join(dir, f), path.join(repo, 'blobs', `etag-${f}`));
        fs.symlinkSync(path.join('..', '..', 'blobs', `etag-${f}`), path.join(snap, f));
      }
      assert.equal(loadModel(snap).config.layers, 1);
      // A name that merely starts with '..' is a plain name inside the directory.
      ({ dir, map } = sharded());
      fs.renameSync(path.join(dir, shard), path.join(dir, '..m.safetensors'));
      const index = path.join(dir, 'model.safetensors.index.json');
      const ix = JSON.parse(fs.readFileSync(index, 'utf8')) as { weight_map: Record<string, string> };
      for (const k of Object.keys(ix.weight_map)) if (ix.weight_map[k] === shard) ix.weight_map[k] = '..m.safetensors';
      fs.writeFileSync(index, JSON.stringify(ix));
      assert.equal(loadModel(dir).config.layers, 1, "a shard named '..m.safetensors'");
    });

    it('a tensor in two shards is refused', () => {
      const { dir, map } = sharded();
      const [a, b] = [...new Set(Object.values(map))] as [string, string];
      const pa = parseSafetensors(new Uint8Array(fs.readFileSync(path.join(dir, a))), a);
      const pb = parseSafetensors(new Uint8Array(fs.readFileSync(path.join(dir, b))), b);
      const extra = pa.tensors.values().next().value!;
      writeSafetensors(path.join(dir, b), [...pb.tensors.values(), extra].map((t) => ({ name: t.name, dtype: t.dtype, shape: [...t.shape], bytes: t.bytes })));
      refused(() => loadModel(dir), 'safetensors', new RegExp(`tensor '${extra.name.replace(/\./g, '\\.')}' is also in .*; a tensor is in one shard`));
    });
  });

  describe('tokenizer.json', () => {
    it('a post-processor naming a token that is not in the vocabulary is refused at load, by field', () => {
      const dir = small({ tokenizer: true, vocab: 258 });
      const f = path.join(dir, 'tokenizer.json');
      const tj = JSON.parse(fs.readFileSync(f, 'utf8'));
      tj.post_processor.single[0].SpecialToken.id = '<missing>';
      fs.writeFileSync(f, JSON.stringify(tj));
      refused(() => TextCodec.load(dir), 'tokenizer.json', /tokenizer\.json: post_processor\.single\[0\]\.SpecialToken\.id names the token "<missing>", which is not in the vocabulary/);
      tj.post_processor = { type: 'Sequence', processors: [{ type: 'ByteLevel' }, { type: 'BertProcessing', cls: ['[CLS]', 1], sep: ['</s>', 257] }] };
      fs.writeFileSync(f, JSON.stringify(tj));
      refused(() => TextCodec.load(dir), 'tokenizer.json', /post_processor\.processors\[1\]\.cls names the token "\[CLS\]"/);
    });

    it('not an object, or too large, is refused', () => {
      const dir = small({ tokenizer: true, vocab: 258 });
      const f = path.join(dir, 'tokenizer.json');
      fs.writeFileSync(f, '[]');
      refused(() => TextCodec.load(dir), 'tokenizer.json', /tokenizer\.json: must be a JSON object/);
      fs.truncateSync(f, 65 << 20);
      refused(() => TextCodec.load(dir), 'tokenizer.json', /at most 64 MiB/);
    });
  });

  describe('GGUF', () => {
    const src = (): Buffer => fs.readFileSync(fixture('tiny-bitnet-c', 'model-tq2_0.gguf'));
    const write = (b: Buffer, name = 'm.gguf'): string => {
      const f = path.join(tmp(), name);
      fs.writeFileSync(f, b);
      return f;
    };
    const replaceKv = (b: Buffer, key: string, entry: Buffer): Buffer => {
      const l = ggufLayout(b);
      assert.ok(l.kvs.some((k) => k.key === key), `fixture has ${key}`);
      return withKvs(b, kvEntries(b).map((e, i) => (l.kvs[i]!.key === key ? entry : e)));
    };

    it('the byte walker rebuilds the fixture so that it still loads (the tests below edit through it)', () => {
      assert.equal(loadModel(write(withKvs(src(), kvEntries(src())))).config.layers, loadModel(fixture('tiny-bitnet-c', 'model-tq2_0.gguf')).config.layers);
    });

    it('a repeated metadata key is refused (a second block_count is not silently taken)', () => {
      const b = src();
      const l = ggufLayout(b);
      const i = l.kvs.findIndex((k) => k.key === 'bitnet.block_count');
      const entries = kvEntries(b);
      const f = write(withKvs(b, [...entries, kv('bitnet.block_count', I32, i32v(1))]));
      refused(() => loadModel(f), 'm.gguf', /metadata key 'bitnet\.block_count' appears twice \(again as key \d+, at byte \d+\)/);
      assert.ok(i >= 0);
    });

    it('a repeated tensor name is refused', () => {
      const b = src();
      const l = ggufLayout(b);
      // Two tensor infos whose names have the same length: the second renamed to the first (the layout is kept).
      const infos: { at: number; name: string }[] = [];
      for (let p = l.infosStart; p < l.infosEnd; ) {
        const n = Number(b.readBigUInt64LE(p));
        infos.push({ at: p, name: b.toString('utf8', p + 8, p + 8 + n) });
        p += 8 + n + 4 + 8 * b.readUInt32LE(p + 8 + n) + 4 + 8;
      }
      const j = infos.findIndex((t, k) => k > 0 && infos.slice(0, k).some((u) => u.name.length === t.name.length));
      assert.ok(j > 0, 'fixture: two tensor names of the same length');
      const first = infos.find((u) => u.name.length === infos[j]!.name.length)!.name;
      b.write(first, infos[j]!.at + 8, 'utf8');
      refused(() => loadModel(write(b)), 'm.gguf', new RegExp(`tensor '${first.replace(/\./g, '\\.')}' is listed twice`));
    });

    it('counts and sizes must be integers >= 1 in any numeric type; token ids integers >= 0', () => {
      const cases: [string, Buffer, RegExp][] = [
        ['bitnet.block_count', kv('bitnet.block_count', F32, f32v(1.5)), /metadata 'bitnet\.block_count' must be an integer >= 1, got 1\.5/],
        ['bitnet.block_count', kv('bitnet.block_count', I32, i32v(-1)), /metadata 'bitnet\.block_count' must be an integer >= 1, got -1/],
        ['bitnet.context_length', kv('bitnet.context_length', F32, f32v(NaN)), /metadata 'bitnet\.context_length' must be an integer >= 1, got null/],
        ['bitnet.context_length', kv('bitnet.context_length', U64, u64v(2n ** 63n)), /bitnet\.context_length/],
        ['bitnet.feed_forward_length', kv('bitnet.feed_forward_length', STRING, strv('64')), /metadata 'bitnet\.feed_forward_length' must be an integer >= 1, got "64"/],
        ['tokenizer.ggml.eos_token_id', kv('tokenizer.ggml.eos_token_id', F32, f32v(2.5)), /metadata 'tokenizer\.ggml\.eos_token_id' must be a token id/],
      ];
      for (const [key, entry, re] of cases) {
        const b = src();
        const has = ggufLayout(b).kvs.some((k) => k.key === key);
        const f = write(has ? replaceKv(b, key, entry) : withKvs(b, [...kvEntries(b), entry]));
        refused(() => loadModel(f), 'm.gguf', re);
      }
    });

    it('an absurd context_length (1e9) is harmless: the model loads and runs in a small cache', async () => {
      const f = write(replaceKv(src(), 'bitnet.context_length', kv('bitnet.context_length', U64, u64v(1_000_000_000n))));
      const m = loadModel(f);
      assert.equal(m.config.maxPositions, 1e9);
      const be = new CpuBackend();
      await be.load(bitLinears(m));
      const g = await generate(m, be, [1, 2, 3], { n: 2, temperature: 0 });
      assert.equal(g.tokens.length, 2);
    });

    it('a corrupted string length is refused in one short line, quoting no more than an excerpt of the file', () => {
      const b0 = src();
      const l = ggufLayout(b0);
      let tried = 0;
      for (const k of l.kvs) {
        const places = [k.start, ...(k.type === STRING ? [k.valueStart] : [])];
        for (const at of places) {
          for (const n of [897_000n, BigInt(b0.length - at - 9), 2n ** 40n]) {
            const b = Buffer.from(b0);
            b.writeBigUInt64LE(n, at);
            const f = write(b);
            try {
              loadModel(f);
            } catch (e) {
              assert.ok(e instanceof CheckpointError, `length ${n} at byte ${at} (${k.key}): ${(e as Error).name}: ${(e as Error).message.slice(0, 200)}`);
              assert.ok(!e.message.includes('\n') && e.message.length < 400, `length ${n} at byte ${at} (${k.key}): a message of ${e.message.length} chars: ${e.message.slice(0, 200)}…`);
            }
            tried++;
          }
        }
      }
      assert.ok(tried > 20);
    });

    it('a > 512 MiB GGUF (sparse) with a corrupted key length is refused by name, reading nothing of it', function () {
      const f = path.join(tmp(), 'big.gguf');
      const head = headerOnly([kv('general.architecture', STRING, strv('bitnet'))]);
      head.writeBigUInt64LE(600_000_000n, 24); // the key's length
      fs.writeFileSync(f, head);
      fs.truncateSync(f, 600 << 20);
      const before = process.memoryUsage().arrayBuffers;
      refused(() => loadModel(f), 'big.gguf', /big\.gguf: metadata key 0: a string of 600000000 bytes at byte 24; at most 65535 are allowed/);
      assert.ok(process.memoryUsage().arrayBuffers - before < 64 << 20, 'the file was not copied into memory');
    });

    it('an I2_S tensor scale that is zero, negative or not finite is refused by tensor', () => {
      for (const s of [0, -0.5, NaN, Infinity]) {
        const file = fixture('tiny-bitnet-c', 'model-i2_s.gguf');
        const buf = new Uint8Array(fs.readFileSync(file));
        const t = parseGguf(buf, file).tensors.get('blk.0.attn_q.weight')!;
        const [K, N] = t.ne as [number, number];
        new DataView(t.bytes.buffer, t.bytes.byteOffset + (N * K) / 4, 4).setFloat32(0, s, true);
        const f = write(Buffer.from(buf), 'i2s.gguf');
        refused(() => loadModel(f), 'i2s.gguf', new RegExp(`tensor 'blk\\.0\\.attn_q\\.weight': the scale in the I2_S tail is ${String(s).replace('.', '\\.')}; it must be positive and finite`));
      }
    });
  });

  describe('files that are not regular files (in a child process with a deadline)', () => {
    it('FIFOs, /dev/zero and directories named as model files are refused by name, and nothing blocks', function () {
      this.timeout(60000);
      const root = tmp();
      const cases: { label: string; kind: 'model' | 'tokenizer'; path: string; re: RegExp }[] = [];
      const fifo = (p: string): void => void execFileSync('mkfifo', [p]);
      // model.safetensors a FIFO
      let d = small();
      fs.rmSync(path.join(d, 'model.safetensors'));
      fifo(path.join(d, 'model.safetensors'));
      cases.push({ label: 'model.safetensors FIFO', kind: 'model', path: d, re: /model\.safetensors: is a FIFO \(named pipe\), expected a regular file/ });
      // config.json a FIFO
      d = small();
      fs.rmSync(path.join(d, 'config.json'));
      fifo(path.join(d, 'config.json'));
      cases.push({ label: 'config.json FIFO', kind: 'model', path: d, re: /config\.json: is a FIFO/ });
      // tokenizer.json a FIFO, and a symlink inside the directory to a FIFO
      d = small({ tokenizer: true, vocab: 258 });
      fs.rmSync(path.join(d, 'tokenizer.json'));
      fifo(path.join(d, 'tokenizer.json'));
      cases.push({ label: 'tokenizer.json FIFO', kind: 'tokenizer', path: d, re: /tokenizer\.json: is a FIFO/ });
      d = small({ tokenizer: true, vocab: 258 });
      fs.rmSync(path.join(d, 'tokenizer_config.json'), { force: true });
      fifo(path.join(d, 'pipe'));
      fs.symlinkSync('pipe', path.join(d, 'tokenizer_config.json'));
      cases.push({ label: 'tokenizer_config.json -> FIFO', kind: 'tokenizer', path: d, re: /tokenizer_config\.json: is a FIFO/ });
      // a .gguf FIFO named directly, and one found in a directory
      const g = path.join(root, 'pipe.gguf');
      fifo(g);
      cases.push({ label: '.gguf FIFO', kind: 'model', path: g, re: /pipe\.gguf: is a FIFO/ });
      const gd = path.join(root, 'gdir');
      fs.mkdirSync(gd);
      fifo(path.join(gd, 'm.gguf'));
      cases.push({ label: 'dir/m.gguf FIFO', kind: 'model', path: gd, re: /m\.gguf: is a FIFO/ });
      // /dev/zero: named directly, and linked from a model directory
      const z = path.join(root, 'zero.gguf');
      fs.symlinkSync('/dev/zero', z);
      cases.push({ label: '.gguf -> /dev/zero', kind: 'model', path: z, re: /zero\.gguf: is a character device, expected a regular file/ });
      d = small({ tokenizer: true, vocab: 258 });
      fs.rmSync(path.join(d, 'tokenizer.json'));
      fs.symlinkSync('/dev/zero', path.join(d, 'tokenizer.json'));
      cases.push({ label: 'tokenizer.json -> /dev/zero', kind: 'tokenizer', path: d, re: /tokenizer\.json: is a character device, expected a regular file/ });
      d = small();
      fs.rmSync(path.join(d, 'config.json'));
      fs.symlinkSync('/dev/zero', path.join(d, 'config.json'));
      cases.push({ label: 'config.json -> /dev/zero', kind: 'model', path: d, re: /config\.json: is a character device, expected a regular file/ });
      // a .gguf that is a directory
      const gdir = path.join(root, 'dir.gguf');
      fs.mkdirSync(gdir);
      fs.mkdirSync(path.join(gdir, 'x'));
      cases.push({ label: 'dir.gguf/ (directory holding no model)', kind: 'model', path: gdir, re: /dir\.gguf: no config\.json/ });

      const outcomes = loadInChild(cases);
      for (const c of cases) {
        const got = outcomes.get(c.label)!;
        assert.equal(got.name, 'CheckpointError', `${c.label}: ${got.ok ? 'accepted' : `${got.name}: ${got.message}`}`);
        assert.ok(!got.message!.includes('\n'), `${c.label}: one line`);
        assert.match(got.message!, c.re, c.label);
      }
    });
  });
});
