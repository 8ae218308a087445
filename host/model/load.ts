// Load a BitNet model: a Hugging Face directory (config.json + safetensors, packed 2-bit or
// float master weights) or a GGUF file (TQ1_0, TQ2_0, I2_S, or float projections).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { CheckpointError, excerpt } from './errors.ts';
import { readJsonFile } from './file-source.ts';
import { modelDirFile } from './model-dir.ts';
import { configFromHf, validateConfig, type BitNetConfig } from './config.ts';
import { dtypeBytes, openSafetensorsDir, toF32, type SafeTensorInfo } from './safetensors.ts';
import { openGguf, ggmlTypeName, GGML_TYPE, type GgufHandle, type GgufTensorInfo } from './gguf.ts';
import { absmeanQuantize, checkHfPackedShape, decodeHfPacked, decodeI2S, decodeTQ1_0, decodeTQ2_0, ternaryFromFloatBits } from './quantize.ts';
import { floatMatrix, type FloatDtype, type FloatMatrix } from './float-matrix.ts';
import { bf16ToF32, f16ToF32 } from './dtypes.ts';
import { PROJECTIONS, fuseProjections, projectionShape, stageStorage, type BitNetModel, type LayerWeights, type Projection } from './model.ts';
import type { PackedTernary } from './ternary.ts';

export function loadModel(p: string): BitNetModel {
  if (!fs.existsSync(p)) throw new CheckpointError(p, 'no such file or directory');
  if (fs.statSync(p).isDirectory()) {
    if (fs.existsSync(path.join(p, 'config.json'))) return loadHf(p);
    const ggufs = fs.readdirSync(p).filter((f) => f.endsWith('.gguf'));
    if (ggufs.length === 1) return loadGguf(modelDirFile(p, ggufs[0]!));
    throw new CheckpointError(p, ggufs.length ? `holds ${ggufs.length} .gguf files (${ggufs.join(', ')}); name one` : 'no config.json (Hugging Face layout) and no .gguf file');
  }
  return loadGguf(p);
}

// ---- Hugging Face layout ----

const HF_PROJ: Record<Projection, string> = { q: 'self_attn.q_proj', k: 'self_attn.k_proj', v: 'self_attn.v_proj', o: 'self_attn.o_proj', gate: 'mlp.gate_proj', up: 'mlp.up_proj', down: 'mlp.down_proj' };
const SAFE_FLOAT: Partial<Record<string, FloatDtype>> = { F32: 'f32', F16: 'f16', BF16: 'bf16' };

