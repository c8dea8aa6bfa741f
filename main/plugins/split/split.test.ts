import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { REPEAT_SEPARATOR } from '../../../shared/params.ts';
import type { OpenChain } from '../../backend/chain.ts';
import { FLAG_REQ_ONE } from '../../backend/flags.ts';
import { mapOf, readAll } from '../../backend/testing.ts';
import { nativeIo } from '../../native-io.ts';
import { openTestChain } from '../../testing/chains.ts';
import { writeSparseFile } from '../../testing/sparse-file.ts';
import { tempDir } from '../../temp-dir.ts';

const K = 1024;
const { dir, cleanup } = tempDir('blockscope-split-');
afterAll(cleanup);
let open: OpenChain | null = null;
afterEach(async () => {
  await open?.close();
  open = null;
});

let counter = 0;
function file(content: string | Buffer): string {
  const f = path.join(dir, `part${counter++}`);
  writeFileSync(f, content);
  return f;
}

describe('split plugin', () => {
  it('serves the files end to end, each its own size', async () => {
    const parts = [file('abc'), file('defgh'), file('i')];
    open = await openTestChain('split', { file: parts.join(REPEAT_SEPARATOR) });
    expect(open.top.getSize()).toBe(9);
    expect((await readAll(open)).toString()).toBe('abcdefghi');
    expect((await readAll(open, 2, 5)).toString()).toBe('cdefg');
  });

  it('sends a write across a boundary to both files', async () => {
    const parts = [file('aaaa'), file('bbbb'), file('cccc')];
    open = await openTestChain('split', { file: parts.join(REPEAT_SEPARATOR) });
    await open.top.pwrite(Buffer.from('XYZXYZ'), 3);
    expect(parts.map((p) => readFileSync(p, 'latin1'))).toEqual(['aaaX', 'YZXY', 'Zccc']);
  });

  it('shifts each part map to its place', async () => {
    const a = path.join(dir, `sparse${counter++}`);
    const b = path.join(dir, `sparse${counter++}`);
    writeSparseFile(a, 256 * K, [{ offset: 0, length: 64 * K }]);
    writeSparseFile(b, 256 * K, [{ offset: 128 * K, length: 64 * K }]);
    open = await openTestChain('split', { file: [a, b].join(REPEAT_SEPARATOR) });
    const holes = nativeIo() ? 3 : 0;
    const expected: [number, number, number][] = holes
      ? [[0, 64 * K, 0], [64 * K, 320 * K, 3], [384 * K, 64 * K, 0], [448 * K, 64 * K, 3]]
      : [[0, 512 * K, 0]];
    expect(await mapOf(open)).toEqual(expected);
    const one = await open.top.extents(512 * K, 0, FLAG_REQ_ONE);
    expect(one[0]).toEqual({ offset: 0, length: 64 * K, flags: 0 });
  });

  it('is read-only when the connection is', async () => {
    open = await openTestChain('split', { file: file('abcd') }, [], { readonly: true });
    expect(open.top.canWrite()).toBe(false);
  });

  it('names a missing part', async () => {
    await expect(openTestChain('split', { file: [file('x'), `${dir}/missing`].join(REPEAT_SEPARATOR) })).rejects.toThrow(/missing/);
  });
});
