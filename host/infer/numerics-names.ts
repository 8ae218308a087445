// The names of the activation schemes and KV cache widths, and nothing else: the option table
// (host/cli) and the config reader check them without loading the quantizers.
// What each means: act-scheme.ts and kv-quant.ts.

export const ACT_SCHEMES = ['b1.58', 'a4.8', 'int4'] as const;
export type ActScheme = (typeof ACT_SCHEMES)[number];

/** What each scheme name means, for help texts. */
export const ACT_SCHEME_HELP = 'b1.58 is int8 absmax everywhere; a4.8 is BitNet a4.8: int4 absmean into q/k/v/gate/up, top 50 % then int8 into o_proj, int8 into down_proj; int4 is int4 absmax everywhere';

export const KV_BITS = [32, 16, 8, 4, 3] as const;
export type KvBits = (typeof KV_BITS)[number];