function loadHf(dir: string): BitNetModel {
  const cfgFile = modelDirFile(dir, 'config.json');
  const raw = readJsonFile(cfgFile);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new CheckpointError(cfgFile, `must be a JSON object of model settings, got ${excerpt(raw)}`);
  const config = configFromHf(raw as Record<string, unknown>, cfgFile);
  const st = openSafetensorsDir(dir);
  try {
    const get = (name: string): SafeTensorInfo => {
      const t = st.tensors.get(name);
      if (!t) throw new CheckpointError(dir, `tensor '${name}' is missing`);
      return t;
    };
    const shapeIs = (t: SafeTensorInfo, want: number[]): void => {
      if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) throw new CheckpointError(t.file, `tensor '${t.name}': shape [${t.shape.join(', ')}], expected [${want.join(', ')}]`);
    };
    const vec = (name: string, n: number): Float32Array => {
      const t = get(name);
      shapeIs(t, [n]);
      return toF32(t, st.read(t));
    };
    const matrix = (name: string, rows: number, cols: number): FloatMatrix => {
      const t = get(name);
      shapeIs(t, [rows, cols]);
      const dtype = SAFE_FLOAT[t.dtype];
      if (!dtype) throw new CheckpointError(t.file, `tensor '${name}': dtype ${t.dtype}, expected BF16, F16 or F32`);
      return floatMatrix(dtype, rows, cols, st.view(t, dtypeBytes(t.dtype)));
    };
    const linear = (name: string, p: Projection, into: Uint8Array): PackedTernary => {
      const [N, K] = projectionShape(config, p);
      const t = get(`${name}.weight`);
      if (t.dtype === 'U8' || t.dtype === 'I8') {
        const s = get(`${name}.weight_scale`);
        const sv = toF32(s, st.read(s));
        if (sv.length !== 1) throw new CheckpointError(s.file, `tensor '${s.name}': ${sv.length} values, expected one scale per tensor`);
        if (!(sv[0]! > 0) || !Number.isFinite(sv[0]!)) throw new CheckpointError(s.file, `tensor '${s.name}': scale ${sv[0]} must be positive and finite`);
        const w = decodeHfPacked(st.view(t), t.shape, N, K, { op: config.linearClass === 'bitlinear' ? 'div' : 'mul', value: sv[0]! }, { file: t.file, tensor: t.name }, into);
        st.release(t);
        return w;
      }
      if (SAFE_FLOAT[t.dtype]) {
        return absmeanQuantize(t.name, toF32(t, st.read(t)), N, K, into);
      }
      throw new CheckpointError(t.file, `tensor '${t.name}': dtype ${t.dtype}; a BitLinear weight is U8 (packed 2-bit) or a float dtype (quantized at load)`);
    };
    const { hidden, vocab } = config;
    const embed = matrix('model.embed_tokens.weight', vocab, hidden);
    const layers: LayerWeights[] = [];
    for (let i = 0; i < config.layers; i++) {
      const pre = `model.layers.${i}`;
      // Every projection's shape is checked before its storage is allocated: the sizes come from config.json.
      for (const p of PROJECTIONS) {
        const [N, K] = projectionShape(config, p);
        const t = get(`${pre}.${HF_PROJ[p]}.weight`);
        if (t.dtype !== 'U8' && t.dtype !== 'I8') shapeIs(t, [N, K]);
        else checkHfPackedShape(t.shape, N, K, { file: t.file, tensor: t.name });
      }
      const into = stageStorage(config);
      const proj = Object.fromEntries(PROJECTIONS.map((p) => [p, linear(`${pre}.${HF_PROJ[p]}`, p, into[p])])) as Record<Projection, PackedTernary>;
      layers.push(
        fuseProjections(
          {
            inputNorm: vec(`${pre}.input_layernorm.weight`, hidden),
            postNorm: vec(`${pre}.post_attention_layernorm.weight`, hidden),
            attnSubNorm: vec(`${pre}.self_attn.attn_sub_norm.weight`, config.heads * config.headDim),
            ffnSubNorm: vec(`${pre}.mlp.ffn_sub_norm.weight`, config.intermediate),
            proj,
          },
          i,
        ),
      );
    }
    const untied = st.tensors.has('lm_head.weight');
    if (!untied && !config.tied) throw new CheckpointError(dir, `tensor 'lm_head.weight' is missing and tie_word_embeddings is false`);
    const lmHead = untied ? matrix('lm_head.weight', vocab, hidden) : embed;
    return { config, embed, norm: vec('model.norm.weight', hidden), lmHead, layers, source: { path: dir, format: 'huggingface safetensors' } };
  } finally {
    st.close();
  }
}

// ---- GGUF ----

const GGUF_PROJ: Record<Projection, string> = { q: 'attn_q', k: 'attn_k', v: 'attn_v', o: 'attn_output', gate: 'ffn_gate', up: 'ffn_up', down: 'ffn_down' };
const GGUF_FLOAT: Partial<Record<number, FloatDtype>> = { [GGML_TYPE.F32]: 'f32', [GGML_TYPE.F16]: 'f16', [GGML_TYPE.BF16]: 'bf16' };

function loadGguf(file: string): BitNetModel {
  const g = openGguf(file);
  try {
    return readGguf(g);
  } finally {
    g.close();
  }
}

