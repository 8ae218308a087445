// Every elaboration error names the user's file and line. Each case marks the line the
// error must point at with a comment `// <- name`, and the test looks that line up.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineModule, emitDesign, moduleWarnings, UInt, SInt, Bool, lit, HdlError, HdlErrors } from '../../generator/hdl/index.ts';

const FILE = fileURLToPath(import.meta.url);
const LINES = readFileSync(FILE, 'utf8').split('\n');
const lineOf = (marker: string): number => {
  const i = LINES.findIndex((l) => l.includes(`// <- ${marker}`));
  if (i < 0) throw new Error(`marker ${marker} not found`);
  return i + 1;
};
let n = 0;
const uniq = (s: string): string => `${s}${n++}`;

function expectError(fn: () => unknown, marker: string | string[], pattern: RegExp): void {
  const lines = (Array.isArray(marker) ? marker : [marker]).map(lineOf);
  try {
    fn();
  } catch (e) {
    const err = e instanceof HdlErrors ? e.errors[0]! : e;
    assert.ok(err instanceof HdlError, `expected an HdlError, got ${String(e)}`);
    assert.match(err.message, pattern);
    assert.match(err.message, new RegExp(`errors\\.test\\.ts:(${lines.join('|')}): error: `), `wrong location in: ${err.message}`);
    return;
  }
  assert.fail(`no error thrown for ${marker}`);
}

