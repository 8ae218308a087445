// `bitnet-fpga make-model`: a small random BitNet model for tests and demos. The option table
// bounded every number; makeModel checks how they combine and that -o holds no model it did not make.

import { makeModel } from '../../model/make-model.ts';

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
  const r = makeModel(o.out, { hidden: o.hidden, layers: o.layers, heads: o.heads, kvHeads: o.kvHeads, intermediate: o.intermediate, vocab: o.vocab, maxPositions: o.ctx, seed: o.seed, tokenizer: o.tokenizer });
  console.log(`make-model: wrote ${o.out} (hidden ${r.hidden}, ${r.layers} layers, ${r.heads} heads / ${r.kvHeads} kv, FFN ${r.intermediate}, vocab ${r.vocab}, seed ${r.seed})`);
}
