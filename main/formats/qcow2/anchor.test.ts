// The 64 GiB sparse qcow2 of ../shared/bench (make-images.sh): run only where it was built.
import { existsSync } from 'node:fs';
import { expect, test } from 'vitest';
import { openImageChain } from '../backing.ts';
import { qemuChainMap } from '../layered-testing.ts';
import type { ExtentTriple } from '../qemu-oracle.ts';

const ANCHOR = process.env.BLOCKSCOPE_ANCHORS ? `${process.env.BLOCKSCOPE_ANCHORS}/sparse-64g.qcow2` : '/tmp/anchors/sparse-64g.qcow2';

if (!existsSync(ANCHOR)) console.log(`anchor qcow2: ${ANCHOR} is absent (built by ../shared/bench/make-images.sh for the benchmarks); not mapped here`);

test.skipIf(!existsSync(ANCHOR))('the 64 GiB bench qcow2 maps exactly as qemu-img map does', async () => {
  const stack = await openImageChain(ANCHOR, 'qcow2');
  try {
    const started = performance.now();
    const extents = await stack.extents(stack.size, 0);
    const elapsed = performance.now() - started;
    console.log(`mapped ${stack.size} bytes, ${extents.length} extents in ${elapsed.toFixed(0)} ms`);
    expect(extents.map((e): ExtentTriple => [e.offset, e.length, e.flags])).toEqual(qemuChainMap(ANCHOR, 'qcow2'));
  } finally {
    await stack.close();
  }
});