describe('hdl errors name the user\'s file:line', () => {
  it('width mismatch on assignment (never a silent truncation)', () => {
    expectError(() => defineModule(uniq('w'), (m) => {
      const a = m.input('a', UInt(9));
      const y = m.output('y', UInt(8));
      m.set(y, a); // <- narrow
    })({}), 'narrow', /9-bit value assigned to 'y' of 8 bits would drop 1 bit\(s\); use \.trunc\(8\)/);
  });

  it('mixing signed and unsigned', () => {
    expectError(() => defineModule(uniq('s'), (m) => {
      const a = m.input('a', UInt(8));
      const b = m.input('b', SInt(8));
      m.set(m.output('y', UInt(9)), a.addWide(b)); // <- mix
    })({}), 'mix', /cannot mix UInt\(8\) and SInt\(8\)/);
  });

  it('a constant that does not fit', () => {
    expectError(() => lit(300, UInt(8)), 'lit', /constant 300 does not fit/); // <- lit
  });

  it('undriven output and undriven register point at their declarations', () => {
    expectError(() => defineModule(uniq('u'), (m) => {
      m.output('y', Bool); // <- undriven
    })({}), 'undriven', /output 'y' of module 'u\d+' is never driven/);
    expectError(() => defineModule(uniq('r'), (m) => {
      const r = m.reg('state', UInt(4)); // <- undriven-reg
      m.set(m.output('y', UInt(4)), r);
    })({}), 'undriven-reg', /register 'state' of module 'r\d+' is never driven/);
  });

  it('a combinational signal assigned on some paths only would be a latch', () => {
    expectError(() => defineModule(uniq('l'), (m) => {
      const c = m.input('c', Bool);
      const y = m.output('y', Bool); // <- latch
      m.when(c, () => m.set(y, 1));
    })({}), 'latch', /not assigned on every path and would become a latch/);
  });

  it('driving an input is a multiple-driver error', () => {
    expectError(() => defineModule(uniq('d'), (m) => {
      const a = m.input('a', Bool);
      m.set(a, 1); // <- drive-input
      m.set(m.output('y', Bool), a);
    })({}), 'drive-input', /multiple drivers: 'a' is an input port/);
  });

  it('a combinational loop lists the signals in the loop', () => {
    expectError(() => defineModule(uniq('loop'), (m) => {
      const a = m.wire('p', Bool);
      const b = m.wire('q', Bool);
      m.set(a, b.not()); // <- loop-p
      m.set(b, a); // <- loop-q
      m.set(m.output('y', Bool), a);
    })({}), ['loop-p', 'loop-q'], /combinational loop in module 'loop\d+': (p|q) \(.*\) -> (q|p) \(.*\) -> (p|q)/);
  });

  it('a loop through a child instance is found from the child\'s port paths', () => {
    const child = defineModule(uniq('pass'), (m) => {
      const i = m.input('i', Bool);
      const o = m.output('o', Bool);
      m.set(o, i);
      return { i, o };
    });
    expectError(() => defineModule(uniq('outer'), (m) => {
      const u = m.instance('u', child({}));
      m.set(u.i, u.o); // <- inst-loop
      m.set(m.output('y', Bool), u.o);
    })({}), 'inst-loop', /combinational loop/);
  });

  it('portOf names the instances and ports there are', () => {
    const child = defineModule(uniq('leaf'), (m) => {
      const r = m.reg('r', Bool);
      m.set(r, r.not());
      m.set(m.output('o', Bool), r);
      return {};
    });
    expectError(() => defineModule(uniq('outer'), (m) => {
      m.instance('u', child({}));
      m.portOf('u', 'reset'); // <- port-of
    })({}), 'port-of', /instance 'u' \(leaf\d+\) has no port 'reset'; its ports: clk, rst, o/);
    expectError(() => defineModule(uniq('outer'), (m) => {
      m.portOf('v', 'rst'); // <- inst-of
    })({}), 'inst-of', /no instance 'v' in module 'outer\d+'; instances: none/);
  });

  it('name collisions say where the first one is', () => {
    expectError(() => defineModule(uniq('c'), (m) => {
      m.input('a', Bool);
      m.wire('a', Bool); // <- collide
    })({}), 'collide', new RegExp(`'a' is already declared in module 'c\\d+' at test/hdl/errors\\.test\\.ts:${lineOf('collide') - 1}`));
  });

  it('Verilog, SystemVerilog and C++ keywords cannot be names', () => {
    expectError(() => defineModule(uniq('k'), (m) => {
      m.input('module', Bool); // <- kw
    })({}), 'kw', /'module' is a reserved word/);
    expectError(() => defineModule(uniq('k'), (m) => {
      m.input('class', Bool); // <- kw-cpp
    })({}), 'kw-cpp', /'class' is a reserved word/);
    expectError(() => defineModule(uniq('k'), (m) => {
      m.input('a__b', Bool); // <- dunder
    })({}), 'dunder', /reserves/);
  });

  it('bad parameters are refused where the family is instantiated', () => {
    const fam = defineModule('sized', (m, p: { w: number; [k: string]: number }) => {
      m.set(m.output('y', UInt(p.w)), 0);
    }, { validate: (p) => { if (p.w > 64) throw new RangeError(`w must be at most 64, got ${p.w}`); } });
    expectError(() => fam({ w: 65 }), 'param', /sized: w must be at most 64, got 65/); // <- param
  });

  it('two different modules with one name are refused at emission', () => {
    const a = defineModule('twin', (m) => { m.set(m.output('y', Bool), 0); return {}; });
    const b = defineModule('twin', (m) => { m.set(m.output('y', Bool), 1); return {}; });
    const top = defineModule(uniq('twins'), (m) => {
      const x = m.instance('ua', a({}));
      const y = m.instance('ub', b({}));
      void x; void y;
      m.set(m.output('y', Bool), m.ir.instances[0]!.ports.get('y')!.xor(m.ir.instances[1]!.ports.get('y')!));
    });
    assert.throws(() => emitDesign(top({})), /two different modules are both named 'twin'/);
  });

  it('unused inputs and never-read memories are warnings with locations', () => {
    const e = defineModule(uniq('warn'), (m) => {
      m.input('spare', UInt(3)); // <- unused
      const mem = m.memory('scratch', { shape: UInt(8), depth: 4 }); // <- unread
      mem.write(lit(0, UInt(2)), lit(1, UInt(8)));
      m.set(m.output('y', Bool), 0);
    })({});
    const w = moduleWarnings(e.ir).map((x) => `${x.loc?.line}: ${x.detail}`);
    assert.ok(w.some((x) => x.startsWith(`${lineOf('unused')}: input 'spare'`)), w.join('\n'));
    assert.ok(w.some((x) => x.startsWith(`${lineOf('unread')}: memory 'scratch'`)), w.join('\n'));
  });
});
