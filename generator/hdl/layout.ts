// Line breaking for emitted Verilog: a line longer than LINE_LIMIT is re-laid out at its
// bracket structure, so a 64-lane concatenation or a wide sum reads as a column instead of
// one 2,000-character line. Only whitespace changes, and only between tokens (brackets,
// commas, the space-separated operators the emitter prints), so the text parses to the
// same expression; the one rewrite is dropping the parentheses of a left-nested run of the
// same associative operator (`((a & b) & c)` to `(a & b & c)`), which Verilog parses to
// the same tree because these operators are left-associative.

export const LINE_LIMIT = 120;
const STEP = '    ';

interface Tok {
  readonly t: string;
  /** Whitespace before it in the original text. */
  readonly sp: boolean;
}
interface Group {
  readonly open: '(' | '{';
  readonly kids: Node[];
  readonly sp: boolean;
}
type Node = Tok | Group;

const isGroup = (n: Node): n is Group => 'kids' in n;
const BINARY = new Set(['+', '-', '*', '&', '|', '^', '==', '!=', '<', '<=', '>', '>=', '<<', '>>', '>>>', '?', ':', '&&', '||']);
/** Operators whose left-nested runs can lose their parentheses. */
const ASSOCIATIVE = new Set(['&', '|', '^', '+']);
const close = (g: Group): string => (g.open === '(' ? ')' : '}');

/** Parse the text of one line (after its indentation); undefined when it is not plain bracketed text. */
function parse(text: string): Node[] | undefined {
  const stack: Group[] = [{ open: '(', kids: [], sp: false }];
  let sp = false;
  let i = 0;
  const push = (n: Node): void => {
    stack[stack.length - 1]!.kids.push(n);
    sp = false;
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ') {
      sp = true;
      i++;
    } else if (c === '(' || c === '{') {
      const g: Group = { open: c as '(' | '{', kids: [], sp };
      push(g);
      stack.push(g);
      i++;
    } else if (c === ')' || c === '}') {
      const g = stack.pop();
      if (!g || stack.length === 0 || close(g) !== c) return undefined;
      sp = false;
      i++;
    } else if (c === ',') {
      push({ t: ',', sp });
      i++;
    } else {
      // An atom: up to whitespace, a bracket or a comma; [ … ] and strings stay inside it.
      let j = i;
      while (j < text.length && !' (){},'.includes(text[j]!)) {
        if (text[j] === '"') {
          j = text.indexOf('"', j + 1);
          if (j < 0) return undefined;
          j++;
        } else if (text[j] === '[') {
          let depth = 0;
          for (; j < text.length; j++) {
            if (text[j] === '[') depth++;
            else if (text[j] === ']' && --depth === 0) break;
          }
          if (j >= text.length) return undefined;
          j++;
        } else j++;
      }
      push({ t: text.slice(i, j), sp });
      i = j;
    }
  }
  if (stack.length !== 1) return undefined;
  return stack[0]!.kids;
}

function flat(n: Node): string {
  if (!isGroup(n)) return n.t;
  return n.open + seqText(n.kids) + close(n);
}
function seqText(nodes: readonly Node[]): string {
  return nodes.map((k, i) => (i > 0 && k.sp ? ' ' : '') + flat(k)).join('');
}

/** The group's parts between separators (commas in concatenations, binary operators in parentheses). */
function segments(g: Group): { parts: Node[][]; seps: string[] } {
  const parts: Node[][] = [[]];
  const seps: string[] = [];
  for (const k of g.kids) {
    const cur = parts[parts.length - 1]!;
    const sep = !isGroup(k) && (k.t === ',' || (g.open === '(' && k.sp && cur.length > 0 && BINARY.has(k.t)));
    if (sep) {
      seps.push((k as Tok).t);
      parts.push([]);
    } else cur.push(k);
  }
  return { parts, seps };
}

let flattenedAny = false;

/** `((a & b) & c) & d` as the parts a, b, c, d, when every operator is the same associative one. */
function flattened(g: Group): { parts: Node[][]; seps: string[] } {
  const s = segments(g);
  const op = s.seps[0];
  if (g.open !== '(' || op === undefined || !ASSOCIATIVE.has(op) || s.seps.some((x) => x !== op)) return s;
  const first = s.parts[0]!;
  if (first.length === 1 && isGroup(first[0]!) && first[0].open === '(') {
    const inner = flattened(first[0]);
    if (inner.seps.length && inner.seps.every((x) => x === op)) {
      flattenedAny = true;
      return { parts: [...inner.parts, ...s.parts.slice(1)], seps: [...inner.seps, ...s.seps] };
    }
  }
  return s;
}

