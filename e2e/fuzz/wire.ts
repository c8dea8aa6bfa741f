// The fuzzer's side of the wire: encoders for what a client sends, and a reader that hands
// out exactly n bytes, says when the server closed, and gives up after a deadline (a server
// that neither answers nor closes is a hang).
import { encodeRequest } from '../../main/nbd/request-header.ts';
import net from 'node:net';
import { IHAVEOPT, REQUEST_MAGIC } from '../../main/nbd/protocol.ts';

export function optionBytes(option: number, data: Buffer, lengthField = data.length): Buffer {
  const h = Buffer.allocUnsafe(16);
  h.writeBigUInt64BE(IHAVEOPT, 0);
  h.writeUInt32BE(option >>> 0, 8);
  h.writeUInt32BE(lengthField >>> 0, 12);
  return Buffer.concat([h, data]);
}

export function requestBytes(r: { flags: number; type: number; cookie: bigint; offset: bigint; length: number }, magic = REQUEST_MAGIC): Buffer {
  return encodeRequest(r, magic);
}

/** u32 length + bytes. */
export function lengthPrefixed(s: string | Buffer): Buffer {
  const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  const h = Buffer.allocUnsafe(4);
  h.writeUInt32BE(b.length, 0);
  return Buffer.concat([h, b]);
}

export class Closed extends Error {}
export class Hang extends Error {}

export class WireReader {
  private chunks: Buffer[] = [];
  private length = 0;
  private ended = false;
  private waiter: (() => void) | null = null;
  readonly socket: net.Socket;

  constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.chunks.push(d);
      this.length += d.length;
      this.waiter?.();
    });
    const end = () => {
      this.ended = true;
      this.waiter?.();
    };
    socket.on('end', end);
    socket.on('close', end);
    socket.on('error', end);
  }

  /** Bytes received and not yet read. */
  get buffered(): number {
    return this.length;
  }

  get closed(): boolean {
    return this.ended;
  }

  /** Exactly `n` bytes; Closed if the server hangs up first, Hang after `ms`. */
  async read(n: number, ms: number): Promise<Buffer> {
    await this.until(() => this.length >= n || this.ended, ms, `${n} bytes`);
    if (this.length < n) throw new Closed(`server closed with ${this.length} of ${n} bytes`);
    // Join only the chunks this read spans: replies are read a header at a time.
    let k = 0;
    for (let got = 0; got < n; k++) got += this.chunks[k]!.length;
    const joined = k === 1 ? this.chunks[0]! : Buffer.concat(this.chunks.slice(0, k));
    const rest = joined.subarray(n);
    this.chunks.splice(0, k, ...(rest.length ? [rest] : []));
    this.length -= n;
    return joined.subarray(0, n);
  }

  /** Resolves when the server has closed the connection (after any bytes it still sent). */
  async closedByServer(ms: number): Promise<void> {
    await this.until(() => this.ended, ms, 'the server to close');
  }

  private until(done: () => boolean, ms: number, what: string): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new Hang(`waited ${ms} ms for ${what}`));
      }, ms);
      this.waiter = () => {
        if (!done()) return;
        clearTimeout(timer);
        this.waiter = null;
        resolve();
      };
    });
  }
}

export function connectTo(target: { port: number } | { path: string }): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = 'path' in target ? net.connect(target.path) : net.connect(target.port, '127.0.0.1');
    sock.once('connect', () => {
      // Nagle would hold a client's second small write for the server's delayed ACK (40 ms).
      if (!('path' in target)) sock.setNoDelay(true);
      resolve(sock);
    });
    sock.once('error', reject);
  });
}
