// A scan of a remote export takes its answers as NBD descriptors where the chain allows
// (LayerContext.extentDescriptors) and as extent lists elsewhere. Property: over a real NBD
// connection to our server (random sparse-random disks, sizes off the sector grid too), under
// random client-side filter stacks and slice sizes, the map is the same either way, and the
// same as the disk's own (opened here, asked as lists: the server answers from the plugin's
// descriptors); and the descriptor path is taken whenever no filter above nbd changes extents.
import fc from 'fast-check';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registry } from '../catalog.ts';
import { NbdServer } from '../nbd/server.ts';
import { openTestChain, type FilterSpec } from '../testing/chains.ts';
import { propertyParams } from '../testing/property-params.ts';
import { AllocationTracker, type ExtentSource } from './allocation.ts';

let server: NbdServer;
let socket: string;
let exports = 0;

beforeAll(async () => {
  server = new NbdServer({ log: () => {} });
  socket = path.join(os.tmpdir(), `bs-alloc-wire-${process.pid}.sock`);
  await server.listen({ path: socket });
});
afterAll(async () => server.close());

/** Client-side filters: the first two leave extents alone, the others answer extents themselves. */
const FILTERS: FilterSpec[] = [['nocache'], ['fua'], ['offset', { offset: '4096' }], ['noextents']];
const PASSES_EXTENTS = new Set(['nocache', 'fua']);

const caseArb = fc.record({
  size: fc.integer({ min: 8192, max: 3 * 2 ** 20 }),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  percent: fc.integer({ min: 0, max: 100 }),
  runlength: fc.integer({ min: 1, max: 64 * 1024 }),
  filters: fc.subarray(FILTERS),
  // On the sector grid, as the app's slices are, or anywhere (the outermost layers then ask
  // for whole sectors and clip the answer back: descriptors either way).
  sliceBytes: fc.oneof(fc.integer({ min: 1, max: 2048 }).map((n) => n * 512), fc.integer({ min: 512, max: 2 ** 20 })),
});

async function scan(source: ExtentSource, sliceBytes: number): Promise<number[][]> {
  const tracker = new AllocationTracker(source, { progress: () => {}, changed: () => {} }, { sliceBytes, progressMs: 0 });
  await tracker.start();
  expect(tracker.progress.error).toBeUndefined();
  const runs = [...tracker.current.runs()].map((r) => [r.offset, r.length, r.cls]);
  tracker.dispose();
  return runs;
}

describe('scan of a remote export (property)', () => {
  it('maps the same from descriptors as from extent lists, and uses descriptors where it may', async () => {
    await fc.assert(fc.asyncProperty(caseArb, async (c) => {
      const name = `disk${exports++}`;
      const params = { size: String(c.size), seed: String(c.seed), percent: String(c.percent), runlength: String(c.runlength) };
      const chain = await registry.build({ plugin: { name: 'sparse-random', params }, filters: [] });
      server.addExport({ name, description: '', chain, writable: false });
      const open = await openTestChain('nbd', { uri: `nbd+unix:///${name}?socket=${socket}` }, c.filters, { readonly: true });
      try {
        const top = open.top;
        let wireAnswers = 0;
        const wire: ExtentSource = {
          getSize: () => top.getSize(),
          extents: (count, offset, flags) => top.extents(count, offset, flags),
          extentDescriptors: async (count, offset) => {
            const d = await top.extentDescriptors(count, offset);
            if (d) wireAnswers++;
            return d;
          },
        };
        const lists: ExtentSource = { getSize: () => top.getSize(), extents: (count, offset, flags) => top.extents(count, offset, flags) };
        const map = await scan(wire, c.sliceBytes);
        expect(map).toEqual(await scan(lists, c.sliceBytes));
        // The server answered from the plugin's descriptors: the same map as the disk opened here, as lists.
        if (c.filters.length === 0) {
          const local = await openTestChain('sparse-random', params, [], { readonly: true });
          try {
            expect(map).toEqual(await scan({ getSize: () => local.top.getSize(), extents: (count, offset, flags) => local.top.extents(count, offset, flags) }, c.sliceBytes));
          } finally {
            await local.close();
          }
        }
        const untouched = c.filters.every(([f]) => PASSES_EXTENTS.has(f));
        expect(wireAnswers > 0).toBe(untouched);
      } finally {
        await open.close();
      }
    }), propertyParams(40));
  });
});
