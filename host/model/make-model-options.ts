// make-model's options, defaults and bounds: a leaf module (no imports), so the CLI's option
// table can show and enforce the same bounds without loading the model writer.

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

export type SizeKey = Exclude<keyof MakeModelOptions, 'tokenizer'>;

/**
 * Each option's flag and range; `make-model`'s option table shows and enforces the same. A
 * small model for tests and demos: the bounds keep every tensor's length a checked number.
 * The seed is xorshift32's state (a larger one would alias a smaller).
 */
export const MAKE_MODEL_LIMITS: Readonly<Record<SizeKey, { readonly flag: string; readonly min: number; readonly max: number }>> = {
  hidden: { flag: '--hidden', min: 4, max: 8192 },
  layers: { flag: '--layers', min: 1, max: 256 },
  heads: { flag: '--heads', min: 1, max: 256 },
  kvHeads: { flag: '--kv-heads', min: 1, max: 256 },
  intermediate: { flag: '--intermediate', min: 4, max: 65536 },
  vocab: { flag: '--vocab', min: 2, max: 1 << 20 },
  maxPositions: { flag: '--ctx', min: 1, max: 1 << 24 },
  seed: { flag: '--seed', min: 0, max: 2 ** 32 - 1 },
};

