import { describe, expect, it } from 'vitest';
import type { RequestEvent } from '../nbd/request-event.ts';
import { ImageActivity, bucketBytesFor } from './activity.ts';
import { activityCsv, activityExtentList } from './activity-export.ts';
import { ActivityRecorder, activityEnabled, type ActivityGeometry } from './activity-recorder.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

function clock(start = 0) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

const request = (over: Partial<RequestEvent>): RequestEvent =>
  ({ connection: 1, exportName: '', op: 'read', offset: 0, length: 4096, latencyMs: 1, ...over });

describe('bucket size', () => {
  it('is 4 KiB for small disks and the smallest power of two giving at most 4096 buckets for large ones', () => {
    expect(bucketBytesFor(1 * MiB)).toBe(4096);
    expect(bucketBytesFor(16 * MiB)).toBe(4096);
    expect(bucketBytesFor(16 * MiB + 1)).toBe(8192);
    expect(bucketBytesFor(64 * MiB)).toBe(16 * KiB);
    expect(bucketBytesFor(1024 ** 4)).toBe(256 * MiB);
  });
});

describe('ImageActivity', () => {
  it('splits a request across the buckets it spans and counts each operation apart', () => {
    const a = new ImageActivity(64 * KiB, [], () => 0);
    a.record(0, 3 * KiB, 6 * KiB); // read 3K..9K: 1K, 4K, 1K over buckets 0, 1, 2
    a.record(1, 8 * KiB, 4 * KiB); // write bucket 2
    a.record(3, 60 * KiB, 8 * KiB); // trim running past the end: 4K counted
    const t = a.counters(null);
    expect(a.bucketCounts(t, 0)).toEqual({ read: 1 * KiB, written: 0, zeroed: 0, trimmed: 0 });
    expect(a.bucketCounts(t, 1)).toEqual({ read: 4 * KiB, written: 0, zeroed: 0, trimmed: 0 });
    expect(a.bucketCounts(t, 2)).toEqual({ read: 1 * KiB, written: 4 * KiB, zeroed: 0, trimmed: 0 });
    expect(a.bucketCounts(t, 15)).toEqual({ read: 0, written: 0, zeroed: 0, trimmed: 4 * KiB });
    expect(a.bins(t, 0, 64 * KiB, 4, 'reads')).toEqual([6 * KiB, 0, 0, 0]);
    expect(a.bins(t, 0, 64 * KiB, 4, 'writes')).toEqual([4 * KiB, 0, 0, 4 * KiB]);
    expect(a.bins(t, 0, 64 * KiB, 4, 'both')).toEqual([10 * KiB, 0, 0, 4 * KiB]);
  });

  it('shares a bucket between bins that split it in proportion', () => {
    const a = new ImageActivity(16 * KiB, [], () => 0);
    a.record(0, 0, 4 * KiB);
    expect(a.bins(a.counters(null), 0, 6 * KiB, 3, 'reads')).toEqual([2 * KiB, 2 * KiB, 0]);
  });

  it('counts partitions exactly, whatever the buckets', () => {
    const a = new ImageActivity(64 * KiB, [{ start: 1000, length: 5000 }, { start: 6000, length: 1000 }], () => 0);
    a.record(2, 0, 6500);
    expect(a.partitionCounts(a.counters(null), 0)).toEqual({ read: 0, written: 0, zeroed: 5000, trimmed: 0 });
    expect(a.partitionCounts(a.counters(null), 1)).toEqual({ read: 0, written: 0, zeroed: 500, trimmed: 0 });
  });

  it('windows count only the last N seconds', () => {
    const c = clock(10_000);
    const a = new ImageActivity(64 * KiB, [], c.now, 60);
    a.record(0, 0, 4096);
    c.advance(5_000);
    a.record(0, 4096, 4096);
    c.advance(1_500); // second 16: the window of 1 is this second alone
    expect(a.bins(a.counters(1), 0, 8192, 2, 'reads')).toEqual([0, 0]);
    expect(a.bins(a.counters(2), 0, 8192, 2, 'reads')).toEqual([0, 4096]);
    expect(a.bins(a.counters(6), 0, 8192, 2, 'reads')).toEqual([0, 4096]);
    expect(a.bins(a.counters(7), 0, 8192, 2, 'reads')).toEqual([4096, 4096]);
    // Past the ring's length the oldest seconds are gone from windows, not from the totals.
    c.advance(60_000);
    expect(a.bins(a.counters(60), 0, 8192, 2, 'reads')).toEqual([0, 0]);
    expect(a.bins(a.counters(null), 0, 8192, 2, 'reads')).toEqual([4096, 4096]);
  });

  it('a slot reused for a later second starts empty', () => {
    const c = clock(0);
    const a = new ImageActivity(64 * KiB, [], c.now, 2);
    a.record(0, 0, 4096);
    c.advance(2_000); // same ring slot as second 0
    a.record(0, 4096, 4096);
    expect(a.bins(a.counters(2), 0, 8192, 2, 'reads')).toEqual([0, 4096]);
  });
});

