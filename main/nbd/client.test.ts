// Our client against our server in-process: what the handshake learns (client-handshake.ts)
// and what the reply reader (client-replies.ts) hands back through the client's requests.
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EXTENT_DATA, EXTENT_HOLE_ZERO } from '../../shared/extents.ts';
import { descriptorsToExtents } from '../backend/extent-descriptors.ts';
import { registry } from '../catalog.ts';
import { NbdClient } from './client.ts';
import { NbdServer } from './server.ts';

const MiB = 1024 * 1024;
let server: NbdServer;
let socket: string;
const uri = (name: string) => `nbd+unix:///${name}?socket=${socket}`;

beforeAll(async () => {
  server = new NbdServer({ log: () => {} });
  const chain = await registry.build({ plugin: { name: 'memory', params: { size: '1M' } }, filters: [] });
  server.addExport({ name: 'disk', description: 'a scratch disk', chain, writable: true });
  socket = path.join(os.tmpdir(), `bs-client-${process.pid}.sock`);
  await server.listen({ path: socket });
});
afterAll(async () => server.close());

it('learns the export from GO and its meta contexts', async () => {
  const client = await NbdClient.connect(uri('disk'));
  expect(client.info).toMatchObject({ size: MiB, name: 'disk', description: 'a scratch disk', contexts: ['base:allocation'], structured: true });
  expect(client.readonly).toBe(false);
  await client.close();
});

it('reads back writes, with holes sent as hole chunks, and maps them', async () => {
  const client = await NbdClient.connect(uri('disk'), { contexts: [] });
  const data = Buffer.alloc(64 * 1024, 0x5a);
  await client.pwrite(data, 256 * 1024);
  const back = Buffer.alloc(MiB, 0xff);
  await client.pread(back, 0);
  const expected = Buffer.alloc(MiB);
  data.copy(expected, 256 * 1024);
  expect(back.equals(expected)).toBe(true);
  // Without base:allocation the client answers for it: all data.
  expect(await client.blockStatus(MiB, 0)).toEqual([{ offset: 0, length: MiB, flags: EXTENT_DATA }]);
  expect(await client.blockStatusDescriptors(MiB, 0)).toBeNull();
  await client.close();

  const mapper = await NbdClient.connect(uri('disk'));
  expect(await mapper.blockStatus(MiB, 0)).toEqual([
    { offset: 0, length: 256 * 1024, flags: EXTENT_HOLE_ZERO },
    { offset: 256 * 1024, length: 64 * 1024, flags: EXTENT_DATA },
    { offset: 320 * 1024, length: 704 * 1024, flags: EXTENT_HOLE_ZERO },
  ]);
  const wire = await mapper.blockStatusDescriptors(MiB, 0);
  expect(wire && descriptorsToExtents(wire)).toEqual(await mapper.blockStatus(MiB, 0));
  await mapper.close();
});

it('fails a request the server refuses with its errno, and an export it does not have', async () => {
  const client = await NbdClient.connect(uri('disk'));
  await expect(client.pread(Buffer.alloc(4096), MiB)).rejects.toMatchObject({ code: 'EINVAL', message: /server error EINVAL: range 1048576\+4096 is outside/ });
  await client.close();
  await expect(NbdClient.connect(uri('nope'))).rejects.toThrow(/the server refused export 'nope'/);
});

it('sends the requests issued in one turn in one write, and matches every reply', async () => {
  const client = await NbdClient.connect(uri('disk'));
  // The socket's own write hooks: a corked socket hands all its chunks to one _writev.
  const socket = (client as unknown as { socket: { _write: unknown; _writev: (chunks: unknown[], cb: unknown) => void } }).socket;
  const writes: number[] = [];
  const writev = socket._writev.bind(socket);
  socket._writev = (chunks, cb) => {
    writes.push(chunks.length);
    writev(chunks, cb);
  };
  // Nothing here depends on the order the server runs them in: the write goes elsewhere.
  const data = Buffer.alloc(4096, 0x33);
  const back = Buffer.alloc(4096);
  const KiB = 1024;
  const done = [
    client.pwrite(data, 8 * KiB),
    client.pread(back, 256 * KiB),
    ...[192, 256, 320].map((k) => client.blockStatus(64 * KiB, k * KiB)),
  ];
  expect(writes).toEqual([]);
  const [, , ...maps] = await Promise.all(done);
  // One write: five headers and the WRITE's payload.
  expect(writes).toEqual([6]);
  expect(back.equals(Buffer.alloc(4096, 0x5a))).toBe(true);
  expect(maps.map((m) => m!.map((e) => e.flags))).toEqual([[EXTENT_HOLE_ZERO], [EXTENT_DATA], [EXTENT_HOLE_ZERO]]);
  await client.pread(back, 8 * KiB);
  expect(back.equals(data)).toBe(true);
  await client.close();
});
