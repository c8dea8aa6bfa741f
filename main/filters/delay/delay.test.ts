import { describe, expect, it } from 'vitest';
import { parseParams } from '../../../shared/params.ts';
import { FLAG_FAST_ZERO } from '../../backend/flags.ts';
import { openTestChain } from '../../testing/chains.ts';
import { delayFilter, delaysOf } from './index.ts';

const delays = (raw: Record<string, string>) => delaysOf(parseParams('delay', delayFilter.params, raw));

/** Milliseconds `fn` took. Only ever compared as a lower bound. */
async function elapsed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

describe('delay filter parameters', () => {
  it('are zero unless given', () => {
    expect(delays({})).toEqual({ read: 0, write: 0, zero: 0, trim: 0, extents: 0, cache: 0, open: 0, close: 0 });
  });

  it('rdelay sets reads, wdelay sets writes, zeroes and trims', () => {
    expect(delays({ rdelay: '10ms', wdelay: '2' })).toEqual({ read: 10, write: 2000, zero: 2000, trim: 2000, extents: 0, cache: 0, open: 0, close: 0 });
  });

  it('a per-operation delay beats the alias', () => {
    expect(delays({ wdelay: '50ms', 'delay-zero': '5ms', rdelay: '1s', 'delay-read': '7ms' })).toMatchObject({ read: 7, write: 50, zero: 5, trim: 50 });
  });
});

describe('delay filter', () => {
  it('delays reads', async () => {
    const open = await openTestChain('memory', { size: '1M' }, [['delay', { rdelay: '30ms' }]]);
    expect(await elapsed(() => open.top.pread(Buffer.alloc(512), 0))).toBeGreaterThanOrEqual(30);
  });

  it('delays writes', async () => {
    const open = await openTestChain('memory', { size: '1M' }, [['delay', { 'delay-write': '30ms' }]]);
    expect(await elapsed(() => open.top.pwrite(Buffer.alloc(512), 0))).toBeGreaterThanOrEqual(30);
  });

  it('delays zero, trim, extents and cache', async () => {
    const open = await openTestChain('memory', { size: '1M' }, [['delay', { 'delay-zero': '20ms', 'delay-trim': '20ms', 'delay-extents': '20ms', 'delay-cache': '20ms' }]]);
    expect(await elapsed(() => open.top.zero(4096, 0))).toBeGreaterThanOrEqual(20);
    expect(await elapsed(() => open.top.trim(4096, 0))).toBeGreaterThanOrEqual(20);
    expect(await elapsed(() => open.top.extents(4096, 0))).toBeGreaterThanOrEqual(20);
    expect(await elapsed(() => open.top.cache(4096, 0))).toBeGreaterThanOrEqual(20);
  });

  it('delays opening and closing a connection', async () => {
    let open!: Awaited<ReturnType<typeof openTestChain>>;
    const opening = await elapsed(async () => (open = await openTestChain('memory', { size: '1M' }, [['delay', { 'delay-open': '30ms', 'delay-close': '30ms' }]])));
    expect(opening).toBeGreaterThanOrEqual(30);
    expect(await elapsed(() => open.close())).toBeGreaterThanOrEqual(30);
  });

  it('delays fast zeroes by default', async () => {
    const open = await openTestChain('memory', { size: '1M' }, [['delay', { 'delay-zero': '20ms' }]]);
    expect(await elapsed(() => open.top.zero(4096, 0, FLAG_FAST_ZERO))).toBeGreaterThanOrEqual(20);
  });

  it('with delay-fast-zero=false refuses fast zeroes with ENOTSUP, and advertises fast zero', async () => {
    const open = await openTestChain('memory', { size: '1M' }, [['delay', { 'delay-zero': '1s', 'delay-fast-zero': 'false' }]]);
    expect(open.top.canFastZero()).toBe(true);
    await expect(open.top.zero(4096, 0, FLAG_FAST_ZERO)).rejects.toMatchObject({ code: 'ENOTSUP' });
  });

  it('passes data through unchanged', async () => {
    const open = await openTestChain('memory', { size: '1M' }, [['delay', { rdelay: '1ms', wdelay: '1ms' }]]);
    await open.top.pwrite(Buffer.from('slow'), 100);
    const buf = Buffer.alloc(4);
    await open.top.pread(buf, 100);
    expect(buf.toString()).toBe('slow');
  });
});
