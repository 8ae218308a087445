// The README's main job, as a user runs it: `bitnet-fpga demo` builds the board, puts it on
// a pseudo-terminal, runs a model (here a small random one), generates through the uart backend and checks the cpu
// backend agrees token for token and on every integer result.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('host: the end-to-end demo', function () {
  it('generates through board-sim over a pty, equal to cpu token for token', () => {
    // A small random model: the default, tiny-fortunes, takes about a minute to upload to the simulated board.
    const model = fs.mkdtempSync(path.join(os.tmpdir(), 'demo-model-'));
    const made = spawnSync(process.execPath, [path.join(ROOT, 'host/cli/bin.js'), 'make-model', '--out', model], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    const r = spawnSync(process.execPath, [path.join(ROOT, 'host/cli/bin.js'), 'demo', '-m', model, '-n', '10', '--seed', '5'], { cwd: ROOT, encoding: 'utf8', timeout: 600_000 });
    fs.rmSync(model, { recursive: true, force: true });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /tokens \(10\): identical on uart and cpu/);
    assert.match(r.stdout, /integer BitLinear results \(\d+ calls\): identical/);
    assert.match(r.stdout, /final logits: bit-identical/);
    assert.match(r.stdout, /bitnet_perf_offload_print: +link bytes = \d+ out, \d+ in \(\d+ requests, 0 retries\)/);
    assert.match(r.stdout, /demo: OK/);
  });
});
