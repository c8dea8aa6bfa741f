// ReadAhead against an in-memory object whose fetches arrive in random pieces on later turns
// of the event loop: any mix of streams and random reads, in flight together, returns the
// object's bytes, and sequential reads cost about one request per window.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { propertyParams } from '../../testing/property-params.ts';
import { ReadAhead, type ReadAheadOptions } from './read-ahead.ts';

const OBJECT = Buffer.from(Array.from({ length: 96 * 1024 + 123 }, (_, i) => (i * 13 + (i >> 9)) % 256));
const SMALL: ReadAheadOptions = { window: 8192, ahead: 2, maxWindows: 4 };
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The object behind a ReadAhead, counting requests; each body arrives in `piece`-byte parts. */
function remote(piece: number, options = SMALL) {
  const counts = { windows: 0, direct: 0 };
  const fetch = async (buf: Buffer, offset: number, progress: (filled: number) => void) => {
    counts.windows++;
    for (let at = 0; at < buf.length; at += piece) {
      await tick();
      const end = Math.min(buf.length, at + piece);
      OBJECT.copy(buf, at, offset + at, offset + end);
      progress(end);
    }
  };
  const ahead = new ReadAhead(OBJECT.length, fetch, options);
  const read = async (buf: Buffer, offset: number) => {
    if (ahead.continuesStream(offset, buf.length)) return ahead.read(buf, offset);
    counts.direct++;
    await tick();
    OBJECT.copy(buf, 0, offset, offset + buf.length);
  };
  return { read, counts };
}

/** A read: a run of `count` sequential pieces from `start`, or one read anywhere. */
const readRun = fc.record({ start: fc.nat({ max: OBJECT.length - 1 }), piece: fc.integer({ min: 1, max: 20000 }), count: fc.integer({ min: 1, max: 12 }) });

describe('ReadAhead', () => {
  it('returns the object\'s bytes for any mix of streams and random reads in flight together', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(readRun, { minLength: 1, maxLength: 6 }), fc.integer({ min: 100, max: 9000 }), async (runs, piece) => {
        const { read } = remote(piece);
        const checks: Promise<void>[] = [];
        for (const run of runs) {
          for (let k = 0, at = run.start; k < run.count && at < OBJECT.length; k++, at += run.piece) {
            const buf = Buffer.alloc(Math.min(run.piece, OBJECT.length - at));
            const offset = at;
            checks.push(read(buf, offset).then(() => expect(buf.equals(OBJECT.subarray(offset, offset + buf.length))).toBe(true)));
          }
        }
        await Promise.all(checks);
      }),
      propertyParams(60),
    );
  });

  it('reads a sequential stream with one request per window (plus the first read)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 512, max: SMALL.window - 1 }), fc.integer({ min: 1, max: 16 }), async (piece, inFlight) => {
        const { read, counts } = remote(4096);
        const offsets: number[] = [];
        for (let at = 0; at < OBJECT.length; at += piece) offsets.push(at);
        for (let i = 0; i < offsets.length; i += inFlight) {
          await Promise.all(offsets.slice(i, i + inFlight).map((at) => read(Buffer.alloc(Math.min(piece, OBJECT.length - at)), at)));
        }
        expect(counts.direct).toBe(1);
        expect(counts.windows).toBe(Math.ceil(OBJECT.length / SMALL.window));
      }),
      propertyParams(40),
    );
  });

  it('sends scattered reads as they are, without fetching windows', async () => {
    const { read, counts } = remote(4096);
    for (const at of [50000, 3000, 90000, 20000, 61000]) await read(Buffer.alloc(1000), at);
    expect(counts).toEqual({ windows: 0, direct: 5 });
  });

  it('fails the readers of a window whose request failed, and asks again on the next read', async () => {
    let fail = true;
    const fetch = async (buf: Buffer, offset: number) => {
      await tick();
      if (fail) throw new Error('connection refused');
      OBJECT.copy(buf, 0, offset, offset + buf.length);
    };
    const ahead = new ReadAhead(OBJECT.length, fetch, { ...SMALL, ahead: 0 });
    expect(ahead.continuesStream(0, 100)).toBe(false);
    expect(ahead.continuesStream(100, 100)).toBe(true);
    await expect(ahead.read(Buffer.alloc(100), 100)).rejects.toThrow('connection refused');
    fail = false;
    const buf = Buffer.alloc(100);
    expect(ahead.continuesStream(200, 100)).toBe(true);
    await ahead.read(buf, 200);
    expect(buf.equals(OBJECT.subarray(200, 300))).toBe(true);
  });
});
