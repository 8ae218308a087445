// Files of a model directory. A directory may come from anywhere (a download, a git clone), so
// a name its files give (a shard an index lists) is a relative path without `..`: an index
// cannot send the loader to /etc. A symbolic link in the directory is the user's own pointing
// (the Hugging Face cache's snapshots/<commit>/x -> ../../blobs/<etag>, `--local-dir`
// downloads linking into the cache, weights linked from another disk, git-annex) and may end
// anywhere, but what it ends at is opened only if it is a regular file
// (host/model/file-source.ts): a link to /dev/zero or a FIFO is refused by name.

import * as path from 'node:path';
import { CheckpointError, excerpt } from './errors.ts';

/** `rel` as a relative '/'-separated path with no empty, `.` or `..` segment, or undefined. */
function safeRelative(rel: unknown): string | undefined {
  if (typeof rel !== 'string' || rel.length === 0 || rel.length > 4096) return undefined;
  if (/[\\\x00-\x1f\x7f]/.test(rel) || path.isAbsolute(rel) || /^[A-Za-z]:/.test(rel)) return undefined;
  return rel.split('/').every((s) => s !== '' && s !== '.' && s !== '..') ? rel : undefined;
}

/**
 * The path of `rel` inside model directory `dir`. `namedBy` is the file and field that named it
 * (an index's weight_map), for the message; without it `rel` is one of the fixed names the
 * loader looks for. A file that does not exist is returned as is: the caller says what is missing.
 */
export function modelDirFile(dir: string, rel: unknown, namedBy?: { file: string; field: string }): string {
  const ok = safeRelative(rel);
  const where = namedBy ? `${namedBy.field} ${excerpt(rel)}` : excerpt(rel);
  if (ok === undefined) throw new CheckpointError(namedBy?.file ?? dir, `${where} is not a file name inside the model directory (a relative path without '..')`);
  return path.join(dir, ok);
}
