// TLS on worker threads. Node encrypts on the thread that owns the socket, so with every
// connection's TLS on the main thread, one core did all the encryption while nbdkit spreads
// it over its threads (w1tls ran at 0.6-0.7x nbdkit). After STARTTLS's ACK the connection's
// socket moves to a worker (tls-worker.mjs) by a second descriptor from the native addon;
// the worker runs the TLS handshake and the encryption, and the main thread keeps the whole
// NBD session, talking plaintext to the worker through a Duplex. Workers pay off only with
// cores to spare: on a 2-core machine that also runs the client, w1tls read 640 MB/s through
// them and 880 MB/s with TLS on the main thread (npm run bench, 5 rounds), so there TLS stays
// on the main thread (tls-upgrade.ts). BLOCKSCOPE_TLS_WORKERS=1 or 0 overrides the choice;
// without the addon TLS always stays on the main thread.
import { X509Certificate, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import { availableParallelism } from 'node:os';
import { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { canHandOver, handOverDescriptor } from './socket-handover.ts';
import type { TlsCredentials } from './tls-credentials.ts';
import { HANDSHAKE_TIMEOUT_MS, PSK_CIPHERS, TlsHandshakeError, checkClientCertificate, handshakeFailure, type TlsPeer, type UpgradedConnection } from './tls-upgrade.ts';

/** Chunks from this size on move to the worker without a copy (see OffloadedTls._write). */
const TRANSFER_MIN = 64 * 1024;

/** What the worker needs to make the connection's TLS socket (structured-cloneable). */
type WorkerCredentials =
  | { id: string; kind: 'x509'; cert: string; key: string; ca?: string; requestCert: boolean }
  | { id: string; kind: 'psk'; keys: Map<string, Buffer>; ciphers: string };

type FromWorker =
  | { t: 'secure'; id: number; pskIdentity?: string; certificate?: Uint8Array }
  | { t: 'failed'; id: number; message: string; reason?: string; timeout: boolean; pskIdentity?: string }
  | { t: 'data'; id: number; data: Uint8Array }
  | { t: 'written' | 'finished' | 'eof' | 'closed'; id: number }
  | { t: 'error'; id: number; message: string };

/**
 * A connection's plaintext end on the main thread: what the NBD session reads and writes. A
 * write's callback runs once the worker has written it, as a socket's does once the kernel
 * has it, so the reply budget counts what waits in the worker; the writes queued meanwhile go
 * over together (_writev) and are written there one by one, without a copy.
 */
class OffloadedTls extends Duplex {
  readonly encrypted = true;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  /** Callbacks of the batches posted to the worker and not yet written, oldest first. */
  private readonly batches: ((err?: Error | null) => void)[] = [];
  private pausedWorker = false;
  private workerGone = false;

  constructor(private readonly slot: WorkerSlot, readonly id: number, plain: Socket) {
    // Half-open: the client's end of the stream is handled in fromWorker('eof').
    super({ allowHalfOpen: true });
    this.remoteAddress = plain.remoteAddress;
    this.remotePort = plain.remotePort;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.send([chunk], done);
  }

  override _writev(chunks: { chunk: Buffer }[], done: (err?: Error | null) => void): void {
    this.send(chunks.map((c) => c.chunk), done);
  }

  /**
   * A large chunk that is a whole ArrayBuffer (a READ reply) moves to the worker as it is and
   * is empty here afterwards: whoever wrote it is done with it (the reply writer counted its
   * length before, and its pool drops empty buffers). Anything else is copied: a small buffer
   * shares its memory with others.
   */
  private send(list: Buffer[], done: (err?: Error | null) => void): void {
    if (this.workerGone) return done(new Error('the connection is closed'));
    const chunks = list.map((c) => {
      const whole = c.length >= TRANSFER_MIN && c.byteOffset === 0 && c.buffer.byteLength === c.length && c.buffer instanceof ArrayBuffer;
      return whole ? new Uint8Array(c.buffer) : new Uint8Array(c);
    });
    this.batches.push(done);
    this.slot.post({ t: 'write', id: this.id, chunks }, chunks.map((c) => c.buffer as ArrayBuffer));
  }

  override _final(done: (err?: Error | null) => void): void {
    if (this.workerGone) return done();
    this.batches.push(done);
    this.slot.post({ t: 'end', id: this.id });
  }

  override _read(): void {
    if (!this.pausedWorker) return;
    this.pausedWorker = false;
    this.slot.post({ t: 'resume', id: this.id });
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    if (!this.workerGone) this.slot.post({ t: 'destroy', id: this.id });
    this.workerGone = true;
    this.slot.forget(this.id);
    for (const cb of this.batches.splice(0)) cb(err ?? new Error('the connection is closed'));
    done(err);
  }

  fromWorker(m: FromWorker): void {
    switch (m.t) {
      case 'data':
        if (!this.push(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength)) && !this.pausedWorker) {
          this.pausedWorker = true;
          this.slot.post({ t: 'pause', id: this.id });
        }
        return;
      case 'written':
      case 'finished':
        this.batches.shift()?.();
        return;
      case 'eof':
        // As a plain socket does, one turn after the client's end of the stream: requests
        // that came in the same read as the end (TLS delivers them together) start first.
        this.push(null);
        setImmediate(() => this.end());
        return;
      case 'error':
        this.workerGone = true;
        this.destroy(new Error(m.message));
        return;
      case 'closed':
        this.workerGone = true;
        this.push(null);
        this.destroy();
        return;
    }
  }
}

type Pending = { resolve: (m: Extract<FromWorker, { t: 'secure' }>) => void; reject: (m: Extract<FromWorker, { t: 'failed' }>) => void };

/** One worker thread and the connections it carries. */
class WorkerSlot {
  private readonly worker: Worker;
  private readonly sockets = new Map<number, OffloadedTls>();
  private readonly pending = new Map<number, Pending>();

  constructor(file: URL, private readonly onExit: (slot: WorkerSlot) => void) {
    this.worker = new Worker(file);
    this.worker.on('message', (m: FromWorker) => this.route(m));
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', () => this.fail(new Error('the TLS worker thread stopped')));
    // The server's listening socket keeps the process alive, not an idle worker. (After the
    // listeners: a 'message' listener refs the worker's port again.)
    this.worker.unref();
  }

  get load(): number {
    return this.sockets.size + this.pending.size;
  }

  post(message: object, transfer?: ArrayBuffer[]): void {
    this.worker.postMessage(message, transfer);
  }

  forget(id: number): void {
    this.sockets.delete(id);
  }

  handshake(id: number, fd: number, creds: WorkerCredentials): Promise<Extract<FromWorker, { t: 'secure' }>> {
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.post({ t: 'open', id, fd, creds, timeoutMs: HANDSHAKE_TIMEOUT_MS });
    });
  }

  attach(socket: OffloadedTls): void {
    this.sockets.set(socket.id, socket);
  }

  private route(m: FromWorker): void {
    const waiting = this.pending.get(m.id);
    if (waiting && (m.t === 'secure' || m.t === 'failed')) {
      this.pending.delete(m.id);
      if (m.t === 'secure') waiting.resolve(m);
      else waiting.reject(m);
      return;
    }
    this.sockets.get(m.id)?.fromWorker(m);
  }

  /** The thread died: its connections are gone (each closes, its client sees the socket end). */
  private fail(err: Error): void {
    this.onExit(this);
    for (const [id, p] of this.pending) p.reject({ t: 'failed', id, message: err.message, timeout: false });
    this.pending.clear();
    for (const s of this.sockets.values()) s.fromWorker({ t: 'error', id: s.id, message: err.message });
  }
}

