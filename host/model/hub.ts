// `-m owner/name`: a model on the Hugging Face hub, downloaded into the standard Hugging Face
// cache so that Python users (transformers, huggingface_hub) and this project share it:
//
//   $HF_HUB_CACHE (else $HF_HOME/hub, else ~/.cache/huggingface/hub)/models--owner--name/
//     blobs/<etag>                       one file's bytes (etag: sha256 for LFS files, git blob sha1 otherwise)
//     blobs/<etag>.incomplete            a download in progress; continued with an HTTP Range request
//     refs/<revision>                    the commit a branch or tag pointed to (no newline)
//     snapshots/<commit>/<path>          relative symlink to ../../blobs/<etag>
//
// What @huggingface/hub does here and what it does not:
// - it does: the revision → commit lookup (`modelInfo`, GET /api/models/{repo}/revision/{rev}),
//   the recursive file listing with sizes, git oids and LFS sha256 (`listFiles`, GET
//   /api/models/{repo}/tree/{commit}, following the Link pagination), and the cache location
//   (`getHFHubCachePath`: HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE, HF_HOME, XDG_CACHE_HOME as Python does).
//   Both API calls go through our `fetch` (token, timeout, abort, one-line errors).
// - it does not resume: `downloadFileToCacheDir` (2.17.5) rewrites `<blob>.incomplete` from byte 0
//   on every attempt, checks neither size nor hash, and writes no refs/; `snapshotDownload` fetches
//   every file of the repo (all *.bin, onnx/, ... too) and has no file filter; neither has a
//   progress callback or a read timeout, and `downloadFileToCacheDir` names the snapshot after the
//   file's last commit rather than the revision's commit unless it is given a commit hash. So the
//   download itself (Range into `.incomplete`, size + sha256/sha1 check, rename, relative symlink,
//   refs/) is written here on Node's fetch, following huggingface_hub's `hf_hub_download`.
// Not done: the `.locks/` file locks huggingface_hub takes (two processes downloading the same
// blob at once would both append to one `.incomplete`; the hash check then fails and says so),
// the token file written by `hf auth login` (only $HF_TOKEN / $HUGGING_FACE_HUB_TOKEN are read),
// the xet protocol (files stored in Xet are fetched over plain HTTP, which the hub serves too).

import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash, type Hash } from 'node:crypto';
import { SingleBar, Presets } from 'cli-progress';
import { modelInfo, listFiles, getHFHubCachePath } from '@huggingface/hub';
import { CheckpointError, excerpt } from './errors.ts';

/**
 * A hub download that failed: one line naming the repo, the file and what happened. Its name
 * stays 'CheckpointError' so the CLI reports it as a user error (one line, no stack trace).
 */
export class HubError extends CheckpointError {
  constructor(
    /** `owner/name@revision` or `owner/name@revision:file` */
    readonly where: string,
    /** what happened */
    readonly reason: string,
    /** the HTTP status; 0 for a bad answer or listing; undefined when no answer came (network error, timeout, abort) */
    readonly status?: number,
  ) {
    super(where, reason);
  }
}

export interface ResolveOptions {
  /** Progress lines (which commit, what is fetched, resumes, retries); none by default. */
  log?: (s: string) => void;
  /** A progress bar on stderr while bytes are downloaded: bytes, rate, file name. */
  progress?: boolean;
  /** Aborts the listing or the download; a partial file is kept and resumed next time. */
  signal?: AbortSignal;
}

/**
 * The local path of a model given to `-m`.
 *
 * - An existing file or directory is returned unchanged (a local path always wins, so
 *   `./org/name` or an existing `org/name` directory is never sent anywhere).
 * - Otherwise `spec` must be a Hugging Face model repo id, spelled
 *
 *       owner/name[@revision][:FILE]
 *
 *   `@revision` is a branch, tag or commit hash (default `main`). Without `:FILE` the repo is
 *   fetched as a Hugging Face checkpoint (config.json, generation_config.json, tokenizer.json,
 *   tokenizer_config.json, special_tokens_map.json when present, and model.safetensors or
 *   model.safetensors.index.json with every shard it names; no other weights) and the snapshot
 *   directory is returned; a repo without config.json + safetensors but with exactly one .gguf
 *   file gives that file. `:FILE` picks one GGUF file and returns its path: either its exact
 *   path in the repo (`:ggml-model-i2_s.gguf`), or, for a name not ending in `.gguf`, a quant
 *   tag matched case-insensitively against the end of the .gguf names (`:i2_s` picks
 *   `ggml-model-i2_s.gguf`, `:Q4_K_M` picks `model-Q4_K_M.gguf`), as llama.cpp's `-hf org/name:quant`
 *   does; exactly one file must match.
 *   Examples: `microsoft/bitnet-b1.58-2B-4T`, `microsoft/bitnet-b1.58-2B-4T-gguf:i2_s`,
 *   `owner/name@v1.0`, `owner/name@refs/pr/3:model.gguf`.
 * - Anything else is an error saying the path does not exist and is not a repo id.
 *
 * Environment, as huggingface_hub reads it: HF_ENDPOINT (default https://huggingface.co),
 * HF_TOKEN or HUGGING_FACE_HUB_TOKEN, HF_HUB_CACHE / HF_HOME, HF_HUB_OFFLINE=1 (cache only),
 * HF_HUB_ETAG_TIMEOUT (seconds for an API answer, default 10) and HF_HUB_DOWNLOAD_TIMEOUT
 * (seconds without a byte during a download, default 10). Online, the revision is looked up on
 * every call (two small API requests); files already in the cache are not downloaded again. When
 * the hub cannot be reached, a complete cached snapshot of the revision is used instead.
 */
