import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readAll } from '../../backend/testing.ts';
import { openClientChain } from '../log/testing.ts';
import { tempDir } from '../../temp-dir.ts';
import { FOREVER_PAUSE_MS, ScanCursor, type ScanSettings } from './index.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const M = 2 ** 20;
const defaults: ScanSettings = { ahead: true, clock: true, forever: false, size: 2 * M };

function ranges(cursor: ScanCursor, size: number, max = 10): string[] {
  const out: string[] = [];
  for (let r = cursor.next(size); r && out.length < max; r = cursor.next(size)) out.push(`${r.offset}+${r.count}`);
  return out;
}

describe('scan cursor', () => {
  it('walks the disk once in scan-size steps, the last one short', () => {
    expect(ranges(new ScanCursor(defaults), 5 * M)).toEqual([`0+${2 * M}`, `${2 * M}+${2 * M}`, `${4 * M}+${M}`]);
  });

  it('skips ahead of a client read, unless scan-ahead=false', () => {
    const ahead = new ScanCursor(defaults);
    ahead.next(8 * M);
    ahead.clientRead(4096, 5 * M);
    expect(ranges(ahead, 8 * M)).toEqual([`${5 * M + 4096}+${2 * M}`, `${7 * M + 4096}+${M - 4096}`]);
    const steady = new ScanCursor({ ...defaults, ahead: false });
    steady.next(8 * M);
    steady.clientRead(4096, 5 * M);
    expect(ranges(steady, 8 * M)[0]).toBe(`${2 * M}+${2 * M}`);
  });

  it('resumes after a stop with scan-clock, starts over without', () => {
    const clock = new ScanCursor(defaults);
    clock.next(8 * M);
    clock.stopped();
    expect(clock.next(8 * M)).toEqual({ offset: 2 * M, count: 2 * M, restart: false });
    const noClock = new ScanCursor({ ...defaults, clock: false });
    noClock.next(8 * M);
    noClock.stopped();
    expect(noClock.next(8 * M)).toEqual({ offset: 0, count: 2 * M, restart: false });
  });

  it('goes round again with scan-forever, marking each new pass', () => {
    const forever = new ScanCursor({ ...defaults, forever: true });
    const seen = Array.from({ length: 5 }, () => forever.next(4 * M));
    expect(seen).toEqual([0, 2, 0, 2, 0].map((m, i) => ({ offset: m * M, count: 2 * M, restart: i > 0 && m === 0 })));
  });
});

describe('scan filter', () => {
  it('with scan-forever stops promptly when the client leaves, even between passes', async () => {
    const open = await openClientChain('memory', { size: '64K' }, [['scan', { 'scan-size': '64K', 'scan-forever': 'true' }]]);
    await new Promise((r) => setTimeout(r, 20));
    const t0 = performance.now();
    await open.close();
    expect(performance.now() - t0).toBeLessThan(FOREVER_PAUSE_MS / 2);
  });

  it('prefetches the disk below while connected, and reads stay correct', async () => {
    const logfile = path.join(tmp.dir, 'below.log');
    const open = await openClientChain('memory', { size: '1M' }, [['scan', { 'scan-size': '256K' }], ['log', { logfile }]]);
    await open.top.pwrite(Buffer.alloc(512, 4), 0);
    expect(await readAll(open, 0, 512)).toEqual(Buffer.alloc(512, 4));
    for (let i = 0; i < 50 && !readFileSync(logfile, 'utf8').includes('offset=0xc0000 count=0x40000 ...'); i++) await new Promise((r) => setTimeout(r, 10));
    await open.close();
    const caches = readFileSync(logfile, 'utf8').split('\n').filter((l) => / Cache id=/.test(l)).map((l) => l.replace(/^.* Cache id=\d+ /, ''));
    expect(caches).toEqual(['offset=0x0 count=0x40000 ...', 'offset=0x40000 count=0x40000 ...', 'offset=0x80000 count=0x40000 ...', 'offset=0xc0000 count=0x40000 ...']);
  });
});
