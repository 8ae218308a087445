import assert from 'node:assert/strict';
import { UInt, SInt, Bool, lit, cat, mux, priority, select, HdlError, type Shape, type Value } from '../../generator/hdl/index.ts';
import { BIN_OPS, UN_OPS } from '../../generator/hdl/ops.ts';
import { evalExpr } from '../support/eval.ts';

const u8 = UInt(8);
const s8 = SInt(8);

describe('hdl values: width rules and semantics', () => {
  it('add and sub wrap at the wider operand; addWide and subWide grow by one bit', () => {
    assert.deepEqual(evalExpr([u8, u8], (a, b) => a.add(b), [200, 100]), { value: 44n, shape: u8 });
    assert.deepEqual(evalExpr([u8, u8], (a, b) => a.addWide(b), [200, 100]), { value: 300n, shape: UInt(9) });
    assert.deepEqual(evalExpr([u8, u8], (a, b) => a.sub(b), [5, 10]), { value: 251n, shape: u8 });
    assert.deepEqual(evalExpr([s8, s8], (a, b) => a.subWide(b), [-100, 100]), { value: -200n, shape: SInt(9) });
    assert.deepEqual(evalExpr([s8, s8], (a, b) => a.add(b), [-100, -100]), { value: 56n, shape: s8 });
    assert.deepEqual(evalExpr([UInt(4), u8], (a, b) => a.add(b), [15, 250]), { value: 9n, shape: u8 });
  });

  it('a JS number takes the other operand\'s shape, or the smallest that fits it', () => {
    assert.deepEqual(evalExpr([u8], (a) => a.add(1), [255]), { value: 0n, shape: u8 });
    assert.deepEqual(evalExpr([UInt(4)], (a) => a.add(100), [15]), { value: 115n, shape: UInt(7) });
    assert.deepEqual(evalExpr([s8], (a) => a.add(-1), [-128]), { value: 127n, shape: s8 });
  });

  it('mul is widening and exact for signed and unsigned operands', () => {
    assert.deepEqual(evalExpr([UInt(4), UInt(4)], (a, b) => a.mul(b), [15, 15]), { value: 225n, shape: UInt(8) });
    assert.deepEqual(evalExpr([SInt(4), SInt(4)], (a, b) => a.mul(b), [-8, -8]), { value: 64n, shape: SInt(8) });
    assert.deepEqual(evalExpr([SInt(4), SInt(6)], (a, b) => a.mul(b), [-8, 31]), { value: -248n, shape: SInt(10) });
  });

  it('neg and not keep the width', () => {
    assert.equal(evalExpr([s8], (a) => a.neg(), [-128]).value, -128n);
    assert.equal(evalExpr([u8], (a) => a.neg(), [1]).value, 255n);
    assert.equal(evalExpr([u8], (a) => a.not(), [0x0f]).value, 0xf0n);
  });

  it('bitwise operators need equal widths; reductions give one bit', () => {
    assert.equal(evalExpr([u8, u8], (a, b) => a.and(b).or(a.xor(b)), [0b1100, 0b1010]).value, 0b1110n);
    assert.throws(() => evalExpr([u8, UInt(4)], (a, b) => a.and(b), [1, 1]), /operand widths differ \(8 and 4\)/);
    assert.equal(evalExpr([u8], (a) => a.andReduce(), [255]).value, 1n);
    assert.equal(evalExpr([u8], (a) => a.orReduce(), [0]).value, 0n);
    assert.equal(evalExpr([u8], (a) => a.xorReduce(), [0b1011]).value, 1n);
  });

  it('shifts keep the width; shr is arithmetic on signed values; oversized amounts saturate', () => {
    assert.equal(evalExpr([u8], (a) => a.shl(4), [0xab]).value, 0xb0n);
    assert.equal(evalExpr([u8], (a) => a.shr(4), [0xab]).value, 0x0an);
    assert.equal(evalExpr([s8], (a) => a.shr(2), [-128]).value, -32n);
    assert.equal(evalExpr([u8, UInt(5)], (a, b) => a.shl(b), [1, 20]).value, 0n);
    assert.equal(evalExpr([s8, UInt(5)], (a, b) => a.shr(b), [-5, 31]).value, -1n);
    assert.equal(evalExpr([u8, UInt(5)], (a, b) => a.shr(b), [0x80, 9]).value, 0n);
    assert.deepEqual(evalExpr([s8], (a) => a.shlWide(3), [-3]), { value: -24n, shape: SInt(11) });
    assert.throws(() => evalExpr([u8, s8], (a, b) => a.shl(b), [1, 1]), /shift amount must be unsigned/);
  });

  it('comparisons follow the operands\' signedness and extend to the wider width', () => {
    assert.equal(evalExpr([s8, s8], (a, b) => a.lt(b), [-1, 1]).value, 1n);
    assert.equal(evalExpr([u8, u8], (a, b) => a.lt(b), [255, 1]).value, 0n);
    assert.equal(evalExpr([SInt(4), s8], (a, b) => a.eq(b), [-1, -1]).value, 1n);
    assert.equal(evalExpr([UInt(4), u8], (a, b) => a.ge(b), [15, 16]).value, 0n);
    assert.equal(evalExpr([u8], (a) => a.eq(300), [44]).value, 0n, 'no silent truncation of the constant');
    assert.equal(evalExpr([u8], (a) => a.ge(0), [3]).value, 1n);
    assert.equal(evalExpr([s8], (a) => a.le(-128), [-128]).value, 1n);
  });

  it('slice, bit, trunc, ext, zext, sext, cat and rep', () => {
    assert.deepEqual(evalExpr([u8], (a) => a.slice(6, 3), [0b1011_0110]), { value: 0b0110n, shape: UInt(4) });
    assert.equal(evalExpr([u8], (a) => a.bit(7), [0x80]).value, 1n);
    assert.deepEqual(evalExpr([s8], (a) => a.trunc(4), [-3]), { value: -3n, shape: SInt(4) });
    assert.deepEqual(evalExpr([s8], (a) => a.ext(12), [-3]), { value: -3n, shape: SInt(12) });
    assert.deepEqual(evalExpr([s8], (a) => a.zext(12), [-3]), { value: 253n, shape: UInt(12) });
    assert.deepEqual(evalExpr([u8], (a) => a.sext(12), [0x80]), { value: -128n, shape: SInt(12) });
    assert.deepEqual(evalExpr([UInt(4), u8], (a, b) => cat(a, b), [0xa, 0xbc]), { value: 0xabcn, shape: UInt(12) });
    assert.deepEqual(evalExpr([UInt(3)], (a) => a.rep(3), [0b101]), { value: 0b101101101n, shape: UInt(9) });
    assert.throws(() => evalExpr([u8], (a) => a.slice(8, 0), [0]), /out of range for UInt\(8\)/);
    assert.throws(() => evalExpr([u8], (a) => a.ext(4), [0]), /would narrow it/);
  });

  it('mux, priority and select', () => {
    assert.equal(evalExpr([Bool, u8, u8], (c, a, b) => mux(c, a, b), [1, 7, 9]).value, 7n);
    assert.deepEqual(evalExpr([Bool, UInt(4), u8], (c, a, b) => mux(c, a, b), [1, 15, 200]), { value: 15n, shape: u8 });
    const pri = (x: bigint | number, y: bigint | number) => evalExpr([Bool, Bool], (a, b) => priority([[a, lit(1, UInt(2))], [b, lit(2, UInt(2))]], 3), [x, y]).value;
    assert.deepEqual([pri(1, 1), pri(0, 1), pri(0, 0)], [1n, 2n, 3n]);
    const sel = (x: number) => evalExpr([UInt(2)], (s) => select(s, [[0, lit(10, u8)], [2, lit(30, u8)]], 99), [x]).value;
    assert.deepEqual([sel(0), sel(1), sel(2)], [10n, 99n, 30n]);
    assert.throws(() => evalExpr([u8, u8, u8], (c, a, b) => mux(c, a, b), [1, 1, 1]), /mux condition must be 1 bit wide/);
  });

  it('values wider than 64 bits are exact', () => {
    const w = UInt(100);
    const big = (1n << 99n) + 12345n;
    assert.equal(evalExpr([w, w], (a, b) => a.addWide(b), [big, big]).value, big * 2n);
    assert.equal(evalExpr([w], (a) => a.slice(99, 60), [big]).value, big >> 60n);
    assert.equal(evalExpr([SInt(70), SInt(70)], (a, b) => a.mul(b), [-(1n << 68n), 3]).value, -3n * (1n << 68n));
  });

  it('constants that do not fit, and mixed signedness, are errors', () => {
    assert.throws(() => lit(256, u8), /constant 256 does not fit in UInt\(8\) \(range 0\.\.255\)/);
    assert.throws(() => lit(-129, s8), /does not fit in SInt\(8\)/);
    assert.throws(() => evalExpr([u8, s8], (a, b) => a.add(b), [1, 1]), /cannot mix UInt\(8\) and SInt\(8\)/);
    assert.throws(() => evalExpr([u8], (a) => a.add(-1), [1]), /negative constant -1 used with an unsigned/);
    assert.throws(() => UInt(0), HdlError);
  });

  it('constant expressions fold at elaboration, with the same result the interpreter gives', () => {
    const a = lit(200, u8);
    const folded = a.add(100).shr(1).cat(lit(3, UInt(2)));
    assert.equal(folded.node.k, 'const');
    assert.equal(evalExpr([Bool], (x) => cat(x, folded), [0]).value, BigInt((44 >> 1) * 4 + 3));
    assert.equal(mux(lit(1, Bool), lit(5, u8), lit(6, u8)).node.k, 'const');
  });

  it('every operator of the table folds constants exactly as the interpreter computes it (ops.ts)', () => {
    // Folding and the interpreter instantiate one template per operator; this checks the
    // widths and masks each passes in, over corner values of signed and unsigned operands.
    const corners = (s: Shape): bigint[] => {
      const top = 1n << BigInt(s.width - 1);
      return [...new Set(s.signed ? [-top, -1n, 0n, top - 1n].concat(s.width > 1 ? [1n] : []) : [0n, 1n, top, (top << 1n) - 1n])];
    };
    // A constant holds its raw pattern; the interpreter reads signed outputs as signed.
    const asRead = (c: Value): bigint => {
      const raw = (c.node as { value: bigint }).value;
      return c.signed ? BigInt.asIntN(c.width, raw) : raw;
    };
    let checked = 0;
    for (const shape of [UInt(1), UInt(7), SInt(5), UInt(70), SInt(65)]) {
      const amount = UInt(4);
      for (const [name, spec] of Object.entries(BIN_OPS)) {
        for (const method of spec.methods) {
          const bShape = spec.shape === 'shift' ? amount : shape;
          for (const x of corners(shape)) {
            for (const y of [...corners(bShape), ...(spec.shape === 'shift' ? [5n, 15n] : [])]) {
              const call = (a: Value, b: Value): Value => (a as unknown as Record<string, (b: Value) => Value>)[method]!.call(a, b);
              const folded = call(lit(x, shape), lit(y, bShape));
              assert.equal(folded.node.k, 'const', `${name} via ${method} on constants folds`);
              const ran = evalExpr([shape, bShape], (a, b) => call(a, b), [x, y]);
              assert.equal(ran.value, asRead(folded), `${method}(${x}, ${y}) on ${shape.signed ? 'SInt' : 'UInt'}(${shape.width})`);
              checked++;
            }
          }
        }
      }
      for (const spec of Object.values(UN_OPS)) {
        for (const method of spec.methods) {
          for (const x of corners(shape)) {
            const call = (a: Value): Value => (a as unknown as Record<string, () => Value>)[method]!.call(a);
            const folded = call(lit(x, shape));
            assert.equal(evalExpr([shape], (a) => call(a), [x]).value, asRead(folded), `${method}(${x})`);
            checked++;
          }
        }
      }
    }
    assert.ok(checked > 1000, `${checked} cases`);
  });
});


