// Load model files in a child process with a deadline. A reader that blocks on a FIFO or reads
// /dev/zero forever blocks its whole thread (synchronous fs calls), which no mocha timeout can
// interrupt: in a child, such a regression fails the test that tried it, naming the case, and
// the suite goes on.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface ChildCase {
  readonly label: string;
  /** loadModel(path), or TextCodec.load(path). */
  readonly kind: 'model' | 'tokenizer';
  readonly path: string;
}

export interface ChildOutcome {
  readonly label: string;
  /** Loaded without an error. */
  readonly ok?: boolean;
  readonly name?: string;
  readonly message?: string;
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const url = (p: string): string => JSON.stringify(pathToFileURL(path.join(root, p)).href);

/** Each case's outcome; throws naming the case that was running if the child did not finish in `timeoutMs`. */
export function loadInChild(cases: readonly ChildCase[], timeoutMs = 30000): Map<string, ChildOutcome> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bitnet-child-'));
  const script = path.join(dir, 'open.ts');
  fs.writeFileSync(
    script,
    `import { loadModel } from ${url('host/model/load.ts')};
import { TextCodec } from ${url('host/model/tokenizer.ts')};
import * as fs from 'node:fs';
const cases = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
for (const c of cases) {
  process.stdout.write(JSON.stringify({ start: c.label }) + '\\n');
  let out;
  try { c.kind === 'model' ? loadModel(c.path) : TextCodec.load(c.path); out = { label: c.label, ok: true }; }
  catch (e) { out = { label: c.label, name: e?.name, message: String(e?.message) }; }
  process.stdout.write(JSON.stringify(out) + '\\n');
}
`,
  );
  const list = path.join(dir, 'cases.json');
  fs.writeFileSync(list, JSON.stringify(cases));
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, list], { timeout: timeoutMs, killSignal: 'SIGKILL', encoding: 'utf8', maxBuffer: 16 << 20 });
  fs.rmSync(dir, { recursive: true, force: true });
  const lines = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as ChildOutcome & { start?: string });
  const out = new Map<string, ChildOutcome>();
  for (const l of lines) if (l.label !== undefined) out.set(l.label, l);
  const missing = cases.find((c) => !out.has(c.label));
  if (missing) {
    const stuck = lines.filter((l) => l.start !== undefined).at(-1)?.start;
    throw new Error(`${missing.label}: no answer (the child ${r.signal ? `was killed after ${timeoutMs / 1000} s, stuck at '${stuck}'` : `exited ${r.status}: ${r.stderr.slice(0, 500)}`})`);
  }
  return out;
}
