// A TLS worker thread (see tls-offload.ts): takes connections whose STARTTLS the main thread
// has acknowledged, completes their TLS handshake and then only moves bytes, plaintext to and
// from the main thread, ciphertext to and from the socket. Encryption then runs beside the
// main thread instead of on it. It knows nothing of NBD, so it is plain JavaScript: a worker
// cannot load the TypeScript sources the tests run, and it needs nothing from them.
import net from 'node:net';
import tls from 'node:tls';
import { parentPort } from 'node:worker_threads';

/** id -> { socket, secure, queue, writing, ready } */
const connections = new Map();
/** One secure context per set of credentials: contexts are costly and every connection shares them. */
const contexts = new Map();

const post = (message, transfer) => parentPort.postMessage(message, transfer);

/** Bytes in memory of their own, so they can be transferred instead of copied again. */
function owned(chunk) {
  const copy = new Uint8Array(chunk.length);
  copy.set(chunk);
  return copy;
}

function contextFor(creds) {
  let context = contexts.get(creds.id);
  if (!context) {
    context = creds.kind === 'x509'
      ? tls.createSecureContext({ cert: creds.cert, key: creds.key, ca: creds.ca })
      : tls.createSecureContext({ ciphers: creds.ciphers, maxVersion: 'TLSv1.2' });
    contexts.set(creds.id, context);
  }
  return context;
}

function socketOptions(creds, peer) {
  const secureContext = contextFor(creds);
  if (creds.kind === 'x509') return { isServer: true, secureContext, requestCert: creds.requestCert, rejectUnauthorized: false };
  return {
    isServer: true,
    secureContext,
    pskCallback: (_socket, identity) => {
      peer.pskIdentity = identity;
      return creds.keys.get(identity) ?? null;
    },
  };
}

function open({ id, fd, creds, timeoutMs }) {
  const peer = {};
  let socket;
  let secure;
  try {
    socket = new net.Socket({ fd, readable: true, writable: true });
    secure = new tls.TLSSocket(socket, socketOptions(creds, peer));
  } catch (err) {
    post({ t: 'failed', id, message: err.message, pskIdentity: peer.pskIdentity });
    return;
  }
  const conn = { socket, secure, queue: [], writing: false, ready: false };
  connections.set(id, conn);
  const timer = setTimeout(() => fail({ message: `no TLS handshake within ${timeoutMs / 1000} s`, timeout: true }), timeoutMs);
  const fail = (err) => {
    if (conn.ready || !connections.has(id)) return;
    clearTimeout(timer);
    connections.delete(id);
    post({ t: 'failed', id, message: err.message, reason: err.reason, timeout: err.timeout === true, pskIdentity: peer.pskIdentity });
    secure.destroy();
    socket.destroy();
  };
  const closed = () => fail({ message: 'closed' });
  secure.on('error', fail);
  secure.once('close', closed);
  secure.once('end', closed);
  secure.once('secure', () => {
    clearTimeout(timer);
    conn.ready = true;
    secure.off('error', fail);
    secure.off('close', closed);
    secure.off('end', closed);
    // Half-open from now on: the client's end of the stream goes to the main thread as 'eof',
    // and this side ends only when the main thread says so, after its last replies. (Not
    // before the handshake: a client that hangs up then must fail it at once.)
    secure.allowHalfOpen = true;
    const cert = creds.requestCert ? secure.getPeerX509Certificate() : undefined;
    post({ t: 'secure', id, pskIdentity: peer.pskIdentity, certificate: cert ? owned(cert.raw) : undefined });
    secure.on('data', (chunk) => {
      const data = owned(chunk);
      post({ t: 'data', id, data }, [data.buffer]);
    });
    secure.on('end', () => post({ t: 'eof', id }));
    secure.on('error', (err) => post({ t: 'error', id, message: err.message }));
    secure.once('close', () => {
      connections.delete(id);
      post({ t: 'closed', id });
    });
  });
}

/**
 * One write at a time, the next on the previous one's callback: handed several buffers at
 * once, Node's TLS stream copies them into one before encrypting. The last write of a batch
 * tells the main thread the batch is written, which is when its writer may count those bytes
 * as sent (they are in the kernel, no longer in memory here).
 */
function writeNext(id, conn) {
  if (conn.writing) return;
  const next = conn.queue.shift();
  if (!next) return;
  if (next.end) {
    conn.secure.end(() => post({ t: 'finished', id }));
    return;
  }
  conn.writing = true;
  conn.secure.write(next.data, () => {
    conn.writing = false;
    if (next.last) post({ t: 'written', id });
    writeNext(id, conn);
  });
}

parentPort.on('message', (m) => {
  if (m.t === 'open') return open(m);
  const conn = connections.get(m.id);
  if (!conn) return;
  switch (m.t) {
    case 'write':
      m.chunks.forEach((c, i) => conn.queue.push({ data: Buffer.from(c.buffer, c.byteOffset, c.byteLength), last: i === m.chunks.length - 1 }));
      return writeNext(m.id, conn);
    case 'end':
      conn.queue.push({ end: true });
      return writeNext(m.id, conn);
    case 'pause':
      return void conn.secure.pause();
    case 'resume':
      return void conn.secure.resume();
    case 'destroy':
      connections.delete(m.id);
      conn.secure.destroy();
      conn.socket.destroy();
      return;
  }
});
