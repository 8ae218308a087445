// `bitnet-fpga make-model`: a small random BitNet model for tests and demos. The option table
// bounded every number; makeModel checks how they combine and that -o holds no model it did not make.

import { makeModel, validate, type MakeModelOptions } from '../../model/make-model.ts';
import { makeDirs } from '../out-dir.ts';

export interface MakeModelFlags {
  out: string;
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  intermediate: number;
  vocab: number;
  ctx: number;
  seed: number;
  tokenizer: boolean;
}

export function makeModelCommand(o: MakeModelFlags): void {
  const opts: MakeModelOptions = { hidden: o.hidden, layers: o.layers, heads: o.heads, kvHeads: o.kvHeads, intermediate: o.intermediate, vocab: o.vocab, maxPositions: o.ctx, seed: o.seed, tokenizer: o.tokenizer };
  // Refused options create no directory; makeDirs instead of makeModel's mkdir because of /proc (see makeDirs).
  validate(opts);
  makeDirs(o.out);
  const r = makeModel(o.out, opts);
  console.log(`make-model: wrote ${o.out} (hidden ${r.hidden}, ${r.layers} layers, ${r.heads} heads / ${r.kvHeads} kv, FFN ${r.intermediate}, vocab ${r.vocab}, seed ${r.seed})`);
}
