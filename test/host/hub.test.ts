// resolveModel against a fixture hub on 127.0.0.1: the hub's API and resolve URLs, LFS files
// redirected to a "CDN" on another origin (another port), Range requests, dropped and stalled
// connections, private repos, hostile listings. HF_HUB_CACHE and HF_HOME point at a temp dir.

import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { resolveModel, parseRepoSpec, HubError } from '../../host/model/hub.ts';
import { CheckpointError } from '../../host/model/errors.ts';
import { loadModel } from '../../host/model/load.ts';
import { fixture } from './fixtures.ts';

// ---- the fixture hub ----

interface RepoFile {
  path: string;
  data: Buffer;
  lfs: boolean;
}
interface Repo {
  commit: string;
  files: RepoFile[];
  /** a token the repo needs (a private repo answers 401 without it) */
  token?: string;
  /** extra entries in the tree listing, as the server sends them */
  extraListing?: Record<string, unknown>[];
  /** the listing's sha256 for a path, when it should differ from the bytes served */
  listedSha?: Record<string, string>;
  /** the revision API never answers */
  hang?: boolean;
}
interface Req {
  server: 'hub' | 'cdn';
  method: string;
  url: string;
  range?: string;
  auth?: string;
}
type Trouble = { kind: 'drop' | 'stall' | 'hook'; after: number; onReached?: () => void };

const gitSha1 = (b: Buffer): string => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

class FixtureHub {
  readonly repos = new Map<string, Repo>();
  readonly requests: Req[] = [];
  /** once per file path: what goes wrong on its next full GET */
  readonly trouble = new Map<string, Trouble>();
  private hub!: http.Server;
  private cdn!: http.Server;
  private readonly open = new Set<import('node:net').Socket>();
  hubUrl = '';
  cdnUrl = '';
  noErrorCode = false;

  async start(): Promise<void> {
    this.hub = http.createServer((q, r) => this.onHub(q, r));
    this.cdn = http.createServer((q, r) => this.onCdn(q, r));
    for (const s of [this.hub, this.cdn]) s.on('connection', (c) => (this.open.add(c), c.on('close', () => this.open.delete(c))));
    const listen = (s: http.Server): Promise<string> => new Promise((ok) => s.listen(0, '127.0.0.1', () => ok(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)));
    this.hubUrl = await listen(this.hub);
    this.cdnUrl = await listen(this.cdn);
  }

  async stop(): Promise<void> {
    for (const c of this.open) c.destroy();
    await Promise.all([this.hub, this.cdn].map((s) => new Promise((ok) => s.close(ok))));
  }

  /** Requests for file bytes (resolve and CDN), not API calls. */
  fileRequests(): Req[] {
    return this.requests.filter((r) => r.server === 'cdn' || r.url.includes('/resolve/'));
  }

  private log(server: 'hub' | 'cdn', q: http.IncomingMessage): void {
    this.requests.push({ server, method: q.method ?? '', url: q.url ?? '', ...(q.headers.range && { range: q.headers.range }), ...(q.headers.authorization && { auth: q.headers.authorization }) });
  }

  private fail(r: http.ServerResponse, status: number, code?: string): void {
    r.writeHead(status, { 'content-type': 'application/json', ...(code && !this.noErrorCode && { 'x-error-code': code }) });
    r.end(JSON.stringify({ error: code ?? `status ${status}` }));
  }

