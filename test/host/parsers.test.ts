// Malformed checkpoints get a CheckpointError naming the file and the tensor or field;
// the parsers are fuzzed with truncations and byte flips of the fixture files, and must
// either load or throw CheckpointError (never a RangeError from a DataView, never hang).

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadModel } from '../../host/model/load.ts';
import { parseGguf } from '../../host/model/gguf.ts';
import { parseSafetensors, writeSafetensors } from '../../host/model/safetensors.ts';
import { CheckpointError } from '../../host/model/errors.ts';
import { makeModel } from '../../host/model/make-model.ts';
import { XorShift32, globalSeed } from '../../common/rng.ts';
import { fixture } from './fixtures.ts';
import { F32, I32, STRING, U64, f32v, ggufLayout, i32v, kv, kvEntries, strv, u64v, withKvs } from './gguf-bytes.ts';
import { loadInChild, type ChildCase } from './load-in-child.ts';
import { execFileSync } from 'node:child_process';

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'bitnet-ckpt-'));

/** A copy of a model directory whose safetensors header/tensors were edited by `edit`. */
function editedModel(edit: (header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>, data: Buffer) => Buffer | void): string {
  const dir = tmp();
  makeModel(dir, { tokenizer: false, vocab: 32, hidden: 16, heads: 2, kvHeads: 1, intermediate: 32, layers: 1 });
  const file = path.join(dir, 'model.safetensors');
  const b = fs.readFileSync(file);
  const n = Number(b.readBigUInt64LE(0));
  const header = JSON.parse(b.subarray(8, 8 + n).toString()) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  let data: Buffer<ArrayBufferLike> = Buffer.from(b.subarray(8 + n));
  data = edit(header, data) ?? data;
  const hb = Buffer.from(JSON.stringify(header));
  const out = Buffer.alloc(8 + hb.length);
  out.writeBigUInt64LE(BigInt(hb.length));
  hb.copy(out, 8);
  fs.writeFileSync(file, Buffer.concat([out, data]));
  return dir;
}

function rejects(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof CheckpointError, `expected CheckpointError, got ${(e as Error).name}: ${(e as Error).message}`);
    assert.match(e.message, re);
    return true;
  });
}

