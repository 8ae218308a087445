// The README's main job, as a user runs it: `bitnet-fpga demo` builds the board, puts it on
// a pseudo-terminal, runs host/models/tiny-fortunes, generates through the uart backend and checks the cpu
// backend agrees token for token and on every integer result.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('host: the end-to-end demo', function () {
  it('generates through board-sim over a pty, equal to cpu token for token', () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'host/cli/bin.js'), 'demo', '-n', '10', '--seed', '5'], { cwd: ROOT, encoding: 'utf8', timeout: 600_000 });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /tokens \(10\): identical on uart and cpu/);
    assert.match(r.stdout, /integer BitLinear results \(\d+ calls\): identical/);
    assert.match(r.stdout, /final logits: bit-identical/);
    assert.match(r.stdout, /bitnet_perf_offload_print: +link bytes = \d+ out, \d+ in \(\d+ requests, 0 retries\)/);
    assert.match(r.stdout, /demo: OK/);
  });
});