  private onHub(q: http.IncomingMessage, r: http.ServerResponse): void {
    this.log('hub', q);
    const u = new URL(q.url ?? '/', this.hubUrl);
    const parts = u.pathname.split('/').slice(1).map(decodeURIComponent);
    const api = parts[0] === 'api' && parts[1] === 'models';
    const [owner, name] = api ? [parts[2], parts[3]] : [parts[0], parts[1]];
    const repo = this.repos.get(`${owner}/${name}`);
    if (!repo) return this.fail(r, 404, 'RepoNotFound');
    if (repo.token && q.headers.authorization !== `Bearer ${repo.token}`) return this.fail(r, 401);
    const rev = api ? parts[5] : parts[3];
    if (rev !== 'main' && rev !== repo.commit) return this.fail(r, 404, 'RevisionNotFound');
    if (api && parts[4] === 'revision') {
      if (repo.hang) return; // never answers
      r.writeHead(200, { 'content-type': 'application/json' });
      return void r.end(JSON.stringify({ _id: 'x', id: `${owner}/${name}`, sha: repo.commit, lastModified: '2025-01-01T00:00:00.000Z', private: !!repo.token, siblings: repo.files.map((f) => ({ rfilename: f.path })) }));
    }
    if (api && parts[4] === 'tree') {
      assert.equal(u.searchParams.get('recursive'), 'true');
      const dirs = new Set(repo.files.flatMap((f) => (f.path.includes('/') ? [f.path.split('/').slice(0, -1).join('/')] : [])));
      const entries: Record<string, unknown>[] = [
        ...[...dirs].map((d) => ({ type: 'directory', oid: gitSha1(Buffer.from(d)), size: 0, path: d })),
        ...repo.files.map((f) => ({ type: 'file', oid: gitSha1(f.data), size: f.data.length, path: f.path, ...(f.lfs && { lfs: { oid: repo.listedSha?.[f.path] ?? sha256(f.data), size: f.data.length, pointerSize: 134 } }) })),
        ...(repo.extraListing ?? []),
      ];
      r.writeHead(200, { 'content-type': 'application/json' });
      return void r.end(JSON.stringify(entries));
    }
    if (!api && parts[2] === 'resolve') {
      const file = repo.files.find((f) => f.path === parts.slice(4).join('/'));
      if (!file) return this.fail(r, 404);
      const common = { 'x-repo-commit': repo.commit, 'accept-ranges': 'bytes' };
      if (file.lfs) {
        const sha = sha256(file.data);
        r.writeHead(302, { ...common, location: `${this.cdnUrl}/repos/${sha}?file=${encodeURIComponent(file.path)}`, 'x-linked-etag': `"${sha}"`, 'x-linked-size': String(file.data.length), etag: `"${gitSha1(Buffer.from('pointer'))}"` });
        return void r.end();
      }
      return this.serve(q, r, file, { ...common, etag: `"${gitSha1(file.data)}"` });
    }
    this.fail(r, 404);
  }

  private onCdn(q: http.IncomingMessage, r: http.ServerResponse): void {
    this.log('cdn', q);
    const u = new URL(q.url ?? '/', this.cdnUrl);
    const sha = u.pathname.split('/')[2];
    const file = [...this.repos.values()].flatMap((x) => x.files).find((f) => f.lfs && sha256(f.data) === sha);
    if (!file) return this.fail(r, 404);
    this.serve(q, r, file, { etag: `"${sha}"`, 'accept-ranges': 'bytes' });
  }

  /** The file's bytes, a Range of them, or trouble (once). */
  private serve(q: http.IncomingMessage, r: http.ServerResponse, file: RepoFile, headers: Record<string, string>): void {
    const size = file.data.length;
    let start = 0;
    const range = q.headers.range;
    if (range) {
      const m = /^bytes=(\d+)-(\d*)$/.exec(range);
      if (!m || Number(m[1]) >= size) {
        r.writeHead(416, { 'content-range': `bytes */${size}` });
        return void r.end();
      }
      start = Number(m[1]);
      r.writeHead(206, { ...headers, 'content-length': String(size - start), 'content-range': `bytes ${start}-${size - 1}/${size}` });
    } else {
      r.writeHead(200, { ...headers, 'content-length': String(size) });
    }
    const t = start === 0 ? this.trouble.get(file.path) : undefined;
    if (!t) return void r.end(file.data.subarray(start));
    this.trouble.delete(file.path);
    r.write(file.data.subarray(0, t.after), () => {
      // FIN after the bytes: the client sees a connection closed early. A moment later, not at
      // once: a stream that errors drops what the client has received but not yet read, and the
      // resume point is then wherever its last write got to (still correct, but not N).
      if (t.kind === 'drop') setTimeout(() => r.socket?.end(), 300);
      else t.onReached?.(); // 'stall' and 'hook': nothing more is sent
    });
  }
}

