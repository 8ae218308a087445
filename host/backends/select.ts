// Backend specs as the CLI takes them:
//   cpu
//   sim[:k=v,...]            the board SoC in-process (parameters override rtl/board's)
//   uart:PATH[@BAUD]         a board, or board-sim's pseudo-terminal
//   pcie:DEVICE_PREFIX       an XDMA board (/dev/xdma0)

import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BackendError, type BitLinearBackend } from './backend.ts';
import { CpuBackend } from './cpu.ts';

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

export const DEFAULT_BOARD_MANIFEST = (): string => path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../rtl/board/board_8x8_uart.manifest.json');

/** The PCIe top's manifest: what `pcie:` expects unless --board-manifest says otherwise. */
export const DEFAULT_PCIE_MANIFEST = (): string => path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../rtl/xdma/board_16x16_xdma64.manifest.json');

/** A board SoC's parameters and identity from its manifest (rtl/board's by default). */
export function readBoardManifest(file: string = DEFAULT_BOARD_MANIFEST()): { params: Record<string, number>; identity: string } {
  let m: { params?: Record<string, number>; extra?: { board?: { identity?: string } } };
  try {
    m = JSON.parse(fs.readFileSync(file, 'utf8')) as typeof m;
  } catch (e) {
    throw new BackendError(`${file}: cannot read the board manifest (${(e as Error).message})`);
  }
  const identity = m.extra?.board?.identity;
  if (typeof identity !== 'string' || !m.params) throw new BackendError(`${file}: field 'extra.board.identity' is missing; is this the manifest of a board SoC?`);
  return { params: m.params, identity };
}

export async function selectBackend(spec: string, o: SelectOptions = {}): Promise<BitLinearBackend> {
  const [kind, rest] = spec.includes(':') ? [spec.slice(0, spec.indexOf(':')), spec.slice(spec.indexOf(':') + 1)] : [spec, ''];
  switch (kind) {
    case 'cpu':
      if (rest && rest !== 'js') throw new BackendError(`backend 'cpu' takes no argument but 'js' (the JavaScript kernel), got '${rest}'`);
      return new CpuBackend({ kernel: rest === 'js' ? 'js' : 'native', threads: o.threads, log: o.log });
    case 'sim': {
      const base = readBoardManifest(o.boardManifest).params;
      const over: Record<string, number> = {};
      for (const kv of rest ? rest.split(',') : []) {
        const m = /^(\w+)=(\d+)$/.exec(kv);
        if (!m) throw new BackendError(`backend 'sim': parameter '${kv}' must be name=integer (e.g. sim:wdepth=2048)`);
        over[m[1]!] = Number(m[2]);
      }
      const { simBackend } = await import('./sim.ts');
      return simBackend({ ...base, ...over }, { reload: o.reload, log: o.log });
    }
    case 'uart': {
      const m = /^([^@]+)(?:@(\d+))?$/.exec(rest);
      if (!m) throw new BackendError(`backend 'uart' needs a serial port: uart:/dev/ttyUSB1[@115200]`);
      const { uartBackend } = await import('./uart.ts');
      const expected = readBoardManifest(o.boardManifest).identity;
      return uartBackend(m[1]!, Number(m[2] ?? 115200), { expectedHash: expected, force: o.force, reload: o.reload, timeoutMs: o.timeoutMs });
    }
    case 'pcie': {
      if (!rest) throw new BackendError(`backend 'pcie' needs the XDMA device prefix: pcie:/dev/xdma0`);
      const { pcieBackend } = await import('./pcie.ts');
      const expected = readBoardManifest(o.boardManifest ?? DEFAULT_PCIE_MANIFEST()).identity;
      return pcieBackend(rest, { expectedHash: expected, force: o.force, reload: o.reload, timeoutMs: o.timeoutMs });
    }
    default:
      throw new BackendError(`unknown backend '${spec}': expected cpu[:js], sim[:k=v,...], uart:PATH[@BAUD] or pcie:DEVICE_PREFIX`);
  }
}
