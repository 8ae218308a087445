// What a failing testbench prints on the console, run as a user runs it: one file through
// `npx mocha FILE` (only that file runs), a node:assert failure in a named task showing the
// seed, simulation time, waves path and task, and a re-run command that, run as printed,
// runs exactly that one test (the names hold ( ) + ? [ ], which --grep would read as a
// regular expression) with the same seed.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FILE = 'test/support/failing-tb.ts';

function sh(command: string, args: string[]): { status: number | null; out: string } {
  const r = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', timeout: 600_000, env: { ...process.env, SEED: '7', TB_LOG: undefined, WAVES: undefined } });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

describe('a failing testbench, on the console', () => {
  it('npx mocha FILE runs that file alone and prints seed, time, waves, task and a re-run command that runs exactly one test', function () {
    const r = sh('npx', ['mocha', FILE]);
    assert.equal(r.status, 2, r.out); // mocha's exit status is the number of failures
    assert.match(r.out, /^0 passed, 2 failed$/m, 'only the named file ran');
    assert.match(r.out, /in task 'Checker': count after 3 cycles \(n=1\)/, 'the task and the assert message');
    assert.match(r.out, /seed: \d+ \(global SEED=7\)/);
    assert.match(r.out, /simulation time: \d/);
    const waves = /waveform: (\S+)/.exec(r.out);
    assert.ok(waves && existsSync(waves[1]!), `a waves file is named and exists:\n${r.out}`);
    assert.match(r.out, /counting to 1/, 'the log tail');
    const rerun = [...r.out.matchAll(/re-run: (.*)$/gm)].map((m) => m[1]!).find((c) => c.includes('n=1\\]'));
    assert.ok(rerun, `a re-run command for the n=1 case:\n${r.out}`);
    const seed = /n=1\)[\s\S]*?seed: (\d+)/.exec(r.out)![1];

    const again = sh('bash', ['-c', rerun]);
    assert.match(again.out, /^0 passed, 1 failed$/m, `the printed command runs exactly one test:\n${rerun}\n${again.out}`);
    assert.match(again.out, /count after 3 cycles \(n=1\)/);
    assert.match(again.out, new RegExp(`seed: ${seed} `), 'with the same seed');
  });
});
