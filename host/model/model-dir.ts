// Files of a model directory. A directory may come from anywhere (a download, a git clone), so
// what it names is read only from inside it: a name in it (config.json, a shard an index
// lists) is a relative path without `..`, and where it is a symbolic link, the link must end
// inside the directory, or in the blobs/ of the Hugging Face cache the directory is a snapshot
// of (snapshots/<commit>/x links to ../../blobs/<etag>; host/model/hub.ts). The file itself
// is opened only if it is a regular file (host/model/file-source.ts).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { CheckpointError, excerpt } from './errors.ts';

/** `rel` as a relative '/'-separated path with no empty, `.` or `..` segment, or undefined. */
function safeRelative(rel: unknown): string | undefined {
  if (typeof rel !== 'string' || rel.length === 0 || rel.length > 4096) return undefined;
  if (/[\\\x00-\x1f\x7f]/.test(rel) || path.isAbsolute(rel) || /^[A-Za-z]:/.test(rel)) return undefined;
  return rel.split('/').every((s) => s !== '' && s !== '.' && s !== '..') ? rel : undefined;
}

const within = (p: string, root: string): boolean => {
  const r = path.relative(root, p);
  return r === '' || (!r.startsWith('..') && !path.isAbsolute(r));
};

/** Where the directory's links may end: itself, and the blobs of the HF cache repo it is a snapshot in. */
function roots(dir: string): string[] {
  const real = fs.realpathSync(dir);
  const out = [real];
  for (let a = real; path.dirname(a) !== a; a = path.dirname(a)) {
    if (path.basename(a) === 'snapshots') {
      out.push(path.join(path.dirname(a), 'blobs'));
      break;
    }
  }
  return out;
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
  const full = path.join(dir, ok);
  let real: string;
  try {
    real = fs.realpathSync(full);
  } catch {
    return full;
  }
  if (!roots(dir).some((r) => within(real, r))) throw new CheckpointError(full, `is a symbolic link to ${excerpt(real)}, outside the model directory; copy the file into the directory`);
  return full;
}
