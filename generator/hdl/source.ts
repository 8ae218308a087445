// Source locations and user-facing errors.
//
// Every IR node remembers where the user's TypeScript created it, so a check that fails
// deep in elaboration can still say "counter.ts:14: ...". Capturing a stack is the costly
// part, so we keep the raw V8 call-site frames and only format the one frame we need.

import { fileURLToPath } from 'node:url';
import { findSourceMap, type SourceMap } from 'node:module';
import * as path from 'node:path';

export interface SourceLoc {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** The enclosing named function, when there is one (anonymous build callbacks have none). */
  readonly fn?: string;
}

const LIB_DIR = path.dirname(fileURLToPath(import.meta.url));

function isLibraryFrame(file: string): boolean {
  return file.startsWith(LIB_DIR + path.sep) || file.startsWith('node:') || file.includes(`${path.sep}node_modules${path.sep}`);
}

/** Where, outside the HDL library itself, the current call came from. */
export function callerLoc(): SourceLoc | undefined {
  const saved = Error.prepareStackTrace;
  const savedLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 16;
  let frames: NodeJS.CallSite[] = [];
  Error.prepareStackTrace = (_e, cs) => cs;
  try {
    const holder: { stack?: NodeJS.CallSite[] } = {};
    Error.captureStackTrace(holder, callerLoc);
    frames = holder.stack ?? [];
  } finally {
    Error.prepareStackTrace = saved;
    Error.stackTraceLimit = savedLimit;
  }
  for (const f of frames) {
    let file = f.getFileName() ?? '';
    if (file.startsWith('file://')) file = fileURLToPath(file);
    if (!file || isLibraryFrame(file)) continue;
    const loc = mapToSource(file, f.getLineNumber() ?? 0, f.getColumnNumber() ?? 0);
    // Only a plain named function says something (V8 names anonymous callbacks after where they were passed: 'defineModule.name').
    const fn = f.getFunctionName();
    return fn && /^[A-Za-z_$][\w$]*$/.test(fn) ? { ...loc, fn } : loc;
  }
  return undefined;
}

// tsx transpiles in memory; the call-site API reports transpiled positions, so map them back.
const sourceMaps = new Map<string, SourceMap | undefined>();
function mapToSource(file: string, line: number, column: number): SourceLoc {
  let sm = sourceMaps.get(file);
  if (!sourceMaps.has(file)) {
    sm = findSourceMap(file);
    sourceMaps.set(file, sm);
  }
  const entry = sm?.findEntry(line - 1, column - 1) as { originalSource?: string; originalLine?: number; originalColumn?: number } | undefined;
  if (!entry || entry.originalLine === undefined) return { file, line, column };
  const src = entry.originalSource?.startsWith('file://') ? fileURLToPath(entry.originalSource) : (entry.originalSource ?? file);
  return { file: src, line: entry.originalLine + 1, column: (entry.originalColumn ?? 0) + 1 };
}

export function formatLoc(loc: SourceLoc | undefined): string {
  if (!loc) return '<unknown>';
  const rel = path.relative(process.cwd(), loc.file);
  return `${rel.startsWith('..') ? loc.file : rel}:${loc.line}`;
}

/** The file's path as formatLoc prints it, without a line. */
export function formatFile(loc: SourceLoc | undefined): string {
  if (!loc) return '<unknown>';
  const rel = path.relative(process.cwd(), loc.file);
  return rel.startsWith('..') ? loc.file : rel;
}

/**
 * Where something was declared, for files that are checked in (Verilog headers, manifests):
 * the file and the enclosing function, but no line, so moving code in a generator does not
 * change its output. `withLine` (generate --source-comments) adds the line.
 */
export function formatDecl(loc: SourceLoc | undefined, withLine = false): string {
  if (!loc) return '<unknown>';
  return `${withLine ? formatLoc(loc) : formatFile(loc)}${loc.fn ? ` (${loc.fn})` : ''}`;
}

/** An error in the user's hardware description, located in the user's source. */
export class HdlError extends Error {
  readonly loc: SourceLoc | undefined;
  readonly detail: string;
  constructor(detail: string, loc?: SourceLoc) {
    super(loc ? `${formatLoc(loc)}: error: ${detail}` : `error: ${detail}`);
    this.name = 'HdlError';
    this.loc = loc;
    this.detail = detail;
  }
}

/** Several errors found by one check pass, reported together. */
export class HdlErrors extends Error {
  readonly errors: HdlError[];
  constructor(errors: HdlError[]) {
    super(errors.map((e) => e.message).join('\n'));
    this.name = 'HdlErrors';
    this.errors = errors;
  }
}

export interface HdlWarning {
  readonly loc: SourceLoc | undefined;
  readonly detail: string;
}

export function formatWarning(w: HdlWarning): string {
  return `${formatLoc(w.loc)}: warning: ${w.detail}`;
}
