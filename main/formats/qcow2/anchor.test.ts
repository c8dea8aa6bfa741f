// The 64 GiB sparse qcow2 of ../shared/bench (make-images.sh): run only where it was built.
import { existsSync } from 'node:fs';
import { expect, test } from 'vitest';
import { openImageChain } from '../backing.ts';
import { qemuChainMap } from '../layered-testing.ts';
import type { ExtentTriple } from '../qemu-oracle.ts';

const ANCHOR = process.env.BLOCKSCOPE_ANCHORS ? `${process.env.BLOCKSCOPE_ANCHORS}/sparse-64g.qcow2` : '/tmp/anchors/sparse-64g.qcow2';

test.skipIf(!existsSync(ANCHOR))('the 64 GiB anchor maps in well under a second and equals qemu-img map', async () => {
  const stack = await openImageChain(ANCHOR, 'qcow2');
  try {
    const started = performance.now();
    const extents = await stack.extents(stack.size, 0);
    const elapsed = performance.now() - started;
    console.log(`mapped ${stack.size} bytes, ${extents.length} extents in ${elapsed.toFixed(0)} ms`);
    expect(elapsed).toBeLessThan(1000);
    expect(extents.map((e): ExtentTriple => [e.offset, e.length, e.flags])).toEqual(qemuChainMap(ANCHOR, 'qcow2'));
  } finally {
    await stack.close();
  }
});
