// Every bad command-line argument is refused with one line that names the flag, before
// anything loads, and nothing a user points -o/--out at is deleted or overwritten.
//
// The refusals run with PATH=/nonexistent and, for `run`, a model path that does not exist:
// a flag checked only after the model (or the toolchain) was looked for would give another
// message, so these tests also prove the order.

import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'host/cli/bin.js');
/** No toolchain and no model: nothing slow can start by mistake. */
const BARE: NodeJS.ProcessEnv = { ...process.env, PATH: '/nonexistent' };
delete BARE.SEED;
// run's flags fall back to BITNET_ARG_*: none from the shell that runs the tests.
for (const k of Object.keys(BARE)) if (k.startsWith('BITNET_ARG_')) delete BARE[k];

function cli(args: string[], o: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: o.cwd ?? ROOT, env: o.env ?? BARE, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** Exit status 1 (70 is a bug), and stderr is one line starting "error:" matching `re`. */
function refused(args: string[], re: RegExp, o: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): void {
  checkRefusal(args, re, cli(args, o));
}

type CliResult = ReturnType<typeof cli>;
function cliAsync(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 }, (err, out, errText) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, out, err: errText });
    });
  });
}

// Refusals that need nothing made first are spawned ahead, a few at a time, while earlier
// tests run: each spawn is a second of loading, and one after another they took 100 s.
const AHEAD = 3;
const queued: { args: string[]; env: NodeJS.ProcessEnv; result?: Promise<CliResult> }[] = [];
let nextQueued = 0;
function startQueued(): void {
  while (nextQueued < queued.length && queued[nextQueued]!.result) nextQueued++;
  const q = queued[nextQueued++];
  if (!q) return;
  q.result = cliAsync(q.args, q.env);
  void q.result.then(startQueued);
}
/** A test body: `refused(args, re, { env })`, its process started ahead of the test. */
function refusedAhead(args: string[], re: RegExp, env: NodeJS.ProcessEnv = BARE): () => Promise<void> {
  const q: (typeof queued)[number] = { args, env };
  queued.push(q);
  return async () => {
    q.result ??= cliAsync(args, env);
    checkRefusal(args, re, await q.result);
  };
}

/** Several refusals at once, their processes side by side. */
async function refusedAll(cases: readonly (readonly [string[], RegExp])[], env: NodeJS.ProcessEnv = BARE): Promise<void> {
  const results = await Promise.all(cases.map(([args]) => cliAsync(args, env)));
  cases.forEach(([args, re], i) => checkRefusal(args, re, results[i]!));
}

function checkRefusal(args: string[], re: RegExp, r: CliResult): void {
  const what = `${args.map((a) => JSON.stringify(a)).join(' ')}\n${r.out}${r.err}`;
  assert.equal(r.code, 1, `exit status ${r.code}: ${what}`);
  const lines = r.err.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `expected one line: ${what}`);
  assert.match(lines[0]!, /^error: /, what);
  assert.match(lines[0]!, re, what);
}

const tmp = (tag: string): string => mkdtempSync(path.join(os.tmpdir(), `cli-args-${tag}-`));
const NOMODEL = '/nonexistent/model';
/** Help text on one line (commander wraps it at 80 columns). */
const flat = (s: string): string => s.replace(/\s+/g, ' ');