describe('exports', () => {
  it('CSV lists touched buckets; the extent list joins neighbours', () => {
    const a = new ImageActivity(64 * KiB, [], () => 0);
    a.record(0, 4096, 8192);
    a.record(1, 12 * KiB, 100);
    a.record(2, 40 * KiB, 4096);
    const t = a.counters(null);
    expect(activityCsv(a, t)).toBe(
      'offset,length,read,written,zeroed,trimmed\n4096,4096,4096,0,0,0\n8192,4096,4096,0,0,0\n12288,4096,0,100,0,0\n40960,4096,0,0,4096,0\n',
    );
    expect(activityExtentList(a, t)).toBe('4096 12288\n40960 4096\n');
  });

  it('the last bucket of a disk whose size is not a multiple is cut at the end', () => {
    const a = new ImageActivity(10_000, [], () => 0);
    a.record(0, 9000, 1000);
    expect(activityExtentList(a, a.counters(null))).toBe('8192 1808\n');
  });
});

describe('ActivityRecorder', () => {
  const geometry = (size: number): ActivityGeometry => ({
    size, title: 'disk one.img', partitions: [{ number: 1, name: 'root', start: 8192, length: 8192 }],
  });

  it('records by image, ignores failures and byte-less operations, totals per partition', () => {
    const r = new ActivityRecorder({ geometry: () => geometry(64 * KiB) });
    r.record('a', request({ op: 'read', offset: 0, length: 16384 }));
    r.record('a', request({ op: 'write', offset: 8192, length: 4096, error: 'EIO' }));
    r.record('a', request({ op: 'flush', offset: 0, length: 0 }));
    r.record('a', request({ op: 'block-status', offset: 0, length: 65536 }));
    r.record('b', request({ op: 'trim', offset: 0, length: 4096 }));
    expect(r.partitions('a')).toEqual({
      imageId: 'a', windowSeconds: null,
      disk: { read: 16384, written: 0, zeroed: 0, trimmed: 0 },
      partitions: [{ number: 1, name: 'root', read: 8192, written: 0, zeroed: 0, trimmed: 0 }],
    });
    expect(r.bins('b', 0, 65536, 2, 'writes').counts).toEqual([4096, 0]);
    expect(r.export('a', 'extentlist')).toMatchObject({ fileName: 'disk_one.img-activity.extents', text: '0 16384\n' });
  });

  it('clear empties one image and says so once per throttle period', async () => {
    const changed: string[] = [];
    const r = new ActivityRecorder({ geometry: () => geometry(64 * KiB), changed: (id) => changed.push(id), throttleMs: 5 });
    for (let i = 0; i < 100; i++) r.record('a', request({ offset: 0 }));
    r.record('b', request({ offset: 0 }));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(changed.sort()).toEqual(['a', 'b']);
    r.clear('a');
    expect(r.bins('a', 0, 65536, 1, 'both').counts).toEqual([0]);
    expect(r.bins('b', 0, 65536, 1, 'both').counts).toEqual([4096]);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(changed.sort()).toEqual(['a', 'a', 'b']);
    r.dispose();
  });

  it('starts again when the image size changes', () => {
    let size = 64 * KiB;
    const r = new ActivityRecorder({ geometry: () => geometry(size) });
    r.record('a', request({ offset: 0 }));
    size = 32 * KiB;
    expect(r.bins('a', 0, size, 1, 'reads')).toMatchObject({ counts: [0], end: size });
  });

  it('is on unless BLOCKSCOPE_ACTIVITY=0', () => {
    expect(activityEnabled({})).toBe(true);
    expect(activityEnabled({ BLOCKSCOPE_ACTIVITY: '1' })).toBe(true);
    expect(activityEnabled({ BLOCKSCOPE_ACTIVITY: '0' })).toBe(false);
  });
});