export async function resolveModel(spec: string, opts: ResolveOptions = {}): Promise<string> {
  if (fs.existsSync(spec)) return spec;
  // What reads as a file path is one: a missing model file is not sent to the hub as a repo id.
  // (A repo's file is spelled owner/name:FILE.gguf.)
  if (!spec.includes(':') && /\.(gguf|safetensors|json)$/i.test(spec)) throw new CheckpointError(spec, 'no such file or directory');
  const id = parseRepoSpec(spec);
  if (!id) {
    throw new CheckpointError(spec, 'no such file or directory, and not a Hugging Face repo id (owner/name[@revision][:FILE.gguf or :QUANT])');
  }
  const ctx = context(id, opts);
  if (isTruthy(process.env.HF_HUB_OFFLINE)) return fromCache(ctx, 'HF_HUB_OFFLINE is set and');
  let commit: string;
  let entries: RemoteFile[];
  try {
    commit = await lookupCommit(ctx);
    entries = await listRepo(ctx, commit);
  } catch (e) {
    // Unreachable hub: a complete cached copy of this revision will do, as in huggingface_hub.
    if (e instanceof HubError && e.status === undefined && !opts.signal?.aborted) {
      let cached: string | undefined;
      try {
        cached = fromCache(ctx, 'the hub cannot be reached and');
      } catch {
        throw e;
      }
      ctx.log(`${ctx.label}: ${e.reason}; using the cached snapshot`);
      return cached;
    }
    throw e;
  }
  return download(ctx, commit, entries);
}

// ---- repo ids ----

export interface RepoSpec {
  /** owner/name */
  repo: string;
  /** branch, tag or commit; `main` when not given */
  revision: string;
  /** `:FILE` as given: a .gguf path in the repo, or a quant tag */
  file?: string;
}

const NAME_PART = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$/;

/**
 * `owner/name[@revision][:FILE]` by the hub's rules for repo ids (huggingface_hub's
 * validate_repo_id: letters, digits, `-`, `_`, `.`; no leading or trailing `-`/`.`; no `--` or
 * `..`; not ending in `.git`; at most 96 characters a part), or undefined.
 */
export function parseRepoSpec(spec: string): RepoSpec | undefined {
  const m = /^([^/@:]+)\/([^/@:]+)(?:@([^:]+))?(?::(.+))?$/.exec(spec);
  if (!m) return undefined;
  const [, owner, name, revision, file] = m as unknown as [string, string, string, string | undefined, string | undefined];
  for (const part of [owner, name]) {
    if (part.length > 96 || !NAME_PART.test(part) || part.includes('--') || part.includes('..')) return undefined;
  }
  if (name.endsWith('.git')) return undefined;
  if (revision !== undefined && !isSafeRevision(revision)) return undefined;
  if (file !== undefined && !isSafeRelative(file)) return undefined;
  return { repo: `${owner}/${name}`, revision: revision ?? 'main', ...(file !== undefined && { file }) };
}

/** A branch, tag (`v1.0`, `refs/pr/3`) or commit; it becomes refs/<revision> in the cache. */
function isSafeRevision(r: string): boolean {
  return r.length <= 255 && /^[A-Za-z0-9._/-]+$/.test(r) && r.split('/').every((s) => s !== '' && s !== '.' && s !== '..' && !s.startsWith('.') && !s.endsWith('.lock'));
}

/**
 * A file name from the repo (the server's listing, an index, `:FILE`) that may become a path
 * under snapshots/<commit>/: '/'-separated, relative, no `.`/`..`/empty segments, no backslash,
 * no drive letter, no control characters.
 */