/** Where tls-worker.mjs is: beside this module in the sources and in each bundle. */
function workerFile(): URL | null {
  try {
    const file = new URL('./tls-worker.mjs', import.meta.url);
    return existsSync(fileURLToPath(file)) ? file : null;
  } catch {
    return null; // a bundle without import.meta.url: TLS stays on the main thread
  }
}

const slots: WorkerSlot[] = [];
let nextConnection = 1;
let handedOver = 0;

/** Worker threads now, the connections they carry now, and connections handed to them since start. */
export function tlsWorkerLoad(): { threads: number; connections: number; handedOver: number } {
  return { threads: slots.length, connections: slots.reduce((n, s) => n + s.load, 0), handedOver };
}
const credentialIds = new WeakMap<TlsCredentials, string>();

/** An idle worker, a new one while there are fewer than cores, else the least loaded. */
function pickSlot(file: URL): WorkerSlot {
  const idle = slots.find((s) => s.load === 0);
  if (idle) return idle;
  if (slots.length < availableParallelism()) {
    const slot = new WorkerSlot(file, (gone) => {
      const at = slots.indexOf(gone);
      if (at >= 0) slots.splice(at, 1);
    });
    slots.push(slot);
    return slot;
  }
  return slots.reduce((a, b) => (b.load < a.load ? b : a));
}

