import { afterEach, describe, expect, it } from 'vitest';
import { BIN_DATA as D, BIN_HOLE as H } from '../../shared/bins.ts';
import type { OpenChain } from '../backend/chain.ts';
import { Chain } from '../backend/chain.ts';
import { memoryPlugin } from '../plugins/memory/index.ts';
import { AllocationTracker, mergeRange, type ScanProgress } from './allocation.ts';

const MiB = 2 ** 20;
const listOf = (t: AllocationTracker) => [...t.current.runs()].map((r) => [r.offset, r.length, r.cls]);

function recorder() {
  const progress: ScanProgress[] = [];
  const changed: [number, number][][] = [];
  // Notices are taken in order, one per nextChange, so a notice that lands before the test
  // starts waiting for it (the scan's can beat start() resolving) is not lost.
  let taken = 0;
  let wake: (() => void) | null = null;
  return {
    progress,
    changed,
    listener: {
      progress: (p: ScanProgress) => progress.push(p),
      changed: (ranges: [number, number][]) => {
        changed.push(ranges);
        wake?.();
      },
    },
    nextChange: () =>
      new Promise<void>((resolve) => {
        const take = () => {
          taken++;
          wake = null;
          resolve();
        };
        if (changed.length > taken) take();
        else wake = take;
      }),
  };
}

// The memory plugin directly, so these tests do not depend on the rest of the catalogue.
async function openMemoryDisk(size: number): Promise<OpenChain> {
  const chain = new Chain({ name: 'memory', instance: await memoryPlugin.create({ size }) }, []);
  return chain.open({ readonly: false, exportName: '' });
}

let open: OpenChain | null = null;
afterEach(async () => {
  await open?.close();
  open = null;
});

describe('AllocationTracker', () => {
  it('scans the whole disk in slices and reports progress to the end', async () => {
    open = await openMemoryDisk(8 * MiB);
    await open.top.pwrite(Buffer.alloc(8192, 1), 3 * MiB);
    const rec = recorder();
    const tracker = new AllocationTracker(open.top, rec.listener, { sliceBytes: 2 * MiB, progressMs: 0 });
    await tracker.start();
    expect(listOf(tracker)).toEqual([[0, 3 * MiB, H], [3 * MiB, 8192, D], [3 * MiB + 8192, 5 * MiB - 8192, H]]);
    expect(rec.progress.map((p) => p.done)).toEqual([0, 2 * MiB, 4 * MiB, 6 * MiB, 8 * MiB]);
    expect(rec.progress.at(-1)!.complete).toBe(true);
    tracker.dispose();
  });

  it('re-queries a dirty range and reports it as changed', async () => {
    open = await openMemoryDisk(8 * MiB);
    const rec = recorder();
    const tracker = new AllocationTracker(open.top, rec.listener, { throttleMs: 20, dirtyAlign: 4096 });
    await tracker.start();
    await rec.nextChange();
    await open.top.pwrite(Buffer.alloc(100, 7), 5 * MiB + 10);
    tracker.markDirty(5 * MiB + 10, 100);
    await rec.nextChange();
    expect(rec.changed.at(-1)).toEqual([[5 * MiB, 5 * MiB + 4096]]);
    expect(tracker.current.runAt(5 * MiB)).toEqual({ offset: 5 * MiB, length: 4096, cls: D });
    tracker.dispose();
  });

  it('coalesces changes within the throttle period into one notice', async () => {
    open = await openMemoryDisk(8 * MiB);
    const rec = recorder();
    const tracker = new AllocationTracker(open.top, rec.listener, { throttleMs: 50, dirtyAlign: MiB });
    await tracker.start();
    await rec.nextChange();
    const before = rec.changed.length;
    tracker.markDirty(0, 1);
    tracker.markDirty(MiB, 1);
    tracker.markDirty(6 * MiB, 1);
    await rec.nextChange();
    expect(rec.changed.length).toBe(before + 1);
    expect(rec.changed.at(-1)).toEqual([[0, 2 * MiB], [6 * MiB, 7 * MiB]]);
    tracker.dispose();
  });
});

