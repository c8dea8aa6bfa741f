// Sends one connection's replies and keeps count of the bytes its requests hold: a READ
// reserves its reply's size when it starts (its buffer is about to be filled), a WRITE holds
// its payload until the disk has it, and every reply holds its bytes until the socket has
// taken them. The connection asks `admits()` before it starts
// another request, so a client that never reads its replies stops being served instead of
// making the server buffer for it (see ReplyBudget).
import type { Socket } from 'node:net';
import type { BufferPool } from './buffer-pool.ts';
import { CMD, MAX_PAYLOAD } from './protocol.ts';
import { OFFSET_DATA_HEADER_LENGTH } from './replies.ts';
import type { ReplyBudget } from './reply-budget.ts';
import type { NbdRequest } from './request-parser.ts';

/** Queued reply bytes above which the connection stops reading new requests. */
const SEND_BUFFER_LIMIT = 8 * 1024 * 1024;

/** Reply bytes a request holds from the moment it starts until its reply is written. */
export interface Ticket {
  bytes: number;
}

export class ReplyWriter {
  private readonly socket: Socket;
  private readonly budget: ReplyBudget;
  private readonly pool: BufferPool;
  private readonly released: () => void;
  private held = 0;
  private corked = false;
  private closed = false;
  /** Replies pile up in the socket: take no request until 'drain'. */
  blocked = false;

  /** `released` runs whenever held bytes are given back. */
  constructor(socket: Socket, budget: ReplyBudget, pool: BufferPool, released: () => void) {
    this.socket = socket;
    this.budget = budget;
    this.pool = pool;
    this.released = released;
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
    return { bytes };
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
    if (!this.corked && others) {
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
    if (b.length >= reserved) this.hold(b.length - reserved);
    else this.giveBack(reserved - b.length);
    const sent = () => {
      if (pooled) this.pool.release(b);
      this.giveBack(b.length);
    };
    // The socket's own high-water mark (16 KiB) is below one READ reply; stopping at it would
    // serialise reads. Stop taking requests only when replies really pile up.
    if (!this.socket.write(b, sent) && this.socket.writableLength > SEND_BUFFER_LIMIT) this.blocked = true;
  }

  /** The connection is gone: replies still queued will never be sent, so their bytes go back to the other clients. */
  close(): void {
    this.closed = true;
    this.budget.give(this.held);
    this.held = 0;
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
