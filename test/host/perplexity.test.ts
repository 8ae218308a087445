// `perplexity` against the fortunes fixtures' independent reference: bits per byte under each
// activation scheme their READMEs list, read from those READMEs, within 2e-3 on cpu with the
// README's window protocol (-c 128 --chunks 24 --no-bos --score-all); the same measurement
// on the sim board equal (===) to cpu's on the first two windows (PPL_SIM_CHUNKS=n runs n); llama-perplexity's default
// scoring counts; the command line's --json and its refusals.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { perplexityRun, type PerplexityCommandOptions } from '../../host/cli/commands/perplexity.ts';
import { parseBackendSpec } from '../../host/backends/spec.ts';
import type { ActScheme } from '../../host/infer/numerics-names.ts';
import { fixture } from './fixtures.ts';

/**
 * A board that holds all 25,344 tiles, 64 tiles per weight frame and a short frame timeout
 * (board-sim runs idle/4 quiet cycles after each frame: with rtl/board's 65,536 the upload
 * alone took 34 s, with these under 1 s).
 */
const SIM = 'sim:wdepth=32768,stage=64,idle=1024';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The README's "| activations | bits per byte |" rows, by scheme name. */
function readmeBitsPerByte(name: string): Map<ActScheme, number> {
  const text = fs.readFileSync(fixture(name, 'README.md'), 'utf8');
  const rows: [ActScheme, RegExp][] = [
    ['b1.58', /^\| b1\.58: int8 absmax everywhere \| ([\d.]+) \|$/m],
    ['a4.8', /^\| a4\.8 scheme \| ([\d.]+) \|$/m],
    ['int4', /^\| naive: int4 absmax everywhere \| ([\d.]+) \|$/m],
  ];
  return new Map(
    rows.map(([s, re]) => {
      const m = re.exec(text);
      if (!m) throw new Error(`${name}/README.md: no bits-per-byte row for ${s} (${re})`);
      return [s, Number(m[1])];
    }),
  );
}

const protocol = (name: string, o: Partial<PerplexityCommandOptions> = {}): PerplexityCommandOptions => ({
  model: fixture(name),
  file: fixture(name, 'eval.txt'),
  backend: parseBackendSpec('cpu'),
  ctxSize: 128,
  chunks: 24,
  bos: false,
  scoreAll: true,
  batch: 128,
  ...o,
});

describe('host: perplexity against the fortunes fixtures', function () {
  this.timeout(300_000);
  for (const name of ['tiny-fortunes', 'tiny-fortunes-a48']) {
    for (const [scheme, want] of readmeBitsPerByte(name)) {
      it(`${name}, ${scheme}: bits per byte within 2e-3 of the README's ${want} (24 windows of 128, cpu)`, async () => {
        const r = await perplexityRun(protocol(name, { actScheme: scheme }));
        assert.equal(r.result.count, 3072);
        assert.equal(r.result.bytes, 3072);
        assert.equal(r.actScheme, scheme);
        assert.ok(Math.abs(r.result.bitsPerByte - want) <= 2e-3, `bits per byte ${r.result.bitsPerByte}, README ${want}`);
        // One byte per token here: PPL is 2^bpb.
        assert.ok(Math.abs(Math.log2(r.result.ppl) - r.result.bitsPerByte) < 1e-12);
        assert.equal(r.result.running.length, 24);
      });
    }
  }

  it("tiny-fortunes-a48 under its checkpoint's a4.8 scheme: sim board === cpu (PPL, nll, every integer result)", async () => {
    // The README protocol's windows 0 .. n-1 (about 14 s for 2 here).
    const o = { chunks: Number(process.env.PPL_SIM_CHUNKS ?? 2) };
    const cpu = await perplexityRun(protocol('tiny-fortunes-a48', o));
    const sim = await perplexityRun(protocol('tiny-fortunes-a48', { ...o, backend: parseBackendSpec(SIM) }));
    assert.match(sim.backend, /^sim/);
    assert.equal(sim.actScheme, 'a4.8');
    assert.equal(sim.resultsDigest, cpu.resultsDigest);
    assert.deepEqual(sim.result, cpu.result);
  });

  it("llama-perplexity's default: BOS first, the second half of each chunk scored", async () => {
    const r = await perplexityRun(protocol('tiny-fortunes', { ctxSize: 64, chunks: 3, bos: true, scoreAll: false, batch: 20 }));
    assert.equal(r.result.chunks, 3);
    assert.equal(r.result.count, 3 * (64 - 1 - 32));
    // The text's tokens with one BOS first (the tokenizer's own is not doubled).
    assert.equal(r.tokens, fs.statSync(fixture('tiny-fortunes', 'eval.txt')).size + 1);
    assert.ok(r.result.pplError! > 0 && r.result.bitsPerByteError! > 0);
  });

  it('the command prints llama-style lines or one JSON object, and refuses bad flags in one line', () => {
    const bin = path.join(ROOT, 'host/cli/bin.js');
    const F = fixture('tiny-fortunes');
    const run = (args: string[]) => spawnSync(process.execPath, [bin, 'perplexity', '-m', F, '-f', path.join(F, 'eval.txt'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    const text = run(['-c', '32', '--chunks', '2']);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /^\[1\]\d+\.\d{4},\[2\]\d+\.\d{4},\n/);
    assert.match(text.stdout, /Final estimate: PPL = \d+\.\d{4} \+\/- \d+\.\d{5}\n/);
    assert.match(text.stdout, /bits per byte = \d+\.\d{4} \+\/- \d+\.\d{5} \(30 predictions, 30 bytes, 2 chunks of 32\)/);
    const json = run(['-c', '32', '--chunks', '2', '--json', '--kv-bits', '4']);
    assert.equal(json.status, 0, json.stderr);
    const j = JSON.parse(json.stdout) as Record<string, unknown>;
    assert.equal(j.kv_bits, 4);
    assert.equal(j.predictions, 30);
    for (const [args, re] of [
      [['-c', '0'], /^error: -c\/--ctx-size 0: expected an integer from 1 to \d+$/],
      [['-c', '512'], /^error: -c\/--ctx-size 512: the model's context is 256$/],
    ] as const) {
      const r = run([...args]);
      assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr.trim(), re);
    }
  });
});
