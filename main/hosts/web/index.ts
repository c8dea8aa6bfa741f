// The browser UI host: the renderer build over HTTP and the IPC contract over one WebSocket,
// on loopback by default, guarded by a random token in the printed URL. It is how the UI
// runs on a headless server and how the e2e tests drive the real renderer.
import { uriHost } from '../../../shared/nbd-uri.ts';
import { existsSync } from 'node:fs';
import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';
import { WS_PATH, type IpcEventName, type WsServerMessage } from '../../../shared/ipc.ts';
import { createSession } from '../../services/engine.ts';
import { createHandlers } from '../../services/handlers.ts';
import type { Session } from '../../services/session.ts';
import { Access, newToken } from './access.ts';
import { serveIpcSocket } from './ipc-socket.ts';
import type { RpcGate } from './rpc-gate.ts';
import { contentSecurityPolicy, SECURITY_HEADERS, sendStatic } from './static-files.ts';

export interface UiHostOptions {
  host?: string;
  port?: number;
  /** Image paths or nbd:// URIs to open at start. */
  open?: string[];
  demo?: boolean;
  log?: (line: string) => void;
  /** The renderer build (out/renderer); found next to this module by default. */
  rendererDir?: string;
  /** A session to serve instead of a new one (tests); it is not disposed on close. */
  session?: Session;
  /** Where the recent list lives; null keeps it in memory. */
  stateDir?: string | null;
  version?: string;
}

export interface UiHost {
  url: string;
  token: string;
  session: Session;
  /** What the host holds for its pages: output not yet taken by their sockets, calls not yet answered. */
  backlog(): { bytes: number; requests: number };
  close(): Promise<void>;
}

/** Events a slow browser can miss without harm; everything else is always delivered. */
const DROPPABLE: ReadonlySet<IpcEventName> = new Set(['stats.sample', 'server.log']);
/** Every call in the contract is small (a chain.set, the largest, is a few KiB): 1 MiB is ample. */
const MAX_MESSAGE_BYTES = 2 ** 20;

export async function startUiHost(options: UiHostOptions = {}): Promise<UiHost> {
  const log = options.log ?? ((line: string) => console.error(line));
  const rendererDir = options.rendererDir ?? findRendererDir();
  const session = options.session ?? createSession({ stateDir: options.stateDir });
  const handlers = createHandlers(session, { host: 'web', version: options.version ?? '0' });
  const bindHost = options.host ?? '127.0.0.1';
  const token = newToken();
  let access: Access | null = null;

  const server = http.createServer((req, res) => {
    const a = access!;
    if (!a.hostAllowed(req) || !a.hasToken(req)) {
      res.writeHead(403, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain' }).end('forbidden: open the URL Blockscope printed (it carries the access token)\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...SECURITY_HEADERS, Allow: 'GET, HEAD' }).end();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://x');
    const pageHeaders = {
      'Content-Security-Policy': contentSecurityPolicy(`ws://${req.headers.host}`),
      'Set-Cookie': a.cookie(),
    };
    void sendStatic(res, rendererDir, url.pathname, pageHeaders).catch((err) => {
      log(`ui: ${url.pathname}: ${(err as Error).message}`);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });

  // Oversized messages are refused by ws with close code 1009 before they are buffered.
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  const gates = new Map<WebSocket, RpcGate>();
  server.on('upgrade', (req: IncomingMessage, socket, head) => {
    // Node hands an upgraded socket over without its own 'error' listener: a page that resets
    // it before ws takes over (or while we refuse it) would otherwise end the process.
    const onSocketError = (err: Error) => {
      log(`ui: websocket upgrade: ${err.message}`);
      socket.destroy();
    };
    socket.on('error', onSocketError);
    const a = access!;
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== WS_PATH || !a.hostAllowed(req) || !a.originAllowed(req) || !a.hasToken(req)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      socket.off('error', onSocketError);
      wss.emit('connection', ws, req);
    });
  });

  wss.on('connection', (ws: WebSocket) => {
    gates.set(ws, serveIpcSocket(ws, handlers, log));
    ws.on('close', () => gates.delete(ws));
  });

  const unsubscribe = session.subscribe((event, payload) => {
    if (gates.size === 0) return;
    const text = JSON.stringify({ kind: 'event', event, payload } satisfies WsServerMessage);
    for (const gate of gates.values()) gate.notify(text, DROPPABLE.has(event));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, bindHost, () => {
      server.off('error', reject);
      // After listening, an 'error' (EMFILE on accept) is worth a line, not the process.
      server.on('error', (err) => log(`ui: ${err.message}`));
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  access = new Access(token, bindHost, port);
  const shownHost = bindHost === '0.0.0.0' ? '127.0.0.1' : uriHost(bindHost);
  const url = `http://${shownHost}:${port}/?token=${token}`;

  if (!existsSync(path.join(rendererDir, 'index.html'))) log(`ui: no renderer build in ${rendererDir}; run \`npm run build\``);
  // One image that fails to open must not keep the others (or the UI) from starting.
  const opening: [string, () => Promise<unknown>][] = [
    ...(options.demo ? [['demo image', () => session.openDemo()] as [string, () => Promise<unknown>]] : []),
    ...(options.open ?? []).map((t): [string, () => Promise<unknown>] => [t, () => session.open(t)]),
  ];
  for (const [what, open] of opening) {
    await open().catch((err: Error) => log(`ui: ${what}: ${err.message}`));
  }

  return {
    url,
    token,
    session,
    backlog() {
      let bytes = 0;
      let requests = 0;
      for (const [ws, gate] of gates) {
        bytes += ws.bufferedAmount;
        requests += gate.pendingCalls;
      }
      return { bytes, requests };
    },
    async close() {
      unsubscribe();
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (!options.session) await session.dispose();
    },
  };
}

/** out/renderer: beside the bundled CLI (out/cli) or, from the sources, at the repository root. */
function findRendererDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.join(here, '..', 'renderer'), path.join(here, '..', '..', '..', 'out', 'renderer')];
  return candidates.find((c) => existsSync(path.join(c, 'index.html'))) ?? candidates[candidates.length - 1]!;
}
