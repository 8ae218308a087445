// The GGUF writer against files llama.cpp's gguf-py wrote: the tiny-bitnet-c fixture is read
// with parseGguf, its ternary tensors decoded with host/model/quantize.ts and written again;
// the ternary tensor data (and the whole file) must come out byte for byte as the fixture's,
// in both the d = 1 + `.scale` layout and llama.cpp's converter layout (scale folded into d).
// Then every metadata type and tensor type read back through parseGguf.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseGguf, GGML_TYPE, type GgufFile } from '../../host/model/gguf.ts';
import { decodeTQ1_0, decodeTQ2_0 } from '../../host/model/quantize.ts';
import { bf16ToF32, f16ToF32 } from '../../host/model/dtypes.ts';
import { emptyTernary, getTrit, setTrit, type PackedTernary } from '../../host/model/ternary.ts';
import { XorShift32 } from '../../common/rng.ts';
import {
  GgufMetadata,
  bf16Tensor,
  encodeTQ1_0,
  encodeTQ2_0,
  f16Bits,
  f16Tensor,
  f32BitsToF16,
  f32Tensor,
  ternaryTensors,
  writeGguf,
  type GgufScalarType,
  type GgufTensorSpec,
  type TernaryLayout,
} from '../../host/model/gguf-write.ts';
import { BITNET_2B_4T, bitnet2bMetadata, bitnet2bTensors } from '../../host/bench/model-2b.ts';
import { fixture } from './fixtures.ts';

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'bitnet-gguf-write-'));
const read = (f: string): GgufFile => {
  const b = fs.readFileSync(f);
  return parseGguf(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), f);
};

interface GgufJson {
  files: Record<string, { metadata: Record<string, { type: GgufScalarType; value: string | number }> }>;
}

