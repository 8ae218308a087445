// Backend specs as the CLI takes them:
//   cpu
//   sim[:k=v,...]            the board SoC in-process (parameters override rtl/board's)
//   uart:PATH[@BAUD]         a board, or board-sim's pseudo-terminal
//   pcie:DEVICE_PREFIX       an XDMA board (/dev/xdma0)

import * as fs from 'node:fs';
import * as path from 'node:path';
import { findManifest, rtlDir } from '../../common/manifest.ts';
import { BackendError, type BitLinearBackend } from './backend.ts';
import { CpuBackend } from './cpu.ts';
import type { BoardBackend } from './board.ts';
import { LayerSplitBackend } from './layer-split.ts';
import { BackendSpecError, parseBackendSpec, type BackendSpec } from './spec.ts';

export { BackendSpecError, parseBackendSpec, type BackendSpec };

export interface SelectOptions {
  /** The manifest whose identity the board must report (default: rtl/board's). */
  readonly boardManifest?: string;
  readonly force?: boolean;
  readonly reload?: boolean;
  readonly timeoutMs?: number;
  readonly log?: (line: string) => void;
  /** Threads for the cpu backend's native kernels (default: every core). */
  readonly threads?: number;
}

/** rtl/<name>'s manifest, found by its suffix (the generator names the file after the top module). */
function checkedInManifest(name: string): string {
  try {
    return findManifest(rtlDir(name));
  } catch (e) {
    throw new BackendError((e as Error).message);
  }
}

/** The board SoC's manifest: the identity `uart:` and `sim` expect, and the sim backend's parameters, unless --board-manifest says otherwise. */
export const DEFAULT_BOARD_MANIFEST = (): string => checkedInManifest('board');

/** The PCIe top's manifest: what `pcie:` expects unless --board-manifest says otherwise. */
export const DEFAULT_PCIE_MANIFEST = (): string => checkedInManifest('xdma');

/** A board SoC's parameters and identity from its manifest (rtl/board's by default). */
export function readBoardManifest(file?: string): { params: Record<string, number>; identity: string } {
  file ??= DEFAULT_BOARD_MANIFEST();
  let m: unknown;
  try {
    m = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new BackendError(`${file}: cannot read the board manifest (${(e as Error).message})`);
  }
  const o = (typeof m === 'object' && m !== null ? m : {}) as { params?: unknown; extra?: { board?: { identity?: unknown } } };
  const identity = o.extra?.board?.identity;
  if (typeof identity !== 'string' || typeof o.params !== 'object' || o.params === null) throw new BackendError(`${file}: field 'extra.board.identity' is missing; is this the manifest of a board SoC?`);
  return { params: o.params as Record<string, number>, identity };
}

/** A spec with what it needs from the board manifest read and checked: the last step before opening it. */
export type PreparedBackend = { readonly spec: BackendSpec; readonly params?: Record<string, number>; readonly identity?: string; readonly members?: readonly PreparedBackend[] };

/**
 * Read the manifest a board backend needs and check the sim backend's parameters as
 * `generate` checks them (names, ranges), so a bad spec is refused before a model loads.
 */
export async function prepareBackend(spec: BackendSpec, o: SelectOptions = {}): Promise<PreparedBackend> {
  switch (spec.kind) {
    case 'cpu':
      return { spec };
    case 'sim': {
      const base = readBoardManifest(o.boardManifest).params;
      // rtl/'s parameters pass as they are; others are checked by the generator's table,
      // which board-sim loads only for them (the sim backend then elaborates that SoC).
      const { resolveBoardParams } = await import('../../sim/board-sim.ts');
      try {
        return { spec, params: await resolveBoardParams({ ...base, ...spec.params }) };
      } catch (e) {
        throw new BackendSpecError(`backend 'sim': ${(e as Error).message}`);
      }
    }
    case 'uart':
      // Before the model loads: opening the port comes after it.
      if (!fs.existsSync(spec.path)) throw new BackendSpecError(`backend 'uart': there is no serial port ${spec.path} (no such file)`);
      return { spec, identity: readBoardManifest(o.boardManifest).identity };
    case 'pcie': {
      // The XDMA device files, as a missing serial port is: before the model loads.
      const { xdmaDevices, missingXdmaDevice, XDMA_DEVICE_ROLES } = await import('../link/xdma.ts');
      const d = xdmaDevices(spec.prefix);
      for (const [role, what] of XDMA_DEVICE_ROLES) {
        const missing = missingXdmaDevice(d[role], what);
        if (missing) throw new BackendSpecError(`backend 'pcie': ${missing}`);
      }
      return { spec, identity: readBoardManifest(o.boardManifest ?? DEFAULT_PCIE_MANIFEST()).identity };
    }
    case 'boards': {
      // One device listed twice would get two plans uploaded over each other: refuse it.
      const seen = new Map<string, number>();
      spec.members.forEach((m, i) => {
        if (m.kind === 'sim') return;
        // A serial port resolves itself; an XDMA prefix names no file, so its directory does.
        const where = m.kind === 'uart' ? m.path : m.prefix;
        let key = `${m.kind}:${where}`;
        try {
          key = `${m.kind}:${m.kind === 'uart' ? fs.realpathSync(where) : path.join(fs.realpathSync(path.dirname(where)), path.basename(where))}`;
        } catch {
          // A path that does not resolve is refused by the member's own check below.
        }
        const first = seen.get(key);
        if (first !== undefined) throw new BackendSpecError(`board ${i + 1} (${m.kind}:${where}) is board ${first + 1} again; list each board once`);
        seen.set(key, i);
      });
      const members: PreparedBackend[] = [];
      for (const m of spec.members) members.push(await prepareBackend(m, o));
      return { spec, members };
    }
  }
}

export async function openBackend(p: PreparedBackend, o: SelectOptions = {}): Promise<BitLinearBackend> {
  const s = p.spec;
  switch (s.kind) {
    case 'boards': {
      const boards: BoardBackend[] = [];
      try {
        for (const m of p.members!) boards.push((await openBackend(m, o)) as BoardBackend);
      } catch (e) {
        for (const b of boards) await b.close().catch(() => {});
        throw e;
      }
      return new LayerSplitBackend(boards, o.log);
    }
    case 'cpu':
      return new CpuBackend({ kernel: s.kernel, threads: o.threads, log: o.log });
    case 'sim': {
      const { simBackend } = await import('./sim.ts');
      return simBackend(p.params!, { reload: o.reload, log: o.log });
    }
    case 'uart': {
      const { uartBackend } = await import('./uart.ts');
      return uartBackend(s.path, s.baud, { expectedHash: p.identity!, force: o.force, reload: o.reload, timeoutMs: o.timeoutMs });
    }
    case 'pcie': {
      const { pcieBackend } = await import('./pcie.ts');
      return pcieBackend(s.prefix, { expectedHash: p.identity!, force: o.force, reload: o.reload, timeoutMs: o.timeoutMs });
    }
  }
}

/** Parse, check and open a backend spec in one step. */
export async function selectBackend(spec: string, o: SelectOptions = {}): Promise<BitLinearBackend> {
  return openBackend(await prepareBackend(parseBackendSpec(spec), o), o);
}
