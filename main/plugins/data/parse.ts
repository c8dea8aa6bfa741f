// The parser of nbdkit's data format (nbdkit-data-plugin(1), "DATA FORMAT"): a list of
// expressions, each optionally followed by postfix operators (`*N`, `[a:b]`, `-> \name`).
// It only builds a tree; evaluate.ts turns the tree into bytes at offsets.

export type OffsetMove = 'to' | 'forward' | 'back' | 'align';

export type Expr =
  | { kind: 'bytes'; data: Buffer }
  | { kind: 'move'; move: OffsetMove; n: number }
  | { kind: 'file'; path: string }
  | { kind: 'script'; script: string }
  | { kind: 'group'; body: Expr[] }
  | { kind: 'repeat'; expr: Expr; count: number }
  | { kind: 'slice'; expr: Expr; start: number; end?: number }
  | { kind: 'assign'; expr: Expr; name: string }
  | { kind: 'name'; name: string }
  | { kind: 'var'; name: string };

export class DataSyntaxError extends Error {}

const WORD = /^(le|be)(16|32|64):/;
const NAME = /^[A-Za-z0-9_-]+/;
/** strtol(…, 0): 0x hex, leading 0 octal, else decimal. */
const NUMBER = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/;
const ESCAPES: Record<string, number> = { n: 10, t: 9, r: 13, a: 7, b: 8, f: 12, v: 11, '\\': 92, '"': 34, "'": 39, '0': 0 };

class Cursor {
  pos = 0;
  constructor(readonly text: string) {}

  fail(what: string): never {
    throw new DataSyntaxError(`data: ${what} at offset ${this.pos}: '${this.text.slice(this.pos, this.pos + 20)}'`);
  }

  skipSpace(): void {
    for (;;) {
      const m = /^(\s+|#[^\n]*)/.exec(this.text.slice(this.pos));
      if (!m) return;
      this.pos += m[0].length;
    }
  }

  peek(): string { return this.text[this.pos] ?? ''; }

  take(re: RegExp, what: string): string {
    const m = re.exec(this.text.slice(this.pos));
    if (!m) this.fail(`expected ${what}`);
    this.pos += m[0].length;
    return m[0];
  }

  number(what = 'a number'): number {
    const text = this.take(NUMBER, what);
    const n = text.startsWith('0x') || text.startsWith('0X') ? parseInt(text.slice(2), 16) : text.length > 1 && text[0] === '0' ? parseInt(text, 8) : Number(text);
    if (!Number.isSafeInteger(n)) this.fail(`${text} is too large`);
    return n;
  }
}

/** Parses a whole data string into its top-level expressions. */
export function parseData(text: string): Expr[] {
  const c = new Cursor(text);
  const body = parseList(c);
  if (c.pos < text.length) c.fail("unmatched ')'");
  return body;
}

function parseList(c: Cursor): Expr[] {
  const out: Expr[] = [];
  for (;;) {
    c.skipSpace();
    if (c.pos >= c.text.length || c.peek() === ')') return out;
    out.push(parsePostfix(c, parsePrimary(c)));
  }
}

function parsePostfix(c: Cursor, first: Expr): Expr {
  let expr = first;
  for (;;) {
    c.skipSpace();
    const rest = c.text.slice(c.pos);
    if (rest.startsWith('*')) {
      c.pos++;
      c.skipSpace();
      expr = { kind: 'repeat', expr, count: c.number('a repeat count') };
    } else if (rest.startsWith('[')) {
      c.pos++;
      const start = /^\s*[0-9]/.test(c.text.slice(c.pos)) ? (c.skipSpace(), c.number()) : 0;
      c.skipSpace();
      c.take(/^:/, "':' in a slice");
      c.skipSpace();
      const end = c.peek() === ']' ? undefined : c.number();
      c.skipSpace();
      c.take(/^\]/, "']'");
      expr = { kind: 'slice', expr, start, end };
    } else if (rest.startsWith('->')) {
      c.pos += 2;
      c.skipSpace();
      c.take(/^\\/, "'\\name' after '->'");
      expr = { kind: 'assign', expr, name: c.take(NAME, 'a name') };
    } else {
      return expr;
    }
  }
}

