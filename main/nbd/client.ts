// A small NBD client: fixed newstyle with GO, structured replies and base:allocation. It is
// what `blockscope map/info URI` and the nbd plugin use; requests may be issued
// concurrently and replies are matched by cookie.
import { encodeRequest } from './request-header.ts';
import net from 'node:net';
import { EXTENT_DATA, type Extent } from '../../shared/extents.ts';
import { BlockError, type Errno } from '../backend/errors.ts';
import { ByteQueue } from './byte-queue.ts';
import { nbdErrorName } from './errors.ts';
import {
  CMD, CMD_FLAG, CONTEXT_BASE_ALLOCATION, FLAG_FIXED_NEWSTYLE, FLAG_NO_ZEROES, IHAVEOPT, INFO, NBDMAGIC,
  OPT, OPTION_REPLY_MAGIC, REP, REPLY_FLAG_DONE, REPLY_TYPE, SIMPLE_REPLY_MAGIC,
  STRUCTURED_REPLY_MAGIC, TFLAG,
} from './protocol.ts';
import { parseNbdUri, type NbdAddress } from './uri.ts';

interface Pending {
  type: number;
  /** READ target. */
  buf?: Buffer;
  offset: number;
  extents?: Extent[];
  /** The meta context whose BLOCK_STATUS chunk fills `extents`. */
  context?: string;
  error?: BlockError;
  resolve: () => void;
  reject: (e: Error) => void;
}

export interface ExportInfo {
  size: number;
  flags: number;
  minBlock: number;
  preferredBlock: number;
  maxPayload: number;
  name: string;
  description: string;
  contexts: string[];
  structured: boolean;
}

export class NbdClient {
  readonly info: ExportInfo;
  private readonly socket: net.Socket;
  private readonly queue: ByteQueue;
  private readonly pending = new Map<bigint, Pending>();
  private readonly contextIds: Map<number, string>;
  private nextCookie = 1n;
  private failed: Error | null = null;