describe('command line: every bad argument is one line naming the flag', function () {
  this.timeout(600_000);
  before(() => {
    for (let i = 0; i < AHEAD; i++) startQueued();
  });

  describe('run: sampling and size flags are checked before the model or backend loads', () => {
    const cases: [string[], RegExp][] = [
      [['--temp', 'NaN'], /^error: --temp NaN: expected a number >= 0$/],
      [['--temp', '-1'], /^error: --temp -1: expected a number >= 0$/],
      [['--temp', '1e3'], /^error: --temp 1e3: expected a number >= 0$/],
      [['--top-p', '2'], /^error: --top-p 2: expected a number above 0 and at most 1$/],
      [['--top-p', '0'], /^error: --top-p 0: expected a number above 0 and at most 1$/],
      [['--top-p', ''], /^error: --top-p "": expected a number above 0/],
      [['--top-k', '-1'], /^error: --top-k -1: expected an integer from 0 to \d+$/],
      [['-n', '-1'], /^error: -n\/--n-predict -1: expected an integer from 0 to 16777216$/],
      [['-n', '1e300'], /^error: -n\/--n-predict 1e300: expected an integer/],
      [['-s', '-1'], /^error: -s\/--seed -1: expected an integer from 0 to 4294967295$/],
      [['--seed', '4294967296'], /^error: -s\/--seed 4294967296: expected an integer from 0 to 4294967295$/],
      [['-c', '0'], /^error: -c\/--ctx-size 0: expected an integer from 1 to 16777216$/],
      [['-c', '1000000000000'], /^error: -c\/--ctx-size 1000000000000: expected an integer from 1 to 16777216$/],
      [['-t', '0'], /^error: -t\/--threads 0: expected an integer from 1 to 1024$/],
      [['-t', '99999'], /^error: -t\/--threads 99999: expected an integer from 1 to 1024$/],
      [['-b', '0'], /^error: -b\/--batch-size 0: expected an integer from 1 to 65536$/],
      [['--head-bits', '4'], /^error: --head-bits 4: expected 16 \(the file's precision\) or 8$/],
      [['--board-manifest', '/nonexistent/board.json'], /^error: --board-manifest \/nonexistent\/board\.json: expected an existing file/],
      [['--board-manifest', '/dev/null'], /^error: --board-manifest \/dev\/null: expected a regular file \(it is a device\)$/],
      [['-dev', 'gpu'], /^error: -dev\/--device\/--backend gpu: unknown backend 'gpu': expected cpu\[:js\]/],
      [['--backend', 'cpu:x'], /^error: -dev\/--device\/--backend cpu:x: backend 'cpu' takes no argument but 'js'/],
      [['--device', 'uart:/dev/ttyUSB1@fast'], /^error: -dev\/--device\/--backend uart:\/dev\/ttyUSB1@fast: backend 'uart': the baud rate after '@' must be an integer from 300 to 62500000, got 'fast'$/],
      [['-dev', 'sim:wdepth=2048,wdepth=4096'], /^error: -dev\/--device\/--backend .*: backend 'sim': parameter wdepth is given twice$/],
      // How the board's parameters relate is checked before the model loads, under the flag's name.
      [['-dev', 'sim:dual4=1,act=4'], /^error: -dev\/--device\/--backend sim:dual4=1,act=4: backend 'sim': dual4=1 with act=4: .* so it needs act=8$/],
      [['--backend', 'sim:wdepth=0x10'], /^error: -dev\/--device\/--backend sim:wdepth=0x10: backend 'sim': parameter 'wdepth=0x10' must be name=integer/],
      // Given again, the flag adds a board: the list is checked as a whole.
      [['-dev', 'sim', '-dev', 'cpu'], /^error: -dev\/--device\/--backend cpu: backend 'cpu' cannot be one of several: a model is split across boards \(sim, uart or pcie\)/],
      [['-dev', 'cpu', '-dev', 'sim'], /^error: -dev\/--device\/--backend sim: backend 'cpu' cannot be one of several: a model is split across boards \(sim, uart or pcie\)/],
      [['-dev', 'uart:/dev/null,uart:/dev/../dev/null'], /^error: -dev\/--device\/--backend uart:\/dev\/null,uart:\/dev\/..\/dev\/null: board 2 \(uart:\/dev\/..\/dev\/null\) is board 1 again; list each board once$/],
      [['-dev', 'sim,uart:/nonexistent/tty'], /^error: -dev\/--device\/--backend sim,uart:\/nonexistent\/tty: backend 'uart': there is no serial port \/nonexistent\/tty \(no such file\)$/],
    ];
    for (const [flag, re] of cases) {
      it(`run ${flag.join(' ')}`, refusedAhead(['run', '-m', NOMODEL, '--tokens', '1', ...flag], re));
    }

    // The sim backend's parameters are the board's, checked against its table as generate checks them.
    for (const name of ['foo', '__proto__', 'constructor']) {
      it(`run -dev sim:${name}=1`, refusedAhead(['run', '-m', NOMODEL, '--tokens', '1', '-dev', `sim:${name}=1`], new RegExp(`^error: -dev/--device/--backend sim:${name}=1: backend 'sim': core 'board' has no parameter '${name}'; its parameters: rows, cols`)));
    }
    it('run --backend sim:wdepth=3 (out of range)', refusedAhead(['run', '-m', NOMODEL, '--tokens', '1', '--backend', 'sim:wdepth=3'], /^error: -dev\/--device\/--backend sim:wdepth=3: backend 'sim': core 'board': parameter wdepth=3 is not allowed; .* a power of two$/));

    // Token ids are plain decimal integers, at least one.
    for (const [ids, item] of [['', '""'], [',,,', '""'], ['0x10', '0x10'], ['1e2', '1e2'], [' 7', '" 7"'], ['7.0', '7.0'], ['-1', '-1']] as const) {
      it(`run --tokens ${JSON.stringify(ids)}`, refusedAhead(['run', '-m', NOMODEL, `--tokens=${ids}`], new RegExp(`^error: --tokens .*: expected comma-separated token ids, each a plain decimal integer >= 0 \\(e\\.g\\. 1,17,42\\); item \\d+ is ${item}$`)));
    }

    it('run with both -p and --tokens, or --chat with --tokens, or neither', () => {
      refused(['run', '-m', NOMODEL, '--tokens', '1', '-p', 'hi'], /^error: pass either -p\/--prompt or --tokens, not both$/);
      refused(['run', '-m', NOMODEL, '--tokens', '1', '--chat'], /^error: --chat wraps a text prompt \(-p\) in the chat format; it does not apply to --tokens$/);
      refused(['run', '-m', NOMODEL], /^error: pass a prompt \(-p "…"\) or token ids \(--tokens 1,17,42\)$/);
    });

    it("commander's own refusals are one line too: unknown option, missing value", () => {
      refused(['run', '-m', NOMODEL, '--tokens', '1', '--top-q', '1'], /^error: unknown option '--top-q'/);
      refused(['run', '-m'], /^error: option '-m, --model <path>' argument missing$/);
      refused(['run', '--tokens', '1'], /^error: required option '-m, --model <path>' not specified$/);
    });

    it('a serial port that does not exist is named before the model loads', () => refused(['run', '-m', NOMODEL, '--tokens', '1', '-dev', 'uart:/nonexistent/tty'], /^error: -dev\/--device\/--backend uart:\/nonexistent\/tty: backend 'uart': there is no serial port \/nonexistent\/tty \(no such file\)$/));

    it('a prompt the tokenizer makes no tokens of names -p (it was a RangeError from generate)', () => {
      const dir = tmp('empty');
      assert.equal(cli(['make-model', '-o', dir, '--hidden', '16', '--heads', '2', '--kv-heads', '1', '--intermediate', '32', '--layers', '1']).code, 0);
      // Without the post-processor no <s> is added, so '' is no tokens at all.
      const file = path.join(dir, 'tokenizer.json');
      writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), post_processor: null }));
      refused(['run', '-m', dir, '-p', '', '-n', '1'], /^error: -p\/--prompt "": the tokenizer makes no tokens of it; give some text$/);
    });

    it('an id from -p outside the vocabulary names -p, not --tokens', () => {
      const dir = tmp('vocab');
      const m = cli(['make-model', '-o', dir, '--hidden', '16', '--heads', '2', '--kv-heads', '1', '--intermediate', '32', '--layers', '1']);
      assert.equal(m.code, 0, m.err);
      // A tokenizer with one more token than the checkpoint has rows for.
      const file = path.join(dir, 'tokenizer.json');
      const t = JSON.parse(readFileSync(file, 'utf8')) as { added_tokens: object[]; model: { vocab: Record<string, number> } };
      t.added_tokens.push({ id: 400, content: '<big>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
      t.model.vocab['<big>'] = 400;
      writeFileSync(file, JSON.stringify(t));
      refused(['run', '-m', dir, '-p', 'a<big>', '-n', '1'], /^error: -p\/--prompt: the tokenizer gave id 400, outside the model's vocabulary \(0\.\.257\); the tokenizer does not belong to this model$/);
    });
  });

  describe("one spelling, llama.cpp's: -p prompt, -G parameters, -b batch size, --backend/-dev, BITNET_ARG_*, --version, defaults in --help", () => {
    let model = '';
    before(() => {
      model = path.join(tmp('spell'), 'model');
      const m = cli(['make-model', '-o', model, '--hidden', '16', '--heads', '2', '--kv-heads', '1', '--intermediate', '32', '--layers', '1']);
      assert.equal(m.code, 0, m.err);
    });
    /** run --json on the small model; the JS kernel, so no native build is involved. */
    const runJson = (args: string[], env: NodeJS.ProcessEnv = BARE): { prompt_ids: number[]; generated_ids: number[]; backend: string; seed: number; timings: { forwardPasses: number } } => {
      const r = cli(['run', ...args, '--temp', '0', '--json'], { env });
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.err}`);
      return JSON.parse(r.out) as never;
    };

    it('-p is the prompt in run (and -dev after -p is the prompt, not a flag) and in demo', () => {
      const g = runJson(['-m', model, '-p', 'Hi there', '-n', '2', '-dev', 'cpu:js']);
      assert.ok(g.prompt_ids.length >= 8, `prompt ids ${g.prompt_ids.join(',')}`);
      assert.equal(g.generated_ids.length, 2);
      const dev = runJson(['-m', model, '-n', '1', '--backend', 'cpu:js', '-p', '-dev']);
      assert.ok(dev.prompt_ids.length >= 4, 'the text "-dev" was tokenized');
      // demo -p takes a value (its model is looked for first, so nothing slow starts).
      refused(['demo', '-p', 'Hello', '-m', NOMODEL], /^error: \/nonexistent\/model: no such file or directory/);
      refused(['demo', '-p'], /^error: option '-p, --prompt <text>' argument missing$/);
    });

    it('-b/--batch-size is the prompt batch size; -b with a backend spec says where the backend went; --batch is gone', () => {
      const one = runJson(['-m', model, '-p', 'Hi there', '-n', '0', '-dev', 'cpu:js', '-b', '1']);
      assert.equal(one.timings.forwardPasses, one.prompt_ids.length, 'one prompt token per forward pass');
      const all = runJson(['-m', model, '-p', 'Hi there', '-n', '0', '-dev', 'cpu:js', '--batch-size', '64']);
      assert.equal(all.timings.forwardPasses, 1);
      refused(['run', '-m', NOMODEL, '--tokens', '1', '-b', 'uart:/dev/ttyUSB1'], /^error: -b\/--batch-size uart:\/dev\/ttyUSB1: expected an integer from 1 to 65536 \(-b is the prompt batch size, as in llama\.cpp; the backend is -dev\/--device\/--backend\)$/);
      refused(['run', '-m', NOMODEL, '--tokens', '1', '--batch', '8'], /^error: unknown option '--batch' \(the prompt batch size is -b\/--batch-size, as in llama\.cpp\)$/);
    });

    it('--backend, --device and -dev select the backend; a pcie: prefix without devices is refused before the model loads', () => {
      for (const flag of ['--backend', '--device', '-dev']) assert.equal(runJson(['-m', model, '--tokens', '1', '-n', '1', flag, 'cpu:js']).backend, 'cpu (js)', flag);
      refused(['run', '-m', NOMODEL, '--tokens', '1', '--backend', 'pcie:/nonexistent/xdma0'], /^error: -dev\/--device\/--backend pcie:\/nonexistent\/xdma0: backend 'pcie': \/nonexistent\/xdma0_user: no such device \(the AXI4-Lite register device\); is the XDMA driver loaded \(modprobe xdma\)/);
      refused(['run', '-m', NOMODEL, '--tokens', '1', '-dev'], /^error: option '-dev, --device, --backend <spec>' argument missing$/);
    });

    it('-G and --param are the parameters of generate, check, synth, build and board-sim; -p there says so', async () => {
      const out = tmp('spell-gen');
      const r = cli(['generate', 'fifo', '-G', 'width=12', '--param', 'depth=8', '-o', out]);
      assert.equal(r.code, 0, r.err);
      assert.ok(existsSync(path.join(out, 'fifo_12x8.v')));
      const notP = /^error: unknown option '-p' \(parameters are -G name=value or --param name=value, as in Verilator; -p is the prompt of run and demo\)$/;
      await refusedAll([
        [['check', 'counter', '-G', 'nosuch=1'], /^error: core 'counter' has no parameter 'nosuch'/],
        [['synth', '--target', 'xilinx', '--param', 'nosuch=1'], /^error: core 'ternary' has no parameter 'nosuch'/],
        [['build', '--board', 'icebreaker', '-G', 'rows=3'], /^error: core 'icebreaker': parameter rows=3 is not allowed/],
        [['board-sim', '--pty', '--param', 'nosuch=1'], /^error: board-sim: -G nosuch=1: core 'board' has no parameter 'nosuch'/],
        [['board-sim', '--xdma', tmp('spell-xdma'), '-G', 'nosuch=1'], /^error: board-sim: -G nosuch=1: core 'xdma' has no parameter 'nosuch'/],
        [['sim-build', 'test/verilog/widths.v', '--top', 'widths', '--param', 'junk'], /^error: -G\/--param junk: expected NAME=VALUE, e\.g\. -G WIDTH=8$/],
        ...[['generate', 'fifo', '-o', out], ['check', 'counter'], ['synth', '--target', 'xilinx'], ['build', '--board', 'icebreaker'], ['board-sim', '--pty']].map((cmd): [string[], RegExp] => [[...cmd, '-p', 'width=8'], notP]),
      ]);
    });

    it('BITNET_ARG_* stand for run\'s flags (a flag given wins); a bad value names the variable', () => {
      const env = { ...BARE, BITNET_ARG_MODEL: model, BITNET_ARG_BACKEND: 'cpu:js', BITNET_ARG_N_PREDICT: '3', BITNET_ARG_SEED: '7', BITNET_ARG_BATCH_SIZE: '1', BITNET_ARG_THREADS: '1', BITNET_ARG_CTX_SIZE: '64' };
      const g = runJson(['-p', 'Hi'], env);
      assert.equal(g.backend, 'cpu (js)');
      assert.equal(g.generated_ids.length, 3);
      assert.equal(g.seed, 7);
      assert.equal(g.timings.forwardPasses, g.prompt_ids.length + 2, 'batch size 1: one forward pass per prompt token, then one per generated token after the first');
      assert.equal(runJson(['-p', 'Hi', '-n', '1'], env).generated_ids.length, 1, '-n beats BITNET_ARG_N_PREDICT');
      refused(['run', '-m', NOMODEL, '--tokens', '1'], /^error: \$BITNET_ARG_THREADS 0: expected an integer from 1 to 1024 \(it sets -t\/--threads\)$/, { env: { ...BARE, BITNET_ARG_THREADS: '0' } });
      refused(['run', '-m', NOMODEL, '--tokens', '1'], /^error: \$BITNET_ARG_N_PREDICT 1e3: expected an integer from 0 to 16777216 \(it sets -n\/--n-predict\)$/, { env: { ...BARE, BITNET_ARG_N_PREDICT: '1e3' } });
      refused(['run', '-m', NOMODEL, '--tokens', '1'], /^error: \$BITNET_ARG_BACKEND gpu: unknown backend 'gpu': expected cpu\[:js\]/, { env: { ...BARE, BITNET_ARG_BACKEND: 'gpu' } });
      refused(['run', '-m', NOMODEL, '--tokens', '1'], /^error: \$BITNET_ARG_BACKEND uart:\/nonexistent\/tty: backend 'uart': there is no serial port \/nonexistent\/tty/, { env: { ...BARE, BITNET_ARG_BACKEND: 'uart:/nonexistent/tty' } });
      // The flag given wins over a bad variable, which is then not read.
      refused(['run', '-m', NOMODEL, '--tokens', '1', '-t', '1'], /^error: \/nonexistent\/model: no such file or directory/, { env: { ...BARE, BITNET_ARG_THREADS: '0' } });
    });

    it('--version prints the package version and the link protocol, exit 0', () => {
      const r = cli(['--version']);
      const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, new RegExp(`^bitnet-fpga ${version.replace(/\./g, '\\.')} \\(link protocol \\d+(, commit [0-9a-f]{12})?\\)\n$`));
      assert.equal(r.err, '');
    });

    it('--help shows each default, range and variable; every command\'s help is one parenthesis per option', () => {
      const run = cli(['run', '--help']);
      assert.equal(run.code, 0, run.err);
      const h = flat(run.out);
      for (const line of [
        '-m, --model <path> a Hugging Face model directory',
        '-dev, --device, --backend <spec> where every BitLinear runs: cpu[:js] | sim[:k=v,...] | uart:PATH[@BAUD] | pcie:DEVICE_PREFIX; a comma-separated list, or the flag given again, splits the model across boards by layers (default: cpu, env: BITNET_ARG_BACKEND)',
        '-n, --n-predict <n> tokens to generate (0..16777216, default: 32, env: BITNET_ARG_N_PREDICT)',
        '-b, --batch-size <n> prompt tokens per forward pass (1..65536, default: 32, env: BITNET_ARG_BATCH_SIZE)',
        '-t, --threads <n> threads for the cpu backend and the host (1..1024, default: every core, env: BITNET_ARG_THREADS)',
        '-s, --seed <n> sampling seed (0..4294967295, default: random, printed, env: BITNET_ARG_SEED)',
        "(default: rtl/board's; rtl/xdma's for pcie)",
        'env: BITNET_ARG_MODEL',
        'env: BITNET_ARG_CTX_SIZE',
      ]) {
        assert.ok(h.includes(line), `run --help lacks ${JSON.stringify(line)}:\n${run.out}`);
      }
      assert.ok(flat(cli(['demo', '--help']).out).includes('-p, --prompt <text> prompt text; needs a tokenizer: tokenizer.json, or the vocabulary in a .gguf (default: "A man who ")'));
      for (const cmd of ['generate', 'check', 'synth', 'build', 'board-sim', 'sim-build']) assert.match(flat(cli([cmd, '--help']).out), /-G, --param <name=value> [^(]*\(repeatable/, cmd);
      for (const cmd of [[], ['generate'], ['check'], ['doctor'], ['synth'], ['build'], ['board-sim'], ['sim-build'], ['bench'], ['run'], ['perplexity'], ['make-model'], ['demo']]) {
        const r = cli([...cmd, '--help']);
        assert.equal(r.code, 0, `${cmd.join(' ')} --help: ${r.err}`);
        assert.doesNotMatch(flat(r.out), /\) \(/, `${cmd.join(' ')} --help has two parentheses in a row:\n${r.out}`);
      }
    });
  });

  describe('parameters: names are the core\'s own, values plain decimal integers', () => {
    const out = (): string => tmp('param');
    for (const name of ['__proto__', 'constructor', 'toString']) {
      it(`generate fifo -G ${name}=1`, () => refused(['generate', 'fifo', '-G', `${name}=1`, '-o', out()], new RegExp(`^error: core 'fifo' has no parameter '${name}'; its parameters: width, depth$`)));
    }
    it('check and synth -p __proto__=1 / constructor=1 (synth ran Yosys with it)', () => {
      refused(['check', 'counter', '--param', '__proto__=1'], /^error: core 'counter' has no parameter '__proto__'/);
      refused(['synth', '--target', 'xilinx', '-G', 'constructor=1'], /^error: core 'ternary' has no parameter 'constructor'/);
    });
    for (const v of ['0x10', '1e1', ' 8', '8.0', '']) {
      it(`generate fifo -G width=${JSON.stringify(v)}`, () => refused(['generate', 'fifo', '-G', `width=${v}`, '-o', out()], /^error: core 'fifo': parameter width=.* is not allowed; width \(word width in bits\) must be an integer from 1 to 1024$/));
    }
    it('a parameter given twice, a malformed one, the ternary --rows flag, an unknown core or board', () => {
      refused(['generate', 'fifo', '-G', 'width=8', '-G', 'width=9', '-o', out()], /^error: -G\/--param width=9: width is given twice$/);
      refused(['generate', 'fifo', '-G', '=8', '-o', out()], /^error: -G\/--param =8: expected NAME=VALUE, e\.g\. --param width=8$/);
      refused(['synth', '--target', 'xilinx', '--rows', '0x10'], /^error: core 'ternary': parameter rows=0x10 is not allowed/);
      refused(['generate', 'constructor', '-o', out()], /^error: unknown core 'constructor'; available: counter, fifo/);
      refused(['build', '--board', 'constructor'], /^error: build: unknown board 'constructor'; known boards: icebreaker, arty-a7, kc705$/);
      refused(['bench', 'constructor'], /^error: unknown bench suite 'constructor'; available: hdl/);
    });
  });

  describe('other commands: sizes have bounds, choices are named', () => {
    const cases: [string[], RegExp, NodeJS.ProcessEnv?][] = [
      [['check', 'counter', '--cycles', '1000000000000'], /^error: --cycles 1000000000000: expected an integer from 2 to 100000$/],
      [['check', 'counter', '--cycles', '-1'], /^error: --cycles -1: expected an integer from 2 to 100000$/],
      [['check', 'counter', '--seed', 'abc'], /^error: --seed abc: expected an integer from 0 to 4294967295$/],
      [['check', 'counter'], /^error: \$SEED 0x1: expected an integer from 0 to 4294967295 \(or pass --seed\)$/, { ...BARE, SEED: '0x1' }],
      [['bench', 'hdl', '--pes', '1000000000'], /^error: --pes 1000000000: expected an integer from 4 to 16384$/],
      // --host-baud 1 made every simulation step millions of cycles long; 0x10 passed Number().
      [['board-sim', '--pty', '--phy', '--host-baud', '0x10'], /^error: --host-baud 0x10: expected an integer from 300 to 62500000$/],
      [['board-sim', '--pty', '--phy', '--host-baud', '1'], /^error: --host-baud 1: expected an integer from 300 to 62500000$/],
      [['synth', '--target', 'vivado'], /^error: --target vivado: expected xilinx \(7-series, synth_xilinx\) or ice40/],
      [['synth', '--target', 'ice40', '--seed', '2147483648'], /^error: --seed 2147483648: expected an integer from 0 to 2147483647$/],
      [['synth', '--target', 'ice40', '-G', 'jmax=2'], /^error: --target ice40 with jmax=2: the table-lookup array is built from Xilinx LUT6_2\/LUT5\/CARRY4 cells, which the iCE40 does not have/],
      [['synth', '--target', 'xilinx', '--seed', '2'], /^error: --seed 2: needs --target ice40 \(it is nextpnr-ice40's placer seed; synth_xilinx does not place\)$/],
      [['sim-build', '--waves', 'x'], /^error: --waves x: expected vcd or fst$/],
      [['sim-build', '--manifest', '/nonexistent/x.manifest.json'], /^error: --manifest \/nonexistent\/x\.manifest\.json: expected an existing file/],
      [['build', '--board', 'icebreaker', '--seed', '-1'], /^error: --seed -1: expected an integer from 0 to 2147483647$/],
      [['demo', '-n', 'abc'], /^error: -n\/--n-predict abc: expected an integer from 0 to 16777216$/],
      [['demo', '-s', '-1'], /^error: -s\/--seed -1: expected an integer from 0 to 4294967295$/],
      [['demo', '-m', '/nonexistent/model'], /^error: \/nonexistent\/model: no such file or directory/],
      [['generate', '--all', '-o', '/tmp/x'], /^error: generate --all takes no -o\/--out$/],
      [['generate', '--all', '--source-comments'], /^error: generate --all takes no --source-comments$/],
      [['generate', 'fifo', '--list'], /^error: generate --list takes no core \('fifo'\)$/],
    ];
    for (const [args, re, env] of cases) it(args.join(' '), refusedAhead(args, re, env));
  });

  describe('make-model: bounded sizes', () => {
    const cases: [string[], RegExp][] = [
      [['--hidden', '1000000000'], /^error: --hidden 1000000000: expected an integer from 4 to 8192$/],
      [['--hidden', 'NaN'], /^error: --hidden NaN: expected an integer from 4 to 8192$/],
      [['--hidden', ''], /^error: --hidden "": expected an integer from 4 to 8192$/],
      [['--layers', '100000'], /^error: --layers 100000: expected an integer from 1 to 256$/],
      [['--heads', '0'], /^error: --heads 0: expected an integer from 1 to 256$/],
      [['--kv-heads', '-2'], /^error: --kv-heads -2: expected an integer from 1 to 256$/],
      [['--intermediate', '4000000000'], /^error: --intermediate 4000000000: expected an integer from 4 to 65536$/],
      [['--vocab', '1e9', '--no-tokenizer'], /^error: --vocab 1e9: expected an integer from 2 to 1048576$/],
      [['--ctx', '1e12'], /^error: --ctx 1e12: expected an integer from 1 to 16777216$/],
      [['--seed', '-1'], /^error: --seed -1: expected an integer from 0 to 4294967295$/],
      // Each flag within its bound, the model too large: the flags that size it are named.
      [['--hidden', '8192', '--vocab', '1048576', '--no-tokenizer'], /^error: make-model: --hidden 8192, --layers 2, --intermediate 160, --vocab 1048576 make a \d+ MiB model; make-model writes at most 256 MiB/],
      [['--hidden', '30', '--heads', '4'], /^error: make-model: --hidden 30 must be --heads 4 x an even head size$/],
    ];
    for (const [flags, re] of cases) {
      it(`make-model ${flags.join(' ')}`, () => {
        const dir = path.join(tmp('mm'), 'model');
        refused(['make-model', '-o', dir, ...flags], re);
        assert.equal(existsSync(dir), false, 'nothing written');
      });
    }
  });

  describe('-o/--out: a file, a path through a file, a directory holding the user\'s files', () => {
    for (const cmd of [['generate', 'fifo'], ['make-model'], ['build', '--board', 'icebreaker']]) {
      it(`${cmd[0]} -o FILE and -o /dev/null/x`, () => {
        const file = path.join(tmp('file'), 'notes.txt');
        writeFileSync(file, 'keep me');
        refused([...cmd, '-o', file], new RegExp(`^error: -o/--out ${file.replace(/[.]/g, '\\.')}: expected a directory \\(it is a regular file\\)$`));
        refused([...cmd, '-o', path.join(file, 'x')], /^error: -o\/--out .*notes\.txt\/x: expected a directory to create, but .*notes\.txt is a regular file, not a directory$/);
        refused([...cmd, '-o', '/dev/null/x'], /^error: -o\/--out \/dev\/null\/x: expected a directory to create, but \/dev\/null is a device, not a directory$/);
        // Node's recursive mkdir never returned for this one.
        refused([...cmd, '-o', '/proc/bitnet-fpga-x'], /^error: -o\/--out \/proc\/bitnet-fpga-x: cannot create \/proc\/bitnet-fpga-x \([A-Z]+\)$/);
        assert.equal(readFileSync(file, 'utf8'), 'keep me');
      });
    }
    it('board-sim --xdma DIR that cannot be a directory (under /proc Node\'s mkdir never returned)', () => {
      const file = path.join(tmp('xdma'), 'notes.txt');
      writeFileSync(file, 'keep me');
      refused(['board-sim', '--xdma', '/proc/bitnet-fpga-x'], /^error: --xdma \/proc\/bitnet-fpga-x: cannot create \/proc\/bitnet-fpga-x \([A-Z]+\)$/);
      refused(['board-sim', '--xdma', path.join(file, 'x')], /^error: --xdma .*notes\.txt\/x: cannot create .*notes\.txt\/x \(ENOTDIR\)$/);
    });

    it('build --seed abc leaves DIR/rtl alone (it was deleted before --seed was read)', () => {
      const out = tmp('build-seed');
      mkdirSync(path.join(out, 'rtl'));
      writeFileSync(path.join(out, 'rtl', 'notes.txt'), 'keep me');
      refused(['build', '--board', 'icebreaker', '-o', out, '--seed', 'abc'], /^error: --seed abc: expected an integer from 0 to 2147483647$/);
      assert.deepEqual(readdirSync(out), ['rtl']);
      assert.equal(readFileSync(path.join(out, 'rtl', 'notes.txt'), 'utf8'), 'keep me');
    });

    it('build refuses a DIR/rtl it did not write (and a checkout with -o .), before the toolchain is looked for', () => {
      const out = tmp('build-user');
      mkdirSync(path.join(out, 'rtl'));
      writeFileSync(path.join(out, 'rtl', 'notes.txt'), 'keep me');
      writeFileSync(path.join(out, 'rtl', 'top.v'), 'module top; endmodule\n');
      refused(['build', '--board', 'icebreaker', '-o', out], /^error: build: -o\/--out .*: .*\/rtl holds files bitnet-fpga did not generate \(notes\.txt, top\.v\); refusing to replace it/);
      assert.deepEqual(readdirSync(path.join(out, 'rtl')).sort(), ['notes.txt', 'top.v']);
      assert.deepEqual(readdirSync(out), ['rtl'], 'no staging directory left');
      // A checkout: rtl/ holds one directory per design.
      const checkout = tmp('build-checkout');
      mkdirSync(path.join(checkout, 'rtl', 'fifo'), { recursive: true });
      writeFileSync(path.join(checkout, 'rtl', 'fifo', 'fifo.v'), '// Generated by bitnet-fpga 0.1.0 from TypeScript; do not edit by hand.\n');
      refused(['build', '--board', 'icebreaker', '-o', '.'], /^error: build: -o\/--out \.: rtl holds a file bitnet-fpga did not generate \(fifo\); refusing to replace it/, { cwd: checkout });
      assert.equal(existsSync(path.join(checkout, 'rtl', 'fifo', 'fifo.v')), true);
      // A first build into a directory that has the flow's output names already.
      const logs = tmp('build-logs');
      writeFileSync(path.join(logs, 'yosys.log'), 'my notes');
      refused(['build', '--board', 'icebreaker', '-o', logs], /^error: build: -o\/--out .*: it holds yosys\.log but no rtl\/ from an earlier build; refusing to replace it/);
      assert.equal(readFileSync(path.join(logs, 'yosys.log'), 'utf8'), 'my notes');
    });

    it('build replaces the rtl/ of an earlier build through a staging directory', () => {
      const out = tmp('build-again');
      mkdirSync(path.join(out, 'rtl'));
      const old = path.join(out, 'rtl', 'old_top.v');
      writeFileSync(old, '// Generated by bitnet-fpga 0.1.0 from TypeScript; do not edit by hand.\nmodule old_top; endmodule\n');
      // Without yosys the flow stops at its first step, after rtl/ was written.
      const r = cli(['build', '--board', 'icebreaker', '-o', out]);
      assert.equal(r.code, 1, r.err);
      assert.match(r.err, /^error: yosys not found/);
      const files = readdirSync(path.join(out, 'rtl')).sort();
      assert.ok(files.includes('icebreaker_top.manifest.json') && files.includes('icebreaker_top.v'), files.join(', '));
      assert.equal(existsSync(old), false, 'the earlier build\'s design is replaced, not merged');
      assert.deepEqual(readdirSync(out), ['rtl'], 'no staging directory left');
    });

    it('generate refuses to overwrite a hand-written file of an output name, and replaces its own', () => {
      const out = tmp('gen');
      writeFileSync(path.join(out, 'fifo_12x8.v'), 'module fifo_12x8; // mine\nendmodule\n');
      refused(['generate', 'fifo', '-G', 'width=12', '-G', 'depth=8', '-o', out], /^error: generate: -o\/--out .*: fifo_12x8\.v exists and was not written by bitnet-fpga; refusing to overwrite it/);
      assert.match(readFileSync(path.join(out, 'fifo_12x8.v'), 'utf8'), /mine/);
      const again = tmp('gen-again');
      writeFileSync(path.join(again, 'notes.txt'), 'keep me');
      for (let i = 0; i < 2; i++) {
        const r = cli(['generate', 'fifo', '-G', 'width=12', '-G', 'depth=8', '-o', again]);
        assert.equal(r.code, 0, r.err);
      }
      assert.deepEqual(readdirSync(again).sort(), ['fifo_12x8.manifest.json', 'fifo_12x8.ports.ts', 'fifo_12x8.v', 'notes.txt'], 'written by rename, no staging directory left');
      assert.equal(readFileSync(path.join(again, 'notes.txt'), 'utf8'), 'keep me');
    });

    it("make-model refuses a directory with someone else's model, and replaces its own", () => {
      const out = tmp('mm-user');
      writeFileSync(path.join(out, 'config.json'), '{"model_type": "llama"}');
      refused(['make-model', '-o', out], /^error: make-model: -o\/--out .*: holds config\.json that make-model did not write; refusing to overwrite them/);
      assert.equal(readFileSync(path.join(out, 'config.json'), 'utf8'), '{"model_type": "llama"}');
      assert.deepEqual(readdirSync(out), ['config.json']);
      const own = tmp('mm-own');
      const small = ['--hidden', '16', '--heads', '2', '--kv-heads', '1', '--intermediate', '32', '--layers', '1'];
      assert.equal(cli(['make-model', '-o', own, ...small]).code, 0);
      const r = cli(['make-model', '-o', own, ...small, '--no-tokenizer', '--vocab', '32']);
      assert.equal(r.code, 0, r.err);
      // The earlier tokenizer (258 tokens) would not match the new 32-token model: it is removed.
      assert.deepEqual(readdirSync(own).sort(), ['config.json', 'model.safetensors']);
    });
  });
});
