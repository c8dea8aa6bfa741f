// One client connection: the handshake, then the transmission phase. Requests run
// concurrently and are answered as they finish (out of order); the parser stops taking new
// requests while too many are in flight, the socket's send buffer is full, or the
// connection holds too many reply bytes (see ReplyBudget), so a client cannot make the
// server buffer without bound, even one that never reads its replies.
import type { Socket } from 'node:net';
import type { ConnectionInfo } from '../../shared/ipc.ts';
import { errnoOf, messageOf } from '../backend/errors.ts';
import { BufferPool } from './buffer-pool.ts';
import { awaitReadableFor, IdlePoll } from './idle-poll.ts';
import { errnoName, socketFd } from '../native-io.ts';
import { EVENT_FIELDS, LOOP_END, connectionLoop, type ConnectionLoop, type LoopEnd } from './connection-loop.ts';
import { TlsRecordSocket } from './tls-records.ts';
import { nbdErrorCode } from './errors.ts';
import type { ExportLookup, ServedExport } from './export.ts';
import { negotiate, type Negotiated } from './handshake.ts';
import { SocketHandshakeIO } from './handshake-io.ts';
import type { TlsServerConfig } from './tls-credentials.ts';
import { CMD, CMD_FLAG, MAX_PAYLOAD, commandName } from './protocol.ts';
import { errorChunk, simpleReply } from './replies.ts';
import type { ReplyBudget } from './reply-budget.ts';
import { ReplyWriter, type Ticket } from './reply-writer.ts';
import { requestOp, type RequestEvent } from './request-event.ts';
import { ProtocolError, RequestParser, decodeRequestHeader, type NbdRequest } from './request-parser.ts';
import { REQUEST_HEADER_LENGTH } from './request-header.ts';
import { runRequest, type RequestContext } from './run-request.ts';

/** Requests handled at once per connection before we stop reading more. */
const MAX_IN_FLIGHT = 32;
/** Reply buffers kept for reuse per connection. */
const POOL_BYTES = 16 * 1024 * 1024;
/** How long a closing connection may take to hand its last replies to the kernel. */
const CLOSE_GRACE_MS = 2000;
/** Most requests of kinds the loop takes (ConnectionLoop.takes) served here between two tries of a loop that served none. */
const LOOP_BACKOFF_MOST = 1024;

export type { RequestEvent };

export type { ConnectionInfo };

export interface ConnectionHost extends ExportLookup {
  /** STARTTLS policy and credentials (absent: TLS off). */
  tls?: TlsServerConfig;
  log(line: string): void;
  verbose: boolean;
  /** Present only while someone listens for request events. */
  onRequest: ((ev: RequestEvent) => void) | null;
  connected(conn: Connection): void;
  closed(conn: Connection): void;
  /** Shared by every connection of the server. */
  replyBudget: ReplyBudget;
  /** Sockets open on the server, this one included (unknown: no idle polling). */
  readonly openConnections?: number;
}

export class Connection {
  readonly id: number;
  readonly remote: string;
  readonly since = Date.now();
  /** The accepted socket, or the TLS socket that replaces it after STARTTLS. */
  private socket: Socket;
  private readonly host: ConnectionHost;
  private readonly handshake: SocketHandshakeIO;
  private parser: RequestParser | null = null;
  private session: Negotiated | null = null;
  private inFlight = 0;
  private out: ReplyWriter;
  /** A request parsed but not started because the connection or server held too much. */
  private waitingRequest: NbdRequest | null = null;
  private readonly wake = () => this.pump();
  /** The socket reads through readTarget()/receivedDirect() (a lent read buffer, no TLS). */
  private directReads: boolean;
  private readonly idlePoll: IdlePoll | null;
  private disconnecting = false;
  /** Destroys the socket once the close has taken CLOSE_GRACE_MS (destroyLater). */
  private closeBy: NodeJS.Timeout | null = null;
  private closed = false;
  /** The way into the connection loop (connection-loop.ts); null where it cannot serve this connection. */
  private loop: ConnectionLoop | null = null;
  /** Stops the running loop; null while the socket is ours. */
  private loopStop: (() => void) | null = null;
  /** Requests served by the running loop so far. */
  private loopServed = 0;
  /**
   * Requests of kinds the loop takes to serve here before the loop is tried: one at first (a
   * client that never sends one, nbdinfo --map say, never starts it), doubling while each try
   * serves none, and those served since the last try.
   */
  private loopBackoff = 1;
  private servedHere = 0;
  /** Waiting for the replies to leave before the loop takes the socket. */
  private loopWaitsForReplies = false;
  private idleWaiters: (() => void)[] = [];
  private readonly pool = new BufferPool(POOL_BYTES);
  readonly stats = { requests: 0, bytesRead: 0, bytesWritten: 0 };
  private readonly running: RequestContext = {
    pool: this.pool,
    stats: this.stats,
    send: (bytes, pooled, ticket) => this.write(bytes, pooled, ticket),
  };

