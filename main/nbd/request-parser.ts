// The transmission-phase request parser: an incremental state machine fed whatever the
// socket delivers. WRITE payloads are gathered into one buffer of the announced size; a
// payload over the limit is counted off and dropped as it arrives, never held in memory.
// Bytes in a read buffer the socket reuses are parsed out before the next read (ownBuffered):
// the requests the connection is not ready to start yet keep their payloads in their own
// buffers, so only a partial header is ever copied aside.
import { ByteQueue } from './byte-queue.ts';
import { CMD, REQUEST_MAGIC } from './protocol.ts';

export const REQUEST_HEADER_LENGTH = 28;

export interface NbdRequest {
  flags: number;
  type: number;
  cookie: bigint;
  /** Exact below 2^53; larger wire values come out >= 2^53 and fail every range check. */
  offset: number;
  length: number;
  /** WRITE data, or null. */
  payload: Buffer | null;
  /** A WRITE whose payload exceeded the limit and was discarded. */
  oversized: boolean;
}

/** When readTarget() sends a socket read straight into a WRITE payload. */
export interface DirectReads {
  /**
   * Payload bytes missing before a read goes straight into them; below it, one read into the
   * shared buffer that also brings the next requests costs less than a read of its own.
   */
  min: number;
  /** What a read into the shared buffer may bring when a large WRITE probably comes next. */
  window: number;
}

const DIRECT_READS: DirectReads = { min: 64 * 1024, window: 4096 };

export class ProtocolError extends Error {}

export class RequestParser {
  private readonly queue = new ByteQueue();
  private readonly maxPayload: number;
  /** The request whose payload is being received or skipped. */
  private current: NbdRequest | null = null;
  private filled = 0;
  /** The length of the last request parsed if it was a WRITE, else 0. */
  private lastWriteLength = 0;
  private readonly direct: DirectReads;
  private headerWindow: Buffer | null = null;

  private readonly allocate: (size: number) => Buffer;
  /** Requests parsed ahead by ownBuffered, in order, then the protocol error that stopped it. */
  private readonly ready: (NbdRequest | undefined)[] = [];
  private readyHead = 0;
  private failure: ProtocolError | null = null;

  /** `allocate` supplies WRITE payload buffers (a pool, so big writes do not churn the heap). */
  constructor(maxPayload: number, allocate: (size: number) => Buffer = Buffer.allocUnsafe, direct = DIRECT_READS) {
    this.maxPayload = maxPayload;
    this.allocate = allocate;
    this.direct = direct;
  }

  push(chunk: Buffer): void {
    this.queue.push(chunk);
  }

  /**
   * Keep what was received in our own memory: the chunks may be views of a read buffer the
   * socket reuses. Whole requests are parsed out now (a WRITE's payload lands in its own
   * buffer, where it was going anyway) and what is left, at most a partial header, is copied.
   * Copying everything that waited instead cost a second copy of every payload while the
   * connection had its fill of requests in flight (nbdcopy's writes: a third of the main thread).
   */
  ownBuffered(): void {
    if (this.failure) return;
    try {
      for (let req = this.parse(); req; req = this.parse()) this.ready.push(req);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.failure = err;
    }
    this.queue.own();
  }

  /**
   * Where the socket's next read lands, given the read buffer it shares across reads: the
   * missing bytes of a large WRITE payload when no received byte is queued ahead of them, so
   * they are copied once, from the kernel into place. Right after a large WRITE the next
   * request is probably another, so only a little of the shared buffer is offered (its header
   * and a few bytes) and the rest of its payload comes direct. Otherwise the whole shared
   * buffer: one read then brings many small requests.
   */
  readTarget(shared: Buffer): Buffer {
    const req = this.current;
    if (req?.payload && this.queue.length === 0 && !this.failure && req.length - this.filled >= this.direct.min) {
      return req.payload.subarray(this.filled);
    }
    if (this.lastWriteLength < this.direct.min) return shared;
    if (this.headerWindow?.buffer !== shared.buffer) this.headerWindow = shared.subarray(0, this.direct.window);
    return this.headerWindow;
  }

  /** `n` bytes arrived in a payload buffer readTarget() returned. */
  filledDirect(n: number): void {
    this.filled += n;
  }

  /** Nothing received is left: no bytes, no parsed request, no WRITE waiting for its payload. */
  get empty(): boolean {
    return this.queue.length === 0 && this.readyHead >= this.ready.length && this.current === null && this.failure === null;
  }

  /** Bytes received but not yet parsed. */
  get buffered(): number {
    return this.queue.length;
  }

  /** The next complete request, or null when more bytes are needed. */
  next(): NbdRequest | null {
    if (this.readyHead < this.ready.length) {
      const req = this.ready[this.readyHead]!;
      this.ready[this.readyHead++] = undefined;
      if (this.readyHead === this.ready.length) this.ready.length = this.readyHead = 0;
      return req;
    }
    if (this.failure) throw this.failure;
    return this.parse();
  }

  private parse(): NbdRequest | null {
    if (!this.current) {
      if (this.queue.length < REQUEST_HEADER_LENGTH) return null;
      const h = this.queue.take(REQUEST_HEADER_LENGTH);
      const magic = h.readUInt32BE(0);
      if (magic !== REQUEST_MAGIC) {
        throw new ProtocolError(`bad request magic 0x${magic.toString(16).padStart(8, '0')}`);
      }
      const req = decodeRequestHeader(h);
      this.lastWriteLength = req.type === CMD.WRITE ? req.length : 0;
      if (req.type !== CMD.WRITE || req.length === 0) return req;
      if (req.length > this.maxPayload) req.oversized = true;
      else req.payload = this.allocate(req.length);
      this.current = req;
      this.filled = 0;
    }
    const req = this.current;
    const n = Math.min(req.length - this.filled, this.queue.length);
    if (req.payload) this.queue.copyInto(req.payload, this.filled, n);
    else this.queue.skip(n);
    this.filled += n;
    if (this.filled < req.length) return null;
    this.current = null;
    return req;
  }
}

/** The request a 28-byte header describes (its magic already checked), with no payload yet. */
export function decodeRequestHeader(h: Buffer): NbdRequest {
  return {
    flags: h.readUInt16BE(4),
    type: h.readUInt16BE(6),
    cookie: h.readBigUInt64BE(8),
    offset: h.readUInt32BE(16) * 2 ** 32 + h.readUInt32BE(20),
    length: h.readUInt32BE(24),
    payload: null,
    oversized: false,
  };
}
