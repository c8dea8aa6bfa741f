import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseParams } from '../../../shared/params.ts';
import { openTestChain } from '../../testing/chains.ts';
import { errorFilter, errorSettingsOf } from './index.ts';

const settings = (raw: Record<string, string>) => errorSettingsOf(parseParams('error', errorFilter.params, raw));
const dir = mkdtempSync(join(tmpdir(), 'blockscope-error-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** 1 for each failed read of `n` in a row, 0 for each success. */
async function readPattern(open: Awaited<ReturnType<typeof openTestChain>>, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await open.top.pread(Buffer.alloc(512), 0).then(() => 0, () => 1));
  return out;
}

describe('error filter parameters', () => {
  it('default to EIO at rate 0 for every operation', () => {
    expect(settings({}).pread).toEqual({ errno: 'EIO', rate: 0, file: undefined });
    expect(settings({}).flush).toEqual({ errno: 'EIO', rate: 0, file: undefined });
  });

  it('per-operation settings beat the general ones', () => {
    const s = settings({ error: 'ENOSPC', 'error-rate': '10%', 'error-pread': 'EPERM', 'error-pread-rate': '50%', 'error-file': '/a', 'error-zero-file': '/b' });
    expect(s.pread).toEqual({ errno: 'EPERM', rate: 0.5, file: '/a' });
    expect(s.zero).toEqual({ errno: 'ENOSPC', rate: 0.1, file: '/b' });
  });

  it('refuse an errno the protocol cannot carry', () => {
    expect(() => settings({ error: 'EBADF' })).toThrow(/error: 'EBADF' is not one of/);
  });
});

describe('error filter', () => {
  it('does nothing by default', async () => {
    const open = await openTestChain('memory', { size: '1M' }, [['error']]);
    expect(await readPattern(open, 5)).toEqual([0, 0, 0, 0, 0]);
  });

  it('fails every request at 100% with EIO', async () => {
    const open = await openTestChain('memory', { size: '1M' }, [['error', { 'error-rate': '100%' }]]);
    await expect(open.top.pread(Buffer.alloc(512), 0)).rejects.toMatchObject({ code: 'EIO', message: 'error: injecting EIO into pread' });
    await expect(open.top.extents(512, 0)).rejects.toMatchObject({ code: 'EIO' });
    await expect(open.top.flush()).rejects.toMatchObject({ code: 'EIO' });
  });

  it('fails only the chosen operation, with the chosen errno', async () => {
    const open = await openTestChain('memory', { size: '1M' }, [['error', { 'error-pwrite': 'ENOSPC', 'error-pwrite-rate': '100%', 'error-zero-rate': '100%' }]]);
    await expect(open.top.pwrite(Buffer.alloc(512), 0)).rejects.toMatchObject({ code: 'ENOSPC' });
    await expect(open.top.zero(512, 0)).rejects.toMatchObject({ code: 'EIO' });
    await expect(open.top.pread(Buffer.alloc(512), 0)).resolves.toBeUndefined();
    await expect(open.top.trim(512, 0)).resolves.toBeUndefined();
  });

  it('zero is intercepted as zero, not emulated through pwrite', async () => {
    const open = await openTestChain('memory', { size: '1M' }, [['error', { 'error-pwrite-rate': '100%' }]]);
    await expect(open.top.zero(4096, 0)).resolves.toBeUndefined();
  });

  it('injects only while the trigger file exists', async () => {
    const file = join(dir, 'inject');
    const open = await openTestChain('memory', { size: '1M' }, [['error', { 'error-rate': '100%', 'error-file': file }]]);
    expect(await readPattern(open, 1)).toEqual([0]);
    writeFileSync(file, '');
    expect(await readPattern(open, 1)).toEqual([1]);
    rmSync(file);
    expect(await readPattern(open, 1)).toEqual([0]);
  });

  it('a seed makes the random choices reproducible', async () => {
    const params = { 'error-rate': '50%', 'error-seed': '42' };
    const a = await readPattern(await openTestChain('memory', { size: '1M' }, [['error', params]]), 32);
    const b = await readPattern(await openTestChain('memory', { size: '1M' }, [['error', params]]), 32);
    expect(a).toEqual(b);
    expect(a).toContain(0);
    expect(a).toContain(1);
  });

  it('different seeds give different choices', async () => {
    const a = await readPattern(await openTestChain('memory', { size: '1M' }, [['error', { 'error-rate': '50%', 'error-seed': '1' }]]), 32);
    const b = await readPattern(await openTestChain('memory', { size: '1M' }, [['error', { 'error-rate': '50%', 'error-seed': '2' }]]), 32);
    expect(a).not.toEqual(b);
  });
});
