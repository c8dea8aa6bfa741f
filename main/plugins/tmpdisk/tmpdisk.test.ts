import { existsSync, readdirSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { OpenChain } from '../../backend/chain.ts';
import { readAll } from '../../backend/testing.ts';
import { openTestChain } from '../../testing/chains.ts';
import { tempDir } from '../../temp-dir.ts';

const M = 2 ** 20;
const { dir, cleanup } = tempDir('blockscope-tmpdisk-test-');
const savedTmp = process.env.TMPDIR;
beforeAll(() => { process.env.TMPDIR = dir; });
afterAll(() => {
  if (savedTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmp;
  cleanup();
});
const open: OpenChain[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});

async function connect(params: Record<string, string>): Promise<OpenChain> {
  const o = await openTestChain('tmpdisk', params);
  open.push(o);
  return o;
}

describe('tmpdisk plugin', () => {
  it('formats ext4 by default, with the label, and leaves no file behind', async () => {
    const o = await connect({ size: '16M', label: 'scratch' });
    expect(o.top.getSize()).toBe(16 * M);
    const sb = await readAll(o, 1024, 1024);
    expect(sb.readUInt16LE(56)).toBe(0xef53); // ext superblock magic
    expect(sb.subarray(120, 127).toString()).toBe('scratch');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('formats vfat with its label option (-n)', async () => {
    const o = await connect({ size: '16M', type: 'vfat', label: 'FATDISK' });
    const boot = await readAll(o, 0, 512);
    expect(boot.readUInt16LE(510)).toBe(0xaa55);
    expect(boot.subarray(43, 50).toString()).toBe('FATDISK');
  });

  it('formats xfs', async () => {
    const o = await connect({ size: '512M', type: 'xfs' });
    expect((await readAll(o, 0, 4)).toString()).toBe('XFSB');
  });

  it('gives each connection its own disk', async () => {
    const a = await connect({ size: '1M', command: 'truncate -s $size "$disk"' });
    const b = await connect({ size: '1M', command: 'truncate -s $size "$disk"' });
    await a.top.pwrite(Buffer.from('only a'), 0);
    expect((await readAll(a, 0, 6)).toString()).toBe('only a');
    expect((await readAll(b, 0, 6)).equals(Buffer.alloc(6))).toBe(true);
  });

  it('serves whatever command= made, at its size', async () => {
    const o = await connect({ size: '0', command: 'printf hello > "$disk"; printf "%s" "$type" >> "$disk"', type: 'xyz' });
    expect((await readAll(o)).toString()).toBe('helloxyz');
  });

  it('reports a failing mkfs or command with its message', async () => {
    await expect(connect({ size: '1M', type: 'nosuchfs' })).rejects.toThrow(/tmpdisk: making the disk failed/);
    await expect(connect({ size: '1M', command: 'echo broken >&2; exit 3' })).rejects.toThrow(/broken/);
    expect(existsSync(dir) && readdirSync(dir)).toEqual([]);
  });
});
