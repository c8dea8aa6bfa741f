// The data format's evaluator (pieces, compaction, repeats) against a dense interpreter of
// the same program, written from the man page: a byte array grown as offsets move.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { propertyParams, propertyTimeout } from '../../testing/property-params.ts';
import { evaluateData } from './evaluate.ts';

type Op =
  | { op: 'byte'; b: number }
  | { op: 'string'; s: string }
  | { op: 'to' | 'forward' | 'align'; n: number }
  | { op: 'back'; n: number }
  | { op: 'group'; body: Op[]; times: number; slice: [number, number] | null };

const leaf: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('byte' as const), b: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('string' as const), s: fc.string({ unit: fc.constantFrom('a', 'b', 'Z', '0', ' '), minLength: 1, maxLength: 6 }) }),
  fc.record({ op: fc.constantFrom('to' as const, 'forward' as const), n: fc.integer({ min: 0, max: 5000 }) }),
  fc.record({ op: fc.constant('align' as const), n: fc.constantFrom(1, 2, 8, 512, 4096) }),
  fc.record({ op: fc.constant('back' as const), n: fc.integer({ min: 0, max: 8 }) }),
);

const { ops: opsArb } = fc.letrec<{ ops: Op[]; op: Op }>((tie) => ({
  ops: fc.array(tie('op'), { maxLength: 8 }),
  op: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, fc.record({
    op: fc.constant('group' as const),
    body: tie('ops') as fc.Arbitrary<Op[]>,
    times: fc.oneof(fc.integer({ min: 0, max: 4 }), fc.constant(100)),
    slice: fc.option(fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 40 }))),
  })),
}));

function toText(ops: Op[]): string {
  return ops.map((o) => {
    switch (o.op) {
      case 'byte': return o.b > 15 ? `0x${o.b.toString(16)}` : String(o.b);
      case 'string': return JSON.stringify(o.s);
      case 'to': return `@${o.n}`;
      case 'forward': return `@+${o.n}`;
      case 'align': return `@^${o.n}`;
      case 'back': return `@-${o.n}`;
      case 'group': return `( ${toText(o.body)} )${o.slice ? `[${o.slice[0]}:${o.slice[0] + o.slice[1]}]` : ''}*${o.times}`;
    }
  }).join(' ');
}

/** Dense interpretation; null where the program is invalid (moving before 0). */
function interpret(ops: Op[]): number[] | null {
  const out: number[] = [];
  let pos = 0;
  let size = 0;
  const put = (bytes: number[]) => {
    bytes.forEach((b, i) => { out[pos + i] = b; });
    pos += bytes.length;
  };
  for (const o of ops) {
    switch (o.op) {
      case 'byte': put([o.b]); break;
      case 'string': put([...Buffer.from(o.s)]); break;
      case 'to': pos = o.n; break;
      case 'forward': pos += o.n; break;
      case 'align': pos = Math.ceil(pos / o.n) * o.n; break;
      case 'back':
        if (o.n > pos) return null;
        pos -= o.n;
        break;
      case 'group': {
        let inner = interpret(o.body);
        if (inner === null) return null;
        if (o.slice) inner = inner.slice(o.slice[0], o.slice[0] + o.slice[1]);
        for (let i = 0; i < o.times; i++) put(inner);
      }
    }
    size = Math.max(size, pos);
  }
  return Array.from({ length: size }, (_, i) => out[i] ?? 0);
}

/** An upper bound of the bytes a program spans, so the dense model stays small. */
function bound(ops: Op[]): number {
  let n = 0;
  for (const o of ops) {
    if (o.op === 'group') n += bound(o.body) * o.times;
    else if (o.op === 'to' || o.op === 'forward' || o.op === 'align') n += o.n;
    else n += o.op === 'string' ? o.s.length : 1;
  }
  return n;
}

describe('data format (property)', () => {
  it('evaluates any program of bytes, strings, moves and repeated, sliced groups as a dense interpreter does', () => {
    fc.assert(fc.property(opsArb.filter((ops) => bound(ops) < 1 << 22), (ops) => {
      const expected = interpret(ops);
      fc.pre(expected !== null);
      const image = evaluateData(toText(ops), { variable: () => undefined });
      const got = Buffer.alloc(image.size);
      for (const p of image.pieces) p.data.copy(got, p.offset);
      expect(got.equals(Buffer.from(expected!))).toBe(true);
    }), propertyParams(200));
  }, propertyTimeout(60_000));
});
