// How the option table in main.ts reads values. Each flag's parser and bounds sit next to its
// help text, and a bad value is refused while the command line is parsed — before a command
// imports, reads or writes anything — with one line that names the flag and what it expected.
// The bounds exist so that no allocation or loop is sized by a number nobody checked.
//
// The flags several commands share (the model, the backend, threads, the seed, the prompt,
// core parameters) are made here, one function each, so their spelling, help and environment
// variable are the same in every command; the spellings follow llama.cpp's common/arg.cpp.

import type { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { UsageError } from './errors.ts';
import { parseBackendSpec } from '../backends/spec.ts';
import { ACT_SCHEMES, ACT_SCHEME_HELP, KV_BITS, type KvBits } from '../infer/numerics-names.ts';

/** A value as a message quotes it: on one line, escaped where needed, at most 64 characters. */
export function shown(v: string): string {
  const cut = v.length > 64 ? `${v.slice(0, 64)}…` : v;
  return /^[\w.,:/@+=~-]+$/.test(cut) ? cut : JSON.stringify(cut);
}

/** A name as a message quotes it: 'name', or JSON when it has characters that would mislead. */
export function quoted(v: string): string {
  return /^[\w.:/@+=~-]{1,64}$/.test(v) ? `'${v}'` : shown(v);
}

/**
 * A plain decimal integer: digits with an optional leading '-', nothing else (no spaces, sign
 * '+', exponent, hex prefix or fraction, which Number() would all accept), and exactly
 * representable. Anything else is undefined.
 */
export function decimalInt(s: string): number | undefined {
  if (!/^-?\d{1,16}$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** A plain decimal number (digits, one optional point, optional leading '-'; no exponent, NaN or Infinity). */
export function decimalNumber(s: string): number | undefined {
  return /^-?(\d{1,32}(\.\d{0,32})?|\.\d{1,32})$/.test(s) ? Number(s) : undefined;
}

/** Thrown by a value parser: the text after "expected". */
export class Expected extends Error {}

/** Thrown by a value parser: a whole reason, put after "FLAG VALUE: " as it is. */
export class Refused extends Error {}

/** The option's names as messages give them: "-n/--n-predict", "-dev/--device/--backend". */
export const flagNames = (o: Option): string =>
  o.flags
    .split(/[ ,|]+/)
    .filter((f) => f.startsWith('-'))
    .join('/');

/** Environment variables stand for flags as llama.cpp's LLAMA_ARG_*: BITNET_ARG_ and the long flag (--n-predict: BITNET_ARG_N_PREDICT). */
export const ENV_PREFIX = 'BITNET_ARG_';

/** `o` with its environment variable: BITNET_ARG_ and its long name, read when the flag is not given. */
export function withEnv(o: Option): Option {
  return o.env(`${ENV_PREFIX}${o.long!.slice(2).toUpperCase().replace(/-/g, '_')}`);
}

/** What --help shows in parentheses after an option's text: its range, and a default that is not a plain value. */
const helpNotes = new WeakMap<Option, { range?: string; dflt?: string; repeatable?: boolean }>();

/**
 * An option's help text as every command shows it: the text, then in one parenthesis the
 * range, the default and the environment variable ("tokens to generate (0..16777216,
 * default: 32, env: BITNET_ARG_N_PREDICT)"). Given to commander's configureHelp.
 */
export function optionHelp(o: Option): string {
  const n = helpNotes.get(o) ?? {};
  const v: unknown = o.defaultValue;
  const value = v === undefined || Array.isArray(v) || typeof v === 'boolean' ? undefined : (o.defaultValueDescription ?? (typeof v === 'string' ? shown(v) : String(v)));
  const dflt = n.dflt ?? value;
  const notes = [n.repeatable && 'repeatable', n.range, dflt !== undefined && `default: ${dflt}`, o.envVar !== undefined && `env: ${o.envVar}`].filter(Boolean);
  return notes.length ? `${o.description} (${notes.join(', ')})` : o.description;
}

/** Note for --help the default of an option that has no value as its default ("every core", "random, printed"). */
export function defaultShown(o: Option, text: string): Option {
  helpNotes.set(o, { ...helpNotes.get(o), dflt: text });
  return o;
}

/** The option whose environment variable commander is about to hand to its parser (see CliCommand). */
let fromEnv: Option | undefined;

/**
 * An option whose value `parse` checks; its Expected becomes "FLAG VALUE: expected …", its
 * Refused "FLAG VALUE: …". A value from the option's environment variable goes through the
 * same parser, and its refusal names the variable: "$BITNET_ARG_THREADS 0: expected … (it
 * sets -t/--threads)".
 */
export function checked<T>(flags: string, doc: string, parse: (v: string, previous: T) => T, dflt?: T): Option {
  const o = new Option(flags, doc);
  o.argParser((v: string, previous: T) => {
    const env = fromEnv === o ? o.envVar : undefined;
    fromEnv = undefined;
    try {
      return parse(v, previous);
    } catch (e) {
      if (!(e instanceof Expected || e instanceof Refused)) throw e;
      const why = e instanceof Expected ? `expected ${e.message}` : e.message;
      throw new UsageError(env ? `$${env} ${shown(v)}: ${why} (it sets ${flagNames(o)})` : `${flagNames(o)} ${shown(v)}: ${why}`);
    }
  });
  if (dflt !== undefined) o.default(dflt);
  return o;
}

/**
 * llama.cpp spells a few flags with one dash and several letters (-dev); commander would read
 * "-dev" as -d with the value "ev". This is the one place that respells them, as the command
 * that has the long flag reads its arguments; an argument that is the value of the option
 * before it (run -p -dev) is left as it is, and so is everything after "--".
 */
const LLAMA_SPELLINGS: Readonly<Record<string, string>> = { '-dev': '--device' };

function respell(cmd: Command, args: readonly string[]): string[] {
  const find = (flag: string): Option | undefined => cmd.options.find((o) => o.short === flag || o.long === flag);
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      out.push(...args.slice(i));
      break;
    }
    const to = Object.hasOwn(LLAMA_SPELLINGS, a) ? LLAMA_SPELLINGS[a]! : undefined;
    const flag = to !== undefined && find(to) ? to : a;
    out.push(flag);
    // A flag given alone takes the next argument as its value, whatever it looks like.
    if (find(flag)?.required && i + 1 < args.length) out.push(args[++i]!);
  }
  return out;
}

/**
 * The CLI's commander Command: environment variables' values are refused by name (above),
 * llama.cpp's multi-letter flags are respelled, and subcommands are the same class.
 */
export class CliCommand extends Command {
  override createCommand(name?: string): CliCommand {
    return new CliCommand(name);
  }

  override addOption(o: Option): this {
    super.addOption(o);
    // commander applies a variable by emitting optionEnv:NAME, whose listener (just added by
    // addOption) calls the option's parser; this one runs first and tells the parser so.
    // (commander implements Command with EventEmitter; its typings declare only on().)
    if (o.envVar !== undefined) (this as unknown as EventEmitter).prependListener(`optionEnv:${o.name()}`, () => void (fromEnv = o));
    return this;
  }

  override parseOptions(argv: string[]): ReturnType<Command['parseOptions']> {
    return super.parseOptions(respell(this, argv));
  }

  /** commander's refusal of an unknown flag (not in its typings), with the new spelling of an old one. */
  unknownOption(flag: string): void {
    const r = Object.hasOwn(RESPELLED, flag) ? RESPELLED[flag]! : undefined;
    if (r && this.options.some((o) => o.long === r.now)) this.error(`error: unknown option '${flag}' (${r.hint})`, { code: 'commander.unknownOption' });
    (Command.prototype as unknown as { unknownOption(f: string): void }).unknownOption.call(this, flag);
  }
}

/** Flags whose meaning changed (issue 18): refused with what to write instead, in the commands that have `now`. */
const RESPELLED: Readonly<Record<string, { now: string; hint: string }>> = {
  '-p': { now: '--param', hint: 'parameters are -G name=value or --param name=value, as in Verilator; -p is the prompt of run and demo' },
  '--batch': { now: '--batch-size', hint: 'the prompt batch size is -b/--batch-size, as in llama.cpp' },
};

export const intIn =
  (min: number, max: number) =>
  (v: string): number => {
    const n = decimalInt(v);
    if (n === undefined || n < min || n > max) throw new Expected(`an integer from ${min} to ${max}`);
    return n;
  };

/** An integer flag; its range is in the help text and in the refusal. */
export function intOption(flags: string, doc: string, min: number, max: number, dflt?: number): Option {
  const o = checked(flags, doc, intIn(min, max), dflt);
  helpNotes.set(o, { range: `${min}..${max}` });
  return o;
}

/** A number flag in [min, max], or above min with `above`; no max means any finite number. */
export function numberOption(flags: string, doc: string, r: { min: number; max?: number; above?: boolean }, dflt?: number): Option {
  const low = r.above ? `above ${r.min}` : r.max === undefined ? `>= ${r.min}` : `from ${r.min}`;
  const range = `a number ${low}${r.max === undefined ? '' : r.above ? ` and at most ${r.max}` : ` to ${r.max}`}`;
  const o = checked(
    flags,
    doc,
    (v) => {
      const n = decimalNumber(v);
      if (n === undefined || (r.max !== undefined && n > r.max) || (r.above ? n <= r.min : n < r.min)) throw new Expected(range);
      return n;
    },
    dflt,
  );
  helpNotes.set(o, { range: `${r.above ? '>' : '>='} ${r.min}${r.max === undefined ? '' : `, <= ${r.max}`}` });
  return o;
}

/** One of a few spellings. */
export function choiceOption<T extends string>(flags: string, doc: string, choices: readonly T[], dflt?: T, expected = choices.join(' or ')): Option {
  return checked(
    flags,
    doc,
    (v) => {
      if (!(choices as readonly string[]).includes(v)) throw new Expected(expected);
      return v as T;
    },
    dflt,
  );
}

/** Seeds feed xorshift32, whose state is 32 bits: a larger seed would silently alias a smaller one. */
export const SEED_MAX = 2 ** 32 - 1;

/**
 * A directory to write into: it exists as a directory, or it can be made (the nearest part of
 * the path that exists is a directory). Whether its contents may be replaced is each command's
 * question; this only keeps "-o FILE" and "-o /dev/null/x" from reaching the file system.
 */
export function outDirOption(flags: string, doc: string): Option {
  return checked(flags, doc, (v) => {
    if (v === '') throw new Expected('a directory');
    const st = statOrUndefined(v);
    if (st) {
      if (!st.isDirectory()) throw new Expected(`a directory (it is ${kind(st)})`);
      return v;
    }
    for (let p = path.dirname(path.resolve(v)); ; p = path.dirname(p)) {
      const up = statOrUndefined(p);
      if (up) {
        if (!up.isDirectory()) throw new Expected(`a directory to create, but ${p} is ${kind(up)}, not a directory`);
        return v;
      }
      if (p === path.dirname(p)) return v;
    }
  });
}

/** An existing regular file to read (a FIFO or a device would block or never end). */
export function inFileOption(flags: string, doc: string): Option {
  return checked(flags, doc, (v) => {
    const st = statOrUndefined(v);
    if (!st) throw new Expected('an existing file (there is none)');
    if (!st.isFile()) throw new Expected(`a regular file (it is ${kind(st)})`);
    return v;
  });
}

function statOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.statSync(p);
  } catch (e) {
    // ENOTDIR: a path through a file (/dev/null/x) does not exist either; its parent says why.
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw new Expected(`a path this user can reach (${p}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

export function kind(st: fs.Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a directory';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Token ids: comma-separated plain decimal integers, at least one (the vocabulary is checked once the model is loaded). */
export function tokenIds(v: string): number[] {
  const items = v.split(',');
  const ids = items.map((s) => decimalInt(s));
  const bad = ids.findIndex((id) => id === undefined || id < 0);
  if (bad >= 0) throw new Expected(`comma-separated token ids, each a plain decimal integer >= 0 (e.g. 1,17,42); item ${bad + 1} is ${shown(items[bad]!)}`);
  return ids as number[];
}

// ---- The flags several commands share: one definition each, so no command spells or explains
// ---- one differently. Environment variables are given where a command asks for them (run).

/** Tokens to generate, batch and context sizes: far beyond any model here, small enough to be a checked number. */
export const TOKENS_MAX = 1 << 24;

const collect = (v: string, acc: string[]): string[] => [...acc, v];

/** `-G, --param name=value` (Verilator's -G): a core's or board's parameter, repeatable. */
export function paramOption(doc: string): Option {
  const o = new Option('-G, --param <name=value>', doc).argParser(collect).default([]);
  helpNotes.set(o, { repeatable: true });
  return o;
}
/** How messages about a parameter name the flag (generator/cores/registry.ts's parseParamArgs takes it). */
export const PARAM_FLAGS = '-G/--param';

/** `-m, --model`: a model directory, .gguf file or Hugging Face repo id. */
export function modelOption(o: { required?: boolean; env?: boolean; dflt?: string } = {}): Option {
  const m = new Option('-m, --model <path>', 'a Hugging Face model directory (config.json + safetensors), a .gguf file, or a Hugging Face repo id owner/name[@revision][:FILE], downloaded into the HF cache');
  if (o.required) m.makeOptionMandatory();
  if (o.dflt !== undefined) defaultShown(m, o.dflt);
  return o.env ? withEnv(m) : m;
}

/** `-p, --prompt`: the prompt text, as llama.cpp's. */
export function promptOption(dflt?: string): Option {
  return new Option('-p, --prompt <text>', 'prompt text; needs a tokenizer: tokenizer.json, or the vocabulary in a .gguf').default(dflt);
}

/** `-n, --n-predict`: tokens to generate. */
export function nPredictOption(dflt: number, o: { env?: boolean } = {}): Option {
  const n = intOption('-n, --n-predict <n>', 'tokens to generate', 0, TOKENS_MAX, dflt);
  return o.env ? withEnv(n) : n;
}

/** nextpnr-ice40's placer seed when synth's --seed is not given. */
export const DEFAULT_PLACER_SEED = 1;

/**
 * `-s, --seed`: a seed; what it seeds, its range and its default are the command's. The
 * hardware commands (check, build) spell it --seed only, as they always have: -s is llama.cpp's.
 */
export function seedOption(doc: string, o: { max?: number; dflt?: number; dfltText?: string; env?: boolean; longOnly?: boolean } = {}): Option {
  const s = intOption(o.longOnly ? '--seed <n>' : '-s, --seed <n>', doc, 0, o.max ?? SEED_MAX, o.dflt);
  if (o.dfltText !== undefined) defaultShown(s, o.dfltText);
  return o.env ? withEnv(s) : s;
}

/** `-t, --threads`: threads for the native kernels. */
export function threadsOption(): Option {
  return withEnv(defaultShown(intOption('-t, --threads <n>', 'threads for the cpu backend and the host', 1, 1024), 'every core'));
}

/** The backend spellings, as the help and messages give them. */
export const BACKEND_SPECS = 'cpu[:js] | sim[:k=v,...] | uart:PATH[@BAUD] | pcie:DEVICE_PREFIX';

/**
 * `--backend SPEC`, or `-dev, --device SPEC` as llama.cpp spells it (-dev is respelled
 * --device by CliCommand): where every BitLinear runs. The spec's syntax is checked here.
 */
export function backendOption(): Option {
  // Given again, the flag adds a board (-dev sim -dev sim is sim,sim). The option has no
  // commander default, so `previous` is undefined exactly on the first -dev and an explicit
  // cpu is never mistaken for the default; the command reads backendSpecText(o.backend).
  const o = checked(
    '--device, --backend <spec>',
    `where every BitLinear runs: ${BACKEND_SPECS}; a comma-separated list, or the flag given again, splits the model across boards by layers`,
    (v, previous: string | undefined) => {
      const spec = previous === undefined ? v : `${previous},${v}`;
      try {
        parseBackendSpec(spec);
      } catch (e) {
        throw new Refused((e as Error).message);
      }
      return spec;
    },
  );
  defaultShown(o, DEFAULT_BACKEND);
  // commander matches --device and --backend; -dev is respelled --device before it parses.
  o.flags = '-dev, --device, --backend <spec>';
  return withEnv(o);
}

/** The backend when no -dev/--device/--backend (or its environment variable) is given. */
export const DEFAULT_BACKEND = 'cpu';

/** The backend spec a command runs on: what the flag gave, else the default. */
export const backendSpecText = (v: string | undefined): string => v ?? DEFAULT_BACKEND;

/** `-b, --batch-size`: prompt tokens per forward pass, as llama.cpp's -b. */
export function batchSizeOption(dflt: number): Option {
  const [min, max] = [1, 65536];
  const inRange = intIn(min, max);
  const o = checked(
    '-b, --batch-size <n>',
    'prompt tokens per forward pass',
    (v) => {
      try {
        return inRange(v);
      } catch (e) {
        // -b was the backend before it was llama.cpp's batch size: say so to whoever still writes it.
        if (e instanceof Expected && isBackendSpec(v)) throw new Expected(`${e.message} (-b is the prompt batch size, as in llama.cpp; the backend is -dev/--device/--backend)`);
        throw e;
      }
    },
    dflt,
  );
  helpNotes.set(o, { range: `${min}..${max}` });
  return withEnv(o);
}

/** `--act-scheme`: how BitLinear inputs are quantized, instead of what the checkpoint's config says. */
export function actSchemeOption(): Option {
  return defaultShown(choiceOption('--act-scheme <scheme>', `activation quantization: ${ACT_SCHEME_HELP}`, ACT_SCHEMES, undefined, `${ACT_SCHEMES.slice(0, -1).join(', ')} or ${ACT_SCHEMES.at(-1)!}`), "the checkpoint's quantization_config.activation_scheme, else b1.58");
}

/** `--kv-bits`: the width of KV cache entries (host/infer/kv-quant.ts has the formula). */
export function kvBitsOption(): Option {
  return checked(
    '--kv-bits <bits>',
    'KV cache entries: 32 keeps float32, 16 rounds to float16, 8, 4 or 3 are absmax integers per head and token',
    (v) => {
      const n = (KV_BITS as readonly number[]).find((b) => String(b) === v);
      if (n === undefined) throw new Expected(KV_BITS.join(', '));
      return n as KvBits;
    },
    32,
  );
}

const isBackendSpec = (v: string): boolean => {
  try {
    parseBackendSpec(v);
    return true;
  } catch {
    return false;
  }
};
