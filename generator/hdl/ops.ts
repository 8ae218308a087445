// The operator table: every binary and unary operator of the IR described once — how it
// computes, which bits of its result are known to be zero, and how it prints in Verilog.
// The rest is derived from here (as hardcaml derives its API from a small primitive set):
//   - semantics: `js` is the operator as a JavaScript expression over raw bit patterns
//     (bigints, signed values in two's complement). The interpreter pastes it into the code
//     it compiles, and constant folding compiles the same text into a function, so the
//     folder and the interpreter cannot disagree;
//   - value.ts builds nodes with the `shape` rule and folds them with `fold()` and `knownZero`;
//   - emit-expr.ts prints `verilog` in its `form` and pushes slices into operands per `slice`;
//   - the fuzzer draws its operators from `methods`.
// The width rules themselves (which width an operand is extended to) are value.ts's, by
// `shape`; README.md documents them for users.

/**
 * What a template sees: operands' text, the result width `w`, the operand width `wa` and
 * their masks. A template uses each operand once (the interpreter inlines operand
 * expressions, so a repeated operand would be computed twice at every level); operators
 * that need one twice call a helper.
 */
export interface OpText {
  readonly a: string;
  readonly b: string;
  readonly w: string;
  readonly wa: string;
  readonly m: string;
  /** The mask of `wa` bits. */
  readonly ma: string;
  /** The operands are signed (known when the template is instantiated, so it can branch on it). */
  readonly signed: boolean;
}

/** Bits known zero in the operands, for the result's known-zero mask. */
export interface ZeroFacts {
  readonly za: bigint;
  readonly zb: bigint;
  /** All ones over the operand width and over the result width. */
  readonly fa: bigint;
  readonly full: bigint;
  readonly w: number;
  readonly signed: boolean;
  /** The right operand's value when it is a constant. */
  readonly bConst: bigint | undefined;
}

export interface BinOpSpec {
  /** How value.ts shapes the operands and the result (README.md's width rules). */
  readonly shape: 'arith' | 'mul' | 'bitwise' | 'shift' | 'compare';
  /** The operation as a JavaScript expression over raw patterns; the only definition of its semantics. */
  readonly js: (t: OpText) => string;
  readonly knownZero: (z: ZeroFacts) => bigint;
  /** The Verilog token, printed infix, as a signed-aware comparison, or as an arithmetic-aware right shift. */
  readonly verilog: string;
  readonly form: 'infix' | 'compare' | 'shr';
  /**
   * When a slice of the result can be printed as the operator on slices of the operands:
   * 'any' (bitwise: every result bit depends on the same operand bits), 'low' (add, sub,
   * mul, shl: low result bits depend only on low operand bits), or never.
   */
  readonly slice: 'any' | 'low' | 'none';
  /** The Value methods that build this operator (the fuzzer calls each). */
  readonly methods: readonly string[];
  /** What `a op a` folds to: zero, the operand itself, or nothing known. */
  readonly self?: 'zero' | 'a';
  /**
   * The constant that leaves the other operand unchanged (x + 0, x & all-ones, x | 0,
   * x ^ 0, x << 0), and on which side: 'both' for commutative operators, 'right' for
   * sub and shifts. value.ts folds such nodes to the operand, so the Verilog has none.
   */
  readonly unit?: { readonly value: 'zero' | 'ones'; readonly side: 'both' | 'right' };
  /** The constant that decides the result whatever the other operand (x | all-ones); x & 0 is knownZero's. */
  readonly absorb?: 'ones';
}

export interface UnOpSpec {
  /** 'same': the operand's shape; 'bit': one unsigned bit (reductions). */
  readonly shape: 'same' | 'bit';
  readonly js: (t: OpText) => string;
  readonly knownZero: (z: ZeroFacts) => bigint;
  /** The Verilog prefix operator. */
  readonly verilog: string;
  readonly slice: 'any' | 'low' | 'none';
  readonly methods: readonly string[];
}

