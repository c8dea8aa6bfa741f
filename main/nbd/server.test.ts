// The server with both ways of receiving client data (one reused read buffer, or Node's
// buffer per read), driven by our client with writes large enough to span many reads and
// requests in flight that interleave.
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { registry } from '../catalog.ts';
import { NbdClient } from './client.ts';
import { NbdServer } from './server.ts';

let server: NbdServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

function pattern(length: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) b[i] = (i * 31 + seed * 7 + (i >> 12)) & 0xff;
  return b;
}

for (const reuseReadBuffer of [true, false]) {
  describe(`server receiving ${reuseReadBuffer ? 'into one reused buffer' : 'a buffer per read'}`, () => {
    it('keeps concurrent multi-megabyte writes and reads intact', async () => {
      server = new NbdServer({ log: () => {}, reuseReadBuffer });
      const chain = await registry.build({ plugin: { name: 'memory', params: { size: '64M' } }, filters: [] });
      server.addExport({ name: '', chain, writable: true });
      const sock = path.join(os.tmpdir(), `bs-server-${process.pid}-${reuseReadBuffer}.sock`);
      const { uri } = await server.listen({ path: sock });
      const client = await NbdClient.connect(uri);
      const writes = Array.from({ length: 12 }, (_, i) => ({ offset: i * (5 << 20), data: pattern((3 << 20) + i * 4097, i) }));
      await Promise.all(writes.map((w) => client.pwrite(w.data, w.offset)));
      await client.flush();
      const reads = await Promise.all(writes.map(async (w) => {
        const b = Buffer.alloc(w.data.length);
        await client.pread(b, w.offset);
        return b;
      }));
      const digest = (b: Buffer) => createHash('sha256').update(b).digest('hex');
      expect(reads.map(digest)).toEqual(writes.map((w) => digest(w.data)));
      // Hundreds of small writes at once: more than the server takes in flight, so unparsed
      // requests wait in its buffer while the next reads arrive.
      const small = Array.from({ length: 600 }, (_, i) => ({ offset: (60 << 20) + i * 4096, data: pattern(4096, 100 + i) }));
      await Promise.all(small.map((w) => client.pwrite(w.data, w.offset)));
      const back = Buffer.alloc(600 * 4096);
      await client.pread(back, 60 << 20);
      expect(digest(back)).toBe(digest(Buffer.concat(small.map((w) => w.data))));
      await client.close();
    });
  });
}
