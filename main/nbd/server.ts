// The NBD server: listens on TCP (127.0.0.1 by default) or a Unix socket, serves named
// exports (one chain each), and reports connections and requests as events so the app can
// show clients, stats and live map changes. A misbehaving client only ever loses its own
// connection.
import { uriHost } from '../../shared/nbd-uri.ts';
import { EventEmitter } from 'node:events';
import { unlink } from 'node:fs/promises';
import net from 'node:net';
import type { Chain } from '../backend/chain.ts';
import { admitPeer } from '../backend/peer.ts';
import { Connection, type ConnectionHost, type ConnectionInfo, type RequestEvent } from './connection.ts';
import type { ServedExport } from './export.ts';
import { lendReadBuffer } from './read-buffer.ts';
import { ReplyBudget } from './reply-budget.ts';
import type { TlsServerConfig } from './tls-credentials.ts';

export type { ConnectionInfo, RequestEvent };

export interface ExportDefinition {
  name: string;
  description?: string;
  chain: Chain;
  writable: boolean;
  chainLabel?: string;
}

export interface ServerOptions {
  log?: (line: string) => void;
  /** Log every request (the CLI's -v). */
  verbose?: boolean;
  /** Read client data into one reused buffer per connection (default true; see read-buffer.ts). */
  reuseReadBuffer?: boolean;
  /** Caps on the bytes requests may hold (see ReplyBudget); tests make them small to reach them. */
  replyBytes?: { perConnection: number; total: number };
  /** STARTTLS (nbdkit's --tls and its credentials); default off. */
  tls?: TlsServerConfig;
}

export type ListenTarget = { host: string; port: number } | { path: string };

export interface Listening {
  uri: string;
  port?: number;
  path?: string;
}

export function exportUri(target: { host: string; port: number } | { path: string }, exportName: string): string {
  const name = encodeURIComponent(exportName).replace(/%2F/g, '/');
  if ('path' in target) return `nbd+unix:///${name}?socket=${target.path}`;
  const host = uriHost(target.host);
  return `nbd://${host}:${target.port}/${name}`;
}

/** What the server tells its listeners (the app's services, the CLI's -v log). */
export interface NbdServerEvents {
  log: [line: string];
  request: [event: RequestEvent];
  connect: [info: ConnectionInfo];
  disconnect: [info: ConnectionInfo];
}

export class NbdServer extends EventEmitter<NbdServerEvents> implements ConnectionHost {
  readonly verbose: boolean;
  readonly replyBudget: ReplyBudget;
  readonly tls: TlsServerConfig | undefined;
  private readonly logLine: (line: string) => void;
  private readonly exports = new Map<string, ServedExport>();
  private readonly live = new Set<Connection>();
  private readonly listeners_: net.Server[] = [];
  private nextId = 1;
  private readonly reuseReadBuffer: boolean;

  constructor(options: ServerOptions = {}) {
    super();
    this.reuseReadBuffer = options.reuseReadBuffer ?? true;
    this.replyBudget = new ReplyBudget(options.replyBytes?.perConnection, options.replyBytes?.total);
    this.verbose = options.verbose ?? false;
    this.tls = options.tls;
    this.logLine = options.log ?? ((line) => console.error(line));
  }

  log(line: string): void {
    this.logLine(line);
    if (this.listenerCount('log') > 0) this.emit('log', line);
  }

  get onRequest(): ((ev: RequestEvent) => void) | null {
    return this.listenerCount('request') > 0 ? (ev) => this.emit('request', ev) : null;
  }

  addExport(def: ExportDefinition): void {
    if (this.exports.has(def.name)) throw new Error(`an export named '${def.name}' already exists`);
    this.exports.set(def.name, { ...def, chainLabel: def.chainLabel ?? def.chain.layerNames.join(' -> ') });
  }

  /** New connections get the new settings; open connections keep the chain they opened. */
  updateExport(name: string, patch: Partial<Omit<ExportDefinition, 'name'>>): void {
    const exp = this.exports.get(name);
    if (!exp) throw new Error(`no export named '${name}'`);
    const next = { ...exp, ...patch };
    if (patch.chain) {
      if (!patch.chainLabel) next.chainLabel = patch.chain.layerNames.join(' -> ');
      delete next.metaContexts;
    }
    this.exports.set(name, next);
  }

