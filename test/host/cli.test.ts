// `run` and `make-model` from the command line: --json output against the fixture's
// greedy tokens and logits, text in and out through a made model's tokenizer, timings in
// llama.cpp's layout, and one clear message for bad input.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expected, fixture } from './fixtures.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'host/cli/bin.js');
const cli = (args: string[]): { code: number; out: string; err: string } => {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
};

describe('host: run and make-model on the command line', function () {
  it('run --json --tokens reproduces the fixture: greedy tokens and final logits', () => {
    const ex = expected('tiny-bitnet-c');
    const r = cli(['run', '-m', fixture('tiny-bitnet-c', 'model-tq1_0.gguf'), '--tokens', ex.token_ids.join(','), '-n', '8', '--temp', '0', '--json']);
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out) as { prompt_ids: number[]; generated_ids: number[]; last_logits: number[]; timings: Record<string, number> };
    assert.deepEqual(j.prompt_ids, ex.token_ids);
    assert.deepEqual(j.generated_ids, ex.greedy_new_tokens);
    assert.equal(j.last_logits.length, 256);
    assert.ok(j.timings.promptMs! > 0 && j.timings.evalRuns === 7);
  });

  it('make-model, then run with a text prompt streams text and prints llama.cpp-style timings', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mm-'));
    const m = cli(['make-model', '--out', dir, '--hidden', '32', '--layers', '1', '--heads', '2', '--kv-heads', '1', '--intermediate', '64', '--seed', '4']);
    assert.equal(m.code, 0, m.err);
    assert.match(m.out, /make-model: wrote .* \(hidden 32, 1 layers, 2 heads \/ 1 kv, FFN 64, vocab 258, seed 4\)/);
    const r = cli(['run', '-m', dir, '-p', 'Hi there', '-n', '12', '--seed', '9']);
    assert.equal(r.code, 0, r.err);
    assert.ok(r.out.length > 0, 'generated text on stdout');
    assert.match(r.err, /seed = 9/);
    assert.match(r.err, /prompt eval time = +[\d.]+ ms \/ +9 tokens \( +[\d.]+ ms per token, +[\d.]+ tokens per second\)/);
    assert.match(r.err, /eval time = +[\d.]+ ms \/ +11 runs/);
    assert.match(r.err, /backend = cpu/);
    const again = cli(['run', '-m', dir, '-p', 'Hi there', '-n', '12', '--seed', '9']);
    assert.equal(again.out, r.out, 'same seed, same text');
  });

  for (const [args, message] of [
    [['run', '-m', '/nonexistent/model', '--tokens', '1'], /error: \/nonexistent\/model: no such file or directory/],
    [['run', '-m', 'FIXTURE_A', '-p', 'hello'], /no tokenizer \(looked for .*tokenizer\.json\); pass token ids with --tokens/],
    [['run', '-m', 'FIXTURE_A', '--tokens', '1,999'], /--tokens: id 999 is outside the vocabulary \(0\.\.255\)/],
    [['run', '-m', 'FIXTURE_A', '--tokens', '1', '--backend', 'gpu'], /unknown backend 'gpu'/],
    [['run', '-m', 'FIXTURE_A', '--tokens', '1', '-dev', 'pcie:/nonexistent/xdma0'], /\/nonexistent\/xdma0_user: no such device .*modprobe xdma/],
    [['make-model', '--out', '/tmp/x', '--hidden', '30', '--heads', '4'], /--hidden 30 must be --heads 4 x an even head size/],
  ] as [string[], RegExp][]) {
    it(`refuses: ${args.join(' ')}`, () => {
      const r = cli(args.map((a) => (a === 'FIXTURE_A' ? fixture('tiny-bitnet-a') : a)));
      assert.notEqual(r.code, 0);
      assert.match(r.err, message);
      assert.doesNotMatch(r.err, /^\s+at .+:\d+:\d+\)?$/m, 'no stack trace');
    });
  }
});
