// Module names (generator/cores/naming.ts): two different modules never share a name, in
// one design or across the designs under rtl/, so a synthesis or simulation project that
// reads files from several of them can never pick up the wrong body. And the engine's
// identity lives outside it, so engines of one sizing are the same module on every board.

import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { emitCore, findCore, resolveParams } from '../generator/cores/registry.ts';
import type { EmittedDesign } from '../generator/hdl/index.ts';

const RTL = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../rtl');

/** Every `module NAME … endmodule` in a Verilog text, the body from `module` to `endmodule` (the `//` header lines before it are not part of it). */
function modules(text: string): { name: string; body: string }[] {
  const out: { name: string; body: string }[] = [];
  const re = /^module\s+([A-Za-z_][A-Za-z0-9_$]*)[\s\S]*?^endmodule\b/gm;
  for (const m of text.matchAll(re)) out.push({ name: m[1]!, body: m[0] });
  return out;
}

function verilogFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? verilogFiles(p) : f.endsWith('.v') ? [p] : [];
  });
}

/** name -> body, failing on a name seen with another body; `where` says where each was first seen. */
function collect(into: Map<string, { body: string; where: string }>, name: string, body: string, where: string): void {
  const seen = into.get(name);
  if (!seen) into.set(name, { body, where });
  else assert.equal(body, seen.body, `module ${name} has one body in ${seen.where} and another in ${where}`);
}

const designModules = (d: EmittedDesign): { name: string; body: string; file: string }[] =>
  d.files.filter((f) => f.name.endsWith('.v')).flatMap((f) => modules(f.text).map((m) => ({ ...m, file: f.name })));

describe('module names', () => {
  it('no two files under rtl/ define one module name with different bodies', () => {
    const files = verilogFiles(RTL);
    assert.ok(files.length > 20, `only ${files.length} Verilog files under rtl/`);
    const seen = new Map<string, { body: string; where: string }>();
    for (const f of files) for (const m of modules(readFileSync(f, 'utf8'))) collect(seen, m.name, m.body, path.relative(RTL, f));
  });

  it('each checked-in design holds one module per file, named as the file, and no name twice', () => {
    for (const dir of readdirSync(RTL)) {
      const names: string[] = [];
      for (const f of verilogFiles(path.join(RTL, dir))) {
        const ms = modules(readFileSync(f, 'utf8'));
        assert.equal(ms.length, 1, `${path.relative(RTL, f)}: ${ms.length} modules`);
        assert.equal(`${ms[0]!.name}.v`, path.basename(f), `${path.relative(RTL, f)} defines ${ms[0]!.name}`);
        names.push(ms[0]!.name);
      }
      assert.equal(new Set(names).size, names.length, `rtl/${dir}: ${names.join(', ')}`);
    }
  });

  // Each variant changes one parameter that shapes some module's body; across all of them
  // (and the defaults) a name must still mean one body.
  const variants: [core: string, params: Record<string, number>][] = [
    ['board', { rows: 4, cols: 4, kmax: 64, mmax: 2, wdepth: 64 }],
    ['board', { rows: 4, cols: 4, kmax: 128, mmax: 2, wdepth: 64 }],
    ['board', { rows: 4, cols: 4, kmax: 64, mmax: 4, wdepth: 64 }],
    ['board', { rows: 4, cols: 4, kmax: 64, mmax: 2, wdepth: 128 }],
    ['board', { rows: 4, cols: 4, kmax: 64, mmax: 2, wdepth: 64, stage: 16 }],
    ['board', { rows: 4, cols: 4, kmax: 64, mmax: 2, wdepth: 64, idle: 1024 }],
    ['board', { rows: 4, cols: 4, kmax: 64, mmax: 2, wdepth: 64, acc: 20 }],
    ['board', { rows: 4, cols: 4, kmax: 64, mmax: 2, wdepth: 64, clk: 24_000_000 }],
    ['board', { rows: 4, cols: 4, kmax: 64, mmax: 2, wdepth: 64, baud: 57_600 }],
    ['board', { rows: 4, cols: 4, kmax: 64, mmax: 2, wdepth: 64, phy: 0 }],
    ['board', { rows: 4, cols: 4, kmax: 64, mmax: 2, wdepth: 64, phy: 0, clk: 24_000_000 }],
    ['board', { rows: 4, cols: 4, act: 4, kmax: 64, mmax: 2, wdepth: 64 }],
    ['icebreaker', { kmax: 512 }],
    ['uart', { clk: 24_000_000 }],
    ['uart', { depth: 32 }],
  ];
  const emitted = new Map<string, EmittedDesign>();
  const emit = (core: string, params: Record<string, number>): EmittedDesign => {
    const key = JSON.stringify([core, params]);
    if (!emitted.has(key)) {
      const c = findCore(core);
      emitted.set(key, emitCore(c, resolveParams(c, params)));
    }
    return emitted.get(key)!;
  };

  it('configurations that differ in one parameter never give two bodies one name', function () {
    this.timeout(600_000);
    const seen = new Map<string, { body: string; where: string }>();
    for (const f of verilogFiles(RTL)) for (const m of modules(readFileSync(f, 'utf8'))) collect(seen, m.name, m.body, path.relative(RTL, f));
    for (const [core, params] of variants) {
      const where = `${core} ${JSON.stringify(params)}`;
      const ms = designModules(emit(core, params));
      assert.equal(new Set(ms.map((m) => m.name)).size, ms.length, `${where}: a name twice`);
      for (const m of ms) collect(seen, m.name, m.body, where);
    }
  });

  it('engines of one sizing are the same module whatever identity the board reports', function () {
    this.timeout(600_000);
    // acc=20 changes only the core (and so its hash, the board's identity), not the engine's sizing.
    const a = designModules(emit('board', { rows: 4, cols: 4, kmax: 64, mmax: 2, wdepth: 64 }));
    const b = designModules(emit('board', { rows: 4, cols: 4, kmax: 64, mmax: 2, wdepth: 64, acc: 20 }));
    const proper = (ms: typeof a) => ms.filter((m) => /^link_(framer|exec)_/.test(m.name));
    assert.deepEqual(proper(a).map((m) => m.name.replace(/_.*/, '')), ['link', 'link'], a.map((m) => m.name).join(', '));
    assert.deepEqual(proper(a), proper(b), 'the framer and the executor are byte-identical');
    const withId = (ms: typeof a) => ms.filter((m) => /^link_engine_.*_id_[0-9a-f]{8}$/.test(m.name)).map((m) => m.name);
    assert.equal(withId(a).length, 1, a.map((m) => m.name).join(', '));
    assert.notDeepEqual(withId(a), withId(b), 'the modules holding the identity differ, and so do their names');
  });
});
