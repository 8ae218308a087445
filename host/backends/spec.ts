// The --backend (-dev/--device) spec's syntax, checked without opening or reading anything: a leaf module
// (only the error class), so the CLI's option table can refuse a bad spec while it parses the
// command line, before any backend code loads.

import { BackendError } from './backend.ts';
import { BAUD } from '../../common/protocol.ts';

/** A backend spec as parsed: its syntax checked, nothing opened or read. */
export type BackendSpec =
  | { readonly kind: 'cpu'; readonly kernel: 'native' | 'js' }
  | { readonly kind: 'sim'; readonly params: Readonly<Record<string, string>> }
  | { readonly kind: 'uart'; readonly path: string; readonly baud: number }
  | { readonly kind: 'pcie'; readonly prefix: string };

/** A piece of the spec as a message quotes it: one line, at most 64 characters. */
const q = (s: string): string => (/^[\w./:@=,+-]{0,64}$/.test(s) ? `'${s}'` : JSON.stringify(s.length > 64 ? `${s.slice(0, 64)}…` : s));
const SPECS = 'cpu[:js], sim[:k=v,...], uart:PATH[@BAUD] or pcie:DEVICE_PREFIX';
/** Baud rates a serial port (and board-sim's host end) may be given. */
export { BAUD };

/** A spec that is wrong in itself (its syntax, or a sim parameter): the CLI puts the flag in front. */
export class BackendSpecError extends BackendError {}

/** Parse a spec; a BackendSpecError says what was expected. */
export function parseBackendSpec(spec: string): BackendSpec {
  const colon = spec.indexOf(':');
  const [kind, rest] = colon < 0 ? [spec, undefined] : [spec.slice(0, colon), spec.slice(colon + 1)];
  switch (kind) {
    case 'cpu':
      if (rest !== undefined && rest !== 'js') throw new BackendSpecError(`backend 'cpu' takes no argument but 'js' (the JavaScript kernel), got ${q(rest)}`);
      return { kind: 'cpu', kernel: rest === 'js' ? 'js' : 'native' };
    case 'sim': {
      // A prototype-free record: `sim:__proto__=1` is a parameter name the check below refuses.
      const params: Record<string, string> = Object.create(null) as Record<string, string>;
      for (const kv of rest === undefined ? [] : rest.split(',')) {
        const m = /^([A-Za-z_]\w*)=(\d{1,16})$/.exec(kv);
        if (!m) throw new BackendSpecError(`backend 'sim': parameter ${q(kv)} must be name=integer (e.g. sim:wdepth=2048)`);
        if (Object.hasOwn(params, m[1]!)) throw new BackendSpecError(`backend 'sim': parameter ${m[1]} is given twice`);
        params[m[1]!] = m[2]!;
      }
      return { kind: 'sim', params };
    }
    case 'uart': {
      const m = /^([^@]+)(?:@(.*))?$/.exec(rest ?? '');
      if (!m) throw new BackendSpecError(`backend 'uart' needs a serial port: uart:/dev/ttyUSB1[@115200]`);
      if (m[2] === undefined) return { kind: 'uart', path: m[1]!, baud: 115200 };
      const baud = /^\d{1,9}$/.test(m[2]) ? Number(m[2]) : NaN;
      if (!(baud >= BAUD.min && baud <= BAUD.max)) throw new BackendSpecError(`backend 'uart': the baud rate after '@' must be an integer from ${BAUD.min} to ${BAUD.max}, got ${q(m[2])}`);
      return { kind: 'uart', path: m[1]!, baud };
    }
    case 'pcie':
      if (!rest) throw new BackendSpecError(`backend 'pcie' needs the XDMA device prefix: pcie:/dev/xdma0`);
      return { kind: 'pcie', prefix: rest };
    default:
      throw new BackendSpecError(`unknown backend ${q(spec)}: expected ${SPECS}`);
  }
}