  private constructor(socket: net.Socket, queue: ByteQueue, info: ExportInfo, contextIds: Map<number, string>) {
    this.socket = socket;
    this.queue = queue;
    this.info = info;
    this.contextIds = contextIds;
    socket.on('data', (c: Buffer) => {
      this.queue.push(c);
      this.drainReplies();
    });
    const fail = (err: Error) => {
      this.failed ??= err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('the NBD server closed the connection')));
    this.drainReplies();
  }

  static async connect(uri: string | NbdAddress, options: { contexts?: string[] } = {}): Promise<NbdClient> {
    const addr = typeof uri === 'string' ? parseNbdUri(uri) : uri;
    const socket = 'path' in addr ? net.connect(addr.path) : net.connect(addr.port, addr.host);
    socket.setNoDelay(true);
    const queue = new ByteQueue();
    const waiters: { n: number; resolve: (b: Buffer) => void; reject: (e: Error) => void }[] = [];
    let dead: Error | null = null;
    const onData = (c: Buffer) => {
      queue.push(c);
      while (waiters.length && queue.length >= waiters[0]!.n) {
        const w = waiters.shift()!;
        w.resolve(queue.take(w.n));
      }
    };
    const onEnd = (err?: Error) => {
      dead = err ?? new Error('the NBD server closed the connection during the handshake');
      for (const w of waiters.splice(0)) w.reject(dead);
    };
    socket.on('data', onData);
    socket.on('error', onEnd);
    socket.on('close', () => onEnd());
    const read = (n: number) => (queue.length >= n ? Promise.resolve(Buffer.from(queue.take(n))) : dead ? Promise.reject(dead) : new Promise<Buffer>((resolve, reject) => waiters.push({ n, resolve: (b) => resolve(Buffer.from(b)), reject })));
    try {
      const { info, contextIds } = await handshake(read, (b) => socket.write(b), addr.exportName, options.contexts ?? [CONTEXT_BASE_ALLOCATION]);
      socket.off('data', onData);
      socket.removeAllListeners('error');
      socket.removeAllListeners('close');
      return new NbdClient(socket, queue, info, contextIds);
    } catch (err) {
      socket.destroy();
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
      this.pending.set(cookie, { ...pending, type, offset, resolve, reject });
      if (payload) {
        this.socket.cork();
        this.socket.write(h);
        this.socket.write(payload);
        this.socket.uncork();
      } else {
        this.socket.write(h);
      }
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

  async close(): Promise<void> {
    if (this.failed) return;
    const h = encodeRequest({ type: CMD.DISC, cookie: 0 });
    await new Promise<void>((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.end(h);
    });
  }

  /** Consume every complete reply in the queue; stop at the first incomplete one. */
  private drainReplies(): void {
    while (this.queue.length >= 16) {
      const m = this.queue.peek(4).readUInt32BE(0);
      if (m === SIMPLE_REPLY_MAGIC) {
        const h = this.queue.peek(16);
        const error = h.readUInt32BE(4);
        const cookie = h.readBigUInt64BE(8);
        const p = this.pending.get(cookie);
        if (!p) return this.protocolError(`reply for unknown cookie ${cookie}`);
        const dataLength = !error && p.type === CMD.READ ? p.buf!.length : 0;
        if (this.queue.length < 16 + dataLength) return;
        this.queue.skip(16);
        if (dataLength) this.queue.copyInto(p.buf!, 0, dataLength);
        this.pending.delete(cookie);
        if (error) p.reject(new BlockError(nbdErrorName(error) as Errno, `server error ${nbdErrorName(error)}`));
        else p.resolve();
      } else if (m === STRUCTURED_REPLY_MAGIC) {
        if (this.queue.length < 20) return;
        const h = this.queue.peek(20);
        const length = h.readUInt32BE(16);
        if (this.queue.length < 20 + length) return;
        const flags = h.readUInt16BE(4);
        const type = h.readUInt16BE(6);
        const cookie = h.readBigUInt64BE(8);
        this.queue.skip(20);
        const body = this.queue.take(length);
        const p = this.pending.get(cookie);
        if (!p) return this.protocolError(`reply chunk for unknown cookie ${cookie}`);
        this.chunk(p, type, body);
        if (flags & REPLY_FLAG_DONE) {
          this.pending.delete(cookie);
          if (p.error) p.reject(p.error);
          else p.resolve();
        }
      } else {
        return this.protocolError(`bad reply magic 0x${m.toString(16)}`);
      }
    }
  }

  private chunk(p: Pending, type: number, body: Buffer): void {
    switch (type) {
      case REPLY_TYPE.NONE:
        return;
      case REPLY_TYPE.OFFSET_DATA: {
        const at = Number(body.readBigUInt64BE(0)) - p.offset;
        body.copy(p.buf!, at, 8);
        return;
      }
      case REPLY_TYPE.OFFSET_HOLE: {
        const at = Number(body.readBigUInt64BE(0)) - p.offset;
        p.buf!.fill(0, at, at + body.readUInt32BE(8));
        return;
      }
      case REPLY_TYPE.BLOCK_STATUS: {
        if (this.contextIds.get(body.readUInt32BE(0)) !== p.context) return;
        let pos = p.offset;
        for (let at = 4; at + 8 <= body.length; at += 8) {
          const length = body.readUInt32BE(at);
          p.extents!.push({ offset: pos, length, flags: body.readUInt32BE(at + 4) });
          pos += length;
        }
        return;
      }
      default:
        if (type & 0x8000) {
          const code = body.readUInt32BE(0);
          const msgLen = body.length >= 6 ? body.readUInt16BE(4) : 0;
          const msg = body.toString('utf8', 6, 6 + msgLen);
          const name = nbdErrorName(code);
          p.error = new BlockError(name as Errno, msg ? `server error ${name}: ${msg}` : `server error ${name}`);
          return;
        }
        this.protocolError(`unknown reply chunk type ${type}`);
    }
  }

  private protocolError(message: string): void {
    const err = new Error(`NBD protocol error: ${message}`);
    this.failed ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.socket.destroy();
  }
}

async function handshake(read: (n: number) => Promise<Buffer>, write: (b: Buffer) => void, exportName: string, wantContexts: string[]): Promise<{ info: ExportInfo; contextIds: Map<number, string> }> {
  const g = await read(18);
  if (g.readBigUInt64BE(0) !== NBDMAGIC || g.readBigUInt64BE(8) !== IHAVEOPT) {
    throw new Error('not an NBD server (or an oldstyle one, which is not supported)');
  }
  const serverFlags = g.readUInt16BE(16);
  const clientFlags = Buffer.alloc(4);
  clientFlags.writeUInt32BE(FLAG_FIXED_NEWSTYLE | (serverFlags & FLAG_NO_ZEROES));
  write(clientFlags);

  const option = (opt: number, data: Buffer) => {
    const h = Buffer.allocUnsafe(16 + data.length);
    h.writeBigUInt64BE(IHAVEOPT, 0);
    h.writeUInt32BE(opt, 8);
    h.writeUInt32BE(data.length, 12);
    data.copy(h, 16);
    write(h);
  };
  /** Reads replies to `opt` until ACK (true) or an error reply (false). */
  const replies = async (opt: number, onReply: (type: number, data: Buffer) => void = () => {}): Promise<boolean> => {
    for (;;) {
      const h = await read(20);
      if (h.readBigUInt64BE(0) !== OPTION_REPLY_MAGIC || h.readUInt32BE(8) !== opt) throw new Error('malformed option reply from the server');
      const type = h.readUInt32BE(12);
      const data = await read(h.readUInt32BE(16));
      onReply(type, data);
      if (type === REP.ACK) return true;
      if (type >= 2 ** 31) return false;
    }
  };
  const name = Buffer.from(exportName, 'utf8');
  option(OPT.STRUCTURED_REPLY, Buffer.alloc(0));
  const structured = await replies(OPT.STRUCTURED_REPLY);
  const contextIds = new Map<number, string>();
  if (structured && wantContexts.length) {
    const parts = [Buffer.alloc(4), name, Buffer.alloc(4)];
    parts[0]!.writeUInt32BE(name.length);
    parts[2]!.writeUInt32BE(wantContexts.length);
    for (const c of wantContexts) {
      const l = Buffer.alloc(4);
      l.writeUInt32BE(Buffer.byteLength(c));
      parts.push(l, Buffer.from(c, 'utf8'));
    }
    option(OPT.SET_META_CONTEXT, Buffer.concat(parts));
    await replies(OPT.SET_META_CONTEXT, (type, data) => {
      if (type === REP.META_CONTEXT) contextIds.set(data.readUInt32BE(0), data.toString('utf8', 4));
    });
  }
  const go = Buffer.alloc(4 + name.length + 2 + 6);
  go.writeUInt32BE(name.length, 0);
  name.copy(go, 4);
  go.writeUInt16BE(3, 4 + name.length);
  go.writeUInt16BE(INFO.NAME, 6 + name.length);
  go.writeUInt16BE(INFO.DESCRIPTION, 8 + name.length);
  go.writeUInt16BE(INFO.BLOCK_SIZE, 10 + name.length);
  option(OPT.GO, go);
  const info: ExportInfo = { size: 0, flags: 0, minBlock: 1, preferredBlock: 4096, maxPayload: 32 << 20, name: exportName, description: '', contexts: [...contextIds.values()], structured };
  let error: string | null = null;
  await replies(OPT.GO, (type, data) => {
    if (type >= 2 ** 31) {
      error = `the server refused export '${exportName}'${data.length ? `: ${data.toString('utf8')}` : ''}`;
      return;
    }
    if (type !== REP.INFO) return;
    switch (data.readUInt16BE(0)) {
      case INFO.EXPORT: {
        const size = data.readBigUInt64BE(2);
        if (size > BigInt(Number.MAX_SAFE_INTEGER)) error = `export size ${size} is larger than 2^53 bytes, which Blockscope does not handle`;
        info.size = Number(size);
        info.flags = data.readUInt16BE(10);
        break;
      }
      case INFO.NAME:
        info.name = data.toString('utf8', 2);
        break;
      case INFO.DESCRIPTION:
        info.description = data.toString('utf8', 2);
        break;
      case INFO.BLOCK_SIZE:
        info.minBlock = data.readUInt32BE(2);
        info.preferredBlock = data.readUInt32BE(6);
        info.maxPayload = data.readUInt32BE(10);
        break;
    }
  });
  if (error) throw new Error(error);
  return { info, contextIds };
}
