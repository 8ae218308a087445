// bitnet-fpga command line. A thin dispatcher: each command imports only the part of the
// project it needs, so `run` never loads the generator and `doctor` loads nothing heavy.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { CommanderError, Option, type Command } from 'commander';
import { reportError, EXIT_FAILED, UsageError } from './errors.ts';
import {
  actSchemeOption,
  kvBitsOption,
  backendOption,
  backendSpecText,
  batchSizeOption,
  checked,
  choiceOption,
  CliCommand,
  Expected,
  flagNames,
  inFileOption,
  intOption,
  modelOption,
  nPredictOption,
  numberOption,
  optionHelp,
  outDirOption,
  paramOption,
  promptOption,
  seedOption,
  DEFAULT_PLACER_SEED,
  threadsOption,
  tokenIds,
  TOKENS_MAX,
  withEnv,
  defaultShown,
} from './flags.ts';
import { BAUD, parseBackendSpec } from '../backends/spec.ts';
import { MAKE_MODEL_DEFAULTS as MM, MAKE_MODEL_LIMITS as ML } from '../model/make-model-options.ts';
import { projectRoot } from './paths.ts';
import { DEFAULT_TEMPERATURE } from '../infer/sampler.ts';

// This table is where each flag's value is parsed and bounded (flags.ts): a bad value is one
// line naming the flag, given while the command line is read, before a command loads anything.
// The spellings follow llama.cpp's common/arg.cpp (-m, -p, -n, -s, -t, -c, -b, -dev) for the
// commands llama.cpp users run, and Verilator's -G for parameters.
const program = new CliCommand();
program
  .name('bitnet-fpga')
  .description('BitNet b1.58 on an FPGA: HDL generator, Verilator testbenches, host runtime')
  // commander's own refusals (unknown option, missing value) on one line, as ours are, with
  // the exit status of every other bad input; no help text after them.
  .configureOutput({ outputError: (str, write) => write(`${str.trim().replace(/\s*\n\s*/g, ' ')}\n`) })
  // Every option's range, default and environment variable in one parenthesis (flags.ts).
  .configureHelp({ optionDescription: optionHelp })
  // Only `bitnet-fpga --version`: after a command's name every argument is the command's (run -p --version is a prompt).
  .enablePositionalOptions()
  .addOption(new Option('--version', 'print the version (package, link protocol, git commit) and exit'))
  .exitOverride();

/** Thrown when --version is read, so that nothing else runs; the version is printed by the catch below. */
class VersionRequested extends Error {}
program.on('option:version', () => {
  throw new VersionRequested();
});

/** "bitnet-fpga 0.1.0 (link protocol 1, commit 55aa856c0f12)"; the commit only in a git checkout. */
async function versionLine(): Promise<string> {
  const root = projectRoot();
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
  const { PROTOCOL_VERSION } = await import('../../common/protocol.ts');
  const commit = gitCommit(root);
  return `bitnet-fpga ${pkg.version} (link protocol ${PROTOCOL_VERSION}${commit ? `, commit ${commit}` : ''})`;
}

