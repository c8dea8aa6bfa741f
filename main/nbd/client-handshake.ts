// The client's side of the fixed newstyle handshake: greeting, STRUCTURED_REPLY,
// SET_META_CONTEXT for the contexts wanted, then GO with the info requests, whose replies
// fill ExportInfo; for nbds:// URIs STARTTLS comes first and everything after it runs in
// TLS. The socket reader here only lives until transmission starts; what it has buffered
// past the handshake goes on to the reply reader.
import type net from 'node:net';
import { ByteQueue } from './byte-queue.ts';
import { FLAG_FIXED_NEWSTYLE, FLAG_NO_ZEROES, IHAVEOPT, INFO, NBDMAGIC, OPT, OPTION_REPLY_MAGIC, REP } from './protocol.ts';
import { encodeOption } from './request-header.ts';

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
  /** Negotiated over TLS (STARTTLS). */
  tls: boolean;
}

export interface NegotiatedExport {
  info: ExportInfo;
  /** Meta context ids the server assigned, to their names. */
  contextIds: Map<number, string>;
}

/** Whole reads of the handshake's fixed-size messages; fails them all once the socket ends. */
export class HandshakeReader {
  readonly queue = new ByteQueue();
  private readonly waiters: { n: number; resolve: (b: Buffer) => void; reject: (e: Error) => void }[] = [];
  private dead: Error | null = null;
  /** Why the server might hang up now, added to the error when it does. */
  closeHint = '';
  private readonly onData = (c: Buffer) => {
    this.queue.push(c);
    while (this.waiters.length && this.queue.length >= this.waiters[0]!.n) {
      const w = this.waiters.shift()!;
      w.resolve(Buffer.from(this.queue.take(w.n)));
    }
  };
  private readonly onEnd = (err?: Error) => {
    this.dead = err ?? new Error(`the NBD server closed the connection during the handshake${this.closeHint}`);
    for (const w of this.waiters.splice(0)) w.reject(this.dead);
  };
  private readonly onClose = () => this.onEnd();

  constructor(private socket: net.Socket) {
    this.listen();
  }

  private listen(): void {
    this.socket.on('data', this.onData);
    this.socket.on('error', this.onEnd);
    this.socket.on('close', this.onClose);
  }

  /** After STARTTLS: read from the TLS socket that now carries the connection. */
  switchTo(socket: net.Socket): void {
    this.detach();
    this.socket = socket;
    this.listen();
  }

  /** The next `n` bytes, copied out of the queue (the handshake keeps what it reads). */
  read(n: number): Promise<Buffer> {
    if (this.queue.length >= n) return Promise.resolve(Buffer.from(this.queue.take(n)));
    if (this.dead) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => this.waiters.push({ n, resolve, reject }));
  }

  write(b: Buffer): void {
    this.socket.write(b);
  }

  /** Stop listening; the queue keeps whatever arrived after the handshake. */
  detach(): ByteQueue {
    this.socket.off('data', this.onData);
    this.socket.off('error', this.onEnd);
    this.socket.off('close', this.onClose);
    return this.queue;
  }
}

/** After STARTTLS's ACK: the TLS handshake, and `io` switched to the TLS socket. */
export type StartTls = () => Promise<void>;

export async function clientHandshake(io: HandshakeReader, exportName: string, wantContexts: readonly string[], startTls?: StartTls): Promise<NegotiatedExport> {
  await greet(io);
  if (startTls) await negotiateTls(io, startTls);
  io.write(encodeOption(OPT.STRUCTURED_REPLY));
  const structured = await optionReplies(io, OPT.STRUCTURED_REPLY);
  const contextIds = structured && wantContexts.length ? await setMetaContexts(io, exportName, wantContexts) : new Map<number, string>();
  const info = await go(io, exportName);
  info.structured = structured;
  info.tls = startTls !== undefined;
  info.contexts = [...contextIds.values()];
  return { info, contextIds };
}

/** Check the server's greeting and answer it with our flags. */
async function greet(io: HandshakeReader): Promise<void> {
  const g = await io.read(18);
  if (g.readBigUInt64BE(0) !== NBDMAGIC || g.readBigUInt64BE(8) !== IHAVEOPT) {
    throw new Error('not an NBD server (or an oldstyle one, which is not supported)');
  }
  const serverFlags = g.readUInt16BE(16);
  const clientFlags = Buffer.alloc(4);
  clientFlags.writeUInt32BE(FLAG_FIXED_NEWSTYLE | (serverFlags & FLAG_NO_ZEROES));
  io.write(clientFlags);
}