/**
 * Lines for `nodes` starting at column `col` of a line indented by `ind`; the first line has
 * no indentation. `after` characters follow the last node on its line (closing brackets, `;`).
 */
function render(nodes: readonly Node[], ind: string, col: number, limit: number, after: number): string[] {
  const lines: string[] = [''];
  let column = col;
  nodes.forEach((n, i) => {
    const gap = i > 0 && n.sp ? ' ' : '';
    const text = flat(n);
    // Leave room for what follows on the line up to the next group (`begin`, `;`, closing brackets).
    let tail = 0;
    let grouped = false;
    for (const k of nodes.slice(i + 1)) {
      if (isGroup(k)) {
        grouped = true;
        break;
      }
      tail += (k.sp ? 1 : 0) + k.t.length;
    }
    if (!grouped) tail += after;
    if (!isGroup(n) || column + gap.length + text.length + tail <= limit) {
      lines[lines.length - 1] += gap + text;
      column += gap.length + text.length;
      return;
    }
    const broken = breakGroup(n, ind, column + gap.length, limit, tail);
    lines[lines.length - 1] += gap + broken[0]!;
    lines.push(...broken.slice(1));
    column = broken.length > 1 ? broken[broken.length - 1]!.length : column + gap.length + broken[0]!.length;
  });
  return lines;
}

function breakGroup(g: Group, ind: string, col: number, limit: number, after: number): string[] {
  const { parts, seps } = flattened(g);
  if (parts.length === 1) {
    // Nothing to break at this level (`(~{…})`, `$signed(…)`): break inside.
    const inner = render(parts[0]!, ind, col + 1, limit, after + 1);
    inner[0] = g.open + inner[0]!;
    inner[inner.length - 1] += close(g);
    return inner;
  }
  const inner = ind + STEP;
  const out: string[] = [g.open];
  if (seps[0] === ',') {
    // A concatenation: fill lines with items while they fit.
    let line = '';
    parts.forEach((p, i) => {
      const comma = i < parts.length - 1 ? ',' : '';
      const item = seqText(p) + comma;
      if (line && inner.length + line.length + 1 + item.length <= limit) {
        line += ' ' + item;
        return;
      }
      if (line) out.push(inner + line);
      line = '';
      if (inner.length + item.length <= limit) line = item;
      else {
        const r = render(p, inner, inner.length, limit, comma.length);
        r[r.length - 1] += comma;
        out.push(inner + r[0]!, ...r.slice(1));
      }
    });
    if (line) out.push(inner + line);
  } else {
    // Operators lead their line: a + b + c reads down the left edge.
    parts.forEach((p, i) => {
      const lead = i === 0 ? '' : `${seps[i - 1]} `;
      const r = render(p, inner, inner.length + lead.length, limit, 0);
      out.push(inner + lead + r[0]!, ...r.slice(1));
    });
  }
  out.push(ind + close(g));
  return out;
}

/** Break one line of Verilog if it is longer than `limit`; lines it cannot parse stay as they are. */
export function breakLine(line: string, limit = LINE_LIMIT): string[] {
  if (line.length <= limit || line.startsWith('`')) return [line];
  const ind = /^ */.exec(line)![0];
  let body = line.slice(ind.length);
  let comment = '';
  const at = body.indexOf('//');
  if (at >= 0 && !body.slice(0, at).includes('"')) {
    comment = body.slice(at).trimEnd();
    body = body.slice(0, at).trimEnd();
  }
  // A long trailing comment goes on the line above.
  if (comment && (ind + body).length <= limit) return [ind + comment, ind + body];
  const nodes = parse(body);
  if (!nodes) return [line];
  flattenedAny = false;
  const lines = render(nodes, ind, ind.length, limit, 0);
  lines[0] = ind + lines[0]!;
  // Only whitespace may differ (and, where a run was flattened, parentheses): check, and keep the line if not.
  const squash = (t: string): string => (flattenedAny ? t.replace(/[\s()]/g, '') : t.replace(/\s/g, ''));
  if (squash(lines.join('\n')) !== squash(ind + body)) return [line];
  if (comment) lines[0] += `  ${comment}`;
  return lines;
}

/** Every line of a module's text, long ones broken. */
export function breakLines(text: string, limit = LINE_LIMIT): string {
  return text
    .split('\n')
    .flatMap((l) => breakLine(l, limit))
    .join('\n');
}
