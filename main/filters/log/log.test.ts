import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FLAG_FUA, FLAG_MAY_TRIM } from '../../backend/flags.ts';
import { openTestChain } from '../../testing/chains.ts';
import { openClientChain } from './testing.ts';
import { registry } from '../../catalog.ts';
import { tempDir } from '../../temp-dir.ts';
import { logTimestamp, shellQuote } from './format.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let n = 0;

/** The log's lines without their timestamps. */
function linesOf(file: string): string[] {
  return readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => l.replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} /, ''));
}

async function logged(work: (top: Awaited<ReturnType<typeof openClientChain>>['top']) => Promise<unknown>, extra: Record<string, string> = {}): Promise<string[]> {
  const logfile = path.join(tmp.dir, `log-${n++}.txt`);
  const open = await openClientChain('memory', { size: '1M' }, [['log', { logfile, ...extra }]]);
  await work(open.top).catch(() => {});
  await open.close();
  return linesOf(logfile);
}

describe('log line format', () => {
  it('timestamps like nbdkit, to the microsecond', () => {
    expect(logTimestamp(new Date(2020, 7, 6, 2, 7, 23), 80415)).toBe('2020-08-06 02:07:23.080415');
  });

  it('quotes strings only when they need it', () => {
    expect(shellQuote('')).toBe('""');
    expect(shellQuote('ab.c')).toBe('ab.c');
    expect(shellQuote('a b$x')).toBe('"a b\\$x"');
  });
});

describe('log filter', () => {
  it('logs the connection, each call and its result, and the disconnect', async () => {
    const lines = await logged(async (top) => {
      await top.pwrite(Buffer.alloc(512, 1), 0, FLAG_FUA);
      await top.pread(Buffer.alloc(512), 0);
      await top.zero(4096, 4096, FLAG_MAY_TRIM);
      await top.trim(4096, 8192);
      await top.flush();
      await top.cache(4096, 0);
    });
    expect(lines).toEqual([
      'connection=1 Connect export="" tls=0 size=0x100000 minsize=0x0 prefsize=0x0 maxsize=0x0 write=1 flush=1 rotational=0 trim=1 zero=2 fua=2 extents=1 cache=2 fast_zero=1',
      'connection=1 Write id=1 offset=0x0 count=0x200 fua=1 ...',
      'connection=1 ...Write id=1 return=0',
      'connection=1 Read id=2 offset=0x0 count=0x200 ...',
      'connection=1 ...Read id=2 return=0',
      'connection=1 Zero id=3 offset=0x1000 count=0x1000 trim=1 fua=0 fast=0 ...',
      'connection=1 ...Zero id=3 return=0',
      'connection=1 Trim id=4 offset=0x2000 count=0x1000 fua=0 ...',
      'connection=1 ...Trim id=4 return=0',
      'connection=1 Flush id=5 ...',
      'connection=1 ...Flush id=5 return=0',
      'connection=1 Cache id=6 offset=0x0 count=0x1000 ...',
      'connection=1 ...Cache id=6 return=0',
      'connection=1 Disconnect transactions=6',
    ]);
  });

  it('logs the extents the layer below answered', async () => {
    const lines = await logged(async (top) => {
      await top.pwrite(Buffer.alloc(4096, 1), 0);
      await top.extents(65536, 0);
    });
    expect(lines.slice(3, 5)).toEqual([
      'connection=1 Extents id=2 offset=0x0 count=0x10000 req_one=0 ...',
      'connection=1 ...Extents id=2 extents=(0x0 0x1000 "" 0x1000 0xf000 "hole,zero") return=0',
    ]);
  });

  it('logs a failure with its errno name', async () => {
    const logfile = path.join(tmp.dir, `log-${n++}.txt`);
    const open = await openClientChain('memory', { size: '1M' }, [['log', { logfile }], ['error', { 'error-pread-rate': '1', 'error-pread': 'ENOSPC' }]]);
    await expect(open.top.pread(Buffer.alloc(512), 0)).rejects.toThrow();
    await open.close();
    expect(linesOf(logfile).slice(1, 3)).toEqual([
      'connection=1 Read id=1 offset=0x0 count=0x200 ...',
      'connection=1 ...Read id=1 return=-1 error=ENOSPC',
    ]);
  });

  it('truncates an existing log unless logappend=true', async () => {
    const logfile = path.join(tmp.dir, `log-${n++}.txt`);
    writeFileSync(logfile, 'old line\n');
    const open = await openClientChain('memory', { size: '1M' }, [['log', { logfile, logappend: 'true' }]]);
    await open.close();
    expect(linesOf(logfile)[0]).toBe('old line');
    const again = await openClientChain('memory', { size: '1M' }, [['log', { logfile }]]);
    await again.top.flush();
    await again.close();
    expect(linesOf(logfile)[0]).toMatch(/^connection=1 Connect /);
  });
});

describe('log filter and the app', () => {
  it('does not log the app\'s own views of the chain, only admitted clients', async () => {
    const logfile = path.join(tmp.dir, `log-${n++}.txt`);
    const view = await openTestChain('memory', { size: '1M' }, [['log', { logfile }]]);
    await view.top.pread(Buffer.alloc(512), 0);
    await view.close();
    expect(readFileSync(logfile, 'utf8')).toBe('');
  });

  it('a look at the export before the client\'s open leaves no lines and no number', async () => {
    const logfile = path.join(tmp.dir, `log-${n++}.txt`);
    const chain = await registry.build({ plugin: { name: 'memory', params: { size: '1M' } }, filters: [{ name: 'log', params: { logfile }, enabled: true }] });
    const release = await chain.preconnect({ family: 'ipv4', address: '127.0.0.1', port: 1 });
    const look = await chain.open({ readonly: true, exportName: '' });
    await look.close();
    const open = await chain.open({ readonly: false, exportName: '' });
    await open.top.flush();
    await open.close();
    release();
    expect(linesOf(logfile).map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual(['connection=1 Connect', 'connection=1 Flush', 'connection=1 ...Flush', 'connection=1 Disconnect']);
  });
});
