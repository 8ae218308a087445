// A small random BitNet b1.58 model in the Hugging Face layout of
// microsoft/bitnet-b1.58-2B-4T (config.json, model.safetensors with packed 2-bit weights and
// BF16 scales, norms and embeddings), plus a byte-level tokenizer, for tests and demos.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { f32ToBf16 } from './dtypes.ts';
import { writeSafetensors, type SafeDtype } from './safetensors.ts';
import { XorShift32 } from '../../common/rng.ts';
import { writeThroughStaging } from '../../sim/toolchain/cleanup.ts';
import { MAKE_MODEL_DEFAULTS, MAKE_MODEL_LIMITS, type MakeModelOptions, type SizeKey } from './make-model-options.ts';

export { MAKE_MODEL_DEFAULTS, MAKE_MODEL_LIMITS, type MakeModelOptions };

/** Every tensor is built in memory before the file is written: at most this many bytes of them. */
export const MAKE_MODEL_MAX_BYTES = 256 * 2 ** 20;

/** What the config's `bitnet_fpga.made_by` says, so a later run knows it may replace the directory's model. */
export const MADE_BY = 'bitnet-fpga make-model';
/** The files make-model writes (the last two only with the tokenizer). */
export const MADE_FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'] as const;

/** A bad option or output directory: the message names the flag. */
export class MakeModelError extends Error {
  constructor(message: string) {
    super(`make-model: ${message}`);
    this.name = 'UsageError';
  }
}

class Rng extends XorShift32 {
  /** Uniform in (0, 1), never 0, so the Box-Muller log is finite. */
  u(): number {
    return (this.next() + 0.5) / 4294967296;
  }
  normal(): number {
    return Math.sqrt(-2 * Math.log(this.u())) * Math.cos(2 * Math.PI * this.u());
  }
}

/** Bytes of the safetensors file's tensors (BF16 embedding and norms, 2-bit packed projections). */
export function modelBytes(o: MakeModelOptions): number {
  const kv = (o.hidden / o.heads) * o.kvHeads;
  const packed = (2 * o.hidden * o.hidden + 2 * kv * o.hidden + 3 * o.intermediate * o.hidden) / 4;
  return 2 * o.vocab * o.hidden + o.layers * (packed + 2 * (3 * o.hidden + o.intermediate)) + 2 * o.hidden;
}

/** Refuse options that are out of range or do not fit together (makeModel calls it first). */
export function validate(o: MakeModelOptions): void {
  for (const [k, l] of Object.entries(MAKE_MODEL_LIMITS) as [SizeKey, (typeof MAKE_MODEL_LIMITS)[SizeKey]][]) {
    const v = o[k];
    if (!Number.isInteger(v) || v < l.min || v > l.max) throw new MakeModelError(`${l.flag} ${v}: must be an integer from ${l.min} to ${l.max}`);
  }
  if (o.hidden % o.heads || (o.hidden / o.heads) % 2) throw new MakeModelError(`--hidden ${o.hidden} must be --heads ${o.heads} x an even head size`);
  if (o.heads % o.kvHeads) throw new MakeModelError(`--heads ${o.heads} must be a multiple of --kv-heads ${o.kvHeads}`);
  const kv = (o.hidden / o.heads) * o.kvHeads;
  for (const [n, v] of [['--hidden', o.hidden], ['--intermediate', o.intermediate], ['kv size (--hidden / --heads x --kv-heads)', kv]] as const) if (v % 4) throw new MakeModelError(`${n} ${v} must be a multiple of 4 (four weights per packed byte)`);
  if (o.tokenizer && o.vocab < 258) throw new MakeModelError(`--vocab ${o.vocab}: the byte tokenizer needs at least 258 (256 bytes, <s>, </s>); pass --no-tokenizer for a smaller vocabulary`);
  const bytes = modelBytes(o);
  if (bytes > MAKE_MODEL_MAX_BYTES) throw new MakeModelError(`--hidden ${o.hidden}, --layers ${o.layers}, --intermediate ${o.intermediate}, --vocab ${o.vocab} make a ${(bytes / 2 ** 20).toFixed(0)} MiB model; make-model writes at most ${MAKE_MODEL_MAX_BYTES / 2 ** 20} MiB (it holds the model in memory)`);
}

/**
 * Whether make-model may write into `dir`: a new or empty directory, one without any of its
 * file names, or one holding a model it made (config.json says so). A directory with someone
 * else's config.json or model.safetensors is refused, not overwritten.
 */
function checkOutDir(dir: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    throw new MakeModelError(`-o/--out ${dir}: ${code === 'ENOTDIR' ? 'not a directory' : `cannot be read (${code ?? (e as Error).message})`}`);
  }
  const ours = (MADE_FILES as readonly string[]).filter((f) => names.includes(f));
  if (ours.length === 0 || madeHere(dir)) return;
  throw new MakeModelError(`-o/--out ${dir}: holds ${ours.join(', ')} that make-model did not write; refusing to overwrite them (choose a new or empty directory)`);
}

function madeHere(dir: string): boolean {
  try {
    const p = path.join(dir, 'config.json');
    if (!fs.lstatSync(p).isFile() || fs.statSync(p).size > 1 << 20) return false;
    const c = JSON.parse(fs.readFileSync(p, 'utf8')) as { bitnet_fpga?: { made_by?: unknown } } | null;
    return c?.bitnet_fpga?.made_by === MADE_BY;
  } catch {
    return false;
  }
}

/**
 * Write a random model into `dir`. The files are written into a staging directory
 * `.make-model.tmp-<pid>-XXXXXX` inside `dir` and renamed into place, so an interrupted or failed run leaves the directory as it was;
 * a directory holding a model make-model did not make is refused (see checkOutDir).
 */
export function makeModel(dir: string, opts: Partial<MakeModelOptions> = {}): MakeModelOptions {
  const o = { ...MAKE_MODEL_DEFAULTS, ...opts };
  validate(o);
  checkOutDir(dir);
  fs.mkdirSync(dir, { recursive: true });
  const written = writeThroughStaging(dir, 'make-model', (stage) => writeModel(stage, o));
  // A tokenizer from an earlier run with another vocabulary would no longer match.
  for (const f of MADE_FILES) if (!written.includes(f)) fs.rmSync(path.join(dir, f), { force: true });
  return o;
}

function writeModel(dir: string, o: MakeModelOptions): void {
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
    bitnet_fpga: { made_by: MADE_BY, seed: o.seed },
  };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  if (o.tokenizer) writeByteTokenizer(dir, o.vocab);
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
