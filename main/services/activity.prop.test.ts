// Random request streams against a naive model that counts every byte with its time: the
// recorder's bins equal the model's sums at any re-bucketing whose edges fall on bucket
// edges, any bins conserve the bytes, windows count exactly the requests of their seconds,
// partitions count exactly their bytes, and the extent list is the touched buckets.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { propertyParams, propertyTimeout } from '../testing/property-params.ts';
import { ImageActivity, MIN_BUCKET_BYTES, SLICE_MS } from './activity.ts';
import { activityExtentList } from './activity-export.ts';

const B = MIN_BUCKET_BYTES;
const HISTORY = 20;

interface Req {
  column: number;
  offset: number;
  length: number;
  /** ms after the previous request */
  after: number;
}

const stream = (size: number) =>
  fc.array(
    fc.record({
      column: fc.integer({ min: 0, max: 3 }),
      offset: fc.integer({ min: 0, max: size - 1 }),
      length: fc.integer({ min: 1, max: 3 * B }),
      after: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2500 })),
    }),
    { maxLength: 60 },
  );

/** Per column, per byte: the times of the requests that touched it. */
function naive(size: number, reqs: readonly Req[], start: number) {
  const touches: { column: number; offset: number; end: number; t: number }[] = [];
  let t = start;
  for (const r of reqs) {
    t += r.after;
    touches.push({ column: r.column, offset: r.offset, end: Math.min(size, r.offset + r.length), t });
  }
  return { touches, end: t };
}

function modelBytes(m: ReturnType<typeof naive>, lo: number, hi: number, columns: number[], since: number): number {
  let sum = 0;
  for (const x of m.touches) {
    if (!columns.includes(x.column) || x.t < since) continue;
    sum += Math.max(0, Math.min(hi, x.end) - Math.max(lo, x.offset));
  }
  return sum;
}

const scenario = fc
  .integer({ min: 1, max: 40 })
  .chain((blocks) => {
    const size = blocks * B - (blocks > 1 ? 123 : 0);
    return fc.record({ size: fc.constant(size), reqs: stream(size), window: fc.option(fc.integer({ min: 1, max: HISTORY }), { nil: null }) });
  });

function replay(size: number, reqs: readonly Req[], partitions: { start: number; length: number }[] = []) {
  let t = 1_000_000;
  const a = new ImageActivity(size, partitions, () => t, HISTORY);
  for (const r of reqs) {
    t += r.after;
    a.record(r.column, r.offset, r.length);
  }
  return a;
}

/** Where a window of `w` seconds begins, as the recorder cuts time: whole seconds. */
const windowStart = (end: number, w: number | null) => (w === null ? -Infinity : (Math.floor(end / SLICE_MS) - w + 1) * SLICE_MS);

describe('activity recorder against a per-byte model', () => {
  it('bins on bucket edges equal the model, for every selection and window', () => {
    fc.assert(
      fc.property(scenario, fc.integer({ min: 0, max: 39 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 4 }), ({ size, reqs, window }, s, bins, per) => {
        const a = replay(size, reqs);
        const m = naive(size, reqs, 1_000_000);
        const since = windowStart(m.end, window);
        const counters = a.counters(window);
        const start = Math.min(s, a.buckets - 1) * B;
        const end = Math.min(size, start + bins * per * B);
        const n = Math.max(1, Math.min(bins, Math.ceil((end - start) / (per * B))));
        for (const [selection, columns] of [['reads', [0]], ['writes', [1, 2, 3]], ['both', [0, 1, 2, 3]]] as const) {
          const got = a.bins(counters, start, start + n * per * B, n, selection);
          const want = Array.from({ length: n }, (_, i) => modelBytes(m, start + i * per * B, start + (i + 1) * per * B, [...columns], since));
          expect(got).toEqual(want);
        }
      }),
      propertyParams(200),
    );
  }, propertyTimeout(30_000));

  it('any bins conserve the bytes of the range', () => {
    fc.assert(
      fc.property(scenario, fc.integer({ min: 1, max: 500 }), ({ size, reqs }, bins) => {
        const a = replay(size, reqs);
        const m = naive(size, reqs, 1_000_000);
        const got = a.bins(a.counters(null), 0, size, bins, 'both');
        expect(got).toHaveLength(bins);
        const total = got.reduce((x, y) => x + y, 0);
        expect(Math.abs(total - modelBytes(m, 0, size, [0, 1, 2, 3], -Infinity))).toBeLessThan(1e-6 * (total + 1));
      }),
      propertyParams(200),
    );
  }, propertyTimeout(30_000));

  it('partitions count exactly their bytes; the extent list is the touched buckets', () => {
    fc.assert(
      fc.property(scenario, fc.integer({ min: 0, max: 40 * B }), fc.integer({ min: 1, max: 40 * B }), ({ size, reqs, window }, p0, plen) => {
        const part = { start: Math.min(p0, size - 1), length: Math.min(plen, size - Math.min(p0, size - 1)) };
        const a = replay(size, reqs, [part]);
        const m = naive(size, reqs, 1_000_000);
        const since = windowStart(m.end, window);
        const c = a.partitionCounts(a.counters(window), 0);
        const cols = [c.read, c.written, c.zeroed, c.trimmed];
        cols.forEach((bytes, col) => expect(bytes).toBe(modelBytes(m, part.start, part.start + part.length, [col], since)));
        const touched = new Set(m.touches.filter((x) => x.end > x.offset).flatMap((x) => {
          const out: number[] = [];
          for (let b = Math.floor(x.offset / B); b * B < x.end; b++) out.push(b);
          return out;
        }));
        const listed = activityExtentList(a, a.counters(null)).trim().split('\n').filter(Boolean).map((l) => l.split(' ').map(Number));
        const fromList = new Set(listed.flatMap(([o, l]) => Array.from({ length: Math.ceil(l! / B) }, (_, k) => o! / B + k)));
        expect([...fromList].sort((x, y) => x - y)).toEqual([...touched].sort((x, y) => x - y));
      }),
      propertyParams(200),
    );
  }, propertyTimeout(30_000));
});
