// Evaluates a parsed data string into a sparse image: pieces of bytes at offsets plus a size.
// Pieces are kept in write order, so a later write over an earlier one wins when the image is
// stored (nbdkit's `"a"*3 @0 2` is 02 61 61). Offsets inside a group are relative to the
// group, and a group's size is the furthest offset it reached, written or moved to.
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { DataSyntaxError, parseData, type Expr } from './parse.ts';

export interface Piece {
  offset: number;
  data: Buffer;
}

export interface Image {
  size: number;
  pieces: Piece[];
}

export interface DataEnv {
  /** `$name`: nbdkit reads extra parameters and the environment; we read the environment. */
  variable(name: string): string | undefined;
}

/** Groups this small are flattened to one buffer before they are repeated or pasted. */
const DENSE_LIMIT = 1 << 20;
/** Past this many pieces an expression is too fragmented to hold: ask for fewer repeats. */
const MAX_PIECES = 1 << 20;

class Scope {
  private readonly names = new Map<string, Image>();
  constructor(private readonly parent: Scope | null) {}

  define(name: string, image: Image): void { this.names.set(name, image); }

  lookup(name: string): Image {
    const found = this.names.get(name) ?? this.parent?.lookup(name);
    if (!found) throw new DataSyntaxError(`data: \\${name} is not defined in this scope`);
    return found;
  }
}

export function evaluateData(text: string, env: DataEnv): Image {
  return evaluateList(parseData(text), new Scope(null), env);
}

function evaluateList(body: Expr[], scope: Scope, env: DataEnv): Image {
  const image: Image = { size: 0, pieces: [] };
  let pos = 0;
  for (const expr of body) {
    if (expr.kind === 'move') {
      pos = moveOffset(pos, expr.move, expr.n);
    } else if (expr.kind === 'assign') {
      scope.define(expr.name, evaluate(expr.expr, scope, env));
      continue;
    } else {
      const sub = evaluate(expr, scope, env);
      paste(image, sub, pos);
      pos += sub.size;
    }
    image.size = Math.max(image.size, pos);
  }
  return image;
}

function moveOffset(pos: number, move: 'to' | 'forward' | 'back' | 'align', n: number): number {
  switch (move) {
    case 'to': return n;
    case 'forward': return pos + n;
    case 'align': return Math.ceil(pos / n) * n;
    case 'back':
      if (n > pos) throw new DataSyntaxError(`data: @-${n} moves before the start of the image`);
      return pos - n;
  }
}

function evaluate(expr: Expr, scope: Scope, env: DataEnv): Image {
  switch (expr.kind) {
    case 'bytes': return dense(expr.data);
    case 'file': return dense(readFileSync(expr.path));
    case 'script': return dense(runScript(expr.script));
    case 'group': return compact(evaluateList(expr.body, new Scope(scope), env));
    case 'name': return scope.lookup(expr.name);
    case 'var': {
      const text = env.variable(expr.name);
      if (text === undefined) throw new DataSyntaxError(`data: $${expr.name} is not set`);
      return compact(evaluateList(parseData(text), new Scope(scope), env));
    }
    case 'repeat': return repeat(evaluate(expr.expr, scope, env), expr.count);
    case 'slice': return evaluateSlice(expr, scope, env);
    case 'move':
    case 'assign':
      // evaluateList handles these; as an operand (`@4*2`) they have no bytes to repeat.
      throw new DataSyntaxError(`data: ${expr.kind === 'move' ? '@offset' : '->'} cannot be repeated or sliced`);
  }
}

/** A slice of a file or script reads only what it keeps (`</dev/urandom[:512]`). */
function evaluateSlice(expr: Extract<Expr, { kind: 'slice' }>, scope: Scope, env: DataEnv): Image {
  const { start, end } = expr;
  if (end !== undefined && end < start) throw new DataSyntaxError(`data: slice [${start}:${end}] ends before it starts`);
  const inner = expr.expr;
  if (end !== undefined && inner.kind === 'file') return dense(readPrefix(inner.path, end).subarray(start));
  if (end !== undefined && inner.kind === 'script') return dense(runScript(`( ${inner.script} ) | head -c ${end}`).subarray(start));
  return slice(evaluate(inner, scope, env), start, end);
}

function readPrefix(path: string, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    let got = 0;
    for (let n = 1; got < length && n > 0; got += n) n = readSync(fd, buf, got, length - got, null);
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** `<(SCRIPT)`: the user's own shell script, run once at configuration, as nbdkit does. */
function runScript(script: string): Buffer {
  return execFileSync('/bin/sh', ['-c', script], { maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'inherit'] });
}

function dense(data: Buffer): Image {
  return { size: data.length, pieces: data.length ? [{ offset: 0, data }] : [] };
}

function paste(into: Image, sub: Image, at: number): void {
  if (into.pieces.length + sub.pieces.length > MAX_PIECES) throw new DataSyntaxError('data: the image is too fragmented (over a million pieces)');
  for (const p of sub.pieces) into.pieces.push({ offset: at + p.offset, data: p.data });
}

/** One buffer for a small image (gaps become zero bytes), so repeats copy bytes, not pieces. */
function compact(image: Image): Image {
  if (image.size > DENSE_LIMIT || (image.pieces.length === 1 && image.pieces[0]!.data.length === image.size)) return image;
  const data = Buffer.alloc(image.size);
  for (const p of image.pieces) p.data.copy(data, p.offset);
  return dense(data);
}

function repeat(image: Image, count: number): Image {
  const one = compact(image);
  const size = one.size * count;
  if (!Number.isSafeInteger(size)) throw new DataSyntaxError('data: repetition beyond 2^53 bytes');
  if (one.pieces.length === 1 && one.pieces[0]!.data.length === one.size && size <= 64 * DENSE_LIMIT) {
    return dense(Buffer.concat(new Array<Buffer>(count).fill(one.pieces[0]!.data), size));
  }
  const out: Image = { size, pieces: [] };
  for (let i = 0; i < count; i++) paste(out, one, i * one.size);
  return out;
}

function slice(image: Image, start: number, end = image.size): Image {
  const stop = Math.min(end, image.size);
  const out: Image = { size: Math.max(0, stop - start), pieces: [] };
  for (const p of image.pieces) {
    const from = Math.max(p.offset, start);
    const to = Math.min(p.offset + p.data.length, stop);
    if (from < to) out.pieces.push({ offset: from - start, data: p.data.subarray(from - p.offset, to - p.offset) });
  }
  return out;
}
