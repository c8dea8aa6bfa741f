// A connection the client ends cleanly (DISC, or ABORT in the handshake) must be gone from
// the server once the client has read what it wanted and closed, even when the server had
// stopped reading that socket to hold back a client that sends faster than it reads.
import { encodeRequest } from './request-header.ts';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { registry } from '../catalog.ts';
import { CMD, IHAVEOPT, OPT } from './protocol.ts';
import { NbdServer } from './server.ts';

const MiB = 1024 * 1024;
let server: NbdServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

async function start(): Promise<string> {
  server = new NbdServer({ log: () => {} });
  const chain = await registry.build({ plugin: { name: 'pattern', params: { size: '64M' } }, filters: [] });
  server.addExport({ name: '', chain, writable: false });
  const sock = path.join(os.tmpdir(), `bs-disc-${process.pid}.sock`);
  await server.listen({ path: sock });
  return sock;
}

function option(opt: number, data: Buffer): Buffer {
  const h = Buffer.alloc(16);
  h.writeBigUInt64BE(IHAVEOPT, 0);
  h.writeUInt32BE(opt, 8);
  h.writeUInt32BE(data.length, 12);
  return Buffer.concat([h, data]);
}

function request(type: number, cookie: number, offset: number, length: number): Buffer {
  return encodeRequest({ type, cookie, offset, length });
}

/** Connect, send `bytes`, let them sit unread for `holdMs`, then read until the server closes. */
function session(sockPath: string, bytes: Buffer, holdMs: number): Promise<number> {
  return new Promise((resolve) => {
    const c = net.connect(sockPath);
    let got = 0;
    c.on('data', (d) => (got += d.length));
    c.on('end', () => c.destroy());
    // A server that closes with our junk unread resets the connection instead.
    c.on('error', () => {});
    c.on('close', () => resolve(got));
    c.write(bytes);
    c.pause();
    setTimeout(() => c.resume(), holdMs);
  });
}

async function serverForgets(): Promise<number> {
  for (let i = 0; i < 200 && server!.openConnections > 0; i++) await new Promise((r) => setTimeout(r, 10));
  return server!.openConnections;
}

describe('a connection the client ends', () => {
  it('is closed after DISC even when its replies had filled the send queue', async () => {
    const sock = await start();
    const flags = Buffer.from([0, 0, 0, 1]);
    const go = option(OPT.GO, Buffer.alloc(6));
    const reads = [0, 1].map((i) => request(CMD.READ, i + 1, i * 32 * MiB, 32 * MiB));
    const got = await session(sock, Buffer.concat([flags, go, ...reads, request(CMD.DISC, 9, 0, 0)]), 300);
    expect(got).toBeGreaterThan(64 * MiB);
    expect(await serverForgets()).toBe(0);
  });

  it('is closed after ABORT even with more bytes behind it than the handshake reads ahead', async () => {
    const sock = await start();
    const flags = Buffer.from([0, 0, 0, 1]);
    await session(sock, Buffer.concat([flags, option(OPT.ABORT, Buffer.alloc(0)), Buffer.alloc(256 * 1024)]), 50);
    expect(await serverForgets()).toBe(0);
  });
});
