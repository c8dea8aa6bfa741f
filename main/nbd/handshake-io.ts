// The socket side of the handshake: buffers what the client sends until negotiate() asks
// for it, and applies backpressure both ways. A client may pipeline options and never read
// the replies; if we kept reading, every reply would pile up in the socket's write queue
// (100 MiB of options once cost 2.2 GB). So negotiate() waits for the replies to drain
// before it reads the next option, and the socket stops delivering once a little more than
// one option's worth is buffered. After STARTTLS the same holds for the TLS socket, which
// takes the place of the accepted one for the rest of the connection.
import type { Socket } from 'node:net';
import type { HandshakeIO } from './handshake.ts';
import { ProtocolError } from './request-parser.ts';
import type { TlsCredentials } from './tls-credentials.ts';
import { offloadTls } from './tls-offload.ts';
import { upgradeToTls, type TlsPeer } from './tls-upgrade.ts';

/** Bytes buffered beyond what negotiate() waits for before we stop reading the socket. */
const READ_AHEAD = 64 * 1024;

/**
 * Received bytes in one contiguous buffer that doubles when full, so each byte is copied in
 * once and out once however small the pieces it arrives in. (A list of chunks costs an object
 * per piece and, past some thousands of pieces, a quadratic Array.shift.)
 */
class Accumulator {
  private buf = Buffer.alloc(0);
  private start = 0;
  private end = 0;

  get length(): number {
    return this.end - this.start;
  }

  append(chunk: Buffer): void {
    if (this.end + chunk.length > this.buf.length) {
      const live = this.length;
      const need = live + chunk.length;
      if (need * 2 > this.buf.length) {
        const bigger = Buffer.allocUnsafe(Math.max(need * 2, 4096));
        this.buf.copy(bigger, 0, this.start, this.end);
        this.buf = bigger;
      } else {
        this.buf.copyWithin(0, this.start, this.end);
      }
      this.start = 0;
      this.end = live;
    }
    chunk.copy(this.buf, this.end);
    this.end += chunk.length;
  }

  /** The next `n` bytes (n <= length), consumed, in memory of their own. */
  take(n: number): Buffer {
    const out = Buffer.from(this.buf.subarray(this.start, this.start + n));
    this.start += n;
    if (this.start === this.end) this.start = this.end = 0;
    return out;
  }
}

interface Waiter<T> {
  resolve: (v: T) => void;
  reject: (e: Error) => void;
}

export interface HandshakeTls {
  credentials: TlsCredentials;
  /** The TLS socket (or a worker's plaintext stream) now carries the connection: its data must come to receive(). */
  upgraded: (socket: Socket) => void;
}

export class SocketHandshakeIO implements HandshakeIO {
  private socket: Socket;
  private readonly queue = new Accumulator();
  private reader: (Waiter<Buffer> & { n: number }) | null = null;
  private drainWaiters: Waiter<void>[] = [];
  private failure: Error | null = null;
  private readonly onDrain = () => {
    for (const w of this.drainWaiters.splice(0)) w.resolve();
  };
  readonly log: (line: string) => void;
  /** Set once STARTTLS succeeded: who the client is, as far as TLS knows. */
  peer: TlsPeer | null = null;

  constructor(socket: Socket, log: (line: string) => void, tls?: HandshakeTls) {
    this.socket = socket;
    this.log = log;
    socket.on('drain', this.onDrain);
    if (tls) this.startTls = () => this.upgrade(tls);
  }

  /** Present only when the server has TLS credentials. */
  startTls?: () => Promise<void>;

  private async upgrade(tls: HandshakeTls): Promise<void> {
    // The client waits for the ACK before it starts TLS: anything already here is not TLS.
    if (this.queue.length > 0) throw new ProtocolError('client sent data after STARTTLS before the TLS handshake');
    const plain = this.socket;
    plain.off('drain', this.onDrain);
    // On a worker thread where this machine allows it (tls-offload.ts), else right here.
    const { socket, peer, retire } = (await offloadTls(plain, tls.credentials)) ?? (await upgradeToTls(plain, tls.credentials));
    this.socket = socket;
    this.peer = peer;
    socket.on('drain', this.onDrain);
    tls.upgraded(socket);
    retire?.();
  }

  /**
   * Bytes from the client, copied at once: a chunk may live in a read buffer the socket
   * reuses. (Copying everything still buffered on every chunk instead made a 1 MiB option
   * sent 32 bytes at a time cost 19 s of CPU.)
   */
  receive(chunk: Buffer): void {
    this.queue.append(chunk);
    const r = this.reader;
    if (r && this.queue.length >= r.n) {
      this.reader = null;
      r.resolve(this.queue.take(r.n));
    }
    if (!this.reader && this.queue.length >= READ_AHEAD && !this.socket.isPaused()) this.socket.pause();
  }

  read(n: number): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.queue.length >= n) return Promise.resolve(this.queue.take(n));
    if (this.socket.isPaused()) this.socket.resume();
    return new Promise((resolve, reject) => {
      this.reader = { n, resolve, reject };
    });
  }

  write(b: Buffer): void {
    if (!this.failure && !this.socket.destroyed) this.socket.write(b);
  }

  drained(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (!this.socket.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve, reject) => this.drainWaiters.push({ resolve, reject }));
  }

  /** The socket closed: whatever negotiate() waits for will never come. */
  closed(): void {
    this.failure ??= new ProtocolError('client disconnected during the handshake');
    this.reader?.reject(this.failure);
    this.reader = null;
    for (const w of this.drainWaiters.splice(0)) w.reject(this.failure);
  }

  /** Bytes the client sent after the handshake's last option: the first requests. */
  leftover(): Buffer {
    return this.queue.take(this.queue.length);
  }
}
