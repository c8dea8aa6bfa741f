// How command-line words become a chain, as nbdkit reads them: KEY=VALUE only where the part
// before '=' could be a key; other words go to the plugin's magic key, several times when
// that key is repeatable.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveChain } from './chain-args.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'blockscope-chain-args-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('resolveChain', () => {
  it('gives split every bare file name, in order', async () => {
    const [a, b] = ['a.img', 'b.img'].map((n) => path.join(dir, n));
    writeFileSync(a!, Buffer.alloc(512));
    writeFileSync(b!, Buffer.alloc(1024));
    const { config } = await resolveChain({ filters: [], words: ['split', a!, b!] });
    expect(config.plugin.params.file!.split('\n')).toEqual([a, b]);
  });

  it('sends a data string whose "=" does not follow a key name to the magic key', async () => {
    const { config } = await resolveChain({ filters: [], words: ['data', '"a=b" @0x10 1', 'size=1K'] });
    expect(config.plugin.params).toEqual({ data: '"a=b" @0x10 1', size: '1K' });
  });

  it('refuses a second bare word for a key that is not repeatable', async () => {
    await expect(resolveChain({ filters: [], words: ['memory', '1M', '2M'] })).rejects.toThrow(/'2M' is not KEY=VALUE/);
  });

  it('hands KEY=VALUE to the filter that declares the key', async () => {
    const { config } = await resolveChain({ filters: ['offset'], words: ['memory', 'size=1M', 'offset=4096'] });
    expect(config.filters[0]!.params).toEqual({ offset: '4096' });
    expect(config.plugin.params).toEqual({ size: '1M' });
  });
});