/** STARTTLS, which a server without TLS refuses; the TLS handshake follows its ACK. */
async function negotiateTls(io: HandshakeReader, startTls: StartTls): Promise<void> {
  io.write(encodeOption(OPT.STARTTLS));
  let refusal = '';
  const accepted = await optionReplies(io, OPT.STARTTLS, (type, data) => {
    if (type !== REP.ACK) refusal = data.toString('utf8');
  });
  if (!accepted) throw new Error(`the server does not offer TLS (it refused STARTTLS${refusal ? `: ${refusal}` : ''}): use nbd:// or enable TLS on the server`);
  await startTls();
}

/** Reads replies to `opt` until ACK (true) or an error reply (false). */
async function optionReplies(io: HandshakeReader, opt: number, onReply: (type: number, data: Buffer) => void = () => {}): Promise<boolean> {
  for (;;) {
    const h = await io.read(20);
    if (h.readBigUInt64BE(0) !== OPTION_REPLY_MAGIC || h.readUInt32BE(8) !== opt) throw new Error('malformed option reply from the server');
    const type = h.readUInt32BE(12);
    const data = await io.read(h.readUInt32BE(16));
    // Every option but STARTTLS gets this from a server that requires TLS: say what to do.
    if (type === REP.ERR_TLS_REQD) throw new Error('the server requires TLS: use nbds:// (or nbds+unix://) with tls-certificates=DIR or tls-psk-file=FILE');
    onReply(type, data);
    if (type === REP.ACK) return true;
    if (type >= 2 ** 31) return false;
  }
}

/** A length-prefixed UTF-8 string, as options carry names. */
function lengthPrefixed(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

async function setMetaContexts(io: HandshakeReader, exportName: string, wantContexts: readonly string[]): Promise<Map<number, string>> {
  const count = Buffer.alloc(4);
  count.writeUInt32BE(wantContexts.length);
  io.write(encodeOption(OPT.SET_META_CONTEXT, Buffer.concat([lengthPrefixed(exportName), count, ...wantContexts.map(lengthPrefixed)])));
  const contextIds = new Map<number, string>();
  await optionReplies(io, OPT.SET_META_CONTEXT, (type, data) => {
    if (type === REP.META_CONTEXT) contextIds.set(data.readUInt32BE(0), data.toString('utf8', 4));
  });
  return contextIds;
}

/** GO for `exportName`, asking for its name, description and block sizes. */
async function go(io: HandshakeReader, exportName: string): Promise<ExportInfo> {
  const asks = [INFO.NAME, INFO.DESCRIPTION, INFO.BLOCK_SIZE];
  const askList = Buffer.alloc(2 + 2 * asks.length);
  askList.writeUInt16BE(asks.length, 0);
  asks.forEach((ask, i) => askList.writeUInt16BE(ask, 2 + 2 * i));
  io.write(encodeOption(OPT.GO, Buffer.concat([lengthPrefixed(exportName), askList])));
  const info: ExportInfo = { size: 0, flags: 0, minBlock: 1, preferredBlock: 4096, maxPayload: 32 << 20, name: exportName, description: '', contexts: [], structured: false, tls: false };
  let error: string | null = null;
  await optionReplies(io, OPT.GO, (type, data) => {
    if (type >= 2 ** 31) error = `the server refused export '${exportName}'${data.length ? `: ${data.toString('utf8')}` : ''}`;
    else if (type === REP.INFO) error = applyInfo(info, data) ?? error;
  });
  if (error) throw new Error(error);
  return info;
}

/** Fill `info` from one NBD_REP_INFO; a reason to give up, or null. */
function applyInfo(info: ExportInfo, data: Buffer): string | null {
  switch (data.readUInt16BE(0)) {
    case INFO.EXPORT: {
      const size = data.readBigUInt64BE(2);
      info.size = Number(size);
      info.flags = data.readUInt16BE(10);
      return size > BigInt(Number.MAX_SAFE_INTEGER) ? `export size ${size} is larger than 2^53 bytes, which Blockscope does not handle` : null;
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
  return null;
}