export function isSafeRelative(p: string): boolean {
  if (p.length === 0 || p.length > 1024) return false;
  if (/[\\\x00-\x1f\x7f]/.test(p) || p.startsWith('/') || /^[A-Za-z]:/.test(p)) return false;
  return p.split('/').every((s) => s !== '' && s !== '.' && s !== '..' && !/^[A-Za-z]:/.test(s));
}

// ---- context: environment, errors ----

interface Ctx {
  id: RepoSpec;
  label: string;
  endpoint: string;
  token: string | undefined;
  storage: string;
  log: (s: string) => void;
  progress: boolean;
  signal: AbortSignal | undefined;
  apiTimeout: number;
  readTimeout: number;
}

function context(id: RepoSpec, opts: ResolveOptions): Ctx {
  const label = `${id.repo}@${id.revision}`;
  const raw = (process.env.HF_ENDPOINT || 'https://huggingface.co').replace(/\/+$/, '');
  let endpoint: string;
  try {
    endpoint = new URL(raw).href.replace(/\/+$/, '');
  } catch {
    throw new HubError(label, `HF_ENDPOINT='${raw}' is not a URL`);
  }
  const cache = expandUser(getHFHubCachePath());
  const [owner, name] = id.repo.split('/') as [string, string];
  const storage = path.resolve(cache, `models--${owner}--${name}`);
  const seconds = (v: string | undefined, dflt: number, env: string): number => {
    if (v === undefined || v === '') return dflt;
    const n = Number(v);
    if (!(n > 0)) throw new HubError(label, `${env}='${v}' is not a positive number of seconds`);
    return n;
  };
  return {
    id,
    label,
    endpoint,
    token: process.env.HF_TOKEN || process.env.HUGGING_FACE_HUB_TOKEN || undefined,
    storage,
    log: opts.log ?? (() => {}),
    progress: opts.progress ?? false,
    signal: opts.signal,
    apiTimeout: seconds(process.env.HF_HUB_ETAG_TIMEOUT, 10, 'HF_HUB_ETAG_TIMEOUT'),
    readTimeout: seconds(process.env.HF_HUB_DOWNLOAD_TIMEOUT, 10, 'HF_HUB_DOWNLOAD_TIMEOUT'),
  };
}

const isTruthy = (v: string | undefined): boolean => v !== undefined && ['1', 'on', 'yes', 'true'].includes(v.trim().toLowerCase());
const expandUser = (p: string): string => (p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p);

/** `label:file` for a failure about one file, `label` for one about the repo. */
const whereOf = (ctx: Ctx, file?: string): string => (file ? `${ctx.label}:${file}` : ctx.label);

/** The one-line error for an HTTP answer that is not a success. */
function httpError(ctx: Ctx, res: Response, url: string, file?: string): HubError {
  const code = res.headers.get('x-error-code') ?? '';
  const at = `HTTP ${res.status} from ${url}`;
  const tokenHint = ctx.token ? 'the token in HF_TOKEN has no access to it' : 'set HF_TOKEN to a token that can read it';
  let msg: string;
  if (code === 'GatedRepo') msg = `the repository is gated: accept its conditions at ${ctx.endpoint}/${ctx.id.repo} and ${ctx.token ? 'check that HF_TOKEN is that account\'s token' : 'set HF_TOKEN to your token'}`;
  else if (res.status === 401 || res.status === 403) msg = `not authorized: the repository is private or gated, or does not exist (and no such local path); ${tokenHint}`;
  else if (code === 'RepoNotFound' && res.status === 404) msg = 'no such repository (and no such local path)';
  else if (code === 'RevisionNotFound') msg = `no such revision '${ctx.id.revision}'`;
  else if (code === 'EntryNotFound') msg = 'no such file in the repository';
  else if (res.status === 404) msg = file ? 'no such repository or file' : 'no such repository or revision (and no such local path)';
  else if (res.status === 416) msg = 'the server refused the byte range asked for';
  else if (res.status === 429) msg = 'rate limited by the hub; try again later';
  else msg = `the hub answered ${res.status} ${res.statusText}`.trimEnd();
  return new HubError(whereOf(ctx, file), `${msg} (${at})`, res.status);
}

/** The one-line error for a request that got no HTTP answer. */
function networkError(ctx: Ctx, e: unknown, file: string | undefined, timedOut: boolean, timeoutS: number, env: string): HubError {
  if (e instanceof HubError) return e;
  const where = whereOf(ctx, file);
  if (ctx.signal?.aborted) return new HubError(where, 'aborted');
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (timedOut || err.name === 'TimeoutError') return new HubError(where, `timed out: no answer from ${ctx.endpoint} within ${timeoutS} s (${env} sets the limit)`);
  if (err.name === 'SyntaxError' || err.name === 'InvalidApiResponseFormatError') return new HubError(where, `unexpected answer from ${ctx.endpoint} (${err.message})`, 0);
  const cause = err.cause?.message ?? err.cause?.code ?? err.message ?? String(e);
  return new HubError(where, `network error talking to ${ctx.endpoint}: ${cause}`);
}

