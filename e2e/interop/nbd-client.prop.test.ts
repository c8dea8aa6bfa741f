// Blockscope's NBD client (what the nbd plugin, `blockscope map/info/compare` and the app's
// remote images use) against nbdkit: many reads and block status queries in flight at once,
// random offsets and lengths (unaligned, some past the 64 KiB from which replies are read
// straight into place), answered out of order by nbdkit's threads. READ data must equal the
// file, and every extent must agree with `nbdinfo --map` of the same export.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { descriptorsToExtents } from '../../main/backend/extent-descriptors.ts';
import { NbdClient } from '../../main/nbd/client.ts';
import { fractionArb, seededBytes } from './sparse-image.ts';
import { ok, tempDir, TOOL_ENV } from './harness.ts';
import { budgetedParams } from './property-budget.ts';

const tmp = tempDir();
const image = path.join(tmp.dir, 'disk.img');
const socket = path.join(tmp.dir, 'nbdkit.sock');
const uri = `nbd+unix:///?socket=${socket}`;
let nbdkit: ChildProcess | null = null;
let bytes: Buffer;
/** nbdinfo's map: [offset, length, flags] with flags as NBD's (1 hole, 2 zero). */
let map: [number, number, number][] = [];

beforeAll(async () => {
  // Data runs (some unaligned) between real holes, and an unaligned size.
  const size = (12 << 20) + 777;
  const fd = openSync(image, 'w');
  ftruncateSync(fd, size);
  for (const [at, length, seed] of [[0, 300_000, 1], [(1 << 20) + 123, 200_000, 2], [5 << 20, 65536, 3], [(9 << 20) + 5, 1 << 20, 4], [size - 1000, 1000, 5]]) {
    writeSync(fd, seededBytes(seed!, length!), 0, length!, at!);
  }
  closeSync(fd);
  bytes = readFileSync(image);
  nbdkit = spawn('nbdkit', ['-f', '-r', '-U', socket, 'file', image], { env: TOOL_ENV, stdio: 'ignore' });
  for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 50));
  const json = JSON.parse(await ok('nbdinfo', ['--map', '--json', uri])) as { offset: number; length: number; type: number }[];
  map = json.map((e) => [e.offset, e.length, e.type]);
  // Data and holes both, or the extents check proves little.
  expect(new Set(map.map(([, , f]) => f)).size).toBeGreaterThan(1);
}, 60_000);

afterAll(() => {
  nbdkit?.kill();
  tmp.cleanup();
});

/** The flags nbdinfo saw everywhere in [offset, end), or null if they differ within it. */
function mapFlags(offset: number, end: number): number | null {
  let flags: number | null = null;
  for (const [o, l, f] of map) {
    if (o + l <= offset || o >= end) continue;
    if (flags !== null && flags !== f) return null;
    flags = f;
  }
  return flags;
}

/** `work`, or a failure after `seconds`: a client that lost its place in the stream waits forever. */
function withinSeconds<T>(seconds: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`requests still unanswered after ${seconds} s`)), seconds * 1000);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

const query = (size: () => number) =>
  fc.record({
    kind: fc.constantFrom('read', 'status', 'descriptors'),
    at: fractionArb,
    length: fc.oneof(fc.integer({ min: 1, max: 4096 }), fc.integer({ min: 60_000, max: 300_000 })),
  }).map((q) => {
    const offset = Math.min(size() - 1, Math.floor((q.at / 0x10000) * size()));
    return { kind: q.kind, offset, length: Math.min(q.length, size() - offset) };
  });

describe('the NBD client against nbdkit', { timeout: 120_000 }, () => {
  it('reads the file byte for byte and maps it as nbdinfo does, many requests in flight', async () => {
    const client = await NbdClient.connect(uri);
    try {
      expect(client.size).toBe(bytes.length);
      await fc.assert(
        fc.asyncProperty(fc.array(query(() => bytes.length), { minLength: 1, maxLength: 24 }), async (queries) => {
          await withinSeconds(15, Promise.all(queries.map(async (q) => {
            const where = `${q.kind} ${q.offset}+${q.length}`;
            if (q.kind === 'read') {
              const buf = Buffer.alloc(q.length, 0xee);
              await client.pread(buf, q.offset);
              expect(buf.equals(bytes.subarray(q.offset, q.offset + q.length)), where).toBe(true);
              return;
            }
            const extents = q.kind === 'status'
              ? await client.blockStatus(q.length, q.offset)
              : descriptorsToExtents((await client.blockStatusDescriptors(q.length, q.offset))!);
            expect(extents.length, where).toBeGreaterThan(0);
            expect(extents[0]!.offset, where).toBe(q.offset);
            let pos = q.offset;
            for (const e of extents) {
              expect(e.offset, where).toBe(pos);
              expect(mapFlags(e.offset, e.offset + e.length), `${where}: extent ${e.offset}+${e.length}`).toBe(e.flags);
              pos += e.length;
            }
          })));
        }),
        budgetedParams(40, 60_000),
      );
    } finally {
      await client.close();
    }
  });
});