const sa = (t: OpText, x: string): string => (t.signed ? `BigInt.asIntN(${t.wa}, ${x})` : x);
const bool = (cond: string): string => `(${cond} ? 1n : 0n)`;
const none = (): bigint => 0n;
/** A compare's result bit is never known from the operands' zero bits alone. */
const compare = (verilog: string, js: string): BinOpSpec => ({
  shape: 'compare',
  js: (t) => bool(`${sa(t, t.a)} ${js} ${sa(t, t.b)}`),
  knownZero: none,
  verilog,
  form: 'compare',
  slice: 'none',
  methods: [],
});
/** Multiplying or shifting an all-zero operand gives zero. */
const zeroIn = (z: ZeroFacts): boolean => z.za === z.fa;

export const BIN_OPS = {
  add: { shape: 'arith', js: (t) => `((${t.a} + ${t.b}) & ${t.m})`, knownZero: none, verilog: '+', form: 'infix', slice: 'low', methods: ['add', 'addWide'], unit: { value: 'zero', side: 'both' } },
  sub: { shape: 'arith', js: (t) => `((${t.a} - ${t.b}) & ${t.m})`, knownZero: none, verilog: '-', form: 'infix', slice: 'low', methods: ['sub', 'subWide'], self: 'zero', unit: { value: 'zero', side: 'right' } },
  mul: {
    shape: 'mul',
    js: (t) => `((${t.a} * ${t.b}) & ${t.m})`,
    knownZero: (z) => (zeroIn(z) || z.zb === z.fa ? z.full : 0n),
    verilog: '*',
    form: 'infix',
    slice: 'low',
    methods: ['mul'],
  },
  and: { shape: 'bitwise', js: (t) => `(${t.a} & ${t.b})`, knownZero: (z) => z.za | z.zb, verilog: '&', form: 'infix', slice: 'any', methods: ['and'], self: 'a', unit: { value: 'ones', side: 'both' } },
  or: { shape: 'bitwise', js: (t) => `(${t.a} | ${t.b})`, knownZero: (z) => z.za & z.zb, verilog: '|', form: 'infix', slice: 'any', methods: ['or'], self: 'a', unit: { value: 'zero', side: 'both' }, absorb: 'ones' },
  xor: { shape: 'bitwise', js: (t) => `(${t.a} ^ ${t.b})`, knownZero: (z) => z.za & z.zb, verilog: '^', form: 'infix', slice: 'any', methods: ['xor'], self: 'zero', unit: { value: 'zero', side: 'both' } },
  // Shifts keep the left operand's width; amounts at or past the width give 0 (or the sign).
  shl: {
    shape: 'shift',
    js: (t) => `H.shl(${t.a}, ${t.b}, ${t.w}, ${t.m})`,
    knownZero: (z) => {
      if (zeroIn(z)) return z.full;
      if (z.bConst === undefined) return 0n;
      const c = z.bConst;
      return c >= BigInt(z.w) ? z.full : ((z.za << c) | ((1n << c) - 1n)) & z.full;
    },
    verilog: '<<',
    form: 'infix',
    slice: 'low',
    methods: ['shl'],
    unit: { value: 'zero', side: 'right' },
  },
  shr: {
    shape: 'shift',
    js: (t) => (t.signed ? `H.sra(${t.a}, ${t.b}, ${t.w})` : `H.shr(${t.a}, ${t.b}, ${t.w})`),
    knownZero: (z) => {
      if (zeroIn(z)) return z.full;
      if (z.signed || z.bConst === undefined) return 0n;
      const c = z.bConst;
      return c >= BigInt(z.w) ? z.full : (z.za >> c) | (z.full & ~(z.full >> c));
    },
    verilog: '>>',
    form: 'shr',
    slice: 'none',
    methods: ['shr'],
    unit: { value: 'zero', side: 'right' },
  },
  eq: { ...compare('==', '==='), form: 'infix', methods: ['eq'] },
  ne: { ...compare('!=', '!=='), form: 'infix', methods: ['ne'] },
  lt: { ...compare('<', '<'), methods: ['lt'] },
  le: { ...compare('<=', '<='), methods: ['le'] },
  gt: { ...compare('>', '>'), methods: ['gt'] },
  ge: { ...compare('>=', '>='), methods: ['ge'] },
} as const satisfies Record<string, BinOpSpec>;