/** A fetch for @huggingface/hub's API calls: token, timeout, abort, one-line errors. */
function apiFetch(ctx: Ctx): typeof fetch {
  return async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    const headers = new Headers(init?.headers);
    if (ctx.token && new URL(url).origin === new URL(ctx.endpoint).origin) headers.set('authorization', `Bearer ${ctx.token}`);
    headers.set('user-agent', USER_AGENT);
    const timeout = AbortSignal.timeout(ctx.apiTimeout * 1000);
    const signal = ctx.signal ? AbortSignal.any([ctx.signal, timeout]) : timeout;
    let res: Response;
    try {
      res = await fetch(url, { ...init, headers, signal });
    } catch (e) {
      throw networkError(ctx, e, undefined, timeout.aborted, ctx.apiTimeout, 'HF_HUB_ETAG_TIMEOUT');
    }
    if (!res.ok) throw httpError(ctx, res, url);
    return res;
  };
}

const USER_AGENT = 'bitnet-fpga/0.1 (@huggingface/hub)';

/** Runs a call into @huggingface/hub, turning what it throws into one line. */
async function viaLib<T>(ctx: Ctx, what: () => Promise<T>): Promise<T> {
  try {
    return await what();
  } catch (e) {
    throw networkError(ctx, e, undefined, false, ctx.apiTimeout, 'HF_HUB_ETAG_TIMEOUT');
  }
}

// ---- listing ----

interface RemoteFile {
  path: string;
  size: number;
  /** the blob's name: sha256 for an LFS file, the git blob sha1 otherwise (what the hub sends as ETag) */
  etag: string;
  lfs: boolean;
}

async function lookupCommit(ctx: Ctx): Promise<string> {
  const info = await viaLib(ctx, () => modelInfo({ name: ctx.id.repo, revision: ctx.id.revision, additionalFields: ['sha'], hubUrl: ctx.endpoint, fetch: apiFetch(ctx) }));
  const sha = (info as { sha?: unknown }).sha;
  if (typeof sha !== 'string' || !/^[0-9a-f]{40}$/.test(sha)) throw new HubError(ctx.label, `the hub gave no commit hash for the revision (sha: ${excerpt(sha)})`, 0);
  return sha;
}

async function listRepo(ctx: Ctx, commit: string): Promise<RemoteFile[]> {
  const out: RemoteFile[] = [];
  await viaLib(ctx, async () => {
    for await (const e of listFiles({ repo: { type: 'model', name: ctx.id.repo }, revision: commit, recursive: true, hubUrl: ctx.endpoint, fetch: apiFetch(ctx) })) {
      if (typeof e.path !== 'string' || !isSafeRelative(e.path)) {
        throw new HubError(ctx.label, `the server's file listing holds an unsafe file name ${excerpt(e.path)} (absolute, '..', or a backslash); refusing the repository`, 0);
      }
      if (e.type !== 'file') continue;
      const lfs = e.lfs !== undefined && e.lfs !== null;
      const etag = lfs ? e.lfs!.oid : e.oid;
      const size = lfs ? e.lfs!.size : e.size;
      if (typeof etag !== 'string' || !(lfs ? /^[0-9a-f]{64}$/ : /^[0-9a-f]{40}$/).test(etag)) {
        throw new HubError(whereOf(ctx, e.path), `the server's file listing gives no valid ${lfs ? 'LFS sha256' : 'git oid'} for it (${excerpt(etag)})`, 0);
      }
      if (!Number.isSafeInteger(size) || size < 0) throw new HubError(whereOf(ctx, e.path), `the server's file listing gives no valid size (${excerpt(size)})`, 0);
      out.push({ path: e.path, size, etag, lfs });
    }
  });
  return out;
}

// ---- which files ----

const HF_FILES = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'];
const SINGLE = 'model.safetensors';
const INDEX = 'model.safetensors.index.json';

type Plan = { kind: 'gguf'; file: string } | { kind: 'hf'; files: string[]; index?: string };

