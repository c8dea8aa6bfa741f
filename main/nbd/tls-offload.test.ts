// TLS on worker threads (tls-offload.ts), checked with the clients users run: nbdcopy over
// several connections reads and writes byte for byte through the workers, the same holds with
// the workers switched off, and closing the server ends connections the workers carry.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ok, run, tempDir } from '../../e2e/interop/harness.ts';
import { makeTlsFixtures, type TlsFixtures } from '../../e2e/interop/tls-fixtures.ts';
import { registry } from '../catalog.ts';
import { nativeIo } from '../native-io.ts';
import { NbdServer } from './server.ts';
import { loadCertificates, loadPskFile, type TlsCredentials } from './tls-credentials.ts';
import { tlsWorkerLoad, tlsWorkersWanted } from './tls-offload.ts';

const tmp = tempDir();
const SIZE = 8 << 20;
let fx: TlsFixtures;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const hasDup = typeof (nativeIo() as { dupFd?: unknown } | null)?.dupFd === 'function';

/** Without the native addon there is no dup(): TLS stays on the main thread, which the last tests still check. */
function skipWithoutAddon(ctx: { skip: () => void }): void {
  console.warn('tls-offload: skipped: no native addon (dupFd) here, so TLS runs on the main thread; the BLOCKSCOPE_TLS_WORKERS=0 test covers that path');
  ctx.skip();
}

beforeAll(async () => {
  // The suite's default leaves TLS on the main thread (vitest.config.ts), as 2 cores choose.
  process.env.BLOCKSCOPE_TLS_WORKERS = '1';
  fx = await makeTlsFixtures();
}, 120_000);
afterAll(() => {
  tmp.cleanup();
  fx?.cleanup();
});

async function tlsServer(credentials: TlsCredentials, file: string): Promise<{ server: NbdServer; port: number; log: string[] }> {
  const log: string[] = [];
  const server = new NbdServer({ log: (line) => log.push(line), tls: { mode: 'require', credentials } });
  const chain = await registry.build({ plugin: { name: 'file', params: { file } }, filters: [] });
  server.addExport({ name: '', chain, writable: true });
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  return { server, port: port!, log };
}

/** nbdcopy a random image into the export over 4 connections, then back out; both must match. */
async function roundTrip(uri: string, name: string): Promise<void> {
  const source = path.join(tmp.dir, `${name}-source.img`);
  const back = path.join(tmp.dir, `${name}-back.img`);
  const bytes = randomBytes(SIZE);
  writeFileSync(source, bytes);
  await ok('nbdcopy', ['--connections=4', source, uri]);
  await ok('nbdcopy', ['--connections=4', uri, back]);
  expect(sha(readFileSync(back))).toBe(sha(bytes));
}

function disk(name: string): string {
  const file = path.join(tmp.dir, `${name}.img`);
  writeFileSync(file, Buffer.alloc(SIZE));
  return file;
}

describe('TLS on worker threads', () => {
  it('nbdcopy over 4 connections writes and reads back byte for byte through the workers (X.509)', async (ctx) => {
    if (!hasDup) return skipWithoutAddon(ctx);
    const { server, port } = await tlsServer(loadCertificates(fx.server, false), disk('x509'));
    const before = tlsWorkerLoad().handedOver;
    try {
      await roundTrip(`nbds://localhost:${port}/?tls-certificates=${fx.client}`, 'x509');
      // Every connection of both copies (how many is nbdcopy's choice) went to a worker.
      expect(tlsWorkerLoad().handedOver - before).toBeGreaterThanOrEqual(2);
      expect(tlsWorkerLoad().threads).toBeGreaterThan(0);
    } finally {
      await server.close();
    }
    expect(tlsWorkerLoad().connections).toBe(0);
  }, 120_000);

  it('PSK connections go to the workers too and name their identity', async (ctx) => {
    if (!hasDup) return skipWithoutAddon(ctx);
    const { server, port, log } = await tlsServer(loadPskFile(fx.pskFile), disk('psk'));
    const before = tlsWorkerLoad().handedOver;
    try {
      await roundTrip(`nbds://alice@localhost:${port}/?tls-psk-file=${fx.pskFile}`, 'psk');
      expect(tlsWorkerLoad().handedOver).toBeGreaterThan(before);
      expect(log.join('\n')).toMatch(/over TLS as 'alice'/);
    } finally {
      await server.close();
    }
  }, 120_000);

  it('chooses workers on machines with more than two cores, unless BLOCKSCOPE_TLS_WORKERS says', () => {
    expect([1, 2, 3, 16].map((cores) => tlsWorkersWanted({}, cores))).toEqual([false, false, true, true]);
    expect(tlsWorkersWanted({ BLOCKSCOPE_TLS_WORKERS: '1' }, 2)).toBe(true);
    expect(tlsWorkersWanted({ BLOCKSCOPE_TLS_WORKERS: '0' }, 16)).toBe(false);
  });

  it('with BLOCKSCOPE_TLS_WORKERS=0 TLS stays on the main thread, byte for byte the same', async () => {
    const { server, port } = await tlsServer(loadCertificates(fx.server, false), disk('inline'));
    const before = tlsWorkerLoad().handedOver;
    const setting = process.env.BLOCKSCOPE_TLS_WORKERS;
    process.env.BLOCKSCOPE_TLS_WORKERS = '0';
    try {
      await roundTrip(`nbds://localhost:${port}/?tls-certificates=${fx.client}`, 'inline');
      expect(tlsWorkerLoad().handedOver).toBe(before);
    } finally {
      if (setting === undefined) delete process.env.BLOCKSCOPE_TLS_WORKERS;
      else process.env.BLOCKSCOPE_TLS_WORKERS = setting;
      await server.close();
    }
  }, 120_000);

  it('closing the server ends the connections the workers carry, and the client sees it', async (ctx) => {
    if (!hasDup) return skipWithoutAddon(ctx);
    const { server, port } = await tlsServer(loadCertificates(fx.server, false), disk('close'));
    // A client that connects, reads, waits for the server to go, then tries again.
    const script = [
      'import time',
      'h.set_uri_allow_local_file(True)',
      `h.connect_uri("nbds://localhost:${port}/?tls-certificates=${fx.client}")`,
      'assert len(h.pread(4096, 0)) == 4096',
      'print("connected", flush=True)',
      'time.sleep(3)',
      'try:\n    h.pread(4096, 0)\n    print("still served")\nexcept Exception as e:\n    print("ended:", e)',
    ].join('\n');
    const client = run('/usr/bin/python3', ['-c', `import nbd\nh = nbd.NBD()\n${script}`], { timeoutMs: 30_000 });
    // Close once the client has read (not merely connected: closing mid-handshake is another test).
    for (let i = 0; i < 400 && (server.connections[0]?.bytesRead ?? 0) < 4096; i++) await new Promise((r) => setTimeout(r, 25));
    expect(server.connections).toHaveLength(1);
    expect(server.connections[0]!.tls).toBeDefined();
    expect(server.connections[0]!.bytesRead).toBeGreaterThanOrEqual(4096);
    await server.close();
    const out = await client;
    expect(out.stdout).toContain('connected');
    expect(out.stdout).toContain('ended:');
  }, 60_000);
});
