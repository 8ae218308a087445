// The model hyperparameters the runtime needs, from a Hugging Face config.json or from
// GGUF metadata; every missing or wrong field is named with the file it came from.

import { CheckpointError, excerpt } from './errors.ts';
import { ACT_SCHEMES, type ActScheme } from '../infer/numerics-names.ts';

export interface BitNetConfig {
  readonly hidden: number;
  readonly layers: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly intermediate: number;
  readonly vocab: number;
  readonly maxPositions: number;
  readonly ropeTheta: number;
  readonly eps: number;
  readonly tied: boolean;
  readonly bos?: number;
  readonly eos: readonly number[];
  /** How a BitLinear's integer result is rescaled, from quantization_config.linear_class. */
  readonly linearClass: 'bitlinear' | 'autobitlinear';
  /** 'offline': packed ternary weights; 'online': float master weights ternarized at load. */
  readonly quantMode: 'offline' | 'online';
  /**
   * How BitLinear inputs are quantized (infer/act-scheme.ts): quantization_config.activation_scheme
   * ("b1.58" when absent), or run's --act-scheme.
   */
  readonly actScheme: ActScheme;
}

type Json = Record<string, unknown>;

function num(c: Json, key: string, file: string, opts: { int?: boolean; def?: number } = {}): number {
  const given = Object.hasOwn(c, key) && c[key] !== null;
  const v = given ? c[key] : opts.def;
  if (typeof v !== 'number' || !Number.isFinite(v) || (opts.int !== false && !Number.isInteger(v)) || v <= 0) {
    const got = given ? excerpt(c[key]) : opts.def === undefined ? 'nothing' : `nothing (the default would be ${excerpt(opts.def)})`;
    throw new CheckpointError(file, `field '${key}' must be a positive ${opts.int === false ? 'number' : 'integer'}, got ${got}`);
  }
  return v;
}

/** Token ids: an integer >= 0, a list of them, or null/absent (none). */
function ids(c: Json, key: string, file: string): number[] {
  const v = Object.hasOwn(c, key) ? c[key] : undefined;
  if (v === undefined || v === null) return [];
  const list = Array.isArray(v) ? v : [v];
  if (!list.every((x) => Number.isSafeInteger(x) && (x as number) >= 0)) throw new CheckpointError(file, `field '${key}' must be a token id or a list of token ids (integers >= 0), got ${excerpt(v)}`);
  return list as number[];
}

export function validateConfig(c: BitNetConfig, file: string): BitNetConfig {
  if (c.hidden !== c.heads * c.headDim) throw new CheckpointError(file, `hidden_size ${c.hidden} is not num_attention_heads ${c.heads} x head_dim ${c.headDim}`);
  if (c.heads % c.kvHeads) throw new CheckpointError(file, `num_attention_heads ${c.heads} is not a multiple of num_key_value_heads ${c.kvHeads}`);
  if (c.headDim % 2) throw new CheckpointError(file, `head_dim ${c.headDim} must be even for rotary embeddings`);
  return c;
}

export function configFromHf(c: Json, file: string): BitNetConfig {
  if (c.model_type !== undefined && c.model_type !== 'bitnet') throw new CheckpointError(file, `field 'model_type' is ${excerpt(c.model_type)}, expected "bitnet"`);
  const act = c.hidden_act ?? 'relu2';
  if (act !== 'relu2') throw new CheckpointError(file, `field 'hidden_act' is ${excerpt(act)}; only "relu2" (squared ReLU, as BitNet b1.58) is supported`);
  const qc = c.quantization_config ?? {};
  if (typeof qc !== 'object' || Array.isArray(qc)) throw new CheckpointError(file, `field 'quantization_config' must be an object, got ${excerpt(qc)}`);
  const q = qc as Json;
  const linearClass = (q.linear_class ?? 'bitlinear') as string;
  if (linearClass !== 'bitlinear' && linearClass !== 'autobitlinear') throw new CheckpointError(file, `field 'quantization_config.linear_class' is ${excerpt(linearClass)}, expected "bitlinear" or "autobitlinear"`);
  const quantMode = (q.quantization_mode ?? 'offline') as string;
  if (quantMode !== 'offline' && quantMode !== 'online') throw new CheckpointError(file, `field 'quantization_config.quantization_mode' is ${excerpt(quantMode)}, expected "offline" or "online"`);
  const actScheme = (q.activation_scheme ?? 'b1.58') as string;
  if (!(ACT_SCHEMES as readonly string[]).includes(actScheme)) throw new CheckpointError(file, `field 'quantization_config.activation_scheme' is ${excerpt(actScheme)}, expected ${ACT_SCHEMES.map((a) => `"${a}"`).join(', ')}`);
  if (q.quant_method !== undefined && q.quant_method !== 'bitnet') throw new CheckpointError(file, `field 'quantization_config.quant_method' is ${excerpt(q.quant_method)}; only "bitnet" is supported`);
  const hidden = num(c, 'hidden_size', file);
  const heads = num(c, 'num_attention_heads', file);
  const bos = ids(c, 'bos_token_id', file);
  if (c.tie_word_embeddings !== undefined && typeof c.tie_word_embeddings !== 'boolean') throw new CheckpointError(file, `field 'tie_word_embeddings' must be true or false, got ${excerpt(c.tie_word_embeddings)}`);
  if (bos.length > 1) throw new CheckpointError(file, `field 'bos_token_id' must be one token id, got ${excerpt(c.bos_token_id)}`);
  return validateConfig(
    {
      hidden,
      layers: num(c, 'num_hidden_layers', file),
      heads,
      kvHeads: num(c, 'num_key_value_heads', file, { def: heads }),
      headDim: num(c, 'head_dim', file, { def: hidden / heads }),
      intermediate: num(c, 'intermediate_size', file),
      vocab: num(c, 'vocab_size', file),
      maxPositions: num(c, 'max_position_embeddings', file),
      ropeTheta: num(c, 'rope_theta', file, { int: false, def: 10000 }),
      eps: num(c, 'rms_norm_eps', file, { int: false, def: 1e-5 }),
      tied: c.tie_word_embeddings !== false,
      bos: bos[0],
      eos: ids(c, 'eos_token_id', file),
      linearClass: linearClass as BitNetConfig['linearClass'],
      quantMode: quantMode as BitNetConfig['quantMode'],
      actScheme: actScheme as ActScheme,
    },
    file,
  );
}