// ---- fixtures ----

const TINY = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];
const fileOf = (p: string, data: Buffer | string, lfs = false): RepoFile => ({ path: p, data: Buffer.isBuffer(data) ? data : Buffer.from(data), lfs });
const commitHash = (): string => randomBytes(20).toString('hex');

function tinyRepo(): Repo {
  return {
    commit: commitHash(),
    files: [
      ...TINY.map((f) => fileOf(f, fs.readFileSync(fixture('tiny-fortunes', f)), f.endsWith('.safetensors'))),
      fileOf('generation_config.json', '{"do_sample": false}\n'),
      fileOf('README.md', '# tiny\n'),
      fileOf('.gitattributes', '*.safetensors filter=lfs\n'),
      fileOf('pytorch_model.bin', randomBytes(1000), true),
      fileOf('onnx/model.onnx', randomBytes(500), true),
    ],
  };
}

/** model.safetensors cut in two shards with an index, as transformers writes them. */
function shardedRepo(): Repo {
  const buf = fs.readFileSync(fixture('tiny-fortunes', 'model.safetensors'));
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const data = buf.subarray(8 + n);
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  const halves = [names.slice(0, names.length >> 1), names.slice(names.length >> 1)];
  const weightMap: Record<string, string> = {};
  const shards = halves.map((part, i) => {
    const file = `model-0000${i + 1}-of-00002.safetensors`;
    const h: Record<string, unknown> = {};
    const chunks: Buffer[] = [];
    let off = 0;
    for (const k of part) {
      const t = header[k]!;
      const bytes = data.subarray(t.data_offsets[0], t.data_offsets[1]);
      h[k] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + bytes.length] };
      chunks.push(bytes);
      off += bytes.length;
      weightMap[k] = file;
    }
    let json = JSON.stringify(h);
    json += ' '.repeat((8 - (json.length % 8)) % 8);
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    return fileOf(file, Buffer.concat([len, Buffer.from(json), ...chunks]), true);
  });
  return {
    commit: commitHash(),
    files: [
      ...['config.json', 'tokenizer.json', 'tokenizer_config.json'].map((f) => fileOf(f, fs.readFileSync(fixture('tiny-fortunes', f)))),
      fileOf('model.safetensors.index.json', JSON.stringify({ metadata: { total_size: data.length }, weight_map: weightMap })),
      ...shards,
      fileOf('model-fp32.safetensors', randomBytes(300), true), // not named by the index: not fetched
    ],
  };
}

// ---- tests ----

