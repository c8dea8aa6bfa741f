// Sends one connection's replies and keeps count of the bytes its requests hold: a READ
// reserves its reply's size when it starts (its buffer is about to be filled), a WRITE holds
// its payload until the disk has it, and every reply holds its bytes until the socket has
// taken them. The connection asks `admits()` before it starts
// another request, so a client that never reads its replies stops being served instead of
// making the server buffer for it (see ReplyBudget). A READ whose payload lies in a file may
// go out by sendfile (fast-read.ts); until the socket has taken all of such a reply, the
// replies after it wait here in order, so no reply ever lands inside another.
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { BufferPool } from './buffer-pool.ts';
import { nativeIo } from '../native-io.ts';
import { kernelSendFor, type FileReply, type KernelSend } from './fast-read.ts';
import { CMD, MAX_PAYLOAD } from './protocol.ts';
import { OFFSET_DATA_HEADER_LENGTH } from './replies.ts';
import type { ReplyBudget } from './reply-budget.ts';
import type { NbdRequest } from './request-parser.ts';
import { directRepliesEnabled, onSocketFd } from './socket-send.ts';
import { TlsRecordSocket } from './tls-records.ts';

/** Queued reply bytes above which the connection stops reading new requests. */
const SEND_BUFFER_LIMIT = 8 * 1024 * 1024;

/** Reply bytes a request holds from the moment it starts until its reply is written. */
export interface Ticket {
  bytes: number;
  /** Set on a READ when its reply may come straight from a file (sendFile). */
  readonly fileReplies: ReplyWriter | null;
}

/** A reply waiting behind a file reply the socket has not taken yet. */
type Queued = { bytes: Buffer; pooled: boolean } | { file: FileReply; done: () => void };

/**
 * Replies up to this size may go to the socket directly (sendNow); larger ones are READ
 * payloads, which a full socket would leave half sent more often.
 */
const MAX_DIRECT_REPLY = 64 * 1024;

/** Written with a callback, it completes once every write before it has. */
const BARRIER = Buffer.alloc(0);

export class ReplyWriter {
  private readonly socket: Socket;
  private readonly budget: ReplyBudget;
  private readonly pool: BufferPool;
  private readonly released: () => void;
  private held = 0;
  private corked = false;
  /**
   * A TLS socket takes one reply at a time: handed several buffers at once (a cork, or the
   * writes Node's stream queues while one is being encrypted) it copies them into one before
   * encrypting, which cost a fifth of the server's CPU on sequential reads over TLS. Our
   * record layer's socket (tls-records.ts) too: corked until the next turn, its replies left
   * late enough to halve w1tls.
   */
  private readonly oneAtATime: boolean;
  private closed = false;
  private readonly kernelSend: KernelSend | null;
  /** Sends a small reply on the socket's fd at once (sendNow); null on TLS or without the addon. */
  private readonly sendReply: ((bytes: Buffer) => number) | null;
  private readonly queue: Queued[] = [];
  /** The socket is busy with (the rest of) a file reply or earlier writes: queue, do not write. */
  private gated = false;
  /** Replies pile up in the socket: take no request until 'drain'. */
  blocked = false;
  private readonly emptied: (() => void)[] = [];

  /** `released` runs whenever held bytes are given back. */
  constructor(socket: Socket, budget: ReplyBudget, pool: BufferPool, released: () => void) {
    this.socket = socket;
    this.budget = budget;
    this.pool = pool;
    this.released = released;
    this.kernelSend = kernelSendFor(socket);
    this.sendReply = directRepliesEnabled() ? onSocketFd(socket, nativeIo()?.sendReply) : null;
    this.oneAtATime = socket instanceof TLSSocket || socket instanceof TlsRecordSocket;
  }

  /**
   * Resolves once no reply waits here for the socket. A TLS connection queues replies while
   * its socket encrypts the one before; closing after DISC without waiting dropped them.
   */
  whenEmpty(): Promise<void> {
    if (this.closed || (!this.gated && this.queue.length === 0)) return Promise.resolve();
    return new Promise((resolve) => this.emptied.push(resolve));
  }

  /** Every reply so far is in the kernel's hands: none corked, queued or half sent. */
  allSent(): boolean {
    return !this.corked && !this.gated && this.queue.length === 0 && this.socket.writableLength === 0;
  }

  /** Calls `then` once every reply so far is in the kernel's hands (allSent), unless the connection closes first. */
  whenAllSent(then: () => void): void {
    void this.whenEmpty().then(() => {
      if (this.closed) return;
      if (this.allSent()) then();
      // Node's stream calls back once everything written before this has left.
      else this.socket.write(BARRIER, () => then());
    });
  }

  /** May this connection start another request? */
  admits(): boolean {
    return this.budget.admits(this.held);
  }

  /**
   * Reserve what `req` holds until its reply is written: a READ's buffer, or a WRITE's
   * payload (a slow disk once let pipelined WRITEs hold 32 x 32 MiB per connection).
   */
  reserve(req: NbdRequest): Ticket {
    const read = req.type === CMD.READ && req.length <= MAX_PAYLOAD;
    const bytes = read ? OFFSET_DATA_HEADER_LENGTH + req.length : (req.payload?.length ?? 0);
    this.hold(bytes);
    return { bytes, fileReplies: read && this.kernelSend ? this : null };
  }

  /** The request ended without writing the reply it reserved for. */
  cancel(ticket: Ticket): void {
    this.giveBack(ticket.bytes);
    ticket.bytes = 0;
  }

