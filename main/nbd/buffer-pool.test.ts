// The pool against a model of what is live: no two buffers handed out and not yet released
// share a byte (payload pieces share slabs), each has the size asked for, released ones come
// back before new memory is used, and a READ buffer that is new is a whole ArrayBuffer (what
// tls-offload.ts may move to a worker).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { propertyParams } from '../testing/property-params.ts';
import { BufferPool } from './buffer-pool.ts';

const KiB = 1024;

type Step = { op: 'acquire' | 'payload'; size: number } | { op: 'release'; pick: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    op: fc.constantFrom('acquire' as const, 'payload' as const),
    // Below, inside and above the sizes cut from slabs, and a few repeated sizes to reuse.
    size: fc.oneof(fc.integer({ min: 1, max: 3 * 1024 * KiB }), fc.constantFrom(64 * KiB, 256 * KiB, 256 * KiB + 16, 2048 * KiB)),
  }),
  fc.record({ op: fc.constant('release' as const), pick: fc.nat() }),
);

describe('BufferPool', () => {
  it('hands out buffers that never overlap while live, and reuses released ones', () => {
    fc.assert(fc.property(fc.array(stepArb, { maxLength: 60 }), fc.integer({ min: 0, max: 8 * 1024 * KiB }), (steps, limit) => {
      const pool = new BufferPool(limit);
      const live: { b: Buffer; mark: number }[] = [];
      const released = new Map<number, Buffer[]>();
      let held = 0;
      let mark = 0;
      for (const step of steps) {
        if (step.op === 'release') {
          if (live.length === 0) continue;
          const { b } = live.splice(step.pick % live.length, 1)[0]!;
          pool.release(b);
          if (held + b.length <= limit) {
            held += b.length;
            released.set(b.length, [...(released.get(b.length) ?? []), b]);
          }
          continue;
        }
        const b = step.op === 'acquire' ? pool.acquire(step.size) : pool.acquirePayload(step.size);
        expect(b.length).toBe(step.size);
        const kept = released.get(step.size);
        if (kept?.length) {
          // The last released buffer of this size comes back.
          expect(b).toBe(kept.pop());
          held -= step.size;
        } else if (step.op === 'acquire') {
          expect(b.byteOffset === 0 && b.buffer.byteLength === b.length).toBe(true);
        }
        mark = (mark + 1) % 256;
        b.fill(mark);
        live.push({ b, mark });
        // Every live buffer still holds its own mark (none was handed out twice), and none
        // shares a byte with another cut from the same memory.
        for (const l of live) expect(l.b[0] === l.mark && l.b[l.b.length - 1] === l.mark).toBe(true);
        const overlapping = live.filter((l) => l.b !== b && l.b.buffer === b.buffer &&
          l.b.byteOffset < b.byteOffset + b.length && b.byteOffset < l.b.byteOffset + l.b.length);
        expect(overlapping).toEqual([]);
      }
    }), propertyParams(300));
  });

  it('cuts payloads of the usual sizes from shared slabs, and no others', () => {
    const pool = new BufferPool(0);
    const a = pool.acquirePayload(256 * KiB);
    const b = pool.acquirePayload(256 * KiB);
    expect(a.buffer).toBe(b.buffer);
    expect(b.byteOffset).toBe(a.byteOffset + a.length);
    for (const size of [4 * KiB, 3 * 1024 * KiB]) {
      const whole = pool.acquirePayload(size);
      expect(whole.byteOffset === 0 && whole.buffer.byteLength === size).toBe(true);
    }
  });
});