describe('hub: resolveModel (-m owner/name)', function () {
  const hub = new FixtureHub();
  const ENV = ['HF_ENDPOINT', 'HF_HUB_CACHE', 'HF_HOME', 'HUGGINGFACE_HUB_CACHE', 'XDG_CACHE_HOME', 'HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN', 'HF_HUB_OFFLINE', 'HF_HUB_ETAG_TIMEOUT', 'HF_HUB_DOWNLOAD_TIMEOUT'];
  const saved: Record<string, string | undefined> = {};
  let tmp: string;
  let cache: string;

  before(async () => {
    for (const k of ENV) saved[k] = process.env[k];
    await hub.start();
  });
  after(async () => {
    await hub.stop();
    for (const k of ENV) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-test-'));
    cache = path.join(tmp, 'hub');
    for (const k of ENV) delete process.env[k];
    process.env.HF_ENDPOINT = hub.hubUrl;
    process.env.HF_HUB_CACHE = cache;
    process.env.HF_HOME = path.join(tmp, 'home'); // never ~/.cache/huggingface
    hub.repos.clear();
    hub.noErrorCode = false;
    hub.requests.length = 0;
    hub.trouble.clear();
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  /** The one-line error resolveModel throws. */
  async function failure(spec: string, opts?: Parameters<typeof resolveModel>[1]): Promise<CheckpointError> {
    try {
      await resolveModel(spec, opts);
    } catch (e) {
      assert.ok(e instanceof CheckpointError, `expected a CheckpointError, got ${String(e)}`);
      assert.equal(e.name, 'CheckpointError'); // the CLI prints these as one line, no stack
      assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
      return e;
    }
    assert.fail(`resolveModel('${spec}') should have failed`);
  }

  const bytesOf = (repo: Repo, p: string): Buffer => repo.files.find((f) => f.path === p)!.data;

  it('parses owner/name[@revision][:FILE] by the hub rules for repo ids', () => {
    assert.deepEqual(parseRepoSpec('microsoft/bitnet-b1.58-2B-4T'), { repo: 'microsoft/bitnet-b1.58-2B-4T', revision: 'main' });
    assert.deepEqual(parseRepoSpec('a_b/c.d-e@v1.0:i2_s'), { repo: 'a_b/c.d-e', revision: 'v1.0', file: 'i2_s' });
    assert.deepEqual(parseRepoSpec('o/n@refs/pr/3:sub/model.gguf'), { repo: 'o/n', revision: 'refs/pr/3', file: 'sub/model.gguf' });
    for (const bad of ['name', './o/n', '../o/n', '/o/n', 'o/n/x', 'o//n', '-o/n', 'o/n-', 'o/.n', 'o/n.', 'o/a..b', 'o/a--b', 'o/n.git', 'o/n b', `o/${'x'.repeat(97)}`, 'o/n@', 'o/n@../x', 'o/n@a//b', 'o/n:../evil.gguf', 'o/n:/abs.gguf', 'o/n:a\\b.gguf', 'C:\\o/n']) {
      assert.equal(parseRepoSpec(bad), undefined, bad);
    }
  });

  it('returns a local path unchanged and never asks the hub about it', async () => {
    const dir = fixture('tiny-fortunes');
    assert.equal(await resolveModel(dir), dir);
    const file = path.join(dir, 'config.json');
    assert.equal(await resolveModel(file), file);
    const cwd = process.cwd();
    fs.mkdirSync(path.join(tmp, 'org', 'name'), { recursive: true });
    hub.repos.set('org/name', tinyRepo());
    process.chdir(tmp);
    try {
      assert.equal(await resolveModel('org/name'), 'org/name'); // an existing directory spelled like a repo id
      assert.equal(await resolveModel('./org/name'), './org/name');
      const e = await failure('./org/other');
      assert.match(e.message, /^\.\/org\/other: no such file or directory, and not a Hugging Face repo id/);
    } finally {
      process.chdir(cwd);
    }
    assert.deepEqual(hub.requests, []);
    assert.ok(!fs.existsSync(cache));
  });

  it('downloads a safetensors repo into the standard cache layout, and loadModel loads it', async () => {
    const repo = tinyRepo();
    hub.repos.set('test/tiny', repo);
    const logs: string[] = [];
    const dir = await resolveModel('test/tiny', { log: (s) => logs.push(s), progress: true });
    const storage = path.join(cache, 'models--test--tiny');
    assert.equal(dir, path.join(storage, 'snapshots', repo.commit));
    assert.equal(fs.readFileSync(path.join(storage, 'refs', 'main'), 'utf8'), repo.commit);
    const want = ['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];
    assert.deepEqual(fs.readdirSync(dir).sort(), want);
    for (const f of want) {
      const p = path.join(dir, f);
      assert.ok(fs.lstatSync(p).isSymbolicLink(), `${f} is a symlink`);
      const data = bytesOf(repo, f);
      const etag = f === 'model.safetensors' ? sha256(data) : gitSha1(data); // huggingface_hub's blob names
      assert.equal(fs.readlinkSync(p), `../../blobs/${etag}`);
      assert.ok(fs.readFileSync(p).equals(data), `${f} bytes`);
    }
    assert.equal(fs.readdirSync(path.join(storage, 'blobs')).length, want.length); // no .incomplete left, no other weights
    const fetched = hub.fileRequests().map((r) => r.url);
    for (const skipped of ['pytorch_model.bin', 'onnx', 'README.md', '.gitattributes']) assert.ok(!fetched.some((u) => u.includes(skipped)), `${skipped} not fetched: ${fetched.join(' ')}`);
    assert.ok(hub.requests.some((r) => r.url.startsWith('/api/models/test/tiny/revision/main')));
    assert.ok(hub.requests.some((r) => r.url.startsWith(`/api/models/test/tiny/tree/${repo.commit}`)));
    assert.ok(hub.requests.some((r) => r.server === 'cdn'), 'the LFS file came through the redirect');
    assert.ok(logs.some((l) => l.includes(repo.commit)), logs.join('\n'));

    const m = loadModel(dir);
    const ref = loadModel(fixture('tiny-fortunes'));
    assert.deepEqual(m.config, ref.config);
    assert.deepEqual(Array.from(m.layers[3]!.ffnSubNorm), Array.from(ref.layers[3]!.ffnSubNorm));

    // a second call: the API is asked which commit main is, but no file is requested again
    hub.requests.length = 0;
    assert.equal(await resolveModel('test/tiny'), dir);
    assert.deepEqual(hub.fileRequests(), []);
    assert.ok(hub.requests.length > 0);
    // by commit hash too
    hub.requests.length = 0;
    assert.equal(await resolveModel(`test/tiny@${repo.commit}`), dir);
    assert.deepEqual(hub.fileRequests(), []);
  });

  it('resumes a download the server drops mid-file with a Range request, same bytes', async () => {
    const repo = tinyRepo();
    hub.repos.set('test/tiny', repo);
    const N = 200_000;
    hub.trouble.set('model.safetensors', { kind: 'drop', after: N });
    const logs: string[] = [];
    const dir = await resolveModel('test/tiny', { log: (s) => logs.push(s) });
    const cdn = hub.requests.filter((r) => r.server === 'cdn');
    assert.equal(cdn.length, 2, JSON.stringify(cdn));
    assert.equal(cdn[0]!.range, undefined);
    assert.equal(cdn[1]!.range, `bytes=${N}-`);
    const resolves = hub.requests.filter((r) => r.url.includes('/resolve/') && r.url.endsWith('/model.safetensors'));
    assert.equal(resolves[1]!.range, `bytes=${N}-`); // the Range goes through the redirect
    assert.ok(fs.readFileSync(path.join(dir, 'model.safetensors')).equals(bytesOf(repo, 'model.safetensors')));
    assert.ok(logs.some((l) => /model\.safetensors: .* at byte 200000 of \d+; resuming/.test(l)), logs.join('\n'));
    assert.ok(logs.some((l) => l.includes('resuming at byte 200000')), logs.join('\n'));
    loadModel(dir);
  });

  it('keeps an aborted download as .incomplete and continues it on the next call', async () => {
    const repo = tinyRepo();
    hub.repos.set('test/tiny', repo);
    const ac = new AbortController();
    hub.trouble.set('model.safetensors', { kind: 'hook', after: 300_000, onReached: () => setTimeout(() => ac.abort(), 200) });
    const e = await failure('test/tiny', { signal: ac.signal });
    assert.match(e.message, /^test\/tiny@main:model\.safetensors: aborted at byte \d+ of \d+; run again to resume$/);
    const blobs = path.join(cache, 'models--test--tiny', 'blobs');
    const part = fs.readdirSync(blobs).find((f) => f.endsWith('.incomplete'));
    assert.equal(part, `${sha256(bytesOf(repo, 'model.safetensors'))}.incomplete`);
    const kept = fs.statSync(path.join(blobs, part!)).size;
    assert.ok(kept > 0 && kept <= 300_000, `kept ${kept}`);
    hub.requests.length = 0;
    const dir = await resolveModel('test/tiny');
    const files = hub.fileRequests();
    assert.deepEqual(files.filter((r) => r.server === 'cdn').map((r) => r.range), [`bytes=${kept}-`]); // only the rest of the one file
    assert.ok(fs.readFileSync(path.join(dir, 'model.safetensors')).equals(bytesOf(repo, 'model.safetensors')));
    assert.ok(!fs.readdirSync(blobs).some((f) => f.endsWith('.incomplete')));
  });

  it('retries a stalled transfer after HF_HUB_DOWNLOAD_TIMEOUT, from where it stopped', async () => {
    const repo = tinyRepo();
    hub.repos.set('test/tiny', repo);
    process.env.HF_HUB_DOWNLOAD_TIMEOUT = '0.3';
    hub.trouble.set('tokenizer.json', { kind: 'stall', after: 1000 });
    const logs: string[] = [];
    const dir = await resolveModel('test/tiny', { log: (s) => logs.push(s) });
    assert.ok(fs.readFileSync(path.join(dir, 'tokenizer.json')).equals(bytesOf(repo, 'tokenizer.json')));
    assert.deepEqual(hub.requests.filter((r) => r.url.endsWith('/tokenizer.json')).map((r) => r.range), [undefined, 'bytes=1000-']);
    assert.ok(logs.some((l) => /tokenizer\.json: timed out.*HF_HUB_DOWNLOAD_TIMEOUT.* at byte 1000/.test(l)), logs.join('\n'));
  });

  it('HF_HUB_OFFLINE=1 uses the cache only and names a missing file', async () => {
    const repo = tinyRepo();
    hub.repos.set('test/tiny', repo);
    const dir = await resolveModel('test/tiny');
    process.env.HF_HUB_OFFLINE = '1';
    hub.requests.length = 0;
    assert.equal(await resolveModel('test/tiny'), dir);
    assert.equal(await resolveModel(`test/tiny@${repo.commit}`), dir);
    assert.deepEqual(hub.requests, []);
    let e = await failure('test/other');
    assert.match(e.message, /^test\/other@main: HF_HUB_OFFLINE is set and the cache has no copy of this revision \(no .*models--test--other\/refs\/main\)$/);
    e = await failure('test/tiny@v2');
    assert.match(e.message, /^test\/tiny@v2: HF_HUB_OFFLINE is set and the cache has no copy/);
    fs.rmSync(path.join(cache, 'models--test--tiny', 'blobs', sha256(bytesOf(repo, 'model.safetensors'))));
    e = await failure('test/tiny');
    assert.match(e.message, /^test\/tiny@main:model\.safetensors: HF_HUB_OFFLINE is set and model\.safetensors is not in the cache \(/);
    assert.deepEqual(hub.requests, []);
  });

  it('uses a complete cached snapshot when the hub cannot be reached; says which endpoint failed otherwise', async () => {
    const repo = tinyRepo();
    hub.repos.set('test/tiny', repo);
    const dir = await resolveModel('test/tiny');
    const closed = http.createServer();
    const port = await new Promise<number>((ok) => closed.listen(0, '127.0.0.1', () => ok((closed.address() as AddressInfo).port)));
    await new Promise((ok) => closed.close(ok));
    process.env.HF_ENDPOINT = `http://127.0.0.1:${port}`;
    const logs: string[] = [];
    assert.equal(await resolveModel('test/tiny', { log: (s) => logs.push(s) }), dir);
    assert.match(logs.join('\n'), new RegExp(`network error talking to http://127\\.0\\.0\\.1:${port}.*; using the cached snapshot`));
    const e = await failure('test/other');
    assert.match(e.message, new RegExp(`^test/other@main: network error talking to http://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
  });

  it('says so when the hub does not answer within HF_HUB_ETAG_TIMEOUT', async () => {
    hub.repos.set('test/slow', { ...tinyRepo(), hang: true });
    process.env.HF_HUB_ETAG_TIMEOUT = '0.3';
    const t0 = Date.now();
    const e = await failure('test/slow');
    assert.equal(e.message, `test/slow@main: timed out: no answer from ${hub.hubUrl} within 0.3 s (HF_HUB_ETAG_TIMEOUT sets the limit)`);
    assert.ok(Date.now() - t0 < 5000);
  });

  it('a missing repo, revision or file, and a private repo, give one-line messages', async () => {
    let e = await failure('test/nope');
    assert.match(e.message, new RegExp(`^test/nope@main: no such repository \\(and no such local path\\) \\(HTTP 404 from ${hub.hubUrl}/api/models/test/nope/revision/main\\?`));
    hub.noErrorCode = true; // a 404 without X-Error-Code (a proxy, a mirror)
    e = await failure('test/nope');
    assert.match(e.message, /^test\/nope@main: no such repository or revision \(and no such local path\) \(HTTP 404 /);
    hub.noErrorCode = false;
    hub.repos.set('test/tiny', tinyRepo());
    e = await failure('test/tiny@v9');
    assert.match(e.message, /^test\/tiny@v9: no such revision 'v9' \(HTTP 404 /);
    const broken = tinyRepo();
    broken.files = broken.files.filter((f) => f.path !== 'tokenizer.json');
    broken.extraListing = [{ type: 'file', oid: gitSha1(Buffer.from('{}')), size: 2, path: 'tokenizer.json' }]; // listed, not served
    hub.repos.set('test/broken', broken);
    e = await failure('test/broken');
    assert.match(e.message, new RegExp(`^test/broken@main:tokenizer\\.json: no such repository or file \\(HTTP 404 from ${hub.hubUrl}/test/broken/resolve/${broken.commit}/tokenizer\\.json\\)$`));

    const priv = tinyRepo();
    priv.token = 'hf_secret';
    hub.repos.set('test/private', priv);
    e = await failure('test/private');
    assert.match(e.message, /^test\/private@main: not authorized: the repository is private or gated, or does not exist \(and no such local path\); set HF_TOKEN to a token that can read it \(HTTP 401 from /);
    process.env.HF_TOKEN = 'hf_wrong';
    e = await failure('test/private');
    assert.match(e.message, /the token in HF_TOKEN has no access to it \(HTTP 401/);
    delete process.env.HF_TOKEN;
    process.env.HUGGING_FACE_HUB_TOKEN = 'hf_secret';
    hub.requests.length = 0;
    const dir = await resolveModel('test/private');
    loadModel(dir);
    assert.ok(hub.requests.filter((r) => r.server === 'hub').every((r) => r.auth === 'Bearer hf_secret'));
    const cdn = hub.requests.filter((r) => r.server === 'cdn');
    assert.ok(cdn.length > 0 && cdn.every((r) => r.auth === undefined), 'the token is not sent to another origin');
  });

  it('refuses hostile file names from the listing or an index, and writes nothing outside the cache', async () => {
    for (const bad of ['../evil', '/etc/evil', 'a/../../evil', 'a\\..\\evil', 'C:/evil']) {
      const repo = tinyRepo();
      repo.extraListing = [{ type: 'file', oid: gitSha1(Buffer.from('x')), size: 1, path: bad }];
      hub.repos.set('test/hostile', repo);
      const e = await failure('test/hostile');
      assert.equal(e.message, `test/hostile@main: the server's file listing holds an unsafe file name ${JSON.stringify(bad)} (absolute, '..', or a backslash); refusing the repository`);
    }
    const sharded = shardedRepo();
    const index = sharded.files.find((f) => f.path === 'model.safetensors.index.json')!;
    index.data = Buffer.from(JSON.stringify({ weight_map: { 'model.norm.weight': '../../../evil.safetensors' } })); // the listing is clean
    hub.repos.set('test/badindex', sharded);
    const e = await failure('test/badindex');
    assert.equal(e.message, `test/badindex@main:model.safetensors.index.json: names an unsafe shard file name "../../../evil.safetensors"; refusing it`);
    assert.ok(!fs.readdirSync(tmp).some((f) => f.includes('evil')));
    assert.ok(!fs.existsSync(path.join(cache, 'evil.safetensors')));
    assert.ok(!fs.existsSync(path.join(cache, 'models--test--badindex', 'evil.safetensors')));
  });

  it('fetches the index and every shard it names of a sharded checkpoint, and no other weights', async () => {
    const repo = shardedRepo();
    hub.repos.set('test/sharded', repo);
    const dir = await resolveModel('test/sharded');
    assert.deepEqual(fs.readdirSync(dir).sort(), ['config.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'model.safetensors.index.json', 'tokenizer.json', 'tokenizer_config.json']);
    assert.ok(!hub.fileRequests().some((r) => r.url.includes('fp32')));
    const m = loadModel(dir);
    assert.deepEqual(Array.from(m.layers[0]!.inputNorm), Array.from(loadModel(fixture('tiny-fortunes')).layers[0]!.inputNorm));
  });

  it('picks one GGUF file: the only one, by exact name, or by quant tag', async () => {
    const g = { commit: commitHash(), files: [fileOf('README.md', 'x'), fileOf('ggml-model-i2_s.gguf', randomBytes(3000), true), fileOf('sub/ggml-model-TQ1_0.gguf', randomBytes(2000), true), fileOf('ggml-model-tq2_0.gguf', randomBytes(1000), true)] };
    hub.repos.set('test/gguf', g);
    const snap = path.join(cache, 'models--test--gguf', 'snapshots', g.commit);
    let e = await failure('test/gguf');
    assert.equal(e.message, 'test/gguf@main: the repository holds 3 .gguf files (ggml-model-i2_s.gguf, sub/ggml-model-TQ1_0.gguf, ggml-model-tq2_0.gguf); pick one with test/gguf:FILE.gguf or test/gguf:QUANT');
    assert.equal(await resolveModel('test/gguf:tq1_0'), path.join(snap, 'sub', 'ggml-model-TQ1_0.gguf'));
    assert.equal(fs.readlinkSync(path.join(snap, 'sub', 'ggml-model-TQ1_0.gguf')), `../../../blobs/${sha256(bytesOf(g, 'sub/ggml-model-TQ1_0.gguf'))}`);
    assert.equal(await resolveModel('test/gguf:ggml-model-i2_s.gguf'), path.join(snap, 'ggml-model-i2_s.gguf'));
    assert.ok(fs.readFileSync(path.join(snap, 'ggml-model-i2_s.gguf')).equals(bytesOf(g, 'ggml-model-i2_s.gguf')));
    assert.ok(!hub.fileRequests().some((r) => r.url.includes('tq2_0') || r.url.includes('README')));
    e = await failure('test/gguf:q4_k_m');
    assert.match(e.message, /^test\/gguf@main: no \.gguf file matches ':q4_k_m' \(its \.gguf files: /);
    e = await failure('test/gguf:i2_s.gguf');
    assert.match(e.message, /^test\/gguf@main: no file 'i2_s\.gguf'/);
    process.env.HF_HUB_OFFLINE = 'true';
    assert.equal(await resolveModel('test/gguf:I2_S'), path.join(snap, 'ggml-model-i2_s.gguf'));
    e = await failure('test/gguf:tq2_0');
    assert.match(e.message, /HF_HUB_OFFLINE is set and in the cache .*: no \.gguf file matches ':tq2_0'/);

    const one = { commit: commitHash(), files: [fileOf('config.json', '{}'), fileOf('model.gguf', randomBytes(100), true)] };
    hub.repos.set('test/one', one);
    delete process.env.HF_HUB_OFFLINE;
    assert.equal(await resolveModel('test/one'), path.join(cache, 'models--test--one', 'snapshots', one.commit, 'model.gguf'));
  });

  it('says what a repo lacks when it has nothing to load', async () => {
    hub.repos.set('test/bin', { commit: commitHash(), files: [fileOf('config.json', '{}'), fileOf('pytorch_model.bin', randomBytes(10), true)] });
    const e = await failure('test/bin');
    assert.equal(e.message, 'test/bin@main: not a checkpoint bitnet-fpga can read: no model.safetensors and no model.safetensors.index.json, and no .gguf file (it has: config.json, pytorch_model.bin)');
    assert.deepEqual(hub.fileRequests(), []);
  });

  it('refuses bytes whose sha256 differs from the listing, and leaves no partial file', async () => {
    const repo = tinyRepo();
    repo.listedSha = { 'model.safetensors': 'ab'.repeat(32) };
    hub.repos.set('test/tiny', repo);
    const e = await failure('test/tiny');
    assert.match(e.message, new RegExp(`^test/tiny@main:model\\.safetensors: the downloaded bytes have sha256 ${sha256(bytesOf(repo, 'model.safetensors'))}, the hub's listing says ${'ab'.repeat(32)}; the partial file was removed$`));
    const blobs = fs.readdirSync(path.join(cache, 'models--test--tiny', 'blobs'));
    assert.ok(!blobs.some((f) => f.startsWith('ab'.repeat(32))), blobs.join(' '));
  });
});
