// What `run` and `perplexity` share before their loops: the backend spec checked against its
// board manifest (and its serial port or XDMA device files, prepareBackend), the model resolved and loaded
// with the numerics the flags ask for, the command's own checks on the model, then the backend
// opened and the weights uploaded — in that order, so a bad argument never costs a model load
// or a weight upload.

import { SingleBar, Presets } from 'cli-progress';
import { loadModel } from '../../model/load.ts';
import type { BitNetConfig } from '../../model/config.ts';
import { resolveModel } from '../../model/hub.ts';
import { bitLinears, layerOfBitLinears, type BitNetModel } from '../../model/model.ts';
import { TextCodec } from '../../model/tokenizer.ts';
import { prepareBackend, openBackend, BackendSpecError, type BackendSpec, type PreparedBackend } from '../../backends/select.ts';
import { RecordingBackend } from '../../backends/recorder.ts';
import { UsageError } from '../errors.ts';
import { shown } from '../flags.ts';
import { quantizeHead } from '../../infer/head.ts';
import { Q8_BLOCK } from '../../model/float-matrix.ts';
import { loadNative } from '../../native/native.ts';
import { schemeBits } from '../../infer/act-scheme.ts';
import type { ActScheme } from '../../infer/numerics-names.ts';

/** The options of a command that loads a model onto a backend, as the option table bounded them. */
export interface SessionOptions {
  model: string;
  backend: BackendSpec;
  /** The spec as given, for messages. */
  backendText?: string;
  /** What the spec came from, for messages: the flag's names, or $BITNET_ARG_BACKEND. */
  backendFlag?: string;
  threads?: number;
  headBits?: 16 | 8;
  boardManifest?: string;
  force?: boolean;
  reload?: boolean;
  progress?: boolean;
  /** Overrides the checkpoint's activation scheme. */
  actScheme?: ActScheme;
}

export interface Session {
  readonly model: BitNetModel;
  readonly modelPath: string;
  readonly codec: TextCodec | undefined;
  /** Weights uploaded; records a digest of every integer result. */
  readonly backend: RecordingBackend;
  /** From the start to the weights on the backend. */
  readonly loadMs: number;
}

/**
 * Load the model and open the backend with its weights. `check` runs after the model loads
 * and before the backend opens: the command's checks of its inputs against the model.
 * The caller closes session.backend.
 */
export async function openSession(o: SessionOptions, out: { log?: (s: string) => void }, check?: (m: BitNetModel, codec: TextCodec | undefined, modelPath: string) => void): Promise<Session> {
  const headBits = o.headBits ?? 16;
  let prepared: PreparedBackend;
  const refused = (why: string): UsageError => new UsageError(`${o.backendFlag ?? '-dev/--device/--backend'} ${shown(o.backendText ?? o.backend.kind)}: ${why}`);
  try {
    prepared = await prepareBackend(o.backend, { boardManifest: o.boardManifest });
  } catch (e) {
    throw e instanceof BackendSpecError ? refused(e.message) : e;
  }
  const t0 = performance.now();
  if (o.threads !== undefined) loadNative({ threads: o.threads, log: out.log });
  // A local path is used as it is; owner/name[@rev][:file] comes from the Hugging Face cache or hub.
  const modelPath = await resolveModel(o.model, { log: out.log, progress: o.progress });
  const loaded = loadModel(modelPath);
  for (const w of loaded.source.warnings ?? []) out.log?.(`warning: ${w}`);
  if (headBits === 8 && loaded.config.hidden % Q8_BLOCK) throw new UsageError(`--head-bits 8: the hidden size ${loaded.config.hidden} is not a multiple of ${Q8_BLOCK}`);
  const model = withNumerics(headBits === 8 ? { ...loaded, lmHead: quantizeHead(loaded.lmHead) } : loaded, o.actScheme);
  const codec = TextCodec.load(modelPath);
  check?.(model, codec, modelPath);
  const backend = new RecordingBackend(await openBackend(prepared, { force: o.force, reload: o.reload, log: out.log, threads: o.threads }));
  try {
    const bar = o.progress ? new SingleBar({ format: 'uploading weights [{bar}] {percentage}% | {value}/{total} tiles | {what}', hideCursor: true, clearOnComplete: true, stream: process.stderr }, Presets.shades_classic) : undefined;
    let started = false;
    // Without a bar (not a terminal, the demo), a line every few seconds: an upload to a simulated board takes tens of seconds.
    let lastLine = performance.now();
    await backend.load(bitLinears(model), {
      actBits: schemeBits(model.config.actScheme),
      layerOf: layerOfBitLinears(model),
      log: out.log,
      progress: (done, total, what) => {
        if (!bar) {
          if (performance.now() - lastLine > 5000 && done < total) out.log?.(`uploading weights: ${done}/${total} tiles (${what})`);
          if (performance.now() - lastLine > 5000) lastLine = performance.now();
          return;
        }
        if (!started) bar.start(total, 0, { what });
        started = true;
        bar.update(done, { what });
      },
    });
    bar?.stop();
  } catch (e) {
    await backend.close();
    throw e;
  }
  return { model, modelPath, codec, backend, loadMs: performance.now() - t0 };
}

/** The model with --act-scheme in place of its checkpoint's scheme (the config is the one place the scheme is read from). */
export function withNumerics<M extends { config: BitNetConfig }>(m: M, actScheme: ActScheme | undefined): M {
  return actScheme === undefined || actScheme === m.config.actScheme ? m : { ...m, config: { ...m.config, actScheme } };
}
