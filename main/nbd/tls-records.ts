// TLS 1.3 with our own record layer after the handshake. Node's TLS socket runs the
// handshake, as before; its 'keylog' event hands us the traffic secrets, and from the
// handshake's end the connection's records are sealed and opened by the addon's TlsRecords
// (native/tls_session.cc) instead: on the event loop for the JavaScript path, and on the
// connection loop's thread (connection-loop.ts) where that serves the connection, which Node's
// TLS socket, bound to the event loop, could never allow.
//
// The handover needs both sides' record counts, which Node does not tell. So the handshake
// runs over a tap (HandshakeTap) on a socket of our own: Node gets only the client's
// handshake records (an encrypted one is recognised by opening it with the client's
// handshake key), and the tap forwards Node's records whole and counts those its server
// application key opens (session tickets). At 'secure' Node is cut off: it has seen no record
// of the client's application data, so those count from 0, and it sends nothing more.
// Anything else (TLS 1.2, a suite we do not know, no addon) keeps Node's socket over the tap.
// BLOCKSCOPE_TLS_RECORDS=0 keeps Node's TLS on the accepted socket, as before this module.
import net, { type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type tls from 'node:tls';
import { nativeIo, socketFd } from '../native-io.ts';
import { handOverDescriptor } from './socket-handover.ts';

/** The addon's record layer (native/tls_records.cc). */
export interface TlsRecords {
  /** status 0: go on; 1: the client sent close_notify; 2: failed (error). `reply` goes out before anything else. */
  receive(ciphertext: Buffer): { data: Buffer; reply: Buffer; status: 0 | 1 | 2; error: string };
  /** Seals the plaintexts into `out` (sealedLength of each, summed): the bytes written, or -1 when `out` is too small. */
  seal(out: Buffer, ...plaintexts: Buffer[]): number;
  alert(description: number): Buffer;
  tryOpen(record: Buffer): number;
  sequence(): [number, number];
}

interface RecordsAddon {
  TlsRecords?: new (suite: number, inSecret: Buffer, inSeq: number, outSecret: Buffer, outSeq: number) => TlsRecords;
}

/** The suites TLS 1.3 defines that the record layer knows, as native/tls_session.h numbers them. */
export const TLS13_SUITES: Record<string, number> = {
  TLS_AES_128_GCM_SHA256: 0,
  TLS_AES_256_GCM_SHA384: 1,
  TLS_CHACHA20_POLY1305_SHA256: 2,
};

const HEADER = 5;
/** Plaintext a record carries at most, and the bytes each record adds (header, content type, tag). */
const RECORD_PLAIN = 16384;
const RECORD_OVERHEAD = 22;
/** Sealed buffers are kept for reuse up to this size (fresh large buffers cost a page fault per page). */
const SPARE_MAX = 1024 * 1024;
const SPARES = 4;
/** What one read of the socket takes at most. */
const READ_BUFFER = 64 * 1024;
const APPLICATION_DATA = 23;
const NONE = Buffer.alloc(0);

function recordsAddon(env: NodeJS.ProcessEnv = process.env): Required<RecordsAddon> | null {
  if (env.BLOCKSCOPE_TLS_RECORDS === '0') return null;
  const addon = nativeIo() as RecordsAddon | null;
  return addon?.TlsRecords ? (addon as Required<RecordsAddon>) : null;
}

let handovers = 0;

/** Connections whose records this module's layer took over from Node since start. */
export function recordLayerHandovers(): number {
  return handovers;
}

/** Bytes of the records that carry `length` bytes of plaintext (native/tls_session.h's TlsRecordsSize). */
export function sealedLength(length: number): number {
  return length + Math.ceil(length / RECORD_PLAIN) * RECORD_OVERHEAD;
}

/** Whole records at the front of `bytes`, and what is left of an unfinished one. */
function splitRecords(bytes: Buffer): { records: Buffer[]; rest: Buffer } {
  const records: Buffer[] = [];
  let at = 0;
  while (bytes.length - at >= HEADER) {
    const end = at + HEADER + bytes.readUInt16BE(at + 3);
    if (end > bytes.length) break;
    records.push(bytes.subarray(at, end));
    at = end;
  }
  return { records, rest: bytes.subarray(at) };
}

/** Node's TLS socket during the handshake: passes records both ways and keeps count (see the head comment). */
class HandshakeTap extends Duplex {
  /** Traffic secrets by their keylog label (CLIENT_HANDSHAKE_TRAFFIC_SECRET, ...). */
  readonly secrets = new Map<string, Buffer>();
  secure: tls.TLSSocket | null = null;
  /** The client's bytes not yet passed on: an unfinished record. */
  private incoming = NONE;
  /** The client's bytes from its first application record on, kept from Node. */
  private held: Buffer[] = [];
  private holding = false;
  /** Not TLS 1.3 as we know it: everything goes to Node unexamined. */
  private passThrough = false;
  private clientEnded = false;
  private clientCheck: TlsRecords | null = null;
  /** Node's records not yet whole, and the encrypted ones it sent. */
  private outgoing = NONE;
  private readonly sent: Buffer[] = [];
  private retired = false;
  private readonly onData = (chunk: Buffer) => this.fromClient(chunk);
  private readonly onEnd = () => {
    this.clientEnded = true;
    if (!this.holding) this.push(null);
  };
  private readonly onError = (err: Error) => this.destroy(err);

  constructor(readonly raw: Socket, private readonly route: { to: (chunk: Buffer) => void }, private readonly addon: Required<RecordsAddon>) {
    super();
    route.to = this.onData;
    raw.on('end', this.onEnd);
    raw.on('error', this.onError);
  }

  keylog(line: Buffer): void {
    const [label, , secret] = line.toString('latin1').trim().split(' ');
    if (label && secret) this.secrets.set(label, Buffer.from(secret, 'hex'));
  }

  /** The negotiated suite's number, or -1 when the record layer does not know it (or it is not TLS 1.3). */
  suite(): number {
    const name = this.secure?.getProtocol() === 'TLSv1.3' ? this.secure.getCipher()?.standardName : undefined;
    return name !== undefined && name in TLS13_SUITES ? TLS13_SUITES[name]! : -1;
  }

  private fromClient(lent: Buffer): void {
    // The socket's read buffer is reused for the next read.
    const chunk = Buffer.from(lent);
    if (this.passThrough) {
      this.push(chunk);
      return;
    }
    if (this.holding) {
      this.held.push(chunk);
      return;
    }
    const { records, rest } = splitRecords(this.incoming.length ? Buffer.concat([this.incoming, chunk]) : chunk);
    this.incoming = Buffer.from(rest);
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!;
      // Node may have finished the handshake inside the previous push (handOver holds from then on).
      if (this.holding) {
        this.held.push(...records.slice(i), this.incoming);
        this.incoming = NONE;
        return;
      }
      if (record[0] === APPLICATION_DATA && !this.isClientHandshake(record)) {
        if (this.passThrough) {
          this.push(Buffer.concat([...records.slice(i), this.incoming]));
          this.incoming = NONE;
          return;
        }
        // The client's first application data: Node never sees it (nor anything after it).
        this.holding = true;
        this.held.push(...records.slice(i), this.incoming);
        this.incoming = NONE;
        return;
      }
      this.push(record);
    }
  }

  /** Whether an encrypted record of the client's opens with its handshake key (else it is application data). */
  private isClientHandshake(record: Buffer): boolean {
    if (!this.clientCheck) {
      const secret = this.secrets.get('CLIENT_HANDSHAKE_TRAFFIC_SECRET');
      const suite = this.suite();
      if (!secret || suite < 0) {
        this.passThrough = true;
        return false;
      }
      this.clientCheck = new this.addon.TlsRecords(suite, secret, 0, NONE, 0);
    }
    return this.clientCheck.tryOpen(record) >= 0;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    if (this.retired) return done();
    if (this.passThrough) {
      // No handover will come: nothing to count (a TLS 1.2 connection lives on here).
      const rest = this.outgoing;
      this.outgoing = NONE;
      this.raw.write(rest.length ? Buffer.concat([rest, chunk]) : chunk, done);
      return;
    }
    // Whole records only, so that the cut at the handover never falls inside one.
    const { records, rest } = splitRecords(this.outgoing.length ? Buffer.concat([this.outgoing, chunk]) : chunk);
    this.outgoing = Buffer.from(rest);
    for (const r of records) if (r[0] === APPLICATION_DATA) this.sent.push(Buffer.from(r));
    if (records.length === 0) return done();
    this.raw.write(records.length === 1 ? records[0]! : Buffer.concat(records), done);
  }

  override _read(): void {}

  override _final(done: (err?: Error | null) => void): void {
    if (this.retired) return done();
    this.raw.end(done);
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    if (!this.retired) this.raw.destroy();
    done(err);
  }

  /**
   * At 'secure': cut Node off and return the socket that carries the connection from now on,
   * or null when Node's socket must go on doing so (then everything held reaches it).
   */
  async handOver(): Promise<TlsRecordSocket | null> {
    const suite = this.suite();
    const clientApp = this.secrets.get('CLIENT_TRAFFIC_SECRET_0');
    const serverApp = this.secrets.get('SERVER_TRAFFIC_SECRET_0');
    const serverHandshake = this.secrets.get('SERVER_HANDSHAKE_TRAFFIC_SECRET');
    if (this.passThrough || suite < 0 || !clientApp || !serverApp || !serverHandshake) return this.keepNode();
    this.holding = true;
    if (this.incoming.length) this.held.push(this.incoming);
    this.incoming = NONE;
    // 'secure' comes from inside Node's processing of a push: write only once that is over.
    await new Promise((resolve) => setImmediate(resolve));
    // Session tickets Node has ready go out now, and count.
    await new Promise<void>((resolve) => this.secure!.write(NONE, () => resolve()));
    const handshake = new this.addon.TlsRecords(suite, serverHandshake, 0, NONE, 0);
    const application = new this.addon.TlsRecords(suite, serverApp, 0, NONE, 0);
    let sentApplication = 0;
    for (const r of this.sent) {
      if (handshake.tryOpen(r) >= 0) continue;
      if (application.tryOpen(r) < 0) return this.keepNode();
      sentApplication++;
    }
    this.retired = true;
    this.raw.off('end', this.onEnd);
    this.raw.off('error', this.onError);
    const records = new this.addon.TlsRecords(suite, clientApp, 0, serverApp, sentApplication);
    handovers++;
    return new TlsRecordSocket(this.raw, this.route, records, Buffer.concat(this.held), this.clientEnded);
  }

  private keepNode(): null {
    this.passThrough = true;
    this.holding = false;
    this.sent.length = 0;
    const held = Buffer.concat([...this.held, this.incoming]);
    this.held = [];
    this.incoming = NONE;
    if (held.length) this.push(held);
    if (this.clientEnded) this.push(null);
    return null;
  }
}