describe('GGUF writer', function () {
  const dir = 'tiny-bitnet-c';
  const meta = JSON.parse(fs.readFileSync(fixture(dir, 'gguf.json'), 'utf8')) as GgufJson;
  const src = read(fixture(dir, 'model-tq2_0.gguf'));
  const isTernary = (name: string): boolean => src.tensors.get(name)!.type === GGML_TYPE.TQ2_0;

  /** The fixture model decoded from model-tq2_0.gguf: trits and the f32 scale of each projection. */
  const decoded = new Map<string, { t: PackedTernary; scale: number }>();
  for (const [name, t] of src.tensors) {
    if (!isTernary(name)) continue;
    const [K, N] = t.ne as [number, number];
    const scale = new Float32Array(src.tensors.get(name.replace('.weight', '.scale'))!.bytes.slice().buffer)[0]!;
    decoded.set(name, { t: decodeTQ2_0(t.bytes, N, K, 1, { file: src.file, tensor: name }), scale });
  }

  /** Write the fixture model again in `type`/`layout`, metadata as gguf.json lists it for model-tq2_0.gguf. */
  function rewrite(type: 'TQ2_0' | 'TQ1_0', layout: TernaryLayout): string {
    const md = new GgufMetadata();
    for (const [k, v] of Object.entries(meta.files['model-tq2_0.gguf']!.metadata)) md.set(k, v.type, k === 'general.file_type' ? (type === 'TQ2_0' ? 37 : 36) : v.value);
    const tensors: GgufTensorSpec[] = [];
    for (const [name, t] of src.tensors) {
      if (name.endsWith('.scale')) continue; // written by ternaryTensors
      if (isTernary(name)) {
        const d = decoded.get(name)!;
        tensors.push(...ternaryTensors(name, d.t, { type, layout, scale: d.scale }));
      } else {
        assert.equal(t.type, GGML_TYPE.F32);
        tensors.push(f32Tensor(name, t.ne, new Float32Array(t.bytes.slice().buffer)));
      }
    }
    const out = path.join(tmp(), `model-${type}-${layout}.gguf`);
    writeGguf(out, { metadata: md, tensors });
    return out;
  }

  const cases: [type: 'TQ2_0' | 'TQ1_0', layout: TernaryLayout, file: string][] = [
    ['TQ2_0', 'scale-tensor', 'model-tq2_0.gguf'],
    ['TQ1_0', 'scale-tensor', 'model-tq1_0.gguf'],
    ['TQ2_0', 'folded', 'model-tq2_0-folded.gguf'],
    ['TQ1_0', 'folded', 'model-tq1_0-folded.gguf'],
  ];
  for (const [type, layout, file] of cases) {
    it(`re-writes ${file} (${type}, ${layout}): ternary tensors and then the whole file byte-identical`, function () {
      const want = fixture(dir, file);
      const out = rewrite(type, layout);
      const a = read(out);
      const b = read(want);
      assert.deepEqual([...a.tensors.keys()], [...b.tensors.keys()]);
      let ternary = 0;
      for (const [name, tb] of b.tensors) {
        const ta = a.tensors.get(name)!;
        assert.equal(ta.type, tb.type, name);
        assert.deepEqual(ta.ne, tb.ne, name);
        if (tb.type === GGML_TYPE.TQ2_0 || tb.type === GGML_TYPE.TQ1_0) ternary++;
        assert.ok(Buffer.from(ta.bytes).equals(Buffer.from(tb.bytes)), `tensor ${name} differs from ${file}`);
      }
      assert.equal(ternary, 14);
      assert.ok(fs.readFileSync(out).equals(fs.readFileSync(want)), `the file differs from ${file}`);
    });
  }

  it('decodes a folded file and writes it folded again to the same bytes', function () {
    for (const [type, file] of [['TQ2_0', 'model-tq2_0-folded.gguf'], ['TQ1_0', 'model-tq1_0-folded.gguf']] as const) {
      const g = read(fixture(dir, file));
      for (const [name, t] of g.tensors) {
        if (t.type !== GGML_TYPE[type]) continue;
        const [K, N] = t.ne as [number, number];
        const dec = (type === 'TQ2_0' ? decodeTQ2_0 : decodeTQ1_0)(t.bytes, N, K, 1, { file, tensor: name });
        // The effective scale is the f16 d of the blocks: f16(1 / weight_scale).
        assert.equal(f16Bits(dec.scale.value), f16Bits(decoded.get(name)!.scale), name);
        const [spec] = ternaryTensors(name, dec, { type, layout: 'folded' });
        assert.ok(Buffer.from(spec!.data() as Uint8Array).equals(Buffer.from(t.bytes)), `${file} ${name}`);
      }
    }
  });

  it('reads back metadata of every GGUF type and F32/F16/BF16/TQ2_0/TQ1_0 tensors through parseGguf', function () {
    const rng = new XorShift32(7);
    const md = new GgufMetadata()
      .u8('t.u8', 255).i8('t.i8', -128).u16('t.u16', 65535).i16('t.i16', -32768)
      .u32('t.u32', 4294967295).i32('t.i32', -2147483648).f32('t.f32', 0.1).bool('t.bool', true).bool('t.false', false)
      .str('t.str', 'naïve ✓ ternary').u64('t.u64', 18446744073709551615n).i64('t.i64', -9223372036854775808n).f64('t.f64', Math.PI)
      .array('t.arr.u32', 'UINT32', [1, 2, 3]).array('t.arr.str', 'STRING', ['a', '', 'ĠHello']).array('t.arr.f32', 'FLOAT32', [])
      .array('t.arr.nested', { array: 'INT16' }, [[1, -2], [], [3]]).array('t.arr.bool', 'BOOL', [true, false]);
    const f = Float32Array.from({ length: 512 }, () => (rng.next() / 2 ** 32 - 0.5) * 8);
    const tern = (name: string, N: number, K: number): PackedTernary => {
      const t = emptyTernary(name, N, K, { op: 'div', value: 20 });
      for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) setTrit(t, n, k, (rng.next() % 3) - 1);
      for (let k = 0; k < 256; k++) setTrit(t, 1, 256 + k, 0); // an all-zero block
      return t;
    };
    const t2 = tern('tq2', 3, 512);
    const t1 = tern('tq1', 3, 512);
    for (const alignment of [32, 64]) {
      const out = path.join(tmp(), 'all.gguf');
      const res = writeGguf(out, {
        metadata: md,
        alignment,
        tensors: [
          f32Tensor('f32', [16, 32], f),
          f16Tensor('f16', [512], () => f),
          bf16Tensor('bf16', [2, 256], f),
          ...ternaryTensors('blk.0.tq2.weight', () => t2, { type: 'TQ2_0', layout: 'scale-tensor', rows: 3, cols: 512 }),
          ...ternaryTensors('tq1', t1, { type: 'TQ1_0', layout: 'folded' }),
          // A tensor written in pieces.
          { name: 'pieces', ne: [3], type: GGML_TYPE.F32, data: () => [Float32Array.of(1), Float32Array.of(2, 3)].map((x) => new Uint8Array(x.buffer)) },
        ],
      });
      const g = read(out);
      assert.equal(g.version, 3);
      assert.equal(g.alignment, alignment);
      assert.equal(fs.statSync(out).size, res.bytes);
      assert.equal(res.bytes % alignment, 0);
      const m = g.metadata;
      const want: [string, unknown][] = [
        ['t.u8', 255], ['t.i8', -128], ['t.u16', 65535], ['t.i16', -32768], ['t.u32', 4294967295], ['t.i32', -2147483648],
        ['t.f32', Math.fround(0.1)], ['t.bool', true], ['t.false', false], ['t.str', 'naïve ✓ ternary'],
        ['t.u64', 18446744073709551615n], ['t.i64', -9223372036854775808n], ['t.f64', Math.PI],
        ['t.arr.u32', [1, 2, 3]], ['t.arr.str', ['a', '', 'ĠHello']], ['t.arr.f32', []], ['t.arr.nested', [[1, -2], [], [3]]], ['t.arr.bool', [true, false]],
      ];
      for (const [k, v] of want) assert.deepEqual(m.get(k), v, k);
      if (alignment !== 32) assert.equal(m.get('general.alignment'), alignment);
      assert.deepEqual([...g.tensors.keys()], ['f32', 'f16', 'bf16', 'blk.0.tq2.weight', 'blk.0.tq2.scale', 'tq1', 'pieces']);
      for (const t of g.tensors.values()) assert.equal(t.offset % alignment, 0, t.name);
      const T = (n: string): Uint8Array => g.tensors.get(n)!.bytes.slice();
      assert.deepEqual(new Float32Array(T('f32').buffer), f);
      assert.deepEqual(g.tensors.get('f32')!.ne, [16, 32]);
      const f16 = Float32Array.from(new Uint16Array(T('f16').buffer), f16ToF32);
      for (let i = 0; i < f.length; i++) assert.ok(Math.abs(f16[i]! - f[i]!) <= Math.abs(f[i]!) * 2 ** -11, `f16 ${i}`);
      const bf = bf16ToF32(new Uint16Array(T('bf16').buffer));
      for (let i = 0; i < f.length; i++) assert.ok(Math.abs(bf[i]! - f[i]!) <= Math.abs(f[i]!) * 2 ** -8, `bf16 ${i}`);
      assert.deepEqual(new Float32Array(T('pieces').buffer), Float32Array.of(1, 2, 3));
      // TQ2_0 with d = 1 and its .scale = 1/20; TQ1_0 folded with d = f16(1/20), d = 0 for the zero block.
      assert.equal(new Float32Array(T('blk.0.tq2.scale').buffer)[0], Math.fround(1 / 20));
      const d2 = decodeTQ2_0(T('blk.0.tq2.weight'), 3, 512, 1, { file: out, tensor: 'tq2' });
      const d1 = decodeTQ1_0(T('tq1'), 3, 512, 1, { file: out, tensor: 'tq1' });
      assert.equal(d2.scale.value, 1);
      assert.equal(d1.scale.value, f16ToF32(f16Bits(1 / 20)));
      assert.deepEqual(d2.codes, t2.codes);
      assert.deepEqual(d1.codes, t1.codes);
      const tq1 = T('tq1');
      assert.equal(tq1[3 * 54 + 52]! | (tq1[3 * 54 + 53]! << 8), 0, 'the all-zero block (row 1, block 1) has d = 0');
      assert.equal(tq1[2 * 54 + 52]! | (tq1[2 * 54 + 53]! << 8), f16Bits(1 / 20));
    }
  });

  it('converts float32 to f16 with round-to-nearest-even over the whole half range', function () {
    const f32 = new Float32Array(1);
    const u32 = new Uint32Array(f32.buffer);
    const bits = (x: number): number => {
      f32[0] = x;
      return u32[0]!;
    };
    for (let h = 0; h < 0x7c00; h++) {
      const v = f16ToF32(h);
      assert.equal(f32BitsToF16(bits(v)), h, `half 0x${h.toString(16)}`);
      assert.equal(f32BitsToF16(bits(-v)), h | 0x8000);
      if (h === 0x7bff) break; // the next one is infinity: 65520 below
      // Halfway to the next half value rounds to the even one; just above/below go to the nearer.
      const next = f16ToF32(h + 1);
      const mid = (v + next) / 2;
      assert.equal(f32BitsToF16(bits(mid)), h & 1 ? h + 1 : h, `tie above 0x${h.toString(16)}`);
      f32[0] = mid;
      const below = u32[0]! - 1;
      const above = u32[0]! + 1;
      assert.equal(f32BitsToF16(below), h);
      assert.equal(f32BitsToF16(above), h + 1);
    }
    assert.equal(f16Bits(65520), 0x7c00); // rounds to infinity
    assert.equal(f16Bits(65519), 0x7bff);
    assert.equal(f16Bits(Infinity), 0x7c00);
    assert.equal(f16Bits(-Infinity), 0xfc00);
    assert.equal(f16Bits(NaN) & 0x7e00, 0x7e00);
    assert.equal(f16Bits(2 ** -26), 0);
    assert.equal(f16Bits(-0), 0x8000);
  });

  it('rejects what GGUF or the block formats cannot hold', function () {
    const out = path.join(tmp(), 'bad.gguf');
    const md = new GgufMetadata();
    assert.throws(() => md.u8('x', 256), /not a UINT8/);
    assert.throws(() => md.u32('x', 1.5), /not a UINT32/);
    assert.throws(() => md.u64('x', -1), /not a UINT64/);
    assert.throws(() => md.array('x', 'STRING', ['a', 1]), /x'\[1\]: 1 is not a string/);
    const t = emptyTernary('w', 2, 100, { op: 'mul', value: 1 });
    assert.throws(() => encodeTQ2_0(t, 1), /multiple of 256/);
    const bad = emptyTernary('w', 1, 256, { op: 'mul', value: 1 });
    bad.codes[5] = 0xff;
    assert.throws(() => encodeTQ2_0(bad, 1), /code 3/);
    assert.throws(() => encodeTQ1_0(bad, 1), /code 3/);
    assert.throws(() => writeGguf(out, { metadata: md, tensors: [f32Tensor('a', [4], [1, 2, 3])] }), /tensor 'a'.*12 bytes of data, expected 16/);
    assert.throws(() => writeGguf(out, { metadata: md, tensors: [f32Tensor('a', [1], [1]), f32Tensor('a', [1], [1])] }), /given twice/);
    assert.throws(() => writeGguf(out, { metadata: md, alignment: 24, tensors: [] }), /power of two/);
    assert.throws(() => ternaryTensors('p', () => t, { type: 'TQ2_0', layout: 'folded' }), /needs rows and cols/);
    // A trit survives encode/decode at every position of a block, both formats.
    const one = emptyTernary('one', 1, 256, { op: 'mul', value: 1 });
    for (let k = 0; k < 256; k++) {
      setTrit(one, 0, k, k % 2 ? 1 : -1);
      for (const [enc, dec] of [[encodeTQ2_0, decodeTQ2_0], [encodeTQ1_0, decodeTQ1_0]] as const) {
        const back = dec(enc(one, 1), 1, 256, 1, { file: 'mem', tensor: 'one' });
        for (let j = 0; j < 256; j++) assert.equal(getTrit(back, 0, j), getTrit(one, 0, j), `k ${k} j ${j}`);
      }
      setTrit(one, 0, k, 0);
    }
  });

  it('writes the 2B-shaped model: metadata of megabytes (the 128256-token vocabulary), tensors as llama.cpp names them, seeded trits', function () {
    const c = BITNET_2B_4T;
    const tensors = bitnet2bTensors(2, 2026);
    const names = tensors.map((t) => t.name);
    assert.equal(names.length, 2 + 2 * 11);
    assert.deepEqual(names.slice(0, 8), ['token_embd.weight', 'output_norm.weight', 'blk.0.attn_norm.weight', 'blk.0.attn_sub_norm.weight', 'blk.0.ffn_norm.weight', 'blk.0.ffn_sub_norm.weight', 'blk.0.attn_q.weight', 'blk.0.attn_k.weight']);
    const spec = (n: string): GgufTensorSpec => tensors.find((t) => t.name === n)!;
    assert.deepEqual(spec('token_embd.weight').ne, [c.hidden, c.vocab]);
    assert.equal(spec('token_embd.weight').type, GGML_TYPE.F16);
    assert.deepEqual(spec('blk.1.ffn_down.weight').ne, [c.intermediate, c.hidden]);
    assert.deepEqual(spec('blk.1.attn_k.weight').ne, [c.hidden, c.kvHeads * c.headDim]);
    assert.ok(!names.some((n) => n.endsWith('.scale')), 'folded: no .scale tensors');
    // Header and two projections; parse back.
    const k = spec('blk.0.attn_k.weight');
    const out = path.join(tmp(), '2b-head.gguf');
    writeGguf(out, { metadata: bitnet2bMetadata(30), tensors: [k, spec('blk.0.attn_v.weight')] });
    const g = read(out);
    const m = g.metadata;
    assert.equal(m.get('general.architecture'), 'bitnet');
    assert.equal(m.get('bitnet.block_count'), 30);
    assert.equal(m.get('bitnet.vocab_size'), c.vocab);
    assert.equal(m.get('bitnet.attention.head_count_kv'), 5);
    assert.equal(m.get('bitnet.attention.layer_norm_rms_epsilon'), Math.fround(1e-5));
    assert.equal(m.get('tokenizer.ggml.model'), 'gpt2');
    const tokens = m.get('tokenizer.ggml.tokens') as string[];
    assert.equal(tokens.length, c.vocab);
    assert.equal(new Set(tokens).size, c.vocab, 'token strings are unique (llama.cpp asserts it)');
    assert.equal(tokens[128000], '<|begin_of_text|>');
    assert.equal(tokens[10], 'Ċ'); // byte-level: newline
    assert.equal((m.get('tokenizer.ggml.token_type') as number[])[128001], 3);
    assert.deepEqual(m.get('tokenizer.ggml.merges'), []);
    assert.equal(m.get('tokenizer.ggml.bos_token_id'), 128000);
    const t = g.tensors.get('blk.0.attn_k.weight')!;
    const dec = decodeTQ2_0(t.bytes, 640, c.hidden, 1, { file: out, tensor: t.name });
    assert.equal(dec.scale.value, f16ToF32(f16Bits(1 / Math.sqrt((2 * c.hidden) / 3))));
    const count = [0, 0, 0];
    for (let n = 0; n < 640; n++) for (let j = 0; j < c.hidden; j++) count[getTrit(dec, n, j) + 1]!++;
    for (const x of count) assert.ok(Math.abs(x / (640 * c.hidden) - 1 / 3) < 0.005, `trit fractions ${count}`);
    // Seeded: the same seed gives the same bytes, another seed others.
    const again = bitnet2bTensors(2, 2026).find((x) => x.name === k.name)!.data() as Uint8Array;
    assert.ok(Buffer.from(again).equals(Buffer.from(t.bytes)));
    const other = bitnet2bTensors(2, 7).find((x) => x.name === k.name)!.data() as Uint8Array;
    assert.ok(!Buffer.from(other).equals(Buffer.from(t.bytes)));
  });
});
