import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryPlugin } from '../../plugins/memory/index.ts';
import { delayFilter } from '../delay/index.ts';
import { errorFilter } from '../error/index.ts';
import { noextentsFilter } from '../noextents/index.ts';
import { filterInstance, sharedPlugin } from '../testing.ts';
import { statsFilter, statsSnapshot, type StatsInstance } from './index.ts';

const dir = mkdtempSync(join(tmpdir(), 'blockscope-stats-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function statsOverMemory(raw: Record<string, string> = {}, below: Awaited<ReturnType<typeof filterInstance>>[] = []) {
  const plugin = await sharedPlugin(memoryPlugin, { size: '1M' });
  const stats = await filterInstance<StatsInstance>(statsFilter, raw);
  return { stats: stats.instance, open: () => plugin.open([stats, ...below]) };
}

describe('stats filter', () => {
  it('counts requests and bytes per operation', async () => {
    const { stats, open } = await statsOverMemory();
    const c = await open();
    for (let i = 0; i < 3; i++) await c.top.pread(Buffer.alloc(512), 0);
    await c.top.pwrite(Buffer.alloc(4096), 0);
    await c.top.zero(8192, 0);
    await c.top.trim(4096, 0);
    await c.top.extents(65536, 0);
    await c.top.flush();
    const s = stats.snapshot();
    expect([s.ops.pread.ops, s.ops.pread.bytes]).toEqual([3, 1536]);
    expect([s.ops.pwrite.ops, s.ops.pwrite.bytes]).toEqual([1, 4096]);
    expect([s.ops.zero.ops, s.ops.trim.ops, s.ops.extents.ops, s.ops.flush.ops, s.ops.cache.ops]).toEqual([1, 1, 1, 1, 0]);
    expect([s.ops.zero.bytes, s.ops.extents.bytes, s.ops.flush.bytes]).toEqual([8192, 65536, 0]);
  });

  it('adds up every connection to the export', async () => {
    const { stats, open } = await statsOverMemory();
    await (await open()).top.pread(Buffer.alloc(512), 0);
    await (await open()).top.pread(Buffer.alloc(512), 0);
    expect(stats.snapshot().ops.pread.ops).toBe(2);
  });

  it('counts failed requests as errors, not as ops', async () => {
    const { stats, open } = await statsOverMemory({}, [await filterInstance(errorFilter, { 'error-pread-rate': '100%' })]);
    const c = await open();
    await expect(c.top.pread(Buffer.alloc(512), 0)).rejects.toMatchObject({ code: 'EIO' });
    expect([stats.snapshot().ops.pread.errors, stats.snapshot().ops.pread.ops]).toEqual([1, 0]);
  });

  it('measures latency (lower bounds from a delay below)', async () => {
    const { stats, open } = await statsOverMemory({}, [await filterInstance(delayFilter, { rdelay: '20ms' })]);
    const c = await open();
    await c.top.pread(Buffer.alloc(512), 0);
    await c.top.pread(Buffer.alloc(512), 0);
    const l = stats.snapshot().ops.pread.latency;
    expect(l.count).toBe(2);
    expect(l.minMs).toBeGreaterThanOrEqual(20);
    expect(l.sumMs).toBeGreaterThanOrEqual(40);
    expect(l.p50Ms).toBeGreaterThanOrEqual(l.minMs);
    expect(l.p99Ms).toBeLessThanOrEqual(l.maxMs);
  });

  it('does not see extents the backend answers itself', async () => {
    // With extents switched off below, the backend answers above the stats filter.
    const { stats, open } = await statsOverMemory({}, [await filterInstance(noextentsFilter)]);
    const c = await open();
    expect(await c.top.extents(4096, 0)).toEqual([{ offset: 0, length: 4096, flags: 0 }]);
    expect(stats.snapshot().ops.extents.ops).toBe(0);
  });

  it('statsSnapshot reads a stats instance and nothing else', async () => {
    const { stats } = await statsOverMemory();
    expect(statsSnapshot(stats)?.ops.pread.ops).toBe(0);
    expect(statsSnapshot((await filterInstance(noextentsFilter)).instance)).toBeUndefined();
  });

  it('writes the statsfile on unload', async () => {
    const file = join(dir, 'once.txt');
    const { stats, open } = await statsOverMemory({ statsfile: file });
    const c = await open();
    await c.top.pread(Buffer.alloc(1024), 0);
    await c.top.pwrite(Buffer.alloc(2048), 0);
    await stats.unload!();
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/^elapsed time: \d+\.\d{6} s\ntotal: 2 ops, \d+\.\d{6} s, 3\.00 KiB, /);
    expect(text).toMatch(/\nread: 1 ops, \d+\.\d{6} s, 1\.00 KiB, .* op, .* total\n {2}latency: min /);
    expect(text).toMatch(/\nwrite: 1 ops, .*, 2\.00 KiB, /);
    expect(text).not.toMatch(/\ntrim:/);
  });

  it('replaces the statsfile unless statsappend is set', async () => {
    const file = join(dir, 'append.txt');
    for (const append of ['false', 'false', 'true']) {
      const { stats } = await statsOverMemory({ statsfile: file, statsappend: append });
      await stats.unload!();
    }
    expect(readFileSync(file, 'utf8').match(/elapsed time/g)).toHaveLength(2);
  });
});