/**
 * A TLS 1.3 connection's plaintext end after the handover: what the NBD session reads and
 * writes, sealed and opened by `records` on the socket underneath. Pausing it stops the
 * socket's reading at once, and plaintext opened meanwhile waits here (`held`), so that the
 * connection loop can take the socket, the records and that plaintext (connection-loop.ts).
 */
export class TlsRecordSocket extends Duplex {
  readonly encrypted = true;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  /** Sealed buffers the socket has written, for the next replies. */
  private readonly spares: Buffer[] = [];
  /** Plaintext opened while the reader was paused, oldest first. */
  private held: Buffer[] = [];
  /** The connection loop took the socket (takeHeld) and has not given it back (resume). */
  private lent = false;

  constructor(readonly raw: Socket, route: { to: (chunk: Buffer) => void }, readonly records: TlsRecords, first: Buffer, clientEnded: boolean) {
    // Half-open: the client's end of the stream is handled in clientEnd().
    super({ allowHalfOpen: true });
    this.remoteAddress = raw.remoteAddress;
    this.remotePort = raw.remotePort;
    route.to = (chunk) => this.fromClient(chunk);
    raw.on('end', () => this.clientEnd());
    raw.on('error', (err) => this.destroy(err));
    raw.on('close', () => this.destroy());
    // After the caller has its listeners on.
    queueMicrotask(() => {
      if (first.length) this.fromClient(first);
      if (clientEnded) this.clientEnd();
    });
  }

