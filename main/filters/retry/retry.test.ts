import { describe, expect, it } from 'vitest';
import { parseParams } from '../../../shared/params.ts';
import { Chain } from '../../backend/chain.ts';
import { BlockError } from '../../backend/errors.ts';
import type { OpenOptions, PluginHandle, PluginInstance } from '../../backend/types.ts';
import { filterInstance } from '../testing.ts';
import { retryDelays, retryFilter } from './index.ts';

/** A disk whose first `broken` handles fail every request, as a dropped connection would. */
function flakyDisk(broken: number) {
  const opened: OpenOptions[] = [];
  const bytes = Buffer.alloc(4096, 5);
  const instance: PluginInstance = {
    open(options): PluginHandle {
      opened.push(options);
      const bad = opened.length <= broken;
      const check = () => {
        if (bad) throw new BlockError('EIO', 'flaky: connection lost');
      };
      return {
        getSize: () => bytes.length,
        canWrite: () => !options.readonly,
        pread: (buf, offset) => (check(), void bytes.copy(buf, 0, offset, offset + buf.length)),
        pwrite: (buf, offset) => (check(), void buf.copy(bytes, offset)),
      };
    },
  };
  return { instance, opened };
}

async function retrying(broken: number, raw: Record<string, string>) {
  const disk = flakyDisk(broken);
  const filter = await filterInstance(retryFilter, { 'retry-delay': '1ms', ...raw });
  const open = await new Chain({ name: 'flaky', instance: disk.instance }, [filter]).open({ readonly: false, exportName: '' });
  return { top: open.top, opened: disk.opened, open };
}

describe('retry filter', () => {
  it('waits 2, 4, 8, 16, 32 seconds by default; the same each time without exponential', () => {
    const settingsOf = (raw: Record<string, string>) => {
      const p = parseParams('retry', retryFilter.params, raw);
      return { retries: p.retries as number, delayMs: p['retry-delay'] as number, exponential: p['retry-exponential'] as boolean, readonlyAfter: false };
    };
    expect(retryDelays(settingsOf({}))).toEqual([2000, 4000, 8000, 16000, 32000]);
    expect(retryDelays(settingsOf({ retries: '3', 'retry-delay': '0.5', 'retry-exponential': 'no' }))).toEqual([500, 500, 500]);
  });

  it('reopens the disk and retries a failed read', async () => {
    const { top, opened } = await retrying(2, { retries: '5' });
    const buf = Buffer.alloc(16);
    await top.pread(buf, 0);
    expect(buf).toEqual(Buffer.alloc(16, 5));
    expect(opened).toHaveLength(3);
  });

  it('gives up after `retries` reopens with the last error', async () => {
    const { top, opened } = await retrying(10, { retries: '2' });
    await expect(top.pread(Buffer.alloc(16), 0)).rejects.toMatchObject({ code: 'EIO' });
    expect(opened).toHaveLength(3);
  });

  it('with retry-readonly reopens read-only, and writes then fail with EROFS', async () => {
    const { top, opened } = await retrying(1, { 'retry-readonly': 'yes' });
    await top.pread(Buffer.alloc(16), 0);
    expect(opened.map((o) => o.readonly)).toEqual([false, true]);
    await expect(top.pwrite(Buffer.alloc(16), 0)).rejects.toMatchObject({ code: 'EROFS' });
    expect(opened).toHaveLength(2);
  });

  it('a write retried on a writable reopen succeeds', async () => {
    const { top, opened } = await retrying(1, {});
    await top.pwrite(Buffer.alloc(16, 9), 0);
    const buf = Buffer.alloc(16);
    await top.pread(buf, 0);
    expect(buf).toEqual(Buffer.alloc(16, 9));
    expect(opened.map((o) => o.readonly)).toEqual([false, false]);
  });

  it('parallel failures reopen once', async () => {
    const { top, opened } = await retrying(1, {});
    await Promise.all([0, 1, 2, 3].map((i) => top.pread(Buffer.alloc(16), i * 16)));
    expect(opened).toHaveLength(2);
  });

  it('closes the reopened layers with the connection', async () => {
    const closed: number[] = [];
    const disk = flakyDisk(1);
    const plain = disk.instance.open.bind(disk.instance);
    disk.instance.open = async (o) => {
      const handle = await plain(o);
      const number = disk.opened.length;
      return { ...handle, close: () => void closed.push(number) };
    };
    const filter = await filterInstance(retryFilter, { 'retry-delay': '1ms' });
    const open = await new Chain({ name: 'flaky', instance: disk.instance }, [filter]).open({ readonly: false, exportName: '' });
    await open.top.pread(Buffer.alloc(16), 0);
    expect(closed).toEqual([1]); // the first handle, closed on reopening
    await open.close();
    expect(closed).toEqual([1, 2]);
  });
});
