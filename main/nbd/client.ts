// A small NBD client: fixed newstyle with GO, structured replies and base:allocation. It is
// what `blockscope map/info URI` and the nbd plugin use; requests may be issued
// concurrently and replies are matched by cookie. The handshake is client-handshake.ts, the
// reply reader client-replies.ts; this is the connection and its requests.
import { encodeRequest } from './request-header.ts';
import net from 'node:net';
import { TLSSocket } from 'node:tls';
import { EXTENT_DATA, type Extent } from '../../shared/extents.ts';
import type { ExtentDescriptors } from '../backend/extent-descriptors.ts';
import { clientHandshake, HandshakeReader, type ExportInfo, type NegotiatedExport } from './client-handshake.ts';
import { ReplyProtocolError, ReplyReader, type Pending } from './client-replies.ts';
import { startClientTls } from './client-tls.ts';
import { CMD, CMD_FLAG, CONTEXT_BASE_ALLOCATION, TFLAG } from './protocol.ts';
import { lendReadBuffer } from './read-buffer.ts';
import { parseNbdUri, type NbdAddress } from './uri.ts';

export type { ExportInfo };

export class NbdClient {
  readonly info: ExportInfo;
  private readonly socket: net.Socket;
  private readonly pending = new Map<bigint, Pending>();
  private readonly replies: ReplyReader;
  private nextCookie = 1n;
  private failed: Error | null = null;
  /** The socket is corked until the next tick (corkUntilNextTick). */
  private corked = false;

  private constructor(socket: net.Socket, handshake: HandshakeReader, negotiated: NegotiatedExport) {
    this.info = negotiated.info;
    const queue = handshake.detach();
    const replies = new ReplyReader(queue, this.pending, negotiated.contextIds);
    this.replies = replies;
    // Replies read into one reused buffer, large payloads straight into place (read-buffer.ts);
    // a TLS socket's bytes are records, so it goes on as it is.
    const lent = socket instanceof TLSSocket ? null : lendReadBuffer(socket, {
      target: (shared) => replies.readTarget(shared),
      received: (chunk) => {
        queue.push(chunk);
        this.drainReplies();
        // What is left is a view of the shared buffer, which the next read overwrites.
        queue.own();
      },
      receivedDirect: (n) => {
        replies.filledDirect(n);
        this.drainReplies();
      },
    });
    this.socket = lent ?? socket;
    if (!lent) {
      socket.on('data', (c: Buffer) => {
        queue.push(c);
        this.drainReplies();
      });
    }
    this.socket.on('error', (err) => this.fail(err));
    this.socket.on('close', () => this.fail(new Error('the NBD server closed the connection')));
    this.drainReplies();
  }

  static async connect(uri: string | NbdAddress, options: { contexts?: string[] } = {}): Promise<NbdClient> {
    const addr = typeof uri === 'string' ? parseNbdUri(uri) : uri;
    const plain = 'path' in addr ? net.connect(addr.path) : net.connect(addr.port, addr.host);
    plain.setNoDelay(true);
    // After STARTTLS the TLS socket carries the connection; the plain one is its transport.
    let socket: net.Socket = plain;
    const handshake = new HandshakeReader(plain);
    const tls = addr.tls;
    const startTls = tls && (async () => {
      handshake.detach();
      socket = await startClientTls(plain, tls);
      handshake.switchTo(socket);
      // Under TLS 1.3 a server checks the client certificate after our handshake has completed.
      if (tls.kind === 'x509') handshake.closeHint = ' after TLS: it may want a client certificate (client-cert.pem and client-key.pem in the tls-certificates folder, signed by its CA)';
    });
    try {
      const negotiated = await clientHandshake(handshake, addr.exportName, options.contexts ?? [CONTEXT_BASE_ALLOCATION], startTls);
      return new NbdClient(socket, handshake, negotiated);
    } catch (err) {
      socket.destroy();
      plain.destroy();
      throw err;
    }
  }

  get size(): number {
    return this.info.size;
  }

