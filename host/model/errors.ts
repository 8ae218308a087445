// A checkpoint that cannot be used: the message names the file and, where there is one,
// the tensor or field, and says what was expected.

export class CheckpointError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'CheckpointError';
  }
}

/**
 * Longest piece of file content a message quotes: a corrupted length can make a "name" of
 * megabytes, and a message is one line a person reads.
 */
const EXCERPT = 60;

const cut = (s: string): string => (s.length > EXCERPT ? `${s.slice(0, EXCERPT)}…` : s);

/** A name read from a file (key, tensor, token), in single quotes, escaped, at most EXCERPT characters. */
export function quoted(name: string): string {
  return `'${cut(JSON.stringify(name).slice(1, -1).replace(/'/g, "\\'"))}'`;
}

/** Any value read from a file, as JSON (strings in double quotes, escaped), at most EXCERPT characters. */
export function excerpt(v: unknown): string {
  let s: string | undefined;
  try {
    s = typeof v === 'bigint' ? String(v) : JSON.stringify(v);
  } catch {
    s = undefined;
  }
  return cut(s ?? String(v));
}

/** An error message from a library or the OS (its errno code where it has one), on one line of at most 200 characters. */
export function reason(e: unknown): string {
  const m = ((e as NodeJS.ErrnoException | undefined)?.code ?? (e instanceof Error ? e.message : String(e))).replace(/\s+/g, ' ').trim();
  return m.length > 200 ? `${m.slice(0, 200)}…` : m;
}
