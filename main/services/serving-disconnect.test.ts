// Disconnecting one client through the session, against the real NBD server with two real
// clients: the one dropped loses its connection, the other keeps reading, and the client list
// (answered and pushed) names only the one left.
import { mkdtemp, open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { ClientInfo } from '../../shared/ipc.ts';
import { NbdClient } from '../nbd/client.ts';
import { createSession } from './engine.ts';
import type { Session } from './session.ts';

let dir: string;
let session: Session;
const clients: NbdClient[] = [];

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bs-disconnect-'));
  session = createSession({ stateDir: null });
});

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close().catch(() => {});
  await session.dispose();
  await rm(dir, { recursive: true, force: true });
});

async function servedImage(): Promise<string> {
  const file = path.join(dir, 'disk.img');
  const fh = await open(file, 'w');
  await fh.write(Buffer.alloc(4096, 0xcd), 0, 4096, 0);
  await fh.truncate(1024 * 1024);
  await fh.close();
  const { id } = await session.openPath(file);
  return (await session.startServing(id, { port: 0 })).exports[0]!.uri;
}

async function connected(uri: string): Promise<NbdClient> {
  const c = await NbdClient.connect(uri);
  clients.push(c);
  return c;
}

async function until<T>(f: () => T | undefined): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const v = f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('timed out');
}

it('drops the one client asked for; the other still reads', async () => {
  const uri = await servedImage();
  const [first, second] = [await connected(uri), await connected(uri)];
  const [a, b] = await until(() => (session.clients().length === 2 ? session.clients() : undefined));
  const pushed: ClientInfo[][] = [];
  session.subscribe((event, payload) => event === 'server.clients' && pushed.push(payload as ClientInfo[]));

  const left = await session.disconnectClient(a!.id);

  expect(left.map((c) => c.id)).toEqual([b!.id]);
  expect(pushed.at(-1)?.map((c) => c.id)).toEqual([b!.id]);
  await expect(first.pread(Buffer.alloc(512), 0)).rejects.toThrow();
  const buf = Buffer.alloc(4096);
  await second.pread(buf, 0);
  expect(buf.equals(Buffer.alloc(4096, 0xcd))).toBe(true);
});

it('says so when the client has gone already', async () => {
  const uri = await servedImage();
  await connected(uri);
  const [a] = await until(() => (session.clients().length === 1 ? session.clients() : undefined));
  await session.disconnectClient(a!.id);
  await expect(session.disconnectClient(a!.id)).rejects.toMatchObject({ code: 'not-found' });
});