  get readonly(): boolean {
    return (this.info.flags & TFLAG.READ_ONLY) !== 0;
  }

  private request(type: number, flags: number, offset: number, length: number, pending: Omit<Pending, 'resolve' | 'reject' | 'type' | 'offset'>, payload?: Buffer): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    const cookie = this.nextCookie++;
    const h = encodeRequest({ type, flags, cookie, offset, length });
    return new Promise((resolve, reject) => {
      // The caller's own object (a fresh literal) becomes the entry, so what the replies put in it is what the caller reads.
      this.pending.set(cookie, Object.assign(pending, { type, offset, resolve, reject }));
      this.corkUntilNextTick();
      this.socket.write(h);
      if (payload) this.socket.write(payload);
    });
  }

  /**
   * Requests issued in one turn of the event loop (reads in parallel, scan slices asked
   * together) leave in one write: one system call and one wake-up of the server rather than
   * one each, which on a busy machine costs more than the call. A payload never leaves apart
   * from its header.
   */
  private corkUntilNextTick(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
    process.nextTick(() => {
      this.corked = false;
      this.socket.uncork();
    });
  }

  async pread(buf: Buffer, offset: number): Promise<void> {
    await this.request(CMD.READ, 0, offset, buf.length, { buf });
  }

  async pwrite(buf: Buffer, offset: number, fua = false): Promise<void> {
    await this.request(CMD.WRITE, fua ? CMD_FLAG.FUA : 0, offset, buf.length, {}, buf);
  }

  async flush(): Promise<void> {
    await this.request(CMD.FLUSH, 0, 0, 0, {});
  }

  async trim(count: number, offset: number): Promise<void> {
    await this.request(CMD.TRIM, 0, offset, count, {});
  }

  async zero(count: number, offset: number, noHole = false): Promise<void> {
    await this.request(CMD.WRITE_ZEROES, noHole ? CMD_FLAG.NO_HOLE : 0, offset, count, {});
  }

  /**
   * Extents of `context` from `offset` (for base:allocation, all data if the server has no
   * block status); `flags` carries the context's value (the depth for qemu:allocation-depth).
   */
  async blockStatus(count: number, offset: number, reqOne = false, context = CONTEXT_BASE_ALLOCATION): Promise<Extent[]> {
    if (!this.info.contexts.includes(context)) {
      if (context === CONTEXT_BASE_ALLOCATION) return [{ offset, length: count, flags: EXTENT_DATA }];
      throw new Error(`the server does not offer the meta context ${context}`);
    }
    const p = { extents: [] as Extent[], context };
    await this.request(CMD.BLOCK_STATUS, reqOne ? CMD_FLAG.REQ_ONE : 0, offset, count, p);
    return p.extents;
  }

  /**
   * base:allocation for [offset, offset+count) as the server's descriptors, unconverted (see
   * extent-descriptors.ts); null when the server has no block status.
   */
  async blockStatusDescriptors(count: number, offset: number): Promise<ExtentDescriptors | null> {
    if (!this.info.contexts.includes(CONTEXT_BASE_ALLOCATION)) return null;
    const p: { wire: true; context: string; descriptors?: Uint8Array } = { wire: true, context: CONTEXT_BASE_ALLOCATION };
    await this.request(CMD.BLOCK_STATUS, 0, offset, count, p);
    return { offset, bytes: p.descriptors ?? new Uint8Array(0) };
  }

  async close(): Promise<void> {
    if (this.failed) return;
    const h = encodeRequest({ type: CMD.DISC, cookie: 0 });
    await new Promise<void>((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.end(h);
    });
  }

  private drainReplies(): void {
    try {
      this.replies.drain();
    } catch (err) {
      if (!(err instanceof ReplyProtocolError)) throw err;
      this.protocolError(err.message);
    }
  }

  /** Every request in flight fails with `err`, and so does every later one. */
  private fail(err: Error): void {
    this.failed ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  private protocolError(message: string): void {
    this.fail(new Error(`NBD protocol error: ${message}`));
    this.socket.destroy();
  }
}