function parsePrimary(c: Cursor): Expr {
  const ch = c.peek();
  if (ch === '(') {
    c.pos++;
    const body = parseList(c);
    c.take(/^\)/, "')'");
    return { kind: 'group', body };
  }
  if (ch === '"') return { kind: 'bytes', data: parseString(c) };
  if (ch === '@') return parseMove(c);
  if (ch === '<') return parseInput(c);
  if (ch === '\\') {
    c.pos++;
    return { kind: 'name', name: c.take(NAME, 'a name') };
  }
  if (ch === '$') {
    c.pos++;
    return { kind: 'var', name: c.take(/^[A-Za-z_][A-Za-z0-9_]*/, 'a variable name') };
  }
  const word = WORD.exec(c.text.slice(c.pos));
  if (word) {
    c.pos += word[0].length;
    return { kind: 'bytes', data: encodeWord(c, word[1] as 'le' | 'be', Number(word[2])) };
  }
  const byte = c.number('a byte, "string", @offset, <file, ( or $var');
  if (byte > 255) c.fail('a BYTE must be in the range 0..255');
  return { kind: 'bytes', data: Buffer.of(byte) };
}

function encodeWord(c: Cursor, endian: 'le' | 'be', bits: number): Buffer {
  const text = c.take(NUMBER, 'a word');
  const value = BigInt(text.length > 1 && /^0[0-7]/.test(text) ? `0o${text.slice(1)}` : text);
  if (value >= 1n << BigInt(bits)) c.fail(`${text} does not fit in ${bits} bits`);
  const out = Buffer.alloc(bits / 8);
  for (let i = 0; i < out.length; i++) {
    const byte = Number((value >> BigInt(8 * i)) & 0xffn);
    out[endian === 'le' ? i : out.length - 1 - i] = byte;
  }
  return out;
}

function parseMove(c: Cursor): Expr {
  c.pos++;
  const sign = c.peek();
  const move: OffsetMove = sign === '+' ? 'forward' : sign === '-' ? 'back' : sign === '^' ? 'align' : 'to';
  if (move !== 'to') c.pos++;
  const n = c.number('an offset');
  if (move === 'align' && n === 0) c.fail('@^0 aligns to nothing');
  return { kind: 'move', move, n };
}

function parseInput(c: Cursor): Expr {
  c.pos++;
  if (c.peek() !== '(') return { kind: 'file', path: c.take(/^[^\s[\]()*]+/, 'a file name after <') };
  const start = ++c.pos;
  // The script may hold parentheses of its own, in matching pairs (as nbdkit requires).
  for (let depth = 1; depth > 0; c.pos++) {
    if (c.pos >= c.text.length) c.fail("unterminated '<('");
    if (c.text[c.pos] === '(') depth++;
    else if (c.text[c.pos] === ')') depth--;
  }
  return { kind: 'script', script: c.text.slice(start, c.pos - 1) };
}

/** A C-style string literal: the escapes of C, and \xHH (which nbdkit 1.32 does not take yet). */
function parseString(c: Cursor): Buffer {
  c.pos++;
  const bytes: number[] = [];
  for (;;) {
    if (c.pos >= c.text.length) c.fail('unterminated string');
    const ch = String.fromCodePoint(c.text.codePointAt(c.pos)!);
    c.pos += ch.length;
    if (ch === '"') return Buffer.from(bytes);
    if (ch !== '\\') {
      bytes.push(...Buffer.from(ch, 'utf8'));
      continue;
    }
    const esc = c.text[c.pos++] ?? '';
    if (esc === 'x') {
      bytes.push(parseInt(c.take(/^[0-9a-fA-F]{1,2}/, 'hex digits after \\x'), 16));
    } else if (esc in ESCAPES) {
      bytes.push(ESCAPES[esc]!);
    } else {
      c.fail(`unknown escape \\${esc}`);
    }
  }
}
