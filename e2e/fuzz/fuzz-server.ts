// The server under fuzz: the real NbdServer in this process (so its memory and its log are
// ours to watch), with exports that differ in everything a session can trip over: writable
// or not, extents or none, sizes that are not a multiple of anything, a filter chain.
// Read-only exports come with an oracle (the same chain opened here) for the bytes a READ
// must return and the zeroes a hole or a ZERO extent promises. Given credentials, the server
// requires TLS (--tls=require), so every session starts with STARTTLS.
import os from 'node:os';
import path from 'node:path';
import { rmSync } from 'node:fs';
import type { ChainConfig } from '../../shared/chain-config.ts';
import type { OpenChain } from '../../main/backend/chain.ts';
import { registry } from '../../main/catalog.ts';
import { NbdServer } from '../../main/nbd/server.ts';
import type { TlsCredentials } from '../../main/nbd/tls-credentials.ts';

export interface FuzzExport {
  name: string;
  size: number;
  writable: boolean;
  /** The same chain, for the bytes a read must return; null where clients write. */
  oracle: OpenChain | null;
}

export interface FuzzServer {
  server: NbdServer;
  tcp: { port: number };
  unix: { path: string };
  exports: FuzzExport[];
  /** Log lines that only a bug in the server produces. */
  internalErrors: string[];
  close(): Promise<void>;
}

const filter = (name: string, params: Record<string, string> = {}) => ({ name, params, enabled: true });

const EXPORTS: { name: string; writable: boolean; config: ChainConfig }[] = [
  { name: '', writable: true, config: { plugin: { name: 'memory', params: { size: '8M' } }, filters: [] } },
  { name: 'pattern', writable: false, config: { plugin: { name: 'pattern', params: { size: '4194427' } }, filters: [] } },
  {
    name: 'sparse', writable: false,
    config: { plugin: { name: 'sparse-random', params: { size: '48M', seed: '7', percent: '40', runlength: '192K', 'random-content': 'true' } }, filters: [filter('truncate', { truncate: '50000001' })] },
  },
  { name: 'cow', writable: true, config: { plugin: { name: 'sparse-random', params: { size: '16M', seed: '3', percent: '30', runlength: '64K' } }, filters: [filter('cow')] } },
  { name: 'no-extents', writable: true, config: { plugin: { name: 'memory', params: { size: '1000003' } }, filters: [filter('noextents')] } },
];

/**
 * A log line from the server that means a bug, not a client's mistake or a socket error.
 * A failed TLS handshake is the client's doing (junk or a hang-up where its ClientHello belongs).
 */
export function isInternalError(line: string): boolean {
  return /\): error: (?!TLS handshake failed: )|closing the chain failed|: EIO: |^server: /.test(line);
}

export async function startFuzzServer(tls: TlsCredentials | null = null): Promise<FuzzServer> {
  const internalErrors: string[] = [];
  const server = new NbdServer({
    log: (line) => {
      if (isInternalError(line)) internalErrors.push(line);
    },
    // Small caps, so that sessions reach them all the time: a byte the server forgets to
    // give back then stalls a session, which the fuzzer reports as a hang.
    replyBytes: { perConnection: 256 * 1024, total: 1024 * 1024 },
    tls: tls ? { mode: 'require', credentials: tls } : undefined,
  });
  const exports: FuzzExport[] = [];
  for (const e of EXPORTS) {
    const chain = await registry.build(e.config);
    server.addExport({ name: e.name, description: `fuzz ${e.name || 'default'}`, chain, writable: e.writable });
    const probe = await chain.open({ readonly: true, exportName: e.name });
    const size = probe.top.getSize();
    if (e.writable) await probe.close();
    exports.push({ name: e.name, size, writable: e.writable, oracle: e.writable ? null : probe });
  }
  const socketPath = path.join(os.tmpdir(), `blockscope-fuzz-${process.pid}${tls ? `-${tls.kind}` : ''}.sock`);
  const tcp = await server.listen({ host: '127.0.0.1', port: 0 });
  await server.listen({ path: socketPath });
  return {
    server, exports, internalErrors, tcp: { port: tcp.port! }, unix: { path: socketPath },
    async close() {
      await server.close();
      for (const e of exports) await e.oracle?.close();
      rmSync(socketPath, { force: true });
    },
  };
}