describe('host: malformed checkpoints', function () {
  it('a missing tensor is named with the directory', () => {
    // Its header entry and its bytes go (a header entry alone would leave bytes no tensor owns, refused on its own).
    const dir = editedModel(() => {});
    const file = path.join(dir, 'model.safetensors');
    const whole = parseSafetensors(new Uint8Array(fs.readFileSync(file)), file);
    writeSafetensors(file, [...whole.tensors.values()].filter((t) => t.name !== 'model.layers.0.mlp.up_proj.weight_scale').map((t) => ({ name: t.name, dtype: t.dtype, shape: [...t.shape], bytes: t.bytes })));
    rejects(() => loadModel(dir), /tensor 'model\.layers\.0\.mlp\.up_proj\.weight_scale' is missing/);
  });

  it('a shape mismatch names the tensor, the shape and the expected one', () => {
    const dir = editedModel((h) => {
      const t = h['model.layers.0.self_attn.q_proj.weight']!;
      t.shape = [t.shape[1]!, t.shape[0]!];
    });
    rejects(() => loadModel(dir), /model\.safetensors: tensor 'model\.layers\.0\.self_attn\.q_proj\.weight': packed shape \[16, 4\], expected \[4, 16\]/);
  });

  it('a wrong dtype is named', () => {
    const dir = editedModel((h) => {
      h['model.norm.weight']!.dtype = 'I16';
    });
    rejects(() => loadModel(dir), /tensor 'model\.norm\.weight': dtype I16, expected a float dtype/);
  });

  it('an unknown dtype, a byte count that does not match, and a truncated file', () => {
    rejects(() => loadModel(editedModel((h) => void (h['model.norm.weight']!.dtype = 'F8'))), /unknown dtype "F8"/);
    rejects(() => loadModel(editedModel((h) => void (h['model.norm.weight']!.shape = [17]))), /tensor 'model\.norm\.weight': 32 bytes for BF16 \[17\], expected 34/);
    rejects(() => loadModel(editedModel((_, d) => d.subarray(0, d.length - 10))), /the file is truncated/);
  });

  it('a ternary code 3 in packed weights is refused with its position', () => {
    const dir = editedModel((h, d) => {
      const t = h['model.layers.0.self_attn.k_proj.weight']!;
      d[t.data_offsets[0] + 5] = 0xff;
    });
    rejects(() => loadModel(dir), /k_proj\.weight': byte \[0, 5\] holds code 3/);
  });

  it('a bad header length, a non-JSON header, a config that is not BitNet', () => {
    const f = path.join(tmp(), 'x.safetensors');
    fs.writeFileSync(f, Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 1, 2]));
    rejects(() => parseSafetensors(new Uint8Array(fs.readFileSync(f)), f), /header length \d+ does not fit the file/);
    const g = Buffer.alloc(12);
    g.writeBigUInt64LE(4n);
    g.write('{{{{', 8);
    rejects(() => parseSafetensors(new Uint8Array(g), 'y.safetensors'), /not valid UTF-8 JSON/);
    const dir = editedModel(() => {});
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...cfg, hidden_act: 'silu' }));
    rejects(() => loadModel(dir), /config\.json: field 'hidden_act' is "silu"; only "relu2"/);
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...cfg, num_attention_heads: 0 }));
    rejects(() => loadModel(dir), /field 'num_attention_heads' must be a positive integer, got 0/);
  });

  it('sharded checkpoints load through the index, and a missing shard is named', () => {
    const dir = tmp();
    makeModel(dir, { tokenizer: false, vocab: 32, hidden: 16, heads: 2, kvHeads: 1, intermediate: 32, layers: 1 });
    const whole = parseSafetensors(new Uint8Array(fs.readFileSync(path.join(dir, 'model.safetensors'))), 'model.safetensors');
    const names = [...whole.tensors.keys()];
    const shards = [names.slice(0, 7), names.slice(7)];
    const map: Record<string, string> = {};
    shards.forEach((ns, i) => {
      const file = `model-0000${i + 1}-of-00002.safetensors`;
      writeSafetensors(path.join(dir, file), ns.map((n) => ({ name: n, dtype: whole.tensors.get(n)!.dtype, shape: [...whole.tensors.get(n)!.shape], bytes: whole.tensors.get(n)!.bytes })));
      for (const n of ns) map[n] = file;
    });
    const single = loadModel(dir);
    fs.rmSync(path.join(dir, 'model.safetensors'));
    fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: map }));
    const sharded = loadModel(dir);
    assert.deepEqual(sharded.layers[0]!.proj.q.codes, single.layers[0]!.proj.q.codes);
    fs.rmSync(path.join(dir, 'model-00002-of-00002.safetensors'));
    rejects(() => loadModel(dir), /names shard 'model-00002-of-00002\.safetensors', which does not exist/);
  });

  it('GGUF: bad magic, an unsupported quantization, a truncated tensor', () => {
    const src = fs.readFileSync(fixture('tiny-bitnet-c', 'model-tq2_0.gguf'));
    const bad = Buffer.from(src);
    bad.write('GGML', 0);
    rejects(() => parseGguf(new Uint8Array(bad), 'bad.gguf'), /bad\.gguf: not a GGUF file/);
    rejects(() => parseGguf(new Uint8Array(src.subarray(0, src.length - 100)), 'short.gguf'), /short\.gguf: tensor '.*' .* past the end of the file .* truncated/);
    // Turn blk.0.attn_q.weight's type into Q4_0 (2): found by its name in the tensor infos.
    const q = Buffer.from(src);
    const at = q.indexOf('blk.0.attn_q.weight') + 'blk.0.attn_q.weight'.length;
    const nd = q.readUInt32LE(at);
    q.writeUInt32LE(2, at + 4 + 8 * nd);
    const f = path.join(tmp(), 'q4.gguf');
    fs.writeFileSync(f, q);
    rejects(() => loadModel(f), /q4\.gguf: tensor 'blk\.0\.attn_q\.weight': quantization Q4_0 is not supported for a BitLinear weight/);
  });

  it('fuzz: truncations and byte flips of every fixture format load or fail with CheckpointError', function () {
    const seed = globalSeed() ^ 0x5eed;
    const rng = new XorShift32(seed);
    const cases = Number(process.env.PARSER_FUZZ ?? 150);
    const dir = tmp();
    const sources = [
      { src: fixture('tiny-bitnet-c', 'model-tq2_0.gguf'), name: 'm.gguf' },
      { src: fixture('tiny-bitnet-c', 'model-tq1_0.gguf'), name: 'm.gguf' },
      { src: fixture('tiny-bitnet-c', 'model-i2_s.gguf'), name: 'm.gguf' },
      { src: fixture('tiny-bitnet-a', 'model.safetensors'), name: 'model.safetensors' },
    ];
    fs.copyFileSync(fixture('tiny-bitnet-a', 'config.json'), path.join(dir, 'config.json'));
    const outcomes = { loaded: 0, refused: 0 };
    for (let i = 0; i < cases; i++) {
      const s = sources[i % sources.length]!;
      const b = Buffer.from(fs.readFileSync(s.src));
      // Mostly the header region, where the structure lives; sometimes anywhere.
      const span = rng.chance(0.7) ? Math.min(b.length, 4096) : b.length;
      let data = b;
      if (rng.chance(0.3)) data = b.subarray(0, rng.int(0, b.length - 1));
      else for (let k = rng.int(1, 8); k > 0; k--) b[rng.int(0, span - 1)] = rng.int(0, 255);
      const f = path.join(dir, s.name);
      fs.writeFileSync(f, data);
      try {
        loadModel(s.name.endsWith('.gguf') ? f : dir);
        outcomes.loaded++;
      } catch (e) {
        if (!(e instanceof CheckpointError)) throw new Error(`case ${i} (seed ${seed}, ${s.src}): ${(e as Error).name}: ${(e as Error).message}`);
        outcomes.refused++;
      }
      fs.rmSync(f);
    }
    console.log(`      seed ${seed}: ${cases} mutated files, ${outcomes.loaded} still loaded, ${outcomes.refused} refused with CheckpointError`);
    assert.ok(outcomes.refused > cases / 4, 'most mutations should be caught');
  });

  it('fuzz: hostile structure (repeated keys, absurd counts, corrupted lengths, byte ranges, shard names, non-regular files) is refused in one line or harmless', function () {
    const seed = globalSeed() ^ 0x40571e;
    const rng = new XorShift32(seed);
    const cases = Number(process.env.PARSER_FUZZ ?? 150);
    const gguf = fs.readFileSync(fixture('tiny-bitnet-c', 'model-tq2_0.gguf'));
    const layout = ggufLayout(gguf);
    const entries = kvEntries(gguf);
    const numeric = layout.kvs.map((k, i) => ({ k, i })).filter(({ k }) => k.key.startsWith('bitnet.') && k.type !== STRING);
    const absurd = [0, -1, 1.5, NaN, Infinity, 2 ** 31, 2 ** 40, 1e9, 2 ** 63];
    const pick = <T>(xs: readonly T[]): T => xs[rng.int(0, xs.length - 1)]!;
    const outcomes = { loaded: 0, refused: 0 };
    const inChild: (ChildCase & { re: RegExp })[] = [];
    /** fn loads or throws a CheckpointError of one short line; `mustRefuse` matched when given. */
    const check = (what: string, fn: () => unknown, mustRefuse?: RegExp): void => {
      const where = `case ${what} (SEED=${globalSeed()} re-runs it)`;
      try {
        fn();
        if (mustRefuse) assert.fail(`${where}: loaded, expected a refusal matching ${mustRefuse}`);
        outcomes.loaded++;
      } catch (e) {
        if (e instanceof assert.AssertionError) throw e;
        if (!(e instanceof CheckpointError)) throw new Error(`${where}: ${(e as Error).name}: ${String((e as Error).message).slice(0, 300)}`);
        if (e.message.includes('\n') || e.message.length >= 400) throw new Error(`${where}: a message of ${e.message.length} chars / ${e.message.split('\n').length} lines: ${e.message.slice(0, 200)}…`);
        if (mustRefuse && !mustRefuse.test(e.message)) throw new Error(`${where}: ${e.message}, expected ${mustRefuse}`);
        outcomes.refused++;
      }
    };
    const file = (name: string, b: Buffer): string => {
      const f = path.join(tmp(), name);
      fs.writeFileSync(f, b);
      return f;
    };
    for (let i = 0; i < cases; i++) {
      const kind = rng.int(0, 5);
      if (kind === 0) {
        // A repeated metadata key, anywhere among the others.
        const k = rng.int(0, entries.length - 1);
        const at = rng.int(0, entries.length);
        const es = [...entries];
        es.splice(at, 0, entries[k]!);
        check(`${i}: key '${layout.kvs[k]!.key}' repeated at ${at}`, () => loadModel(file('m.gguf', withKvs(gguf, es))), /appears twice/);
      } else if (kind === 1) {
        // A count, size or float field of the architecture with an absurd value, in some numeric (or string) type.
        const { k, i: at } = pick(numeric);
        const v = pick(absurd);
        const type = pick([F32, I32, U64, STRING]);
        const value = type === F32 ? f32v(v) : type === I32 ? i32v(Number.isFinite(v) && Math.abs(v) < 2 ** 31 ? Math.trunc(v) : -1) : type === U64 ? u64v(Number.isFinite(v) && v >= 0 ? BigInt(Math.min(Math.trunc(v), 2 ** 63 - 1)) : 2n ** 64n - 1n) : strv(String(v));
        const es = [...entries];
        es[at] = kv(k.key, type, value);
        check(`${i}: '${k.key}' = ${v} as type ${type}`, () => loadModel(file('m.gguf', withKvs(gguf, es))));
      } else if (kind === 2) {
        // A corrupted length: a key's or a string value's.
        const k = pick(layout.kvs);
        const at = k.type === STRING && rng.chance(0.5) ? k.valueStart : k.start;
        const b = Buffer.from(gguf);
        const n = pick([BigInt(rng.int(0, 1 << 20)), BigInt(gguf.length - at), 2n ** 32n + BigInt(rng.int(0, 99)), 2n ** 53n]);
        b.writeBigUInt64LE(n, at);
        check(`${i}: length ${n} at byte ${at} ('${k.key}')`, () => loadModel(file('m.gguf', b)));
      } else if (kind === 3) {
        // A tensor's byte range moved, shrunk, or made another's.
        const dir = tmp();
        makeModel(dir, { tokenizer: false, vocab: 32, hidden: 16, heads: 2, kvHeads: 1, intermediate: 32, layers: 1 });
        const f = path.join(dir, 'model.safetensors');
        const b = fs.readFileSync(f);
        const n = Number(b.readBigUInt64LE(0));
        const h = JSON.parse(b.subarray(8, 8 + n).toString()) as Record<string, { data_offsets: [number, number] }>;
        const names = Object.keys(h).filter((x) => x !== '__metadata__');
        const t = h[pick(names)]!;
        const other = h[pick(names)]!;
        const d = rng.int(-8, 8);
        const how = rng.int(0, 2);
        t.data_offsets = how === 0 ? [t.data_offsets[0] + d, t.data_offsets[1] + d] : how === 1 ? [...other.data_offsets] : [t.data_offsets[0], t.data_offsets[1] + d];
        const hb = Buffer.from(JSON.stringify(h));
        const len = Buffer.alloc(8);
        len.writeBigUInt64LE(BigInt(hb.length));
        fs.writeFileSync(f, Buffer.concat([len, hb, b.subarray(8 + n)]));
        check(`${i}: data_offsets edit ${how} by ${d}`, () => loadModel(dir));
      } else if (kind === 4) {
        // A shard name built from hostile pieces.
        const dir = tmp();
        makeModel(dir, { tokenizer: false, vocab: 32, hidden: 16, heads: 2, kvHeads: 1, intermediate: 32, layers: 1 });
        fs.renameSync(path.join(dir, 'model.safetensors'), path.join(dir, 'shard.safetensors'));
        const pieces = ['..', '.', '', 'shard.safetensors', '/', '\\', '%2e%2e', 'etc', 'hostname', '\0', os.tmpdir()];
        const name = Array.from({ length: rng.int(1, 5) }, () => pick(pieces)).join(pick(['/', '', '\\']));
        const whole = parseSafetensors(new Uint8Array(fs.readFileSync(path.join(dir, 'shard.safetensors'))), 'shard.safetensors');
        const map = Object.fromEntries([...whole.tensors.keys()].map((t) => [t, 'shard.safetensors']));
        map['model.norm.weight'] = name;
        fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: map }));
        check(`${i}: shard name ${JSON.stringify(name)}`, () => loadModel(dir), name === 'shard.safetensors' ? undefined : /model\.safetensors\.index\.json: |shard\.safetensors: /);
      } else {
        // A model file replaced by something that is not a regular file: tried in a child with a deadline.
        const dir = tmp();
        makeModel(dir, { tokenizer: true, vocab: 258, hidden: 16, heads: 2, kvHeads: 1, intermediate: 32, layers: 1 });
        const target = pick(['model.safetensors', 'config.json', 'tokenizer.json', 'tokenizer_config.json']);
        const what = pick(['fifo', 'dir', 'zero', 'link-fifo']);
        const f = path.join(dir, target);
        fs.rmSync(f);
        if (what === 'fifo') execFileSync('mkfifo', [f]);
        else if (what === 'dir') fs.mkdirSync(f);
        else if (what === 'zero') fs.symlinkSync('/dev/zero', f);
        else {
          execFileSync('mkfifo', [path.join(dir, 'pipe')]);
          fs.symlinkSync('pipe', f);
        }
        const re = what === 'zero' ? /is a character device, expected a regular file/ : what === 'dir' ? /is a directory, expected a regular file/ : /is a FIFO \(named pipe\), expected a regular file/;
        inChild.push({ label: `${i}: ${target} as ${what}`, kind: target.startsWith('tokenizer') ? 'tokenizer' : 'model', path: dir, re });
      }
    }
    const got = loadInChild(inChild);
    for (const c of inChild) {
      const o = got.get(c.label)!;
      const where = `case ${c.label} (SEED=${globalSeed()} re-runs it)`;
      assert.equal(o.name, 'CheckpointError', `${where}: ${o.ok ? 'loaded' : `${o.name}: ${o.message}`}`);
      assert.ok(!o.message!.includes('\n'), `${where}: one line`);
      assert.match(o.message!, c.re, where);
      outcomes.refused++;
    }
    console.log(`      SEED=${globalSeed()}: ${cases} hostile files (${inChild.length} non-regular, in a child), ${outcomes.loaded} harmless and loaded, ${outcomes.refused} refused in one line`);
    assert.ok(outcomes.refused > cases / 2, 'most hostile files are refused');
  });
});
