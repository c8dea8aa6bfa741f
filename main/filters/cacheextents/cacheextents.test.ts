import { describe, expect, it } from 'vitest';
import { EXTENT_DATA as D, EXTENT_HOLE_ZERO as HZ } from '../../../shared/extents.ts';
import { FLAG_REQ_ONE } from '../../backend/flags.ts';
import { mapOf } from '../../backend/testing.ts';
import { openClientChain } from '../log/testing.ts';
import { tempDir } from '../../temp-dir.ts';
import path from 'node:path';
import { afterAll } from 'vitest';
import { readFileSync } from 'node:fs';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let n = 0;

/** cacheextents over a log filter, so the log shows which questions reached the layer below. */
async function logged() {
  const logfile = path.join(tmp.dir, `below-${n++}.log`);
  const open = await openClientChain('memory', { size: '1M' }, [['cacheextents'], ['log', { logfile }]]);
  await open.top.pwrite(Buffer.alloc(4096, 1), 8192);
  const asked = () => readFileSync(logfile, 'utf8').split('\n').filter((l) => / Extents id=/.test(l)).map((l) => l.replace(/^.* Extents id=\d+ /, ''));
  return { open, asked };
}

describe('cacheextents filter', () => {
  it('answers REQ_ONE questions inside the last answer without asking below', async () => {
    const { open, asked } = await logged();
    expect(await open.top.extents(65536, 0, FLAG_REQ_ONE)).toEqual([{ offset: 0, length: 8192, flags: HZ }]);
    expect(await open.top.extents(65536 - 8192, 8192, FLAG_REQ_ONE)).toEqual([{ offset: 8192, length: 4096, flags: D }]);
    expect(await open.top.extents(65536 - 12288, 12288, FLAG_REQ_ONE)).toEqual([{ offset: 12288, length: 65536 - 12288, flags: HZ }]);
    // One question below, without REQ_ONE.
    expect(asked()).toEqual(['offset=0x0 count=0x10000 req_one=0 ...']);
  });

  it('asks again past the cached range', async () => {
    const { open, asked } = await logged();
    await open.top.extents(65536, 0);
    await open.top.extents(4096, 65536);
    expect(asked()).toEqual(['offset=0x0 count=0x10000 req_one=0 ...', 'offset=0x10000 count=0x1000 req_one=0 ...']);
  });

  it('forgets its answer after a write', async () => {
    const { open, asked } = await logged();
    await open.top.extents(65536, 0);
    await open.top.pwrite(Buffer.alloc(4096, 1), 0);
    expect(await open.top.extents(65536, 0, FLAG_REQ_ONE)).toEqual([{ offset: 0, length: 4096, flags: D }]);
    expect(asked()).toHaveLength(2);
  });

  it('leaves the map as it is', async () => {
    const { open } = await logged();
    expect(await mapOf(open)).toEqual([[0, 8192, HZ], [8192, 4096, D], [12288, 2 ** 20 - 12288, HZ]]);
  });
});