export const UN_OPS = {
  not: { shape: 'same', js: (t) => `(~${t.a} & ${t.m})`, knownZero: none, verilog: '~', slice: 'any', methods: ['not'] },
  neg: { shape: 'same', js: (t) => `(-${t.a} & ${t.m})`, knownZero: (z) => (z.za === z.fa ? z.full : 0n), verilog: '-', slice: 'low', methods: ['neg'] },
  // Reductions: all-zero operand bits decide |x and ^x; any known-zero bit decides &x.
  andr: { shape: 'bit', js: (t) => bool(`${t.a} === ${t.ma}`), knownZero: (z) => (z.za !== 0n ? 1n : 0n), verilog: '&', slice: 'none', methods: ['andReduce'] },
  orr: { shape: 'bit', js: (t) => bool(`${t.a} !== 0n`), knownZero: (z) => (z.za === z.fa ? 1n : 0n), verilog: '|', slice: 'none', methods: ['orReduce'] },
  xorr: { shape: 'bit', js: (t) => `H.parity(${t.a})`, knownZero: (z) => (z.za === z.fa ? 1n : 0n), verilog: '^', slice: 'none', methods: ['xorReduce'] },
} as const satisfies Record<string, UnOpSpec>;

export type BinOp = keyof typeof BIN_OPS;
export type UnOp = keyof typeof UN_OPS;

/** Parity (XOR of all bits) of a non-negative bigint, as 0n or 1n. */
export function parity(a: bigint): bigint {
  let p = 0n;
  while (a) {
    p ^= a & 1n;
    a >>= 1n;
  }
  return p;
}

/** What the compiled templates may call (the interpreter passes the same object as `H`). */
export const OP_HELPERS = {
  parity,
  shl: (a: bigint, b: bigint, w: number, m: bigint): bigint => (b >= BigInt(w) ? 0n : (a << b) & m),
  shr: (a: bigint, b: bigint, w: number): bigint => (b >= BigInt(w) ? 0n : a >> b),
  /** Arithmetic: the sign fills from the top; an amount at or past the width leaves only the sign. */
  sra: (a: bigint, b: bigint, w: number): bigint => BigInt.asUintN(w, BigInt.asIntN(w, a) >> (b >= BigInt(w) ? BigInt(w - 1) : b)),
} as const;

type Folder = (a: bigint, b: bigint, w: number, wa: number, m: bigint, ma: bigint, H: typeof OP_HELPERS) => bigint;
const folders = new Map<string, Folder>();
/** The template compiled with its widths as parameters, once per operator and signedness. */
function folder(kind: 'bin' | 'un', op: string, signed: boolean): Folder {
  const key = `${kind}.${op}.${signed}`;
  let f = folders.get(key);
  if (!f) {
    const spec: { js: (t: OpText) => string } = kind === 'bin' ? BIN_OPS[op as BinOp] : UN_OPS[op as UnOp];
    f = new Function('a', 'b', 'w', 'wa', 'm', 'ma', 'H', `return ${spec.js({ a: 'a', b: 'b', w: 'w', wa: 'wa', m: 'm', ma: 'ma', signed })};`) as Folder;
    folders.set(key, f);
  }
  return f;
}

/** A binary operator on constant raw patterns: the result's raw pattern of `w` bits. */
export function foldBin(op: BinOp, a: bigint, b: bigint, w: number, wa: number, signed: boolean): bigint {
  return folder('bin', op, signed)(a, b, w, wa, mask(w), mask(wa), OP_HELPERS);
}

/** A unary operator on a constant raw pattern. */
export function foldUn(op: UnOp, a: bigint, w: number, wa: number, signed: boolean): bigint {
  return folder('un', op, signed)(a, 0n, w, wa, mask(w), mask(wa), OP_HELPERS);
}

const mask = (w: number): bigint => (1n << BigInt(w)) - 1n;