function readGguf(g: GgufHandle): BitNetModel {
  const file = g.file;
  const config = configFromGguf(g);
  const get = (name: string): GgufTensorInfo => {
    const t = g.tensors.get(name);
    if (!t) throw new CheckpointError(file, `tensor '${name}' is missing`);
    return t;
  };
  const neIs = (t: GgufTensorInfo, ne: number[], note = ''): void => {
    if (t.ne.length !== ne.length || t.ne.some((d, i) => d !== ne[i])) throw new CheckpointError(file, `tensor '${t.name}': ne [${t.ne.join(', ')}], expected [${ne.join(', ')}]${note}`);
  };
  const floats = (name: string, ne: number[]): Float32Array => {
    const t = get(name);
    neIs(t, ne);
    const raw = g.read(t);
    switch (t.type) {
      case GGML_TYPE.F32:
        return new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4);
      case GGML_TYPE.BF16:
        return bf16ToF32(new Uint16Array(raw.buffer, raw.byteOffset, raw.length / 2));
      case GGML_TYPE.F16:
        return Float32Array.from(new Uint16Array(raw.buffer, raw.byteOffset, raw.length / 2), f16ToF32);
      default:
        throw new CheckpointError(file, `tensor '${name}': type ${ggmlTypeName(t.type)}, expected F32, F16 or BF16`);
    }
  };
  /** The embedding or output head, kept in the file's precision. */
  const matrix = (name: string, rows: number, cols: number): FloatMatrix => {
    const t = get(name);
    neIs(t, [cols, rows]);
    const dtype = GGUF_FLOAT[t.type];
    if (dtype) return floatMatrix(dtype, rows, cols, g.view(t, t.type === GGML_TYPE.F32 ? 4 : 2));
    if (t.type === GGML_TYPE.Q8_0) return q8_0Matrix(g.view(t), rows, cols, file, name);
    throw new CheckpointError(file, `tensor '${name}': type ${ggmlTypeName(t.type)} is not supported for the embedding or output head (supported: F32, F16, BF16, Q8_0)`);
  };
  const scaleOf = (name: string): number | undefined => {
    if (!g.tensors.has(`${name}.scale`)) return undefined;
    const s = floats(`${name}.scale`, [1])[0]!;
    if (!Number.isFinite(s) || s <= 0) throw new CheckpointError(file, `tensor '${name}.scale': ${s} must be positive and finite`);
    return s;
  };
  const linear = (name: string, p: Projection, into: Uint8Array): PackedTernary => {
    const [N, K] = projectionShape(config, p);
    const t = get(`${name}.weight`); // its ne was checked before the layer's storage was allocated
    const where = { file, tensor: t.name };
    const fileScale = scaleOf(name);
    const decode = (): PackedTernary => {
      switch (t.type) {
        case GGML_TYPE.TQ2_0:
          return decodeTQ2_0(g.view(t), N, K, fileScale, where, into);
        case GGML_TYPE.TQ1_0:
          return decodeTQ1_0(g.view(t), N, K, fileScale, where, into);
        case GGML_TYPE.I2_S: {
          const w = decodeI2S(g.view(t, 4), N, K, where, into);
          return fileScale === undefined ? w : { ...w, scale: { op: 'mul', value: Math.fround(w.scale.value * fileScale) } };
        }
        case GGML_TYPE.F32:
          return ternaryFromFloatBits(g.view(t, 4), 32, 'F32', N, K, fileScale, where, into);
        case GGML_TYPE.F16:
          return ternaryFromFloatBits(g.view(t, 2), 16, 'F16', N, K, fileScale, where, into);
        case GGML_TYPE.BF16:
          return ternaryFromFloatBits(g.view(t, 2), 16, 'BF16', N, K, fileScale, where, into);
        default:
          throw new CheckpointError(file, `tensor '${t.name}': quantization ${ggmlTypeName(t.type)} is not supported for a BitLinear weight (supported: TQ1_0, TQ2_0, I2_S, or F32/F16/BF16 holding -s, 0, +s)`);
      }
    };
    const w = decode();
    g.release(t);
    return w;
  };
  const { hidden, vocab, intermediate } = config;
  const qd = config.heads * config.headDim;
  const embed = matrix('token_embd.weight', vocab, hidden);
  const layers: LayerWeights[] = [];
  for (let i = 0; i < config.layers; i++) {
    const pre = `blk.${i}`;
    // Every projection's shape is checked before its storage is allocated: the sizes come from the metadata.
    for (const p of PROJECTIONS) {
      const [N, K] = projectionShape(config, p);
      neIs(get(`${pre}.${GGUF_PROJ[p]}.weight`), [K, N], ' (GGUF order: inputs first)');
    }
    const into = stageStorage(config);
    const proj = Object.fromEntries(PROJECTIONS.map((p) => [p, linear(`${pre}.${GGUF_PROJ[p]}`, p, into[p])])) as Record<Projection, PackedTernary>;
    layers.push(
      fuseProjections(
        {
          inputNorm: floats(`${pre}.attn_norm.weight`, [hidden]),
          postNorm: floats(`${pre}.ffn_norm.weight`, [hidden]),
          attnSubNorm: floats(`${pre}.attn_sub_norm.weight`, [qd]),
          ffnSubNorm: floats(`${pre}.ffn_sub_norm.weight`, [intermediate]),
          proj,
        },
        i,
      ),
    );
  }
  const lmHead = g.tensors.has('output.weight') ? matrix('output.weight', vocab, hidden) : embed;
  const types = new Set(layers.flatMap((_, i) => PROJECTIONS.map((p) => ggmlTypeName(g.tensors.get(`blk.${i}.${GGUF_PROJ[p]}.weight`)!.type))));
  const scales = layers.some((_, i) => PROJECTIONS.some((p) => g.tensors.has(`blk.${i}.${GGUF_PROJ[p]}.scale`))) ? 'separate .scale tensors' : 'scale in the weights';
  // bitnet.cpp writes I2_S in 128-element blocks on x86 and 64-element blocks on ARM, with the
  // same size and no field that says which: the x86 layout is read (the fixture's, checked).
  const warnings = types.has('I2_S') ? [`${file}: I2_S tensors are read in bitnet.cpp's x86 layout (128-element blocks); a file quantized by bitnet.cpp on ARM has 64-element blocks of the same size, which would decode to other weights`] : [];
  return { config, embed, norm: floats('output_norm.weight', [hidden]), lmHead, layers, source: { path: file, format: `GGUF v${g.version} ${[...types].join('/')}, ${scales}, embedding ${embed.dtype}`, warnings } };
}