/** The .gguf file `:FILE` names among `names`, or an error message. */
function pickGguf(names: string[], want: string): string | { error: string } {
  const ggufs = names.filter((n) => n.toLowerCase().endsWith('.gguf'));
  if (want.toLowerCase().endsWith('.gguf')) {
    return ggufs.includes(want) ? want : { error: `no file '${want}'${ggufs.length ? ` (its .gguf files: ${ggufs.join(', ')})` : ' and no .gguf file at all'}` };
  }
  const tag = want.toLowerCase();
  const hits = ggufs.filter((n) => {
    const stem = path.posix.basename(n).toLowerCase().slice(0, -'.gguf'.length);
    return stem === tag || (stem.endsWith(tag) && /[-._]/.test(stem[stem.length - tag.length - 1] ?? ''));
  });
  if (hits.length === 1) return hits[0]!;
  if (hits.length === 0) return { error: `no .gguf file matches ':${want}'${ggufs.length ? ` (its .gguf files: ${ggufs.join(', ')})` : '; it has no .gguf file'}` };
  return { error: `':${want}' matches ${hits.length} .gguf files (${hits.join(', ')}); name one with ':FILE.gguf'` };
}

function plan(ctx: Ctx, names: string[]): Plan {
  const set = new Set(names);
  if (ctx.id.file !== undefined) {
    const f = pickGguf(names, ctx.id.file);
    if (typeof f !== 'string') throw new HubError(ctx.label, f.error, 0);
    return { kind: 'gguf', file: f };
  }
  const weights = set.has(SINGLE) ? SINGLE : set.has(INDEX) ? INDEX : undefined;
  if (set.has('config.json') && weights) {
    return { kind: 'hf', files: HF_FILES.filter((f) => set.has(f)).concat(weights === SINGLE ? [SINGLE] : []), ...(weights === INDEX && { index: INDEX }) };
  }
  const ggufs = names.filter((n) => n.toLowerCase().endsWith('.gguf'));
  if (ggufs.length === 1) return { kind: 'gguf', file: ggufs[0]! };
  if (ggufs.length > 1) throw new HubError(ctx.label, `the repository holds ${ggufs.length} .gguf files (${ggufs.join(', ')}); pick one with ${ctx.id.repo}:FILE.gguf or ${ctx.id.repo}:QUANT`, 0);
  const what = set.has('config.json') ? `no ${SINGLE} and no ${INDEX}` : 'no config.json';
  const shown = names.slice(0, 12).join(', ') + (names.length > 12 ? ', ...' : '');
  throw new HubError(ctx.label, `not a checkpoint bitnet-fpga can read: ${what}, and no .gguf file (it has: ${shown || 'no files'})`, 0);
}

/** The shards a safetensors index names, checked as file names. */
function shardsOf(ctx: Ctx, indexFile: string): string[] {
  let map: unknown;
  try {
    map = (JSON.parse(fs.readFileSync(indexFile, 'utf8')) as { weight_map?: unknown }).weight_map;
  } catch (e) {
    throw new HubError(whereOf(ctx, INDEX), `not valid JSON (${(e as Error).message})`, 0);
  }
  if (typeof map !== 'object' || map === null) throw new HubError(whereOf(ctx, INDEX), "no 'weight_map' object", 0);
  const shards = [...new Set(Object.values(map as Record<string, unknown>))];
  for (const s of shards) {
    if (typeof s !== 'string' || !isSafeRelative(s)) throw new HubError(whereOf(ctx, INDEX), `names an unsafe shard file name ${excerpt(s)}; refusing it`, 0);
  }
  return shards as string[];
}

// ---- cache paths ----

/** `rel` ('/'-separated, already checked) under `base`, checked again to stay inside the repo's cache folder. */
function inside(ctx: Ctx, base: string, rel: string): string {
  const p = path.resolve(base, ...rel.split('/'));
  if (!p.startsWith(ctx.storage + path.sep)) throw new HubError(ctx.label, `refusing to write outside the cache: ${JSON.stringify(rel)}`, 0);
  return p;
}

const snapshotDir = (ctx: Ctx, commit: string): string => inside(ctx, ctx.storage, `snapshots/${commit}`);

const existsFollow = (p: string): boolean => {
  try {
    fs.statSync(p);
    return true;
  } catch {
    return false;
  }
};

// ---- offline ----