describe('AllocationTracker on a disk of many extents', () => {
  // 1 GiB alternating 4 KiB of data and 4 KiB of hole: 262,144 extents, answered in full for
  // each query (a hole where the answer stops short of the range would be a lie), a little later.
  const SIZE = 1024 * MiB;
  function stripedSource() {
    const queries: { count: number; extents: number }[] = [];
    let inFlight = 0;
    let mostInFlight = 0;
    return {
      queries,
      mostInFlight: () => mostInFlight,
      getSize: () => SIZE,
      async extents(count: number, offset: number) {
        mostInFlight = Math.max(mostInFlight, ++inFlight);
        await new Promise((resolve) => setTimeout(resolve, 1));
        inFlight--;
        const list = [];
        for (let at = offset; at < offset + count; at = Math.min(offset + count, (Math.floor(at / 4096) + 1) * 4096)) {
          list.push({ offset: at, length: Math.min(offset + count, (Math.floor(at / 4096) + 1) * 4096) - at, flags: Math.floor(at / 4096) % 2 ? 3 : 0 });
        }
        queries.push({ count, extents: list.length });
        return list;
      },
    };
  }

  it('sizes its queries to a few thousand extents once it has an answer, two at a time, and keeps every run', async () => {
    const source = stripedSource();
    const rec = recorder();
    const tracker = new AllocationTracker(source, rec.listener, { progressMs: 0 });
    await tracker.start();
    // The first two are asked before any answer: 1/64 of the disk, at least 64 MiB.
    expect(source.queries.slice(0, 2)).toEqual([{ count: 64 * MiB, extents: 16384 }, { count: 64 * MiB, extents: 16384 }]);
    expect(Math.max(...source.queries.slice(2).map((q) => q.extents))).toBe(4096);
    expect(source.mostInFlight()).toBe(2);
    expect(tracker.current.runCount).toBe(SIZE / 4096);
    expect(tracker.current.totals()).toEqual([SIZE / 2, 0, SIZE / 2, 0, 0]);
    // Reserved once from the first 1/64 of the disk, then trimmed to the runs found.
    expect(tracker.current.capacity).toBeLessThan(1.5 * tracker.current.runCount);
    expect(rec.progress.at(-1)).toMatchObject({ done: SIZE, complete: true });
    tracker.dispose();
  });

  it('stops at a failed query with the error, the slice asked after it left to settle quietly', async () => {
    const source = stripedSource();
    const failing = {
      getSize: source.getSize,
      extents: async (count: number, offset: number) => {
        if (offset >= 64 * MiB) {
          await new Promise((resolve) => setTimeout(resolve, offset === 64 * MiB ? 1 : 20));
          throw new Error(`no answer at ${offset}`);
        }
        return source.extents(count, offset);
      },
    };
    const rec = recorder();
    const tracker = new AllocationTracker(failing, rec.listener, { progressMs: 0 });
    await tracker.start();
    expect(rec.progress.at(-1)).toMatchObject({ done: 64 * MiB, complete: false, error: `extents query at ${64 * MiB} failed: no answer at ${64 * MiB}` });
    // The slice asked while the failed one was in flight fails later, unawaited: no unhandled rejection.
    await new Promise((resolve) => setTimeout(resolve, 50));
    tracker.dispose();
  });
});

describe('AllocationTracker with allocation depth', () => {
  // A 100-byte chain top, scanned in one query: data [0, 40) in the image, [40, 70) in its backing file.
  const source = (canDepth: boolean) => ({
    getSize: () => 100,
    extents: async () => [{ offset: 0, length: 70, flags: 0 }, { offset: 70, length: 30, flags: 3 }],
    canAllocationDepth: () => canDepth,
    allocationDepth: async () => [{ offset: 0, length: 40, depth: 1 }, { offset: 40, length: 30, depth: 2 }, { offset: 70, length: 30, depth: 0 }],
  });

  it('records the layer holding each run when the chain reports it', async () => {
    const tracker = new AllocationTracker(source(true), recorder().listener);
    await tracker.start();
    expect([...tracker.current.runs()].map((r) => [r.offset, r.length, r.cls, r.depth])).toEqual([[0, 40, D, 1], [40, 30, D, 2], [70, 30, H, 0]]);
    tracker.dispose();
  });

  it('leaves depth out when the chain cannot report it', async () => {
    const tracker = new AllocationTracker(source(false), recorder().listener);
    await tracker.start();
    expect([...tracker.current.runs()].map((r) => [r.offset, r.length, r.cls, r.depth])).toEqual([[0, 70, D, undefined], [70, 30, H, undefined]]);
    tracker.dispose();
  });
});

describe('mergeRange', () => {
  it('joins touching and overlapping ranges and keeps the rest sorted', () => {
    expect(mergeRange([[0, 10], [20, 30], [50, 60]], 10, 25)).toEqual([[0, 30], [50, 60]]);
    expect(mergeRange([[20, 30]], 0, 5)).toEqual([[0, 5], [20, 30]]);
    expect(mergeRange([[20, 30]], 40, 45)).toEqual([[20, 30], [40, 45]]);
  });
});