  /** The descriptor the connection loop serves on (the socket underneath's). */
  get fd(): number {
    return socketFd(this.raw);
  }

  /** Ciphertext from the client. */
  private fromClient(chunk: Buffer): void {
    if (this.destroyed || this.readableEnded) return;
    const r = this.records.receive(chunk);
    if (r.reply.length) this.raw.write(r.reply);
    if (r.data.length) this.deliver(r.data);
    if (r.status === 1) this.clientEnd();
    else if (r.status === 2) {
      this.raw.end();
      this.destroy(new Error(r.error));
    }
  }

  private deliver(data: Buffer): void {
    if (this.held.length > 0 || this.isPaused()) this.held.push(data);
    else this.push(data);
  }

  override pause(): this {
    super.pause();
    this.raw.pause();
    return this;
  }

  override resume(): this {
    super.resume();
    while (this.held.length > 0 && !this.isPaused()) this.push(this.held.shift()!);
    if (!this.isPaused() && !this.raw.destroyed) {
      this.raw.resume();
      // The connection loop may have met the client's close_notify while it had the socket.
      if (this.lent) {
        this.lent = false;
        this.fromClient(NONE);
      }
    }
    return this;
  }

  /** Plaintext opened and not yet read (the connection loop's first bytes when it takes over). */
  takeHeld(): Buffer {
    this.lent = true;
    const held = Buffer.concat(this.held);
    this.held = [];
    return held;
  }