/** The cached snapshot of the revision, complete for what `plan` would fetch, or an error. */
function fromCache(ctx: Ctx, why: string): string {
  const rev = ctx.id.revision;
  let commit = rev;
  if (!/^[0-9a-f]{40}$/.test(rev)) {
    const ref = inside(ctx, ctx.storage, `refs/${rev}`);
    let text: string;
    try {
      text = fs.readFileSync(ref, 'utf8').trim();
    } catch {
      throw new HubError(ctx.label, `${why} the cache has no copy of this revision (no ${ref})`, 0);
    }
    if (!/^[0-9a-f]{40}$/.test(text)) throw new HubError(ctx.label, `${why} ${ref} holds no commit hash`, 0);
    commit = text;
  }
  const snap = snapshotDir(ctx, commit);
  if (!fs.existsSync(snap)) throw new HubError(ctx.label, `${why} the cache has no snapshot of it (no ${snap})`, 0);
  const names: string[] = [];
  const walk = (dir: string, rel: string): void => {
    for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
      const r = rel ? `${rel}/${d.name}` : d.name;
      const full = path.join(dir, d.name);
      if (d.isDirectory()) walk(full, r);
      else if (existsFollow(full)) names.push(r);
    }
  };
  walk(snap, '');
  const missing = (f: string): HubError => new HubError(whereOf(ctx, f), `${why} ${f} is not in the cache (${path.join(snap, ...f.split('/'))})`, 0);
  if (ctx.id.file !== undefined) {
    const f = pickGguf(names, ctx.id.file);
    if (typeof f !== 'string') throw new HubError(ctx.label, `${why} in the cache (${snap}): ${f.error}`, 0);
    return path.join(snap, ...f.split('/'));
  }
  const has = new Set(names);
  if (!has.has('config.json')) {
    const ggufs = names.filter((n) => n.toLowerCase().endsWith('.gguf'));
    if (ggufs.length === 1) return path.join(snap, ...ggufs[0]!.split('/'));
    throw missing('config.json');
  }
  if (!has.has(SINGLE)) {
    if (!has.has(INDEX)) throw missing(SINGLE);
    for (const s of shardsOf(ctx, path.join(snap, INDEX))) if (!has.has(s)) throw missing(s);
  }
  return snap;
}

// ---- download ----

async function download(ctx: Ctx, commit: string, entries: RemoteFile[]): Promise<string> {
  const byPath = new Map(entries.map((e) => [e.path, e]));
  const p = plan(ctx, [...byPath.keys()]);
  const snap = snapshotDir(ctx, commit);
  if (ctx.id.revision !== commit) {
    const ref = inside(ctx, ctx.storage, `refs/${ctx.id.revision}`);
    fs.mkdirSync(path.dirname(ref), { recursive: true });
    if (!fs.existsSync(ref) || fs.readFileSync(ref, 'utf8') !== commit) fs.writeFileSync(ref, commit);
  }
  const want = p.kind === 'gguf' ? [p.file] : p.index ? [...p.files, p.index] : p.files;
  const fetcher = new Fetcher(ctx, commit);
  ctx.log(`${ctx.label}: commit ${commit}`);
  await fetcher.run(want.map((f) => byPath.get(f)!));
  if (p.kind === 'hf' && p.index) {
    const shards = shardsOf(ctx, path.join(snap, p.index));
    const files = shards.map((s) => {
      const e = byPath.get(s);
      if (!e) throw new HubError(whereOf(ctx, p.index), `names shard '${s}', which the repository does not have`, 0);
      return e;
    });
    await fetcher.run(files);
  }
  return p.kind === 'gguf' ? path.join(snap, ...p.file.split('/')) : snap;
}

const MAX_ATTEMPTS = 5;

class Fetcher {
  constructor(
    private readonly ctx: Ctx,
    private readonly commit: string,
  ) {}

  /** Puts each file in snapshots/<commit>/, downloading the blobs that are not complete. */
  async run(files: RemoteFile[]): Promise<void> {
    const todo: { f: RemoteFile; blob: string; pointer: string }[] = [];
    for (const f of files) {
      const pointer = inside(this.ctx, snapshotDir(this.ctx, this.commit), f.path);
      const blob = inside(this.ctx, this.ctx.storage, `blobs/${f.etag}`);
      if (sizeOf(pointer, true) === f.size) continue; // complete: never downloaded again
      if (sizeOf(blob, true) === f.size) {
        await link(blob, pointer);
        continue;
      }
      todo.push({ f, blob, pointer });
    }
    if (todo.length === 0) return;
    const total = todo.reduce((n, t) => n + t.f.size, 0);
    const already = todo.reduce((n, t) => n + Math.min(sizeOf(`${t.blob}.incomplete`, false) ?? 0, t.f.size), 0);
    this.ctx.log(`${this.ctx.label}: fetching ${todo.map((t) => t.f.path).join(', ')} (${human(total)}${already ? `, ${human(already)} already here` : ''}) into ${this.ctx.storage}`);
    const progress = this.ctx.progress ? new Progress(total) : undefined;
    try {
      for (const t of todo) {
        fs.mkdirSync(path.dirname(t.blob), { recursive: true });
        fs.mkdirSync(path.dirname(t.pointer), { recursive: true });
        if (sizeOf(t.blob, true) !== undefined) fs.rmSync(t.blob); // wrong size: fetched again
        await this.fetchBlob(t.f, t.blob, progress);
        progress?.finish(t.f.size);
        await link(t.blob, t.pointer);
      }
    } finally {
      progress?.stop();
    }
  }

