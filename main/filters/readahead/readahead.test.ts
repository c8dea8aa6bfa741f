import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readAll } from '../../backend/testing.ts';
import { openClientChain } from '../log/testing.ts';
import { tempDir } from '../../temp-dir.ts';
import { READAHEAD_MAX, ReadaheadWindow } from './index.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const K = 1024;

describe('readahead window', () => {
  it('doubles while reads are sequential and asks only for what is new', () => {
    const w = new ReadaheadWindow(2 ** 30);
    expect(w.afterRead(4 * K, 0)).toEqual({ offset: 4 * K, count: 32 * K });
    expect(w.afterRead(4 * K, 4 * K)).toEqual({ offset: 36 * K, count: 36 * K });
    expect(w.afterRead(4 * K, 8 * K)).toEqual({ offset: 72 * K, count: 68 * K });
  });

  it('starts small again after a jump', () => {
    const w = new ReadaheadWindow(2 ** 30);
    w.afterRead(4 * K, 0);
    w.afterRead(4 * K, 4 * K);
    expect(w.afterRead(4 * K, 1024 * K)).toEqual({ offset: 1028 * K, count: 32 * K });
  });

  it('stops at the end of the disk and at the largest window', () => {
    const w = new ReadaheadWindow(40 * K);
    expect(w.afterRead(4 * K, 0)).toEqual({ offset: 4 * K, count: 32 * K });
    expect(w.afterRead(4 * K, 4 * K)).toEqual({ offset: 36 * K, count: 4 * K });
    expect(w.afterRead(4 * K, 8 * K)).toBeNull();
    const big = new ReadaheadWindow(2 ** 40);
    let ahead = null;
    for (let i = 0; i < 20; i++) ahead = big.afterRead(K, i * K);
    expect(ahead!.offset + ahead!.count).toBe(20 * K + READAHEAD_MAX);
  });
});

describe('readahead filter', () => {
  it('sends the prefetches below as CACHE requests, and the reads unchanged', async () => {
    const logfile = path.join(tmp.dir, 'below.log');
    const open = await openClientChain('memory', { size: '1M' }, [['readahead'], ['log', { logfile }]]);
    await open.top.pwrite(Buffer.alloc(12 * K, 3), 0);
    for (let i = 0; i < 3; i++) expect(await readAll(open, i * 4 * K, 4 * K)).toEqual(Buffer.alloc(4 * K, 3));
    await open.close();
    const caches = readFileSync(logfile, 'utf8').split('\n').filter((l) => / Cache id=/.test(l)).map((l) => l.replace(/^.* Cache id=\d+ /, ''));
    expect(caches).toEqual(['offset=0x1000 count=0x8000 ...', 'offset=0x9000 count=0x9000 ...', 'offset=0x12000 count=0x11000 ...']);
  });
});
