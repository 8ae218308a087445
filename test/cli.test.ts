// The command line: useful output, and for bad input one clear message and a non-zero exit,
// never a stack trace.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'host/cli/bin.js');

function cli(args: string[], env: NodeJS.ProcessEnv = process.env): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

function noStack(text: string): void {
  assert.doesNotMatch(text, /^\s+at .+:\d+:\d+\)?$/m, `stack trace in output:\n${text}`);
}

describe('bitnet-fpga CLI', () => {
  it('generate --list shows the cores with parameter ranges', () => {
    const r = cli(['generate', '--list']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^counter /m);
    assert.match(r.out, /depth\s+default 16\s+2\.\.65536 \(power of two\)/);
  });

  it('generate writes Verilog, a manifest and the port types', () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'gen-'));
    const r = cli(['generate', 'fifo', '--param', 'width=12', '--param', 'depth=8', '--out', out]);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(readdirSync(out).sort(), ['fifo_12x8.manifest.json', 'fifo_12x8.ports.ts', 'fifo_12x8.v']);
  });

  it('generate -G is --param (Verilator\'s spelling): the same design, the same content hash', () => {
    const hash = (flag: string): string => {
      const out = mkdtempSync(path.join(os.tmpdir(), 'gen-G-'));
      const r = cli(['generate', 'fifo', flag, 'width=12', flag, 'depth=8', '--out', out]);
      assert.equal(r.code, 0, r.err);
      return /content hash ([0-9a-f]+)/.exec(r.out)![1]!;
    };
    assert.equal(hash('-G'), hash('--param'));
  });

  it('--version: one line, exit 0; the top-level help lists it', () => {
    const r = cli(['--version']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^bitnet-fpga \d+\.\d+\.\d+ \(link protocol \d+(, commit [0-9a-f]{12})?\)\n$/);
    assert.match(cli(['--help']).out, /--version\s+print the version/);
  });

  for (const [args, message] of [
    [['generate', 'nosuchcore', '--out', '/tmp/x'], /error: unknown core 'nosuchcore'; available: counter, fifo/],
    [['generate', 'fifo', '--param', 'depth=3', '--out', '/tmp/x'], /parameter depth=3 is not allowed; depth \(.*\) must be an integer from 2 to 65536, a power of two/],
    [['generate', 'fifo', '--param', 'widht=8', '--out', '/tmp/x'], /core 'fifo' has no parameter 'widht'; its parameters: width, depth/],
    [['generate', 'fifo', '--param', 'width', '--out', '/tmp/x'], /-G\/--param width: expected NAME=VALUE/],
    [['generate', 'fifo'], /--out DIR is required/],
    [['bench', 'nosuchsuite'], /unknown bench suite 'nosuchsuite'/],
    [['generate', 'ternary', '--param', 'rows=0', '--out', '/tmp/x'], /parameter rows=0 is not allowed; rows \(K lanes.*\) must be an integer from 1 to 64, a power of two/],
    [['generate', 'ternary', '--param', 'format=3', '--out', '/tmp/x'], /parameter format=3 is not allowed; format \(weight storage.*\) must be one of 2, 5/],
    [['generate', 'ternary', '--param', 'kmax=2560', '--param', 'acc=16', '--out', '/tmp/x'], /acc=16: an accumulator of 16 bits could overflow at K=kmax=2560 with int8 activations .* it needs at least 20 bits, or lower kmax to 255/],
    [['generate', 'ternary', '--param', 'jmax=3', '--out', '/tmp/x'], /parameter jmax=3 is not allowed; jmax \(the table-lookup array.*\) must be an integer from 0 to 64, a power of two/],
    [['generate', 'ternary', '--param', 'jmax=16', '--param', 'dram=512', '--out', '/tmp/x'], /jmax=16 with dram=512: the table-lookup array reads its weights from block RAM only/],
    [['generate', 'icebreaker', '--param', 'jmax=16', '--out', '/tmp/x'], /^error: core 'icebreaker': jmax=16: the table-lookup array is built from Xilinx LUT6_2\/LUT5\/CARRY4 cells, which the iCE40 does not have/],
    [['generate', 'ternary', '--param', 'dual4=2', '--out', '/tmp/x'], /parameter dual4=2 is not allowed; dual4 \(with act=8: an int4 mode.*\) must be an integer from 0 to 1/],
    [['generate', 'ternary', '--param', 'dual4=1', '--param', 'act=4', '--out', '/tmp/x'], /dual4=1 with act=4: the int4 mode packs two int4 tokens into an int8 lane, so it needs act=8/],
    [['generate', 'ternary', '--param', 'dual4=1', '--param', 'jmax=16', '--out', '/tmp/x'], /dual4=1 with jmax=16: the int4 mode is built on the adder columns only/],
    [['generate', 'ternary', '--param', 'dual4=1', '--param', 'dram=512', '--out', '/tmp/x'], /dual4=1 with dram=512: the int4 mode reads weights from block RAM only/],
    [['generate', 'ternary', '--param', 'dual4=1', '--param', 'mmax=1', '--out', '/tmp/x'], /dual4=1 with mmax=1: the accumulators hold token pairs, so mmax must be at least 2/],
    [['generate', 'board', '--param', 'dual4=1', '--param', 'act=4', '--out', '/tmp/x'], /core 'board': dual4=1 with act=4: the int4 mode packs two int4 tokens into an int8 lane, so it needs act=8/],
    [['check', 'ternary', '--param', 'jmax=2', '--param', 'rows=4', '--param', 'cols=4', '--param', 'kmax=64', '--param', 'mmax=4', '--param', 'wdepth=64'], /check: ternary_core_4x4_a8_f2_k64_m4_w64_j2 instantiates the hand-written module '\w+', which the IR interpreter cannot run/],
    [['synth', '--target', 'vivado'], /--target vivado: expected xilinx .* or ice40/],
    [['check', 'counter', '--cycles', 'many'], /--cycles many: expected an integer/],
  ] as const) {
    it(`refuses: ${args.join(' ')}`, () => {
      const r = cli([...args]);
      assert.notEqual(r.code, 0);
      assert.match(r.err, message);
      noStack(r.err);
    });
  }

  it('doctor lists the toolchain and exits 0 when it is complete', () => {
    const r = cli(['doctor']);
    assert.equal(r.code, 0, r.out + r.err);
    for (const t of ['verilator', 'iverilog', 'yosys', 'nextpnr-ice40', 'icepack', 'socat']) assert.match(r.out, new RegExp(`^${t}\\s+ok`, 'm'));
  });

  it('doctor and the verilator wrapper explain a missing toolchain with the install command', () => {
    const env = { ...process.env, PATH: '/nonexistent', VERILATOR_ROOT: '' };
    const d = cli(['doctor'], env);
    assert.equal(d.code, 1);
    assert.match(d.out, /verilator\s+MISSING\s+\(not found\)/);
    assert.match(d.out, /install with:\s+(sudo )?apt-get install -y verilator iverilog yosys nextpnr-ice40 fpga-icestorm socat g\+\+ make/);
    const v = cli(['verilator', '--version'], env);
    assert.equal(v.code, 1);
    assert.match(v.err, /verilator not found \(looked in PATH and \$VERILATOR_ROOT\/bin\).*\n.*apt-get install -y verilator/);
    noStack(v.err);
  });

  it('the verilator wrapper forwards arguments to the version-checked Verilator', () => {
    const r = cli(['verilator', '--version']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^Verilator 5\./);
  });

  it('bench hdl --json prints records of {metric, value, unit, config}', () => {
    const r = cli(['bench', 'hdl', '--json', '--pes', '64']);
    assert.equal(r.code, 0, r.err);
    const recs = JSON.parse(r.out) as { metric: string; value: number; unit: string; config: object }[];
    assert.ok(recs.length >= 5);
    for (const x of recs) {
      assert.equal(typeof x.metric, 'string');
      assert.ok(Number.isFinite(x.value));
      assert.equal(typeof x.unit, 'string');
      assert.equal(typeof x.config, 'object');
    }
    assert.ok(recs.some((x) => x.metric === 'hdl.interp_cycles_per_s'));
  });

  it('sim-build lists a foreign design\'s ports in declaration order with signedness', () => {
    const r = cli(['sim-build', 'test/verilog/widths.v', '--top', 'widths']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /in   clk\s+\[1\]\n\s+in   wide_a\s+\[100\]/);
    assert.match(r.out, /in   sa\s+signed \[12\]/);
  });

  it('sim-build without Verilator gives the doctor\'s install line, not a stack trace', () => {
    const env = { ...process.env, PATH: '/nonexistent', VERILATOR_ROOT: '' };
    const r = cli(['sim-build', 'test/verilog/widths.v', '--top', 'widths'], env);
    assert.notEqual(r.code, 0);
    assert.match(r.err, /verilator not found .*\n.*apt-get install -y verilator/);
    noStack(r.err);
  });

  it('sim-build reports a Verilog syntax error with file:line and no stack trace', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bitnet-fpga-cli-'));
    const file = path.join(dir, 'oops.v');
    writeFileSync(file, 'module oops(input wire a);\n  wire b = a +;\nendmodule\n');
    const r = cli(['sim-build', file, '--top', 'oops']);
    assert.notEqual(r.code, 0);
    assert.match(r.err, new RegExp(`${file.replace(/[.]/g, '\\.')}:2:\\d+: syntax error`));
    noStack(r.err);
  });
});