  private url(file: string): string {
    return `${this.ctx.endpoint}/${this.ctx.id.repo}/resolve/${encodeURIComponent(this.commit)}/${file.split('/').map(encodeURIComponent).join('/')}`;
  }

  /**
   * Downloads one file into `<blob>.incomplete`, continuing an existing one with a Range
   * request, retrying a broken or stalled transfer from where it stopped (up to 5 attempts, as
   * huggingface_hub does), then checks size and hash (sha256 for LFS, git's blob sha1
   * otherwise) and renames it to `<blob>`.
   */
  private async fetchBlob(f: RemoteFile, blob: string, progress: Progress | undefined): Promise<void> {
    const ctx = this.ctx;
    const where = whereOf(ctx, f.path);
    const part = `${blob}.incomplete`;
    let restarted = false;
    for (let attempt = 1; ; attempt++) {
      let have = sizeOf(part, false) ?? 0;
      if (have > f.size) {
        fs.truncateSync(part, 0);
        have = 0;
      }
      progress?.at(f.path, have);
      if (have < f.size || f.size === 0) {
        const got = await this.transfer(f, part, have, attempt, progress);
        if (got === 'retry') continue;
        have = got;
      }
      if (have !== f.size) {
        if (attempt < MAX_ATTEMPTS) continue;
        throw new HubError(where, `the download ended at ${have} of ${f.size} bytes after ${attempt} attempts`, 0);
      }
      const digest = await hashFile(part, f);
      if (digest !== f.etag) {
        fs.rmSync(part, { force: true });
        if (!restarted) {
          // The kept part may come from another version or another process: once more from 0.
          restarted = true;
          ctx.log(`${where}: ${f.lfs ? 'sha256' : 'git sha1'} does not match the listing; downloading it again from the start`);
          continue;
        }
        throw new HubError(where, `the downloaded bytes have ${f.lfs ? 'sha256' : 'git sha1'} ${digest}, the hub's listing says ${f.etag}; the partial file was removed`, 0);
      }
      fs.renameSync(part, blob);
      return;
    }
  }

  /**
   * One GET (following redirects by hand so that the token is sent to the hub only), appending
   * to `part` from `have`. Returns the size reached, or 'retry' when the transfer broke after
   * bytes started to flow and another attempt is allowed.
   */
  private async transfer(f: RemoteFile, part: string, have: number, attempt: number, progress: Progress | undefined): Promise<number | 'retry'> {
    const ctx = this.ctx;
    const where = whereOf(ctx, f.path);
    const timer = new Idle(ctx.readTimeout * 1000);
    const signal = ctx.signal ? AbortSignal.any([ctx.signal, timer.signal]) : timer.signal;
    let url = this.url(f.path);
    let res: Response;
    try {
      for (let hop = 0; ; hop++) {
        const headers: Record<string, string> = { 'user-agent': USER_AGENT, 'accept-encoding': 'identity' };
        if (ctx.token && new URL(url).origin === new URL(ctx.endpoint).origin) headers.authorization = `Bearer ${ctx.token}`;
        if (have > 0) headers.range = `bytes=${have}-`;
        try {
          res = await fetch(url, { headers, signal, redirect: 'manual' });
        } catch (e) {
          throw networkError(ctx, e, f.path, timer.fired, ctx.readTimeout, 'HF_HUB_DOWNLOAD_TIMEOUT');
        }
        const loc = res.headers.get('location');
        if (res.status >= 300 && res.status < 400 && loc) {
          if (hop >= 10) throw new HubError(where, `too many redirects (last: ${url})`, res.status);
          await res.body?.cancel();
          url = new URL(loc, url).href;
          continue;
        }
        break;
      }
      if (res.status === 416 && have > 0) {
        // The kept part cannot be continued: start over.
        await res.body?.cancel();
        fs.truncateSync(part, 0);
        return 'retry';
      }
      if (!res.ok) throw httpError(ctx, res, url, f.path);
      let start = 0;
      if (res.status === 206) {
        const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
        start = m ? Number(m[1]) : -1;
        if (start !== have) {
          await res.body?.cancel();
          throw new HubError(where, `asked for bytes from ${have}, the server sent Content-Range '${res.headers.get('content-range')}'`, 206);
        }
        if (have > 0) ctx.log(`${where}: resuming at byte ${have} of ${f.size}`);
      } else if (have > 0) {
        ctx.log(`${where}: the server ignored the byte range; downloading it again from the start`);
        progress?.at(f.path, 0);
      }
      const fd = await fsp.open(part, start > 0 ? 'a' : 'w');
      let n = start;
      try {
        if (res.body) {
          for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
            timer.poke();
            if (n + chunk.length > f.size) throw new HubError(where, `the server sent more than the ${f.size} bytes the listing gives`, 0);
            await fd.write(chunk);
            n += chunk.length;
            progress?.add(chunk.length);
          }
        }
      } catch (e) {
        if (e instanceof HubError) throw e;
        const err = networkError(ctx, e, f.path, timer.fired, ctx.readTimeout, 'HF_HUB_DOWNLOAD_TIMEOUT');
        if (ctx.signal?.aborted || attempt >= MAX_ATTEMPTS) throw new HubError(where, `${err.reason} at byte ${n} of ${f.size}${ctx.signal?.aborted ? '' : ` after ${attempt} attempts`}; run again to resume`);
        ctx.log(`${where}: ${err.reason} at byte ${n} of ${f.size}; resuming (attempt ${attempt + 1} of ${MAX_ATTEMPTS})`);
        return 'retry';
      } finally {
        await fd.close();
      }
      return n;
    } finally {
      timer.stop();
    }
  }
}

