// The browser UI host: the renderer build over HTTP and the IPC contract over one WebSocket,
// on loopback by default, guarded by a random token in the printed URL. It is how the UI
// runs on a headless server and how the e2e tests drive the real renderer.
import { uriHost } from '../../../shared/nbd-uri.ts';
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSession } from '../../services/engine.ts';
import { createHandlers } from '../../services/handlers.ts';
import type { Session } from '../../services/session.ts';
import { Access, newToken } from './access.ts';
import { PageSockets } from './page-sockets.ts';
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

export async function startUiHost(options: UiHostOptions = {}): Promise<UiHost> {
  const log = options.log ?? ((line: string) => console.error(line));
  const rendererDir = options.rendererDir ?? findRendererDir();
  const session = options.session ?? createSession({ stateDir: options.stateDir });
  const handlers = createHandlers(session, { host: 'web', version: options.version ?? '0' });
  const bindHost = options.host ?? '127.0.0.1';
  const token = newToken();
  // The Host check needs the port, known only once the server listens; nothing is served before.
  let access: Access | null = null;
  const currentAccess = () => access!;

  const server = http.createServer(pageHandler(currentAccess, rendererDir, log));
  const sockets = new PageSockets(handlers, currentAccess, log);
  server.on('upgrade', sockets.upgrade);
  const unsubscribe = session.subscribe(sockets.broadcast);
  const port = await listen(server, options.port ?? 0, bindHost, log);
  access = new Access(token, bindHost, port);
  const shownHost = bindHost === '0.0.0.0' ? '127.0.0.1' : uriHost(bindHost);

  if (!existsSync(path.join(rendererDir, 'index.html'))) log(`ui: no renderer build in ${rendererDir}; run \`npm run build\``);
  await openAtStart(session, options, log);

  return {
    url: `http://${shownHost}:${port}/?token=${token}`,
    token,
    session,
    backlog: () => sockets.backlog(),
    async close() {
      unsubscribe();
      sockets.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (!options.session) await session.dispose();
    },
  };
}

/** The renderer's files, to holders of the token only, read-only. */
function pageHandler(access: () => Access, rendererDir: string, log: (line: string) => void): http.RequestListener {
  return (req, res) => {
    const a = access();
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
  };
}

/** Resolves with the bound port; a failure to bind rejects. */
async function listen(server: http.Server, port: number, host: string, log: (line: string) => void): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      // After listening, an 'error' (EMFILE on accept) is worth a line, not the process.
      server.on('error', (err) => log(`ui: ${err.message}`));
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** The demo and the images named on the command line, each on its own. */
async function openAtStart(session: Session, options: UiHostOptions, log: (line: string) => void): Promise<void> {
  // One image that fails to open must not keep the others (or the UI) from starting.
  const opening: [string, () => Promise<unknown>][] = [
    ...(options.demo ? [['demo image', () => session.openDemo()] as [string, () => Promise<unknown>]] : []),
    ...(options.open ?? []).map((t): [string, () => Promise<unknown>] => [t, () => session.open(t)]),
  ];
  for (const [what, open] of opening) {
    await open().catch((err: Error) => log(`ui: ${what}: ${err.message}`));
  }
}

/** out/renderer: beside the bundled CLI (out/cli) or, from the sources, at the repository root. */
function findRendererDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.join(here, '..', 'renderer'), path.join(here, '..', '..', '..', 'out', 'renderer')];
  return candidates.find((c) => existsSync(path.join(c, 'index.html'))) ?? candidates[candidates.length - 1]!;
}
