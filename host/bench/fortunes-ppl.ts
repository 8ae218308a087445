// The table BitNet a4.8's claim (arXiv 2411.04965) is about, measured by this runtime: bits
// per byte of the fortunes models (trained with b1.58, and continued with a4.8) under b1.58,
// a4.8 and naive int4 activations, and the effect of --kv-bits 16/8/4/3, with the fixtures'
// window protocol (24 windows of 128, no BOS, every position scored) on the cpu backend.
// The models and their held-out text are the fixtures (../shared/fixtures or
// $BITNET_FIXTURES); without them the section says so and measures nothing.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../model/load.ts';
import { bitLinears } from '../model/model.ts';
import { TextCodec } from '../model/tokenizer.ts';
import { CpuBackend } from '../backends/cpu.ts';
import { perplexity, textBytes, textTokens } from '../infer/perplexity.ts';
import { ACT_SCHEMES, KV_BITS, type ActScheme, type KvBits } from '../infer/numerics-names.ts';
import type { BenchRecord } from '../../sim/bench/sim-bench.ts';

const FIXTURES = (): string => process.env.BITNET_FIXTURES ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/fixtures');
const MODELS = ['tiny-fortunes', 'tiny-fortunes-a48'];
const PROTOCOL = { ctx: 128, chunks: 24, scoreAll: true, batch: 128 } as const;

export async function fortunesPplBench(log: (s: string) => void): Promise<BenchRecord[]> {
  const records: BenchRecord[] = [];
  for (const name of MODELS) {
    const dir = path.join(FIXTURES(), name);
    if (!fs.existsSync(path.join(dir, 'eval.txt'))) {
      log(`bits per byte: ${dir} not found (set BITNET_FIXTURES); the a4.8 table is not measured`);
      return records;
    }
    const loaded = loadModel(dir);
    const codec = TextCodec.load(dir)!;
    const tokens = textTokens(codec, fs.readFileSync(path.join(dir, 'eval.txt'), 'utf8'), loaded.config.bos);
    const be = new CpuBackend();
    await be.load(bitLinears(loaded));
    const measure = async (actScheme: ActScheme, kvBits: KvBits): Promise<number> => {
      const model = { ...loaded, config: { ...loaded.config, actScheme } };
      const r = await perplexity(model, be, tokens, { ...PROTOCOL, kvBits, bytesOf: textBytes(codec) });
      records.push({ metric: `host.ppl.${name}.${actScheme}.kv${kvBits}.bits_per_byte`, value: r.bitsPerByte, unit: 'bits/byte', config: { model: name, trained: loaded.config.actScheme, act_scheme: actScheme, kv_bits: kvBits, ppl: r.ppl, ppl_error: r.pplError, bits_per_byte_error: r.bitsPerByteError, predictions: r.count, protocol: '24 windows of 128 from eval.txt, no BOS, every position scored (the fixtures README)', backend: be.name } });
      log(`bits per byte: ${name}, ${actScheme}, kv ${kvBits}: ${r.bitsPerByte.toFixed(4)}`);
      return r.bitsPerByte;
    };
    for (const s of ACT_SCHEMES) await measure(s, 32);
    for (const k of KV_BITS) if (k !== 32) await measure(loaded.config.actScheme, k);
    await be.close();
  }
  return records;
}

/** The table of those records (bench host prints it after them): schemes across, then the KV widths. */
export function fortunesPplTable(records: readonly BenchRecord[]): string | undefined {
  const ppl = records.filter((r) => r.metric.startsWith('host.ppl.'));
  if (!ppl.length) return undefined;
  const get = (m: string, s: string, k: number): string => ppl.find((r) => r.config.model === m && r.config.act_scheme === s && r.config.kv_bits === k)?.value.toFixed(4) ?? '-';
  const models = [...new Set(ppl.map((r) => r.config.model as string))];
  return [
    '| bits per byte, eval.txt, 24 x 128, cpu | b1.58 (int8) | a4.8 | naive int4 | kv 16 | kv 8 | kv 4 | kv 3 |',
    '|---|---|---|---|---|---|---|---|',
    ...models.map((m) => {
      const own = ppl.find((r) => r.config.model === m)!.config.trained as string;
      return `| ${m} (trained ${own}) | ${ACT_SCHEMES.map((s) => get(m, s, 32)).join(' | ')} | ${[16, 8, 4, 3].map((k) => get(m, own, k)).join(' | ')} |`;
    }),
    'kv columns: the model under the scheme it was trained with, KV cache entries as --kv-bits N (host/infer/kv-quant.ts); float32 elsewhere',
  ].join('\n');
}
