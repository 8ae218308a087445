// Functional coverage (sim/tb/coverage.ts): bins by predicate and by value, crosses,
// reported-only items, atLeast, the goal check naming what was missed, definition errors,
// and the report on the console and in JUnit through the project's reporter.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoverGroup, CoverageError } from '../../sim/index.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface Tx {
  readonly len: number;
  readonly dir: 'rd' | 'wr';
}

function group(): CoverGroup<Tx> {
  return new CoverGroup<Tx>(`bursts ${Math.random()}`)
    .point('len', (t) => t.len, { single: (l) => l === 1, short: (l) => l > 1 && l <= 4, long: (l) => l > 4 })
    .point('dir', (t) => t.dir, ['rd', 'wr'])
    .point('aligned', (t) => t.len % 4 === 0, { yes: (a) => a }, { required: false })
    .cross('len', 'dir');
}

describe('functional coverage', () => {
  it('counts bins, crosses and the required fraction; check() names what was missed', () => {
    const g = group();
    g.sample({ len: 1, dir: 'rd' });
    g.sample({ len: 8, dir: 'wr' });
    g.sample({ len: 3, dir: 'rd' });
    // len 3/3, dir 2/2, cross 3/6 (reported-only 'aligned' not counted): 8 of 11
    assert.deepEqual(g.coverage(), { covered: 8, total: 11, fraction: 8 / 11 });
    assert.deepEqual(g.missing(), ['len x dir: single x wr', 'len x dir: short x wr', 'len x dir: long x rd']);
    assert.throws(() => g.check(), (e: unknown) => e instanceof CoverageError && /is 72\.7 %, below the goal of 100\.0 %; not hit: len x dir: single x wr; len x dir: short x wr; len x dir: long x rd/.test(e.message));
    g.check(0.7);
    for (const t of [{ len: 1, dir: 'wr' }, { len: 2, dir: 'wr' }, { len: 5, dir: 'rd' }] as const) g.sample(t);
    g.check();
    assert.match(g.report(), /: 100\.0 % \(11\/11 required bins, 6 samples\)\n  len .* 3\/3 .*single: 2, short: 2, long: 2/);
    assert.match(g.report(), /aligned .*\(reported only\) yes: 1, in no bin: 5\n/);
  });

  it('atLeast needs that many hits per bin', () => {
    const g = new CoverGroup<number>('at least').point('n', (n) => n, [1, 2], { atLeast: 2 });
    [1, 1, 2].forEach((n) => g.sample(n));
    assert.deepEqual(g.missing(), ['n: 2']);
    assert.match(g.report(), /2: 1 \(missed\)/);
  });

  it('refuses bad definitions by name', () => {
    const g = new CoverGroup<number>('bad');
    assert.throws(() => g.point('p', (n) => n, []), /cover group 'bad': point 'p' has no bins/);
    assert.throws(() => g.point('p', (n) => n, [1, 1]), /point 'p' lists a value twice/);
    g.point('p', (n) => n, [1]);
    assert.throws(() => g.point('p', (n) => n, [2]), /point 'p' is defined twice/);
    assert.throws(() => g.cross('p'), /a cross needs two points or more, got p/);
    assert.throws(() => g.cross('p', 'q'), /cross names point 'q', which is not one of p/);
    assert.throws(() => new CoverGroup<number>('x').point('p', (n) => n, [1], { atLeast: 0 }), /atLeast 0: expected a positive integer/);
    assert.throws(() => g.check(2), /goal 2 is not a fraction from 0 to 1/);
  });

  it('the reporter prints every group after the run and writes its figure into JUnit', () => {
    const junit = path.join(mkdtempSync(path.join(os.tmpdir(), 'cov-junit-')), 'junit.xml');
    const r = spawnSync('npx', ['mocha', 'test/support/coverage-demo.ts'], { cwd: ROOT, encoding: 'utf8', timeout: 300_000, env: { ...process.env, JUNIT_XML: junit } });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /coverage 'demo group': 75\.0 % \(3\/4 required bins, 3 samples\)\n  parity .*\n  size .*large: 0 \(missed\)\n+1 passed, 0 failed\n$/);
    const xml = readFileSync(junit, 'utf8');
    assert.match(xml, /<property name="coverage:demo group" value="75\.0"\/>/);
    assert.match(xml, /<system-out>coverage &apos;demo group&apos;: 75\.0 %/);
  });
});