  /**
   * `lendsReadBuffer`: the socket delivers data through `receive` in one buffer it reuses for
   * every read (net's onread), instead of a new buffer per read as 'data' events do.
   */
  constructor(id: number, socket: Socket, host: ConnectionHost, lendsReadBuffer = false) {
    this.id = id;
    this.socket = socket;
    this.host = host;
    this.remote = socket.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort}` : 'unix socket';
    if (socket.remoteAddress) socket.setNoDelay(true);
    const credentials = host.tls?.credentials;
    this.directReads = lendsReadBuffer;
    const awaitReadable = awaitReadableFor();
    this.idlePoll = awaitReadable && new IdlePoll(awaitReadable);
    const upgraded = (secure: Socket) => {
      this.directReads = false;
      this.socket = secure;
      this.out = this.useSocket(secure, false);
    };
    this.handshake = new SocketHandshakeIO(socket, (line) => this.host.log(`connection ${this.id} (${this.remote}): ${line}`), credentials && { credentials, upgraded });
    this.out = this.useSocket(socket, lendsReadBuffer);
    void this.start();
  }

  /** Read from and reply through `socket`: the accepted one, then the TLS one after STARTTLS. */
  private useSocket(socket: Socket, lendsReadBuffer: boolean): ReplyWriter {
    if (!lendsReadBuffer) socket.on('data', (chunk: Buffer) => this.receive(chunk, false));
    const out = new ReplyWriter(socket, this.host.replyBudget, this.pool, () => {
      if (this.waitingRequest) queueMicrotask(this.wake);
    });
    socket.on('drain', () => {
      out.blocked = false;
      this.pump();
    });
    socket.on('error', (err) => this.host.log(`connection ${this.id} (${this.remote}): ${err.message}`));
    // Our TLS record layer's socket stays half open at the client's end (tls-records.ts).
    if (socket instanceof TlsRecordSocket) socket.on('end', () => this.hangUp());
    // A socket replaced after STARTTLS closes while the session goes on over its successor.
    socket.on('close', () => {
      if (socket === this.socket) void this.teardown();
    });
    return out;
  }

  get info(): ConnectionInfo {
    return {
      id: this.id,
      remote: this.remote,
      exportName: this.session?.export.name ?? '',
      chainLabel: this.session?.export.chainLabel ?? '',
      since: this.since,
      ...this.stats,
      ...(this.handshake.peer ? { tls: { ...this.handshake.peer } } : {}),
    };
  }

  get export(): ServedExport | null {
    return this.session?.export ?? null;
  }

  /** Close the socket now (server shutdown). */
  destroy(): void {
    this.loopStop?.();
    this.socket.destroy();
  }

  private async start(): Promise<void> {
    try {
      const session = await negotiate(this.handshake, this.host, this.host.tls?.mode);
      if (!session) {
        this.finish();
        return;
      }
      if (this.closed) {
        await session.open.close();
        return;
      }
      this.session = session;
      // On the accepted socket, or over TLS on our record layer's (tls-records.ts); not when
      // every request is to be logged.
      this.loop = (this.directReads || this.socket instanceof TlsRecordSocket) && !this.host.verbose ? connectionLoop(this.socket, session) : null;
      this.parser = new RequestParser(MAX_PAYLOAD, (size) => this.pool.acquirePayload(size));
      this.parser.push(this.handshake.leftover());
      this.host.connected(this);
      this.pump();
    } catch (err) {
      this.protocolFailure(err);
    }
  }

  /** Bytes from the client; `borrowed` chunks are only valid until this call returns. */
  receive(chunk: Buffer, borrowed: boolean): void {
    this.idlePoll?.arrived();
    if (this.parser) {
      this.parser.push(chunk);
      this.pump();
      if (borrowed) this.parser.ownBuffered();
      return;
    }
    this.handshake.receive(chunk);
  }

  /**
   * Where the socket's next read lands, given its shared read buffer: the parser names a
   * WRITE payload to read straight into, or how much of the shared buffer to fill.
   */
  readTarget(shared: Buffer): Buffer {
    return this.directReads && this.parser ? this.parser.readTarget(shared) : shared;
  }

  /** `n` bytes were read into the buffer readTarget() returned. */
  receivedDirect(n: number): void {
    this.idlePoll?.arrived();
    this.parser!.filledDirect(n);
    this.pump();
  }

  private protocolFailure(err: unknown): void {
    if (!this.closed) {
      const why = err instanceof ProtocolError ? 'protocol error' : 'error';
      this.host.log(`connection ${this.id} (${this.remote}): ${why}: ${messageOf(err)}; closing this connection`);
    }
    // Nothing after the error can be trusted, so nothing more is read; but what was written
    // before it answers options or requests the client was entitled to send, and it leaves
    // first. Over TLS it may still be in the TLS layer: destroying the socket at once dropped
    // the replies to options pipelined before a refused EXPORT_NAME (the protocol fuzzer).
    this.socket.pause();
    this.destroyLater();
    this.hangUp();
  }

  private write(b: Buffer, pooled = false, ticket?: Ticket): void {
    this.out.write(b, this.inFlight > 1, pooled, ticket);
  }

  /** Parse and start requests while the in-flight, send-buffer and reply-byte limits allow. */
  private pump(): void {
    const parser = this.parser;
    if (!parser || this.closed) return;
    try {
      while (!this.disconnecting && !this.out.blocked && this.inFlight < MAX_IN_FLIGHT) {
        const req = this.waitingRequest ?? parser.next();
        if (!req) break;
        // DISC comes last: every request before it has started, and it sends no reply.
        if (req.type === CMD.DISC) {
          this.hangUp();
          break;
        }
        if (!this.out.admits()) {
          this.waitingRequest = req;
          this.host.replyBudget.wait(this.wake);
          break;
        }
        this.waitingRequest = null;
        const ticket = this.out.reserve(req);
        this.inFlight++;
        void this.handle(req, ticket).finally(() => {
          this.inFlight--;
          if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
          this.pump();
          if (this.inFlight === 0) this.pollForNext();
        });
      }
    } catch (err) {
      this.protocolFailure(err);
      return;
    }
    if (this.loop && this.handToLoop(parser)) return;
    // Stop the socket delivering more while we are saturated; 'drain' or a finished
    // request calls pump() again.
    const saturated = this.out.blocked || this.waitingRequest !== null || this.inFlight >= MAX_IN_FLIGHT || parser.buffered > 2 * MAX_PAYLOAD;
    if (saturated && !this.socket.isPaused()) this.socket.pause();
    else if (!saturated && this.socket.isPaused() && !this.disconnecting) this.socket.resume();
  }

  /**
   * Whether the connection loop has the socket, or will once the requests running here have
   * replied: it takes over when nothing received is left to run here, so no request and no
   * reply of the two paths overlap on the socket. Until then nothing more is read.
   */
  private handToLoop(parser: RequestParser): boolean {
    if (this.loopStop) return true;
    if (this.closed || this.disconnecting || this.waitingRequest || !parser.empty || this.servedHere < this.loopBackoff) return false;
    // A socket the client has closed may be gone already (and its descriptor's number reused).
    if (this.socket.destroyed) return false;
    if (!this.socket.isPaused()) this.socket.pause();
    if (this.inFlight > 0 || this.loopWaitsForReplies) return true;
    if (!this.out.allSent()) {
      this.loopWaitsForReplies = true;
      this.out.whenAllSent(() => {
        this.loopWaitsForReplies = false;
        this.pump();
      });
      return true;
    }
    this.loopServed = 0;
    this.loopStop = this.loop!.start((events, end) => this.fromLoop(events, end));
    // Counted as a request: the chain (and its file) stays open until the loop lets go.
    this.inFlight++;
    return true;
  }

  /** What the loop served, and at the end how it ended. */
  private fromLoop(events: Float64Array, end: LoopEnd | null): void {
    if (events.length > 0) this.servedByLoop(events);
    if (!end) return;
    this.loopStop = null;
    this.inFlight--;
    if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
    switch (end.reason) {
      case LOOP_END.HANDED_BACK:
        this.loopBackoff = this.loopServed > 0 ? 1 : Math.min(LOOP_BACKOFF_MOST, this.loopBackoff * 2);
        this.servedHere = 0;
        // The request runs here (a WRITE reads its payload on); the loop takes over after it.
        this.parser!.push(end.leftover);
        this.pump();
        return;
      case LOOP_END.REQUEST_FAILED:
        this.loopRequestFailed(end);
        this.pump();
        return;
      default:
        // The connection ends: the client went, the socket failed, or the server stopped.
        this.loop = null;
        if (end.reason === LOOP_END.FAILED) {
          this.host.log(`connection ${this.id} (${this.remote}): ${end.message ?? errnoName(-end.error)} in the connection loop; closing this connection`);
          this.socket.destroy();
        } else if (!this.closed) {
          // libuv must read the end of file itself to close the socket the ordinary way.
          this.socket.resume();
        }
    }
  }

  private servedByLoop(events: Float64Array): void {
    const onRequest = this.host.onRequest;
    const exportName = this.session!.export.name;
    for (let i = 0; i < events.length; i += EVENT_FIELDS) {
      const type = events[i]!;
      const length = events[i + 2]!;
      this.stats.requests++;
      if (type === CMD.READ) this.stats.bytesRead += length;
      else if (type === CMD.WRITE) this.stats.bytesWritten += length;
      onRequest?.({ connection: this.id, exportName, op: requestOp(type), offset: events[i + 1]!, length, latencyMs: events[i + 3]! });
    }
    this.loopServed += events.length / EVENT_FIELDS;
  }

  /** The file refused a request the loop took: answered and logged here, as any failure. */
  private loopRequestFailed(end: LoopEnd): void {
    const h = end.leftover;
    // What the loop had received after the request is the parser's.
    this.parser!.push(h.subarray(REQUEST_HEADER_LENGTH));
    const req = decodeRequestHeader(h);
    const errno = errnoName(-end.error);
    const op = req.type === CMD.READ ? 'pread' : req.type === CMD.FLUSH ? 'fdatasync' : req.flags & CMD_FLAG.FUA ? 'pwrite and fdatasync' : 'pwrite';
    this.stats.requests++;
    // A system error's shape (errnoOf reads its code), as the JavaScript path's fs calls throw.
    const error = this.failed(req, Object.assign(new Error(`${op}: ${errno}`), { code: errno }));
    this.finished(req, performance.now(), error);
  }

  /**
   * Everything answered, every reply handed to the kernel and nothing received: with no other
   * client to serve, poll the socket a moment before the event loop sleeps (idle-poll.ts). Not
   * over TLS: bytes on the fd there are records for the TLS layer, which may also hold
   * decrypted bytes of its own, so a quiet fd would not mean an idle connection.
   */
  private pollForNext(): void {
    const poll = this.idlePoll;
    if (!poll || this.closed || this.disconnecting || this.waitingRequest || this.parser?.buffered !== 0) return;
    if (this.host.openConnections !== 1 || !this.out.allSent() || (this.socket as { encrypted?: boolean }).encrypted) return;
    const fd = socketFd(this.socket);
    if (fd >= 0) poll.idle(fd);
  }

  /**
   * Close once the last replies have left. Not a bare end(): a socket we paused never reads
   * the client's FIN, and after end() Node emits no 'drain' to unpause it, so the connection
   * (and its open chain) would stay forever.
   */
  private finish(): void {
    this.destroyLater();
    this.socket.end(() => this.socket.destroy());
  }

  /**
   * Close for certain CLOSE_GRACE_MS from now: a client that stops reading would keep the last
   * replies from leaving, and a request that never ends would keep a client that broke the
   * protocol connected.
   */
  private destroyLater(): void {
    if (this.closeBy) return; // a protocol error set it already; finish() comes after
    const socket = this.socket;
    const late = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
    this.closeBy = late;
    socket.once('close', () => clearTimeout(late));
  }

  /** Start no more requests; close once those running have replied. */
  private hangUp(): void {
    if (this.disconnecting) return;
    this.disconnecting = true;
    void this.whenIdle().then(() => this.out.whenEmpty()).then(() => this.finish());
  }

  private whenIdle(): Promise<void> {
    return this.inFlight === 0 ? Promise.resolve() : new Promise((r) => this.idleWaiters.push(r));
  }

  private async handle(req: NbdRequest, ticket: Ticket): Promise<void> {
    const session = this.session!;
    const started = performance.now();
    let error: string | undefined;
    this.stats.requests++;
    if (this.loop?.takes(req)) this.servedHere++;
    try {
      await runRequest(req, session, ticket, this.running);
    } catch (err) {
      error = this.failed(req, err);
    }
    // What the request reserved and no reply took over: a WRITE's payload, a failed READ's buffer.
    this.out.cancel(ticket);
    this.finished(req, started, error);
  }

  /** Answers `req` with the error `err` and logs it; returns its errno. */
  private failed(req: NbdRequest, err: unknown): string {
    const session = this.session!;
    if (req.payload) this.pool.release(req.payload);
    req.payload = null;
    const errno = errnoOf(err);
    const message = messageOf(err);
    this.host.log(`connection ${this.id}: ${commandName(req.type)} ${req.offset}+${req.length}: ${errno}: ${message}`);
    this.replyError(req, session, nbdErrorCode(errno, req), message);
    // A layer that answers ESHUTDOWN wants this client gone (blocksize-write-disconnect,
    // nbdkit_disconnect): take no more requests, and close once the replies have left.
    if (errno === 'ESHUTDOWN') this.hangUp();
    return errno;
  }

  /** The request's line in a verbose log, and its event for whoever listens. */
  private finished(req: NbdRequest, started: number, error: string | undefined): void {
    if (this.host.verbose) {
      this.host.log(`connection ${this.id}: ${commandName(req.type)} flags=0x${req.flags.toString(16)} offset=${req.offset} length=${req.length}${error ? ` -> ${error}` : ''}`);
    }
    const onRequest = this.host.onRequest;
    if (onRequest) {
      onRequest({
        connection: this.id, exportName: this.session!.export.name, op: requestOp(req.type),
        offset: req.offset, length: req.length, latencyMs: performance.now() - started, error,
      });
    }
  }

  private replyError(req: NbdRequest, session: Negotiated, code: number, message: string): void {
    this.write(session.structuredReplies ? errorChunk(req.cookie, code, message) : simpleReply(req.cookie, code));
  }

  private async teardown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.handshake.closed();
    this.host.replyBudget.cancel(this.wake);
    this.out.close();
    this.waitingRequest = null;
    await this.whenIdle();
    if (this.session) {
      try {
        await this.session.open.close();
      } catch (err) {
        this.host.log(`connection ${this.id}: closing the chain failed: ${messageOf(err)}`);
      }
    }
    this.host.closed(this);
  }
}