/** An abort after `ms` without poke(): the read timeout. */
class Idle {
  private readonly ac = new AbortController();
  private t: NodeJS.Timeout;
  fired = false;
  constructor(private readonly ms: number) {
    this.t = this.arm();
  }
  get signal(): AbortSignal {
    return this.ac.signal;
  }
  private arm(): NodeJS.Timeout {
    return setTimeout(() => {
      this.fired = true;
      this.ac.abort(new DOMException('read timeout', 'TimeoutError'));
    }, this.ms);
  }
  poke(): void {
    clearTimeout(this.t);
    this.t = this.arm();
  }
  stop(): void {
    clearTimeout(this.t);
  }
}

/** The size of a file (following a symlink when asked), or undefined. */
function sizeOf(p: string, follow: boolean): number | undefined {
  try {
    const s = follow ? fs.statSync(p) : fs.lstatSync(p);
    return s.isFile() ? s.size : undefined;
  } catch {
    return undefined;
  }
}

/** What the hub names the blob: sha256 of an LFS file, git's blob sha1 of any other. */
async function hashFile(p: string, f: RemoteFile): Promise<string> {
  const h: Hash = createHash(f.lfs ? 'sha256' : 'sha1');
  if (!f.lfs) h.update(`blob ${f.size}\0`);
  for await (const chunk of fs.createReadStream(p)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** snapshots/<commit>/<file> → relative path to blobs/<etag>, as huggingface_hub links it (a copy where symlinks fail). */
async function link(blob: string, pointer: string): Promise<void> {
  fs.mkdirSync(path.dirname(pointer), { recursive: true });
  fs.rmSync(pointer, { force: true });
  try {
    fs.symlinkSync(path.relative(path.dirname(pointer), blob), pointer);
  } catch {
    await fsp.copyFile(blob, pointer);
  }
}

function human(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

/** The stderr bar: file name, bytes of all files to fetch, rate of this run. */
class Progress {
  private readonly bar = new SingleBar(
    {
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
      format: (o, p, payload: { file: string; rate: string }) => {
        const width = o.barsize ?? 30;
        const full = Math.round(Math.min(1, Math.max(0, p.progress)) * width);
        return `${payload.file} [${'='.repeat(full)}${' '.repeat(width - full)}] ${human(p.value)} / ${human(p.total)}${payload.rate ? ` ${payload.rate}` : ''}`;
      },
    },
    Presets.shades_classic,
  );
  private readonly t0 = Date.now();
  private base = 0; // files finished
  private cur = 0; // bytes of the current file on disk
  private moved = 0; // bytes received in this run
  private file = '';
  constructor(total: number) {
    this.bar.start(total, 0, { file: '', rate: '' });
  }
  /** `file` now has `have` bytes on disk (a kept part, or 0 after a restart). */
  at(file: string, have: number): void {
    this.file = file;
    this.cur = have;
    this.update();
  }
  add(n: number): void {
    this.cur += n;
    this.moved += n;
    this.update();
  }
  finish(size: number): void {
    this.base += size;
    this.cur = 0;
    this.update();
  }
  private update(): void {
    const s = (Date.now() - this.t0) / 1000;
    this.bar.update(this.base + this.cur, { file: this.file, rate: s > 0.2 ? `${human(this.moved / s)}/s` : '' });
  }
  stop(): void {
    this.bar.stop();
  }
}
