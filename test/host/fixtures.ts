// Ground truth from independent implementations, in ../shared/fixtures beside the project
// (BITNET_FIXTURES overrides). A missing fixture fails the test that needs it.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const fixturesRoot = (): string => process.env.BITNET_FIXTURES ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/fixtures');

export function fixture(...parts: string[]): string {
  const p = path.join(fixturesRoot(), ...parts);
  if (!fs.existsSync(p)) throw new Error(`fixture ${p} not found; the fixtures live in ../shared/fixtures beside the project (or set BITNET_FIXTURES)`);
  return p;
}

export interface BitLinearRecord {
  input_f32: number[];
  act_scale: number;
  input_int8: number[];
  acc_int32: number[];
  output_f32: number[];
  weight_scale?: number;
}

export interface Expected {
  token_ids: number[];
  last_logits: number[];
  all_logits: number[][];
  top5: number[][];
  greedy_new_tokens: number[];
  layer0_q_proj_pos0: BitLinearRecord;
  per_layer_bitlinear_pos0: ({ layer: number } & Record<string, BitLinearRecord>)[];
  notes: { suggested_logit_atol?: number; act_quant_near_half_cases: { layer: number; proj: string; position: number; index: number; x_times_s_f32: number; int8: number }[] };
}

export const expected = (name: string): Expected => JSON.parse(fs.readFileSync(fixture(name, 'expected.json'), 'utf8')) as Expected;
