// One fuzz session's shared state: the socket, what the client has learnt from the server so
// far, and the violations found. A violation is anything the NBD spec (or our own documented
// behaviour where the spec leaves a choice) does not allow.
import type net from 'node:net';
import type tls from 'node:tls';
import type { FuzzExport } from './fuzz-server.ts';
import { upgradeClient } from './raw-client.mjs';
import { WireReader } from './wire.ts';

/** How long a well-behaved server may take to answer or to close. */
export const HANG_MS = 10_000;

/** What the client may rely on in the transmission phase. */
export interface Transmission {
  export: FuzzExport;
  flags: number;
  structured: boolean;
  /** Context id -> name, from the last SET_META_CONTEXT. */
  contexts: Map<number, string>;
  /** False when the last SET_META_CONTEXT named another export: BLOCK_STATUS is then the client's mistake. */
  contextsUsable: boolean;
}

export class Session {
  /** The plain socket's, then (after STARTTLS) the TLS socket's. */
  reader: WireReader;
  socket: net.Socket;
  readonly exports: FuzzExport[];
  readonly violations: string[] = [];
  private readonly pieces: number[] | null;
  private piece = 0;
  requests = 0;

  constructor(socket: net.Socket, exports: FuzzExport[], pieces: number[] | null) {
    this.socket = socket;
    this.reader = new WireReader(socket);
    this.exports = exports;
    this.pieces = pieces;
  }

  /** STARTTLS was acknowledged: the session goes on over TLS on the same socket. */
  async startTls(options: tls.ConnectionOptions): Promise<void> {
    if (this.reader.buffered > 0) this.violate(`${this.reader.buffered} bytes after STARTTLS's ACK, before the TLS handshake`);
    this.socket = await upgradeClient(this.socket, options);
    this.reader = new WireReader(this.socket);
  }

  violate(what: string): void {
    this.violations.push(what);
  }

  findExport(name: string): FuzzExport | undefined {
    return this.exports.find((e) => e.name === name);
  }

  /** Send `b`, split into the plan's piece sizes one event-loop turn apart if it has them. */
  async send(b: Buffer): Promise<void> {
    if (this.socket.destroyed || b.length === 0) return;
    if (!this.pieces) {
      this.socket.write(b);
      return;
    }
    for (let at = 0; at < b.length && !this.socket.destroyed;) {
      const n = this.pieces[this.piece++ % this.pieces.length]!;
      this.socket.write(b.subarray(at, at + n));
      at += n;
      // Big payloads would take thousands of turns: only their first pieces go one by one.
      if (at < 4096) await new Promise((r) => setImmediate(r));
      else {
        this.socket.write(b.subarray(at));
        break;
      }
    }
  }

  /** After the client's last word: the server must close, having sent nothing more. */
  async expectClose(why: string): Promise<void> {
    await this.reader.closedByServer(HANG_MS);
    if (this.reader.buffered > 0) this.violate(`${why}: ${this.reader.buffered} unexpected bytes before the server closed`);
  }
}

/** Strict UTF-8 (the spec's strings MUST be valid UTF-8). */
export function isUtf8(b: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
}