  /**
   * The client's end of the stream, after the plaintext before it. Our side ends when the
   * connection has answered what came before (it hangs up at 'end', connection.ts): ending one
   * turn later, as Node's TLS socket is made to, lost the replies of requests still running.
   */
  private clientEnd(): void {
    if (this.readableEnded) return;
    for (const data of this.held.splice(0)) this.push(data);
    this.push(null);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.sendSealed([chunk], done);
  }

  override _writev(chunks: { chunk: Buffer }[], done: (err?: Error | null) => void): void {
    this.sendSealed(chunks.map((c) => c.chunk), done);
  }

  private sendSealed(plaintexts: Buffer[], done: (err?: Error | null) => void): void {
    const length = plaintexts.reduce((n, p) => n + sealedLength(p.length), 0);
    // No bytes, no record (an empty write is a barrier: it completes after those before it).
    if (length === 0) return void this.raw.write(NONE, done);
    const at = this.spares.findIndex((b) => b.length >= length);
    const out = at >= 0 ? this.spares.splice(at, 1)[0]! : Buffer.allocUnsafeSlow(Math.max(length, 64 * 1024));
    this.records.seal(out, ...plaintexts);
    this.raw.write(out.subarray(0, length), (err) => {
      if (out.length <= SPARE_MAX && this.spares.length < SPARES) this.spares.push(out);
      done(err);
    });
  }

  override _read(): void {}

  override _final(done: (err?: Error | null) => void): void {
    if (this.raw.destroyed) return done();
    this.raw.end(this.records.alert(0), () => done());
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.raw.destroy();
    done(err);
  }
}

/** The handshake's parts when the record layer can take the connection over, else null. */
export interface RecordsHandshake {
  /** The stream Node's TLS socket runs on. */
  tap: Duplex;
  /** Call with Node's TLS socket before the handshake starts. */
  attach(secure: tls.TLSSocket): void;
  /** At 'secure': our socket, or null where Node's goes on. */
  handOver(): Promise<Socket | null>;
  /** Close the accepted socket's own descriptor once the new socket has its place. */
  retire(): void;
}

/**
 * After STARTTLS's ACK: a socket of our own on a duplicate of `plain`'s descriptor, and the tap
 * on it, ready for Node's TLS socket. Null without the addon's record layer.
 */
export async function recordsHandshake(plain: Socket, env: NodeJS.ProcessEnv = process.env): Promise<RecordsHandshake | null> {
  const addon = recordsAddon(env);
  if (!addon) return null;
  const copy = await handOverDescriptor(plain);
  if (copy < 0) return null;
  // Read into one reused buffer and handed on at once (net's onread), like the accepted socket:
  // pausing it then stops the reading at once, so that the connection loop can take the
  // descriptor without Node holding bytes back.
  const route: { to: (chunk: Buffer) => void } = { to: () => {} };
  const raw = new net.Socket({
    fd: copy,
    readable: true,
    writable: true,
    onread: { buffer: Buffer.allocUnsafe(READ_BUFFER), callback: (n: number, buf: Uint8Array) => route.to(Buffer.from(buf.buffer, buf.byteOffset, n)) },
  } as net.SocketConstructorOpts);
  raw.setNoDelay(true);
  const tap = new HandshakeTap(raw, route, addon);
  return {
    tap,
    attach(secure) {
      tap.secure = secure;
      secure.on('keylog', (line) => tap.keylog(line));
    },
    handOver: () => tap.handOver() as Promise<Socket | null>,
    retire: () => plain.destroy(),
  };
}
