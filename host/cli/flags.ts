// How the option table in main.ts reads values. Each flag's parser and bounds sit next to its
// help text, and a bad value is refused while the command line is parsed — before a command
// imports, reads or writes anything — with one line that names the flag and what it expected.
// The bounds exist so that no allocation or loop is sized by a number nobody checked.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { Option } from 'commander';
import { UsageError } from './errors.ts';

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

/** The option's names as messages give them: "-n/--n-predict". */
export const flagNames = (o: Option): string => [o.short, o.long].filter(Boolean).join('/');

/** An option whose value `parse` checks; its Expected becomes "FLAG VALUE: expected …". */
export function checked<T>(flags: string, doc: string, parse: (v: string, previous: T) => T, dflt?: T): Option {
  const o = new Option(flags, doc);
  o.argParser((v: string, previous: T) => {
    try {
      return parse(v, previous);
    } catch (e) {
      if (e instanceof Expected) throw new UsageError(`${flagNames(o)} ${shown(v)}: expected ${e.message}`);
      throw e;
    }
  });
  if (dflt !== undefined) o.default(dflt);
  return o;
}

export const intIn =
  (min: number, max: number) =>
  (v: string): number => {
    const n = decimalInt(v);
    if (n === undefined || n < min || n > max) throw new Expected(`an integer from ${min} to ${max}`);
    return n;
  };

/** An integer flag; its range is in the help text and in the refusal. */
export function intOption(flags: string, doc: string, min: number, max: number, dflt?: number): Option {
  return checked(flags, `${doc} (${min}..${max})`, intIn(min, max), dflt);
}

/** A number flag in [min, max], or above min with `above`; no max means any finite number. */
export function numberOption(flags: string, doc: string, r: { min: number; max?: number; above?: boolean }, dflt?: number): Option {
  const low = r.above ? `above ${r.min}` : r.max === undefined ? `>= ${r.min}` : `from ${r.min}`;
  const range = `a number ${low}${r.max === undefined ? '' : r.above ? ` and at most ${r.max}` : ` to ${r.max}`}`;
  return checked(
    flags,
    `${doc} (${r.above ? '>' : '>='} ${r.min}${r.max === undefined ? '' : `, <= ${r.max}`})`,
    (v) => {
      const n = decimalNumber(v);
      if (n === undefined || (r.max !== undefined && n > r.max) || (r.above ? n <= r.min : n < r.min)) throw new Expected(range);
      return n;
    },
    dflt,
  );
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