  /**
   * Queue `b`; a pooled buffer goes back to the pool once sent. With `others` in flight,
   * replies that finish in the same turn of the event loop leave in one writev: one syscall
   * per reply was the server's largest cost with many small requests.
   */
  write(b: Buffer, others: boolean, pooled = false, ticket?: Ticket): void {
    if (this.closed) return;
    if (!this.corked && others && !this.oneAtATime) {
      this.corked = true;
      this.socket.cork();
      setImmediate(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    // The reply takes over what its request reserved.
    const reserved = ticket?.bytes ?? 0;
    if (ticket) ticket.bytes = 0;
    this.takeOver(reserved, b.length);
    if (this.gated || this.queue.length > 0) this.queue.push({ bytes: b, pooled });
    else this.put(b, pooled);
  }

  /**
   * Send a READ reply from its file (fast-read.ts); resolves once the socket has taken all of
   * it, so the file stays open until then.
   */
  sendFile(reply: FileReply, ticket: Ticket): Promise<void> {
    if (this.closed) return Promise.resolve();
    const total = reply.header.length + reply.length;
    this.takeOver(ticket.bytes, total);
    ticket.bytes = 0;
    return new Promise((resolve) => {
      this.queue.push({ file: reply, done: () => { this.giveBack(total); resolve(); } });
      this.flush();
    });
  }

  /** The connection is gone: replies still queued will never be sent, so their bytes go back to the other clients. */
  close(): void {
    this.closed = true;
    for (const resolve of this.emptied.splice(0)) resolve();
    this.budget.give(this.held);
    this.held = 0;
    for (const q of this.queue.splice(0)) {
      if ('file' in q) q.done();
      else if (q.pooled) this.pool.release(q.bytes);
    }
  }

  private put(b: Buffer, pooled: boolean): void {
    // Counted now: a TLS worker's stream may take the buffer itself, leaving it empty here.
    const length = b.length;
    const sent = () => {
      if (pooled) this.pool.release(b);
      this.giveBack(length);
      if (this.oneAtATime) {
        this.gated = false;
        this.flush();
      }
    };
    this.gated = this.oneAtATime;
    const took = this.sendNow(b);
    if (took === length) return sent();
    // The socket's own high-water mark (16 KiB) is below one READ reply; stopping at it would
    // serialise reads. Stop taking requests only when replies really pile up.
    const rest = took > 0 ? b.subarray(took) : b;
    if (!this.socket.write(rest, sent) && this.socket.writableLength > SEND_BUFFER_LIMIT) this.blocked = true;
  }

  /**
   * Bytes of a reply of `MAX_DIRECT_REPLY` bytes or fewer that the kernel took at once, when
   * nothing else waits to be sent: one syscall instead of a write through Node's stream (its
   * write request, state and callback cost more than the syscall on a request at a time).
   */
  private sendNow(b: Buffer): number {
    if (!this.sendReply || this.corked || b.length > MAX_DIRECT_REPLY || this.socket.writableLength > 0) return 0;
    return this.sendReply(b);
  }

  /** Send what waits, in order, until a file reply must wait for the socket. */
  private flush(): void {
    while (!this.gated && !this.closed) {
      const next = this.queue[0];
      if (!next) {
        for (const resolve of this.emptied.splice(0)) resolve();
        return;
      }
      if ('bytes' in next) {
        this.queue.shift();
        this.put(next.bytes, next.pooled);
        continue;
      }
      // sendfile writes to the socket directly: whatever Node still holds must leave first.
      if (this.socket.writableLength > 0 && this.corked) {
        this.corked = false;
        this.socket.uncork();
      }
      if (this.socket.writableLength > 0) {
        this.gated = true;
        this.socket.write(BARRIER, () => {
          this.gated = false;
          this.flush();
        });
        return;
      }
      this.queue.shift();
      this.sendFileNow(next.file, next.done);
    }
  }

  private sendFileNow(reply: FileReply, done: () => void): void {
    const took = this.kernelSend!(reply.header, reply.fd, reply.offset, reply.length);
    if (took === reply.header.length + reply.length) return done();
    // Nothing else may reach the socket before the rest of this reply.
    this.gated = true;
    void this.sendRest(reply, Math.max(took, 0), done);
  }

  /** The socket filled (or sendfile failed): the rest goes the ordinary way. */
  private async sendRest(reply: FileReply, took: number, done: () => void): Promise<void> {
    const { header, length } = reply;
    const headerLeft = Math.max(0, header.length - took);
    const skip = took - (header.length - headerLeft);
    const rest = Buffer.allocUnsafeSlow(headerLeft + length - skip);
    header.copy(rest, 0, header.length - headerLeft);
    try {
      await reply.readRest(rest.subarray(headerLeft), skip);
    } catch (err) {
      // Part of the reply has left: the stream cannot carry an error reply any more, so the
      // client must see the connection end rather than a reply cut short.
      this.socket.destroy(err as Error);
      done();
      return;
    }
    if (this.closed) return done();
    this.socket.write(rest, done);
    this.gated = false;
    this.flush();
  }

  /** A reply takes over the bytes its request reserved. */
  private takeOver(reserved: number, replyBytes: number): void {
    if (replyBytes >= reserved) this.hold(replyBytes - reserved);
    else this.giveBack(reserved - replyBytes);
  }

  private hold(n: number): void {
    this.held += n;
    this.budget.take(n);
  }

  private giveBack(n: number): void {
    if (this.closed || n === 0) return;
    this.held -= n;
    this.budget.give(n);
    this.released();
  }
}
