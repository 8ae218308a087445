// The --backend (-dev/--device) spec's syntax, checked without opening or reading anything: a leaf module
// (only the error class), so the CLI's option table can refuse a bad spec while it parses the
// command line, before any backend code loads.

import { BackendError } from './backend.ts';
import { BAUD } from '../../common/protocol.ts';

/** One board, as parsed. */
export type BoardSpec =
  | { readonly kind: 'sim'; readonly params: Readonly<Record<string, string>> }
  | { readonly kind: 'uart'; readonly path: string; readonly baud: number }
  | { readonly kind: 'pcie'; readonly prefix: string };

/** A backend spec as parsed: its syntax checked, nothing opened or read. */
export type BackendSpec =
  | { readonly kind: 'cpu'; readonly kernel: 'native' | 'js' }
  | BoardSpec
  /** Several boards, each holding a contiguous range of layers (layer-split.ts). */
  | { readonly kind: 'boards'; readonly members: readonly BoardSpec[] };

/** A piece of the spec as a message quotes it: one line, at most 64 characters. */
const q = (s: string): string => (/^[\w./:@=,+-]{0,64}$/.test(s) ? `'${s}'` : JSON.stringify(s.length > 64 ? `${s.slice(0, 64)}…` : s));
const SPECS = 'cpu[:js], sim[:k=v,...], uart:PATH[@BAUD] or pcie:DEVICE_PREFIX (several boards: a comma-separated list)';
/** Baud rates a serial port (and board-sim's host end) may be given. */
export { BAUD };

/** A spec that is wrong in itself (its syntax, or a sim parameter): the CLI puts the flag in front. */
export class BackendSpecError extends BackendError {}

/** Boards a model may be split across: the limit keeps a typo from opening hundreds of links. */
export const MAX_BOARDS = 16;

/**
 * Where a list of specs splits: at a comma followed by a backend's name, as in
 * `sim:wdepth=4096,sim:wdepth=4096` (a comma inside sim's parameters is followed by name=).
 */
function splitBackendList(spec: string): string[] {
  return spec.split(/,(?=(?:cpu|sim|uart|pcie)(?::|,|$))/);
}

/**
 * Parse a spec, or a comma-separated list of board specs (the model is then split across
 * them by layers); a BackendSpecError says what was expected.
 */
export function parseBackendSpec(spec: string): BackendSpec {
  const items = splitBackendList(spec);
  if (items.length === 1) return parseOne(spec);
  if (items.length > MAX_BOARDS) throw new BackendSpecError(`${items.length} backends listed; a model is split across at most ${MAX_BOARDS} boards`);
  const members = items.map((item) => {
    const b = parseOne(item);
    if (b.kind === 'cpu') throw new BackendSpecError(`backend ${q(item)} cannot be one of several: a model is split across boards (sim, uart or pcie), and cpu runs any model whole`);
    return b;
  });
  return { kind: 'boards', members };
}

function parseOne(spec: string): Exclude<BackendSpec, { kind: 'boards' }> {
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

