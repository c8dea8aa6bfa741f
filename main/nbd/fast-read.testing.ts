// Test support for the READ fast path: a raw NBD client that negotiates structured replies and
// base:allocation or not, sends a batch of requests at once and keeps every reply's bytes as
// they came off the wire (so replies with the fast path on and off can be compared byte for
// byte), and a counter of the addon's sendfile calls (so a test knows the fast path ran).
import net from 'node:net';
import { nativeIo } from '../native-io.ts';
import { CMD, CONTEXT_BASE_ALLOCATION, FLAG_FIXED_NEWSTYLE, FLAG_NO_ZEROES, OPT, REPLY_FLAG_DONE, REPLY_TYPE, REP, SIMPLE_REPLY_MAGIC } from './protocol.ts';
import { encodeOption, encodeRequest } from './request-header.ts';

export interface WireRequest {
  type: number;
  flags: number;
  offset: number;
  length: number;
  /** A WRITE's data, sent right after its header. */
  payload?: Buffer;
}

/** Reads exactly the bytes asked for from a socket, however they arrive. */
class ByteReader {
  private readonly chunks: Buffer[] = [];
  private have = 0;
  private wake: (() => void) | null = null;
  private ended: Error | null = null;

  constructor(sock: net.Socket) {
    sock.on('data', (c: Buffer) => {
      this.chunks.push(c);
      this.have += c.length;
      this.wake?.();
    });
    sock.on('close', () => {
      this.ended = new Error('the server closed the connection');
      this.wake?.();
    });
  }

  async take(n: number): Promise<Buffer> {
    while (this.have < n) {
      if (this.ended) throw this.ended;
      await new Promise<void>((r) => (this.wake = r));
      this.wake = null;
    }
    if (n === 0) return Buffer.alloc(0);
    if (this.chunks[0]!.length < n) this.chunks.unshift(Buffer.concat(this.chunks.splice(0)));
    const first = this.chunks[0]!;
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.have -= n;
    return first.subarray(0, n);
  }
}

export class RawNbdClient {
  readonly sock: net.Socket;
  private readonly reader: ByteReader;

  private constructor(sock: net.Socket) {
    this.sock = sock;
    this.reader = new ByteReader(sock);
  }

  static async connect(target: { path: string } | { port: number }, structured: boolean, meta: boolean): Promise<RawNbdClient> {
    const sock = 'path' in target ? net.connect(target.path) : net.connect(target.port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject));
    const c = new RawNbdClient(sock);
    await c.reader.take(18);
    const flags = Buffer.alloc(4);
    flags.writeUInt32BE(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES);
    sock.write(flags);
    if (structured) {
      sock.write(encodeOption(OPT.STRUCTURED_REPLY));
      await c.optionReplies();
    }
    if (structured && meta) {
      const name = Buffer.from(CONTEXT_BASE_ALLOCATION);
      const data = Buffer.alloc(12 + name.length);
      data.writeUInt32BE(0, 0);
      data.writeUInt32BE(1, 4);
      data.writeUInt32BE(name.length, 8);
      name.copy(data, 12);
      sock.write(encodeOption(OPT.SET_META_CONTEXT, data));
      await c.optionReplies();
    }
    sock.write(encodeOption(OPT.GO, Buffer.alloc(6)));
    await c.optionReplies();
    return c;
  }

  /** Option replies up to the ACK; anything else final is an error. */
  private async optionReplies(): Promise<void> {
    for (;;) {
      const h = await this.reader.take(20);
      const type = h.readUInt32BE(12);
      await this.reader.take(h.readUInt32BE(16));
      if (type === REP.ACK) return;
      if (type !== REP.INFO && type !== REP.META_CONTEXT) throw new Error(`option refused: 0x${type.toString(16)}`);
    }
  }

  /**
   * Send all of `requests` in one write (cookies 1..n) and collect each reply's raw bytes by
   * cookie, chunks in the order they came. `stallMs` leaves the replies unread for a while
   * first, so the server's socket buffer fills and its sends come back partial.
   */
  async batch(requests: readonly WireRequest[], stallMs = 0): Promise<Map<number, Buffer>> {
    this.sock.write(Buffer.concat(requests.flatMap((r, i) => {
      const header = encodeRequest({ type: r.type, flags: r.flags, offset: r.offset, length: r.length, cookie: i + 1 });
      return r.payload ? [header, r.payload] : [header];
    })));
    if (stallMs > 0) {
      this.sock.pause();
      await new Promise((r) => setTimeout(r, stallMs));
      this.sock.resume();
    }
    // Replies out of step with their headers would leave this waiting for bytes that never
    // come: end it instead, so a broken stream fails the test rather than hanging it.
    const deadline = setTimeout(() => this.sock.destroy(), 20_000);
    try {
      return await this.collect(requests);
    } finally {
      clearTimeout(deadline);
    }
  }

  private async collect(requests: readonly WireRequest[]): Promise<Map<number, Buffer>> {
    const replies = new Map<number, Buffer[]>();
    let open = requests.length;
    while (open > 0) {
      const magicBytes = await this.reader.take(4);
      const simple = magicBytes.readUInt32BE(0) === SIMPLE_REPLY_MAGIC;
      const rest = await this.reader.take(simple ? 12 : 16);
      const cookie = Number(rest.readBigUInt64BE(4));
      const req = requests[cookie - 1];
      if (!req) throw new Error(`reply for unknown cookie ${cookie}`);
      const payloadLength = simple
        ? (rest.readUInt32BE(0) === 0 && req.type === CMD.READ ? req.length : 0)
        : rest.readUInt32BE(12);
      const parts = replies.get(cookie) ?? [];
      parts.push(magicBytes, rest, await this.reader.take(payloadLength));
      replies.set(cookie, parts);
      if (simple || rest.readUInt16BE(0) & REPLY_FLAG_DONE) open--;
    }
    return new Map([...replies].map(([k, v]) => [k, Buffer.concat(v)]));
  }

  close(): void {
    this.sock.destroy();
  }
}

