// A small random BitNet b1.58 model in the Hugging Face layout of
// microsoft/bitnet-b1.58-2B-4T (config.json, model.safetensors with packed 2-bit weights and
// BF16 scales, norms and embeddings), plus a byte-level tokenizer, for tests and demos.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { f32ToBf16 } from './dtypes.ts';
import { writeSafetensors, type SafeDtype } from './safetensors.ts';
import { XorShift32 } from '../../sim/tb/rng.ts';

export interface MakeModelOptions {
  readonly hidden: number;
  readonly layers: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly intermediate: number;
  /** At least 258 with the byte tokenizer (256 bytes, <s>, </s>). */
  readonly vocab: number;
  readonly maxPositions: number;
  readonly seed: number;
  readonly tokenizer: boolean;
}

export const MAKE_MODEL_DEFAULTS: MakeModelOptions = { hidden: 64, layers: 2, heads: 4, kvHeads: 2, intermediate: 160, vocab: 258, maxPositions: 128, seed: 1, tokenizer: true };

class Rng extends XorShift32 {
  /** Uniform in (0, 1), never 0, so the Box-Muller log is finite. */
  u(): number {
    return (this.next() + 0.5) / 4294967296;
  }
  normal(): number {
    return Math.sqrt(-2 * Math.log(this.u())) * Math.cos(2 * Math.PI * this.u());
  }
}

function validate(o: MakeModelOptions): void {
  const int = (k: keyof MakeModelOptions, min: number): void => {
    const v = o[k] as number;
    if (!Number.isInteger(v) || v < min) throw new RangeError(`make-model: --${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} ${v}: must be an integer >= ${min}`);
  };
  int('hidden', 4);
  int('layers', 1);
  int('heads', 1);
  int('kvHeads', 1);
  int('intermediate', 4);
  int('vocab', 2);
  int('maxPositions', 1);
  if (o.hidden % o.heads || (o.hidden / o.heads) % 2) throw new RangeError(`make-model: --hidden ${o.hidden} must be --heads ${o.heads} x an even head size`);
  if (o.heads % o.kvHeads) throw new RangeError(`make-model: --heads ${o.heads} must be a multiple of --kv-heads ${o.kvHeads}`);
  const kv = (o.hidden / o.heads) * o.kvHeads;
  for (const [n, v] of [['hidden', o.hidden], ['intermediate', o.intermediate], ['kv size', kv]] as const) if (v % 4) throw new RangeError(`make-model: ${n} ${v} must be a multiple of 4 (four weights per packed byte)`);
  if (o.tokenizer && o.vocab < 258) throw new RangeError(`make-model: --vocab ${o.vocab}: the byte tokenizer needs at least 258 (256 bytes, <s>, </s>); pass --no-tokenizer for a smaller vocabulary`);
}

