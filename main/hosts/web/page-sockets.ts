// The pages' WebSockets as one set: which upgrades are let in, one RpcGate per page, and the
// session's events fanned out to every page. index.ts wires it to the HTTP server.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { WS_PATH, type IpcEventName, type WsServerMessage } from '../../../shared/ipc.ts';
import type { Handlers } from '../../services/handlers.ts';
import type { Access } from './access.ts';
import { serveIpcSocket } from './ipc-socket.ts';
import type { RpcGate } from './rpc-gate.ts';

/** Events a slow browser can miss without harm; everything else is always delivered. */
const DROPPABLE: ReadonlySet<IpcEventName> = new Set(['stats.sample', 'server.log']);
/** Every call in the contract is small (a chain.set, the largest, is a few KiB): 1 MiB is ample. */
const MAX_MESSAGE_BYTES = 2 ** 20;

export class PageSockets {
  // Oversized messages are refused by ws with close code 1009 before they are buffered.
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  private readonly gates = new Map<WebSocket, RpcGate>();

  /** `access` is asked on each upgrade: it only exists once the server knows its port. */
  constructor(handlers: Handlers, private readonly access: () => Access, private readonly log: (line: string) => void) {
    this.wss.on('connection', (ws: WebSocket) => {
      this.gates.set(ws, serveIpcSocket(ws, handlers, log));
      ws.on('close', () => this.gates.delete(ws));
    });
  }

  /** The HTTP server's 'upgrade' listener. */
  readonly upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // Node hands an upgraded socket over without its own 'error' listener: a page that resets
    // it before ws takes over (or while we refuse it) would otherwise end the process.
    const onSocketError = (err: Error) => {
      this.log(`ui: websocket upgrade: ${err.message}`);
      socket.destroy();
    };
    socket.on('error', onSocketError);
    const a = this.access();
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== WS_PATH || !a.hostAllowed(req) || !a.originAllowed(req) || !a.hasToken(req)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      socket.off('error', onSocketError);
      this.wss.emit('connection', ws, req);
    });
  };

  /** A session listener: each event goes to every page, serialised once. */
  readonly broadcast = (event: IpcEventName, payload: unknown): void => {
    if (this.gates.size === 0) return;
    const text = JSON.stringify({ kind: 'event', event, payload } satisfies WsServerMessage);
    for (const gate of this.gates.values()) gate.notify(text, DROPPABLE.has(event));
  };

  /** Output not yet taken by the pages' sockets, and calls not yet answered. */
  backlog(): { bytes: number; requests: number } {
    let bytes = 0;
    let requests = 0;
    for (const [ws, gate] of this.gates) {
      bytes += ws.bufferedAmount;
      requests += gate.pendingCalls;
    }
    return { bytes, requests };
  }

  close(): void {
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
  }
}