  removeExport(name: string): void {
    this.exports.delete(name);
  }

  findExport(name: string): ServedExport | undefined {
    return this.exports.get(name);
  }

  listExports(): ServedExport[] {
    return [...this.exports.values()];
  }

  /** Sockets still open, including those that never finished the handshake. */
  get openConnections(): number {
    return this.live.size;
  }

  get connections(): ConnectionInfo[] {
    return [...this.live].filter((c) => c.export).map((c) => c.info);
  }

  connected(conn: Connection): void {
    const tls = conn.info.tls;
    const who = tls ? ` over TLS${tls.pskIdentity ? ` as '${tls.pskIdentity}'` : ''}${tls.certificateSubject ? ` (${tls.certificateSubject})` : ''}` : '';
    this.log(`connection ${conn.id} from ${conn.remote}${who}: export '${conn.export!.name}' (${conn.export!.chainLabel})`);
    this.emit('connect', conn.info);
  }

  closed(conn: Connection): void {
    this.live.delete(conn);
    if (conn.export) {
      this.log(`connection ${conn.id} from ${conn.remote} closed`);
      this.emit('disconnect', conn.info);
    }
  }

  async listen(target: ListenTarget): Promise<Listening> {
    const server = net.createServer({ pauseOnConnect: true }, (accepted) => {
      const start = () => {
        let conn: Connection | null = null;
        const lent = this.reuseReadBuffer ? lendReadBuffer(accepted, {
          target: (shared) => conn?.readTarget(shared) ?? shared,
          received: (chunk) => conn?.receive(chunk, true),
          receivedDirect: (n) => conn?.receivedDirect(n),
        }) : null;
        conn = new Connection(this.nextId++, lent ?? accepted, this, lent !== null);
        if (!lent) accepted.resume();
        this.live.add(conn);
      };
      // Filters' preconnect hooks (ip, limit) decide before the handshake starts.
      const admitted = admitPeer(accepted, [...this.exports.values()].map((e) => e.chain), (line) => this.log(line));
      if (admitted === true) start();
      else void admitted.then((ok) => (ok && this.listeners_.includes(server) ? start() : accepted.destroy()));
    });
    server.on('error', (err) => this.log(`server: ${err.message}`));
    if ('path' in target) await unlink(target.path).catch(() => {});
    await new Promise<void>((resolve, reject) => {
      const fail = (err: Error) => reject(new Error(`cannot listen on ${'path' in target ? target.path : `${target.host}:${target.port}`}: ${err.message}`));
      server.once('error', fail);
      const ready = () => {
        server.off('error', fail);
        resolve();
      };
      if ('path' in target) server.listen(target.path, ready);
      else server.listen(target.port, target.host, ready);
    });
    this.listeners_.push(server);
    const first = this.listExports()[0]?.name ?? '';
    if ('path' in target) return { uri: exportUri(target, first), path: target.path };
    const port = (server.address() as net.AddressInfo).port;
    return { uri: exportUri({ host: target.host, port }, first), port };
  }

  /** Drop connection `id` as close() drops each one; false when there is no such connection. */
  async disconnect(id: number): Promise<boolean> {
    const conn = [...this.live].find((c) => c.id === id);
    if (!conn) return false;
    await dropped(this.live, conn);
    return true;
  }

  /** Stop listening, drop every connection, and wait for their chains to close. */
  async close(): Promise<void> {
    const servers = this.listeners_.splice(0);
    const waits = servers.map((s) => new Promise<void>((r) => s.close(() => r())));
    const gone = [...this.live].map((c) => dropped(this.live, c));
    await Promise.all([...waits, ...gone]);
  }
}

/** Destroys `conn`'s socket and resolves once its teardown has taken it out of `live`. */
function dropped(live: ReadonlySet<Connection>, conn: Connection): Promise<void> {
  return new Promise<void>((r) => {
    const check = () => (live.has(conn) ? setTimeout(check, 5) : r());
    conn.destroy();
    check();
  });
}