/** GGML Q8_0: blocks of 32 as fp16 d then 32 int8; element = q * d (exact in float32). */
function q8_0Matrix(raw: Uint8Array, rows: number, cols: number, file: string, name: string): FloatMatrix {
  if (cols % 32) throw new CheckpointError(file, `tensor '${name}': Q8_0 rows of ${cols} are not whole 32-element blocks`);
  const blocks = (rows * cols) / 32;
  const q = new Uint8Array(rows * cols);
  const scales = new Float32Array(blocks);
  for (let b = 0; b < blocks; b++) {
    scales[b] = f16ToF32(raw[b * 34]! | (raw[b * 34 + 1]! << 8));
    if (!Number.isFinite(scales[b]!)) throw new CheckpointError(file, `tensor '${name}': block ${b} has scale d = ${scales[b]}`);
    q.set(raw.subarray(b * 34 + 2, b * 34 + 34), b * 32);
  }
  return floatMatrix('q8', rows, cols, q, scales);
}

function configFromGguf(g: GgufHandle): BitNetConfig {
  const arch = g.metadata.get('general.architecture');
  if (arch !== 'bitnet' && arch !== 'bitnet-b1.58') throw new CheckpointError(g.file, `metadata 'general.architecture' is ${excerpt(arch)}, expected "bitnet" or "bitnet-b1.58"`);
  /** A count or size (an integer >= 1; `int: false`: a positive finite number), in any numeric GGUF type. */
  const key = (k: string, def?: number, o: { int?: boolean; min?: number } = {}): number => {
    const name = `${arch}.${k}`;
    const v = g.metadata.has(name) ? g.metadata.get(name) : def;
    const n = typeof v === 'bigint' && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
    const int = o.int !== false;
    if (typeof n !== 'number' || !Number.isFinite(n) || (int && !Number.isInteger(n)) || !(n >= (o.min ?? (int ? 1 : Number.MIN_VALUE)))) {
      const got = g.metadata.has(name) ? excerpt(v) : `nothing (the default would be ${excerpt(def)})`;
      throw new CheckpointError(g.file, `metadata '${name}' must be ${int ? `an integer >= ${o.min ?? 1}` : 'a positive finite number'}, got ${got}`);
    }
    return n;
  };
  /** A token id, or undefined when the key is absent. */
  const tokenId = (k: string): number | undefined => {
    if (!g.metadata.has(k)) return undefined;
    const v = g.metadata.get(k);
    const n = typeof v === 'bigint' && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new CheckpointError(g.file, `metadata '${k}' must be a token id (an integer >= 0), got ${excerpt(v)}`);
    return n;
  };
  const act = g.metadata.get(`${arch}.hidden_activation`) ?? 'relu2';
  if (act !== 'relu2') throw new CheckpointError(g.file, `metadata '${arch}.hidden_activation' is ${excerpt(act)}; only "relu2" is supported`);
  const hidden = key('embedding_length');
  const heads = key('attention.head_count');
  const emb = g.tensors.get('token_embd.weight');
  const headDim = key('rope.dimension_count', hidden / heads);
  const eos = tokenId('tokenizer.ggml.eos_token_id');
  return validateConfig(
    {
      hidden,
      layers: key('block_count'),
      heads,
      kvHeads: key('attention.head_count_kv', heads),
      headDim,
      intermediate: key('feed_forward_length'),
      vocab: key('vocab_size', emb?.ne[1]),
      maxPositions: key('context_length'),
      ropeTheta: key('rope.freq_base', 10000, { int: false }),
      eps: key('attention.layer_norm_rms_epsilon', 1e-5, { int: false }),
      tied: !g.tensors.has('output.weight'),
      bos: tokenId('tokenizer.ggml.bos_token_id'),
      eos: eos === undefined ? [] : [eos],
      linearClass: 'autobitlinear',
      quantMode: 'offline',
      // GGUF metadata has no activation scheme: llama.cpp's BitNet graph quantizes to int8.
      actScheme: 'b1.58',
    },
    g.file,
  );
}
