import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXTENT_DATA as D, EXTENT_HOLE as H, EXTENT_HOLE_ZERO as HZ, EXTENT_ZERO as Z } from '../../../shared/extents.ts';
import { FLAG_REQ_ONE } from '../../backend/flags.ts';
import { mapOf } from '../../backend/testing.ts';
import { openTestChain } from '../../testing/chains.ts';
import { tempDir } from '../../temp-dir.ts';
import { extentsIn, parseExtentList } from './parse.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const MAX = Number.MAX_SAFE_INTEGER;

describe('extentlist file', () => {
  it('sorts entries, fills gaps and the tail with holes', () => {
    expect(parseExtentList('1M 1M hole\n  0 4096\n3M 512 zero\n')).toEqual([
      { offset: 0, length: 4096, flags: D },
      { offset: 4096, length: 2 ** 20 - 4096, flags: HZ },
      { offset: 2 ** 20, length: 2 ** 20, flags: H },
      { offset: 2 ** 21, length: 2 ** 20, flags: HZ },
      { offset: 3 * 2 ** 20, length: 512, flags: Z },
      { offset: 3 * 2 ** 20 + 512, length: MAX - 3 * 2 ** 20 - 512, flags: HZ },
    ]);
  });

  it('takes a numeric type and hole,zero', () => {
    expect(parseExtentList('0 512 3\n512 512 hole,zero\n1024 512 0').slice(0, 3)).toEqual([
      { offset: 0, length: 512, flags: HZ }, { offset: 512, length: 512, flags: HZ }, { offset: 1024, length: 512, flags: D },
    ]);
  });

  it('refuses overlaps, unknown types and bad sizes, naming the line', () => {
    expect(() => parseExtentList('0 1M\n512K 1M', 'x')).toThrow(/overlap/);
    expect(() => parseExtentList('0 1M\n1M 1M sparse', 'x')).toThrow("x:2: unknown extent type 'sparse'");
    expect(() => parseExtentList('zero 1M', 'x')).toThrow(/^x:1: /);
    expect(() => parseExtentList('0', 'x')).toThrow(/^x:1: expected/);
    // As nbdkit: no blank lines or comments.
    expect(() => parseExtentList('0 1M\n\n2M 1M\n', 'x')).toThrow('x:2: empty line');
    expect(() => parseExtentList('# map\n0 1M\n', 'x')).toThrow(/^x:1: /);
  });

  it('finds the entries overlapping a range', () => {
    const list = parseExtentList('0 4096\n8192 4096');
    expect(extentsIn(list, 4096, 6000)).toEqual([{ offset: 4096, length: 4096, flags: HZ }, { offset: 8192, length: 4096, flags: D }]);
    expect(extentsIn(list, 1, 0)).toEqual([{ offset: 0, length: 4096, flags: D }]);
  });
});

describe('extentlist filter', () => {
  it('serves the listed map whatever the layer below holds', async () => {
    const file = path.join(tmp.dir, 'list');
    writeFileSync(file, '0 4096\n64K 8K\n');
    const open = await openTestChain('memory', { size: '128K' }, [['extentlist', { extentlist: file }]]);
    expect(await mapOf(open)).toEqual([[0, 4096, D], [4096, 61440, HZ], [65536, 8192, D], [73728, 57344, HZ]]);
    expect(await open.top.extents(65536, 4096, FLAG_REQ_ONE)).toEqual([{ offset: 4096, length: 61440, flags: HZ }]);
  });

  it('refuses a file with a bad line when the filter is created', async () => {
    const file = path.join(tmp.dir, 'bad');
    writeFileSync(file, '0 1M\n512K 1M\n');
    await expect(openTestChain('memory', { size: '4M' }, [['extentlist', { extentlist: file }]])).rejects.toThrow(/extentlist: extentlist: .*overlap/);
  });
});