/** The data a successful READ reply carries, simple or structured (OFFSET_DATA and OFFSET_HOLE chunks). */
export function readReplyData(reply: Buffer, offset: number, length: number): Buffer {
  if (reply.readUInt32BE(0) === SIMPLE_REPLY_MAGIC) {
    if (reply.readUInt32BE(4) !== 0) throw new Error(`READ failed: error ${reply.readUInt32BE(4)}`);
    return reply.subarray(16);
  }
  const out = Buffer.alloc(length, 0xee);
  for (let at = 0; at < reply.length;) {
    const type = reply.readUInt16BE(at + 6);
    const len = reply.readUInt32BE(at + 16);
    const body = reply.subarray(at + 20, at + 20 + len);
    const where = Number(body.readBigUInt64BE(0)) - offset;
    if (type === REPLY_TYPE.OFFSET_DATA) body.copy(out, where, 8);
    else if (type === REPLY_TYPE.OFFSET_HOLE) out.fill(0, where, where + body.readUInt32BE(8));
    else throw new Error(`unexpected chunk type ${type} in a READ reply`);
    at += 20 + len;
  }
  return out;
}

/** What one sendfile call was asked and did. */
export interface KernelSendCall {
  asked: number;
  took: number;
}

/**
 * Count the addon's sendFileReply calls until the returned function undoes it, and in
 * `uncached` the READs the fast path declined because their range was not all in the page
 * cache (the kernel may evict pages between a warm-up and the reads it was meant for).
 */
export function countKernelSends(calls: KernelSendCall[], uncached: { count: number } = { count: 0 }): () => void {
  type Send = (s: number, h: Buffer, fd: number, o: number, n: number) => number;
  type Cached = (fd: number, o: number, n: number) => number;
  const io = nativeIo() as unknown as { sendFileReply?: Send; allCached?: Cached } | null;
  const real = io?.sendFileReply;
  const realCached = io?.allCached;
  if (!io || !real) throw new Error('the native addon with sendFileReply is not built (npm run build:native)');
  io.sendFileReply = (s, h, fd, o, n) => {
    const took = real(s, h, fd, o, n);
    calls.push({ asked: h.length + n, took });
    return took;
  };
  if (realCached) {
    io.allCached = (fd, o, n) => {
      const r = realCached(fd, o, n);
      if (r === 0) uncached.count++;
      return r;
    };
  }
  return () => {
    io.sendFileReply = real;
    if (realCached) io.allCached = realCached;
  };
}