describe('hdl values: identities fold away (issue 18)', () => {
  // Signals to build on: evalExpr hands them out; here we only look at the nodes built.
  const on = (shapes: readonly Shape[], f: (...ins: Value[]) => void): void => {
    evalExpr(shapes, (...ins) => {
      f(...ins);
      return lit(0, Bool);
    }, shapes.map(() => 0));
  };

  it('x & all-ones, x | 0, x ^ 0, x + 0, x - 0 and shifts by 0 are x; 0 - x is not', () => {
    on([u8, Bool, s8], (a, b, s) => {
      assert.equal(a.and(255), a);
      assert.equal(lit(255, u8).and(a), a);
      assert.equal(b.and(1), b, "b & 1'd1");
      assert.equal(a.or(0), a);
      assert.equal(lit(0, u8).or(a), a);
      assert.equal(a.xor(0), a);
      assert.equal(a.add(0), a);
      assert.equal(lit(0, u8).add(a), a);
      assert.equal(a.sub(0), a);
      assert.notEqual(lit(0, u8).sub(a).node.k, 'sig');
      assert.equal(s.and(-1), s);
      assert.equal(a.shl(lit(0, UInt(3))), a);
      assert.equal(s.shr(lit(0, UInt(3))), s);
      // A widened add still extends the operand: the identity applies at the operation's width.
      assert.equal(a.addWide(0).node.k, 'ext');
    });
  });

  it('x | all-ones is all ones, and one-bit muxes and compares of 0/1 are the bit or its inverse', () => {
    on([u8, Bool, Bool], (a, b, c) => {
      const ones = a.or(255);
      assert.equal(ones.node.k, 'const');
      assert.equal(ones.node.k === 'const' && ones.node.value, 255n);
      assert.equal(mux(c, 1, 0), c);
      assert.deepEqual(mux(c, 0, 1).node, c.not().node);
      assert.equal(b.eq(1), b);
      assert.equal(b.ne(0), b);
      assert.equal(b.eq(0).node.k, 'un');
    });
  });

  it('the folds keep the semantics (evaluated)', () => {
    assert.equal(evalExpr([u8], (a) => a.and(255).or(0).xor(0).add(0), [77]).value, 77n);
    assert.equal(evalExpr([Bool], (b) => b.eq(0), [1]).value, 0n);
    assert.equal(evalExpr([Bool, Bool], (b, c) => mux(c, 0, 1).and(b), [1, 0]).value, 1n);
  });
});
