// Test support: a tiny HTTP server over a buffer or a folder of files, with the misbehaviours
// the http plugin must cope with switched on per test (no Range support, failures to retry,
// redirects, required credentials). It records every request so tests can count them.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export interface RecordedRequest {
  url: string;
  range?: string;
  headers: http.IncomingHttpHeaders;
}

export interface TestServerOptions {
  /** Answer ranges with the whole body (200), as a server without Range support does. */
  noRanges?: boolean;
  /** The next this-many requests fail: 'reset' closes the socket, a number is its status. */
  failures?: { count: number; how: 'reset' | number };
  /** Paths that redirect (302) to another path. */
  redirects?: Record<string, string>;
  /** Required `Authorization` header value. */
  authorization?: string;
  /** Hold every answer this long, so requests sent at once overlap at the server. */
  delayMs?: number;
  /** The next this-many range answers send half their body, then close the connection. */
  cutBodies?: number;
  /** Answer `Connection: close` after this many requests on one connection (nginx's keepalive_requests). */
  maxRequestsPerSocket?: number;
}

export interface TestServer {
  url(name: string): string;
  requests: RecordedRequest[];
  /** Most requests in progress at once. */
  peak: number;
  options: TestServerOptions;
  close(): Promise<void>;
}

/** Serves `files` (name -> bytes) or the files under `root` on 127.0.0.1. */
export async function startTestServer(files: Record<string, Buffer> | string, options: TestServerOptions = {}): Promise<TestServer> {
  const body = (name: string): Buffer | undefined => {
    if (typeof files !== 'string') return files[name];
    try {
      return readFileSync(path.join(files, path.normalize(name)));
    } catch {
      return undefined;
    }
  };
  let active = 0;
  const state: TestServer = { url: () => '', requests: [], peak: 0, options, close: async () => {} };
  const server = http.createServer((req, res) => {
    active++;
    state.peak = Math.max(state.peak, active);
    res.on('close', () => active--);
    state.requests.push({ url: req.url ?? '', range: req.headers.range, headers: req.headers });
    const reply = () => answer(state.options, req, res, body);
    if (state.options.delayMs) setTimeout(reply, state.options.delayMs);
    else reply();
  });
  if (options.maxRequestsPerSocket) server.maxRequestsPerSocket = options.maxRequestsPerSocket;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  state.url = (name) => `http://127.0.0.1:${port}/${name}`;
  state.close = () => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return state;
}

function answer(options: TestServerOptions, req: http.IncomingMessage, res: http.ServerResponse, body: (name: string) => Buffer | undefined): void {
  const name = decodeURIComponent((req.url ?? '/').slice(1).split('?')[0]!);
  const failures = options.failures;
  if (failures && failures.count > 0) {
    failures.count--;
    if (failures.how === 'reset') return void req.socket.destroy();
    return void res.writeHead(failures.how).end('failing on purpose');
  }
  const to = options.redirects?.[name];
  if (to !== undefined) return void res.writeHead(302, { location: `/${to}` }).end();
  if (options.authorization !== undefined && req.headers.authorization !== options.authorization) return void res.writeHead(401).end();
  const data = body(name);
  if (!data) return void res.writeHead(404).end();
  const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
  if (!m || options.noRanges) return void res.writeHead(200, { 'content-length': data.length }).end(data);
  const start = Number(m[1]);
  if (start >= data.length) return void res.writeHead(416, { 'content-range': `bytes */${data.length}` }).end();
  const end = Math.min(Number(m[2]), data.length - 1);
  res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${data.length}`, 'content-length': end - start + 1, 'accept-ranges': 'bytes' });
  if (options.cutBodies) {
    options.cutBodies--;
    return void res.write(data.subarray(start, start + Math.floor((end - start + 1) / 2)), () => req.socket.destroy());
  }
  res.end(data.subarray(start, end + 1));
}