function workerCredentials(creds: TlsCredentials): WorkerCredentials | null {
  let id = credentialIds.get(creds);
  if (!id) credentialIds.set(creds, (id = randomUUID()));
  if (creds.kind === 'psk') return { id, kind: 'psk', keys: creds.keys, ciphers: PSK_CIPHERS };
  if (!creds.pem) return null;
  return { id, kind: 'x509', cert: creds.pem.cert, key: creds.pem.key, ...(creds.pem.ca ? { ca: creds.pem.ca } : {}), requestCert: creds.verifyPeer !== null };
}

/** Workers on machines with more than two cores, unless BLOCKSCOPE_TLS_WORKERS says otherwise. */
export function tlsWorkersWanted(env: NodeJS.ProcessEnv = process.env, cores = availableParallelism()): boolean {
  const forced = env.BLOCKSCOPE_TLS_WORKERS;
  return forced === '1' ? true : forced === '0' ? false : cores > 2;
}

/** Is TLS on worker threads possible here? */
function offloadParts(plain: Socket, creds: TlsCredentials): { file: URL; wc: WorkerCredentials } | null {
  if (!tlsWorkersWanted() || !canHandOver(plain)) return null;
  const file = workerFile();
  const wc = workerCredentials(creds);
  return file && wc ? { file, wc } : null;
}

/**
 * After STARTTLS's ACK: move `plain` to a TLS worker and run the handshake there. Resolves
 * null when TLS cannot leave the main thread here (the caller then upgrades in place);
 * rejects, with the socket closed, when the handshake fails.
 */
export async function offloadTls(plain: Socket, creds: TlsCredentials): Promise<UpgradedConnection | null> {
  const parts = offloadParts(plain, creds);
  if (!parts) return null;
  const fd = await handOverDescriptor(plain);
  if (fd < 0) return null;
  const slot = pickSlot(parts.file);
  const id = nextConnection++;
  handedOver++;
  const peer: TlsPeer = {};
  try {
    const secure = await slot.handshake(id, fd, parts.wc);
    if (secure.pskIdentity !== undefined) peer.pskIdentity = secure.pskIdentity;
    if (creds.kind === 'x509' && creds.verifyPeer) {
      const cert = secure.certificate ? new X509Certificate(Buffer.from(secure.certificate)) : undefined;
      try {
        checkClientCertificate(cert, creds.verifyPeer, peer);
      } catch (err) {
        slot.post({ t: 'destroy', id });
        throw err;
      }
    }
  } catch (failure) {
    plain.destroy();
    const identity = (failure as { pskIdentity?: string }).pskIdentity;
    if (identity !== undefined) peer.pskIdentity = identity;
    throw handshakeFailure(workerFailure(failure), creds, peer);
  }
  const socket = new OffloadedTls(slot, id, plain);
  slot.attach(socket);
  return { socket: socket as unknown as Socket, peer, retire: () => plain.destroy() };
}

/** A failure reported by the worker as the Error the in-thread handshake would have seen. */
function workerFailure(failure: unknown): Error {
  if (failure instanceof Error) return failure;
  const m = failure as Extract<FromWorker, { t: 'failed' }>;
  return m.timeout ? new TlsHandshakeError(m.message) : Object.assign(new Error(m.message), { reason: m.reason });
}