export function makeModel(dir: string, opts: Partial<MakeModelOptions> = {}): MakeModelOptions {
  const o = { ...MAKE_MODEL_DEFAULTS, ...opts };
  validate(o);
  const rng = new Rng(o.seed);
  const headDim = o.hidden / o.heads;
  const bf16 = (vals: ArrayLike<number>): Uint8Array => {
    const u = new Uint16Array(vals.length);
    for (let i = 0; i < vals.length; i++) u[i] = f32ToBf16(vals[i]!);
    return new Uint8Array(u.buffer);
  };
  const tensors: { name: string; dtype: SafeDtype; shape: number[]; bytes: Uint8Array }[] = [];
  const floats = (name: string, shape: number[], gen: () => number): void => {
    const n = shape.reduce((a, b) => a * b, 1);
    tensors.push({ name, dtype: 'BF16', shape, bytes: bf16(Float32Array.from({ length: n }, gen)) });
  };
  const norm = (name: string, n: number): void => floats(name, [n], () => 1 + 0.1 * rng.normal());
  /** Ternary weights, about a third zero, packed four per byte along the output dimension. */
  const linear = (name: string, N: number, K: number): void => {
    const q = N / 4;
    const bytes = new Uint8Array(q * K);
    for (let i = 0; i < 4; i++) for (let r = 0; r < q; r++) for (let c = 0; c < K; c++) bytes[r * K + c]! |= Math.min(2, Math.floor(rng.u() * 3)) << (2 * i);
    tensors.push({ name: `${name}.weight`, dtype: 'U8', shape: [q, K], bytes });
    // A round scale that makes each layer add a few units to the residual stream, so a random
    // model does not just echo its input token through the tied output head.
    tensors.push({ name: `${name}.weight_scale`, dtype: 'BF16', shape: [1], bytes: bf16([Math.max(1, Math.round(Math.sqrt((2 * K) / 3) / 2))]) });
  };
  // Small enough that the tied output head gives logits of a few units, so sampling has some variety.
  floats('model.embed_tokens.weight', [o.vocab, o.hidden], () => 0.3 * rng.normal());
  for (let l = 0; l < o.layers; l++) {
    const p = `model.layers.${l}`;
    norm(`${p}.input_layernorm.weight`, o.hidden);
    norm(`${p}.post_attention_layernorm.weight`, o.hidden);
    norm(`${p}.self_attn.attn_sub_norm.weight`, o.hidden);
    norm(`${p}.mlp.ffn_sub_norm.weight`, o.intermediate);
    linear(`${p}.self_attn.q_proj`, o.hidden, o.hidden);
    linear(`${p}.self_attn.k_proj`, headDim * o.kvHeads, o.hidden);
    linear(`${p}.self_attn.v_proj`, headDim * o.kvHeads, o.hidden);
    linear(`${p}.self_attn.o_proj`, o.hidden, o.hidden);
    linear(`${p}.mlp.gate_proj`, o.intermediate, o.hidden);
    linear(`${p}.mlp.up_proj`, o.intermediate, o.hidden);
    linear(`${p}.mlp.down_proj`, o.hidden, o.intermediate);
  }
  norm('model.norm.weight', o.hidden);
  fs.mkdirSync(dir, { recursive: true });
  writeSafetensors(path.join(dir, 'model.safetensors'), tensors);
  const bos = o.tokenizer ? 256 : 1;
  const eos = o.tokenizer ? 257 : 2;
  const config = {
    architectures: ['BitNetForCausalLM'],
    model_type: 'bitnet',
    hidden_act: 'relu2',
    hidden_size: o.hidden,
    intermediate_size: o.intermediate,
    num_hidden_layers: o.layers,
    num_attention_heads: o.heads,
    num_key_value_heads: o.kvHeads,
    max_position_embeddings: o.maxPositions,
    rms_norm_eps: 1e-5,
    rope_theta: 500000.0,
    tie_word_embeddings: true,
    vocab_size: o.vocab,
    bos_token_id: bos,
    eos_token_id: eos,
    torch_dtype: 'bfloat16',
    quantization_config: { quant_method: 'bitnet', linear_class: 'bitlinear', quantization_mode: 'offline' },
    bitnet_fpga: { made_by: 'bitnet-fpga make-model', seed: o.seed },
  };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  if (o.tokenizer) writeByteTokenizer(dir, o.vocab);
  return o;
}

/** Byte-level BPE with no merges: every byte is a token (GPT-2's byte-to-unicode alphabet), plus <s> and </s>. */
function writeByteTokenizer(dir: string, vocabSize: number): void {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  const vocab: Record<string, number> = {};
  bs.forEach((b, i) => (vocab[String.fromCodePoint(cs[i]!)] = b));
  for (let i = 258; i < vocabSize; i++) vocab[`<|reserved_${i}|>`] = i;
  const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const tok = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(256, '<s>'), special(257, '</s>')],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'TemplateProcessing', single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }], pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }], special_tokens: { '<s>': { id: '<s>', ids: [256], tokens: ['<s>'] } } },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab: { ...vocab, '<s>': 256, '</s>': 257 }, merges: [] },
  };
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(tok));
  fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ bos_token: '<s>', eos_token: '</s>', model_max_length: 128, tokenizer_class: 'PreTrainedTokenizerFast' }, null, 2) + '\n');
}