/** The checked-out commit read from .git (no git process); undefined when there is none to read. */
function gitCommit(root: string): string | undefined {
  try {
    let git = path.join(root, '.git');
    if (fs.statSync(git).isFile()) git = path.resolve(root, fs.readFileSync(git, 'utf8').replace(/^gitdir:\s*/, '').trim());
    const head = fs.readFileSync(path.join(git, 'HEAD'), 'utf8').trim();
    const ref = /^ref: (\S+)$/.exec(head)?.[1];
    if (!ref) return /^[0-9a-f]{40}$/.test(head) ? head.slice(0, 12) : undefined;
    const loose = path.join(git, ref);
    if (fs.existsSync(loose)) return fs.readFileSync(loose, 'utf8').trim().slice(0, 12);
    const packed = fs.readFileSync(path.join(git, 'packed-refs'), 'utf8');
    return new RegExp(`^([0-9a-f]{40}) ${ref.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm').exec(packed)?.[1]?.slice(0, 12);
  } catch {
    return undefined;
  }
}

program
  .command('generate')
  .description('elaborate a core and write its Verilog and manifest')
  .argument('[core]', 'core name (see --list)')
  .addOption(outDirOption('-o, --out <dir>', 'output directory'))
  .addOption(paramOption('core parameter'))
  .option('--list', 'list the cores and their parameters')
  .option('--all', 'regenerate every checked-in design under rtl/')
  .option('--source-comments', 'annotate the Verilog with TypeScript file:line comments')
  .action(async (core: string | undefined, o: { out?: string; param: string[]; list?: boolean; all?: boolean; sourceComments?: boolean }) => {
    const { generateCommand } = await import('./commands/generate.ts');
    await generateCommand(core, o);
  });

program
  .command('check')
  .description('lint, synthesize and simulate a core: interpreter vs Verilator vs Icarus, cycle by cycle')
  .argument('<core>', 'core name')
  .addOption(paramOption('core parameter'))
  // Every cycle is simulated three times (interpreter, Verilator, Icarus) from one stimulus table.
  .addOption(intOption('--cycles <n>', 'cycles of random stimulus', 2, 100_000, 500))
  .addOption(seedOption('stimulus seed', { dfltText: '$SEED, or 1', longOnly: true }))
  .action(async (core: string, o: { param: string[]; cycles: number; seed?: number }) => {
    const { checkCommand } = await import('./commands/check.ts');
    await checkCommand(core, o);
  });

program
  .command('doctor')
  .description('report the toolchain (verilator, yosys, iverilog, nextpnr, socat) and how to install what is missing')
  .action(async () => {
    const { doctorReport } = await import('../../sim/toolchain/tools.ts');
    const r = doctorReport();
    console.log(r.lines.join('\n'));
    if (!r.ok) process.exitCode = 1;
  });

program
  .command('verilator')
  .description("run the project's Verilator (found in PATH or $VERILATOR_ROOT, version-checked) with these arguments")
  .argument('[args...]', 'arguments for verilator')
  .allowUnknownOption()
  .helpOption(false)
  .action(async (args: string[]) => {
    const { verilator } = await import('../../sim/toolchain/verilator.ts');
    const r = await verilator(args, { inherit: true, timeoutMs: 24 * 3600_000 });
    process.exitCode = r.code;
  });

program
  .command('synth')
  .description('synthesize a core (default: ternary) with Yosys for 7-series or iCE40 UP5K (with nextpnr: Fmax, utilization)')
  .argument('[core]', 'core name (default: ternary)')
  .addOption(choiceOption('--target <xilinx|ice40>', 'synth_xilinx (7-series) or synth_ice40 + nextpnr-ice40 (UP5K)', ['xilinx', 'ice40'], undefined, 'xilinx (7-series, synth_xilinx) or ice40 (UP5K, synth_ice40 + nextpnr-ice40)').makeOptionMandatory())
  .addOption(paramOption('core parameter'))
  .option('--rows <n>', 'ternary: K lanes')
  .option('--cols <n>', 'ternary: N lanes')
  .option('--act <bits>', 'ternary: activation bits (8 or 4)')
  .option('--format <2|5>', 'ternary: weight format')
  .option('--kmax <n>', 'ternary: largest K')
  .option('--mmax <n>', 'ternary: largest M per run')
  .option('--wdepth <n>', 'ternary: weight memory depth in tiles')
  .addOption(numberOption('--fmax <MHz>', 'with --target ice40: the clock the design must reach in nextpnr-ice40 (also its --freq target); refused, naming the limit, when it does not', { min: 0, above: true, max: 1000 }))
  .addOption(defaultShown(seedOption("with --target ice40: nextpnr-ice40's placer seed; Fmax varies between seeds of one netlist, so sweep a few", { max: 2 ** 31 - 1, longOnly: true }), String(DEFAULT_PLACER_SEED)))
  .option('--json', 'print the report as JSON')
  .action(async (core: string | undefined, o: import('./commands/synth.ts').SynthOptions) => {
    const { synthCommand } = await import('./commands/synth.ts');
    await synthCommand(core, o);
  });

program
  .command('build')
  .description('a bitstream for a board: its top generated, synthesized, placed and routed, packed (iCEBreaker: yosys + nextpnr-ice40 + icepack)')
  .requiredOption('--board <name>', 'the board (icebreaker)')
  .addOption(defaultShown(paramOption("the SoC's parameter"), "the checked-in RTL's"))
  .addOption(defaultShown(outDirOption('-o, --out <dir>', 'output directory'), 'build/<board>'))
  .addOption(seedOption("nextpnr's placer seed", { max: 2 ** 31 - 1, dflt: 1, longOnly: true }))
  .option('--json', 'print the report as JSON')
  .action(async (o: import('./commands/build.ts').BuildOptions) => {
    const { buildCommand } = await import('./commands/build.ts');
    await buildCommand(o);
  });

program
  .command('board-sim')
  .description('run the board SoC under Verilator behind a pseudo-terminal (the uart backend) or XDMA-style device files (the pcie backend)')
  .option('--pty', 'expose the board on a pseudo-terminal (made with socat)')
  .option('--link <path>', 'where to create the pseudo-terminal (default: a temporary directory)')
  .option('--phy', 'simulate the serial line bit by bit (the UART pins wired to a host-end UART; slower)')
  .addOption(defaultShown(intOption('--host-baud <baud>', "with --phy: the host end's baud rate, to try a mismatch", BAUD.min, BAUD.max), "the board's"))
  .option('--xdma <dir>', 'instead: the PCIe top behind <dir>/xdma0_user, _h2c_0 and _c2h_0 (for run --backend pcie:<dir>/xdma0)')
  .addOption(defaultShown(paramOption('board parameter'), "rtl/board's, or rtl/xdma's with --xdma"))
  .action(async (o: { pty?: boolean; link?: string; param: string[]; phy?: boolean; hostBaud?: number; xdma?: string }) => {
    const { boardSimCommand } = await import('./commands/board-sim.ts');
    await boardSimCommand(o);
  });

program
  .command('sim-build')
  .description('build (or load from the cache) the Verilated model of any Verilog top, or of a generated design, and list its ports')
  .argument('[files...]', 'Verilog/SystemVerilog files')
  .option('--top <name>', 'top module (required with files)')
  .addOption(inFileOption('--manifest <path>', 'a generated design: its <top>.manifest.json instead of files'))
  .addOption(paramOption('top-level parameter override'))
  .option('-I, --include <dir>', 'include directory (repeatable)', (v: string, acc: string[]) => [...acc, v], [])
  .addOption(choiceOption('--waves <format>', 'waveform format compiled in: vcd or fst', ['vcd', 'fst'], 'vcd'))
  .option('--json', 'print the ports and library path as JSON')
  .action(async (files: string[], o: { top?: string; manifest?: string; param: string[]; include: string[]; waves: string; json?: boolean }) => {
    const { simBuildCommand } = await import('./commands/sim-build.ts');
    await simBuildCommand(files, o);
  });

program
  .command('bench')
  .description('benchmarks; suites: hdl, sim, core, link, host, serve, or all')
  .argument('<suite>', 'suite name, or "all"')
  .option('--json', 'print one JSON array of {metric, value, unit, config} records')
  // 16384 PEs: about 2 minutes and 0.7 GB here; the cost grows linearly.
  .addOption(intOption('--pes <n>', 'processing elements in the hdl benchmark', 4, 16384, 4096))
  .action(async (suite: string, o: { json?: boolean; pes: number }) => {
    const { benchCommand } = await import('./commands/bench.ts');
    await benchCommand(suite, o);
  });

program
  .command('run')
  .description('generate text with a BitNet model; every BitLinear runs on the chosen backend; llama.cpp-style timings')
  .addOption(modelOption({ required: true, env: true }))
  .addOption(backendOption())
  .addOption(promptOption())
  .addOption(checked('--tokens <ids>', 'prompt as token ids, comma-separated (e.g. 1,17,42)', tokenIds))
  .addOption(nPredictOption(32, { env: true }))
  .addOption(numberOption('--temp <t>', 'temperature; 0 is greedy', { min: 0 }, DEFAULT_TEMPERATURE))
  .addOption(intOption('--top-k <k>', 'top-k; 0 is off', 0, TOKENS_MAX, 40))
  .addOption(numberOption('--top-p <p>', 'top-p', { min: 0, max: 1, above: true }, 0.95))
  .addOption(seedOption('sampling seed', { dfltText: 'random, printed', env: true }))
  .addOption(batchSizeOption(32))
  .addOption(threadsOption())
  .addOption(withEnv(defaultShown(intOption('-c, --ctx-size <n>', 'context for the KV cache', 1, TOKENS_MAX), "prompt + n-predict, at most the model's")))
  .addOption(checked('--head-bits <bits>', 'output head precision: 16 as in the file, or 8: 8-bit blocks like llama.cpp Q8_0, half the bytes per token', (v) => {
    if (v !== '16' && v !== '8') throw new Expected("16 (the file's precision) or 8");
    return Number(v) as 16 | 8;
  }, 16))
  .option('--chat', 'wrap the prompt in the model\'s chat format')
  .option('--json', 'print one JSON object: prompt ids, generated ids, final logits, timings')
  .addOption(
    defaultShown(
      inFileOption('--board-manifest <file>', "manifest of the board SoC the host expects (board-sim and build print theirs): uart and pcie refuse a board of another identity unless --force, sim builds its SoC from the manifest's parameters and the spec's k=v; cpu reads none"),
      "rtl/board's; rtl/xdma's for pcie",
    ),
  )
  .option('--force', 'use a board whose identity differs from the expected RTL')
  .option('--reload', 'upload the weights even when the board already holds them')
  .addOption(actSchemeOption())
  .addOption(kvBitsOption())
  .action(async (o: { nPredict: number; backend?: string; batchSize: number } & Omit<import('./commands/run.ts').RunOptions, 'n' | 'backend' | 'batch'>, cmd: Command) => {
    const { runCommand } = await import('./commands/run.ts');
    // A bad spec found later (a sim parameter, a missing port) names what the spec came from.
    const from = cmd.options.find((x) => x.attributeName() === 'backend')!;
    const backendFlag = cmd.getOptionValueSource('backend') === 'env' ? `$${from.envVar!}` : flagNames(from);
    await runCommand({ ...o, n: o.nPredict, batch: o.batchSize, backend: parseBackendSpec(backendSpecText(o.backend)), backendText: backendSpecText(o.backend), backendFlag });
  });

program
  .command('serve')
  .description("OpenAI's HTTP API (completions, chat, streaming, models, health, Prometheus metrics) with continuous batching; localhost unless --host says otherwise")
  .addOption(modelOption({ required: true, env: true }))
  .addOption(backendOption())
  .addOption(new Option('--host <address>', 'address to listen on').default('127.0.0.1'))
  .addOption(intOption('--port <n>', 'TCP port; 0 picks a free one', 0, 65535, 8080))
  .addOption(intOption('--parallel <n>', 'slots: sequences decoded together, each with a KV cache of the context', 1, 256, 4))
  .addOption(intOption('--queue <n>', 'requests waiting for a slot at most; past it 429 with Retry-After', 0, 65536, 16))
  .addOption(defaultShown(intOption('--pipeline-groups <n>', 'groups of sequences stepping through the layers on their own, pipeline parallel: with the layers split across boards, each board works on a different group at the same time; at most --parallel', 1, 256), 'one per board'))
  .addOption(withEnv(defaultShown(intOption('-c, --ctx-size <n>', "context of each slot's KV cache: prompt + max_tokens must fit", 1, TOKENS_MAX), "the model's, at most 4096")))
  .addOption(intOption('--ctx <n>', 'the same as -c/--ctx-size', 1, TOKENS_MAX).hideHelp())
  .addOption(batchSizeOption(32))
  .addOption(withEnv(new Option('--api-key <key>', 'require "Authorization: Bearer KEY" on every request but /health')))
  .addOption(threadsOption())
  .addOption(defaultShown(inFileOption('--board-manifest <file>', 'manifest of the board SoC the host expects (as run)'), "rtl/board's; rtl/xdma's for pcie"))
  .option('--force', 'use a board whose identity differs from the expected RTL')
  .option('--reload', 'upload the weights even when the board already holds them')
  .addOption(actSchemeOption())
  .addOption(kvBitsOption())
  .action(async (o: { backend?: string; batchSize: number; ctx?: number } & Omit<import('./commands/serve.ts').ServeOptions, 'backend' | 'batch'>, cmd: Command) => {
    const from = cmd.options.find((x) => x.attributeName() === 'backend')!;
    const { serveCommand } = await import('./commands/serve.ts');
    const backendFlag = cmd.getOptionValueSource('backend') === 'env' ? `$${from.envVar!}` : flagNames(from);
    if (o.ctxSize !== undefined && o.ctx !== undefined) throw new UsageError('-c/--ctx-size and --ctx are one flag: give it once');
    await serveCommand({ ...o, ctxSize: o.ctxSize ?? o.ctx, batch: o.batchSize, backend: parseBackendSpec(backendSpecText(o.backend)), backendText: backendSpecText(o.backend), backendFlag });
  });

program
  .command('perplexity')
  .description("perplexity of a text file as llama-perplexity measures it (chunks of -c tokens, each from an empty KV cache), and bits per byte; every BitLinear on the backend")
  .addOption(modelOption({ required: true, env: true }))
  .addOption(inFileOption('-f, --file <path>', 'the text to score (read through the model\'s tokenizer)').makeOptionMandatory())
  .addOption(backendOption())
  .addOption(defaultShown(intOption('-c, --ctx-size <n>', 'tokens per chunk', 1, TOKENS_MAX), "512, at most the model's context"))
  .addOption(defaultShown(intOption('--chunks <n>', 'score at most this many chunks', 1, TOKENS_MAX), 'all the text holds'))
  .option('--no-bos', "do not put the model's BOS first in each chunk (llama-perplexity replaces the chunk's first token with it)")
  .option('--score-all', "score every position, the last predicting the token after the chunk, instead of llama-perplexity's second half; with --no-bos, -c 128 --chunks 24: the fortunes fixtures' protocol")
  .addOption(batchSizeOption(128))
  .addOption(threadsOption())
  .addOption(actSchemeOption())
  .addOption(kvBitsOption())
  .option('--json', 'print one JSON object: PPL, its uncertainty, bits per byte, the running estimate per chunk')
  .addOption(defaultShown(inFileOption('--board-manifest <file>', 'manifest of the board SoC the host expects, as in run'), "rtl/board's; rtl/xdma's for pcie"))
  .option('--force', 'use a board whose identity differs from the expected RTL')
  .option('--reload', 'upload the weights even when the board already holds them')
  .action(async (o: { backend?: string; batchSize: number } & Omit<import('./commands/perplexity.ts').PerplexityCommandOptions, 'backend' | 'batch'>, cmd: Command) => {
    const { perplexityCommand } = await import('./commands/perplexity.ts');
    const from = cmd.options.find((x) => x.attributeName() === 'backend')!;
    const backendFlag = cmd.getOptionValueSource('backend') === 'env' ? `$${from.envVar!}` : flagNames(from);
    await perplexityCommand({ ...o, batch: o.batchSize, backend: parseBackendSpec(backendSpecText(o.backend)), backendText: backendSpecText(o.backend), backendFlag });
  });

/** A make-model flag: its name, range and default are make-model-options.ts's. */
const mm = (k: keyof typeof ML, doc: string) => intOption(`${ML[k].flag} <n>`, doc, ML[k].min, ML[k].max, MM[k]);

program
  .command('make-model')
  .description('write a small random BitNet model in the Hugging Face layout (packed 2-bit weights, byte tokenizer)')
  .addOption(outDirOption('-o, --out <dir>', 'output directory (new, empty, or made by make-model)').makeOptionMandatory())
  .addOption(mm('hidden', 'hidden size'))
  .addOption(mm('layers', 'layers'))
  .addOption(mm('heads', 'attention heads'))
  .addOption(mm('kvHeads', 'key/value heads'))
  .addOption(mm('intermediate', 'FFN size'))
  .addOption(mm('vocab', 'vocabulary size; at least 258 with the byte tokenizer'))
  .addOption(mm('maxPositions', 'max_position_embeddings'))
  .addOption(mm('seed', 'random seed'))
  .option('--no-tokenizer', 'write no tokenizer (then --vocab may be smaller)')
  .action(async (o: import('./commands/make-model.ts').MakeModelFlags) => {
    const { makeModelCommand } = await import('./commands/make-model.ts');
    makeModelCommand(o);
  });

program
  .command('demo')
  .description('the main job end to end: RTL, board-sim on a pseudo-terminal, a model, generation through the uart backend, checked against cpu')
  .option('--hdl', 'instead: regenerate the cores, lint, synthesize and simulate them three ways, and run the FIFO testbench')
  .addOption(modelOption({ dflt: 'host/models/tiny-fortunes' }))
  .addOption(promptOption('A man who '))
  .addOption(nPredictOption(64))
  .addOption(seedOption('sampling seed', { dflt: 20261123 }))
  .action(async (o: { hdl?: boolean; model?: string; prompt: string; nPredict: number; seed: number }) => {
    const { demoCommand } = await import('./commands/demo.ts');
    await demoCommand({ ...o, n: o.nPredict });
  });

program.parseAsync(process.argv).catch(async (e: unknown) => {
  if (e instanceof VersionRequested) {
    console.log(await versionLine());
    process.exitCode = 0;
  }
  // commander has printed its own message (or the help, which exits 0).
  else if (e instanceof CommanderError) process.exitCode = e.exitCode === 0 ? 0 : EXIT_FAILED;
  else process.exitCode = reportError(e);
});
