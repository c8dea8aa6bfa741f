// A raw NBD client over TCP for hostile-client tests and measurements: byte-exact reads,
// no protocol logic beyond the greeting, STARTTLS and a plain GO. Plain JavaScript so that
// hostile-load.mjs runs under node as it is, and the vitest suites import the same code
// (types in raw-client.d.mts).
import net from 'node:net';
import tls from 'node:tls';

/** Fixed newstyle, no zeroes: what every raw client here answers the greeting with. */
export const CLIENT_FLAGS = Buffer.from([0, 0, 0, 3]);

const OPT_STARTTLS = 5;
const REP_ACK = 1;

/** One handshake option; `data` a number sends only the header, claiming that length. */
export function encodeOptionHeader(option, data) {
  const length = typeof data === 'number' ? data : data.length;
  const h = Buffer.alloc(16);
  h.writeBigUInt64BE(0x49484156454f5054n, 0); // IHAVEOPT
  h.writeUInt32BE(option, 8);
  h.writeUInt32BE(length, 12);
  return typeof data === 'number' ? h : Buffer.concat([h, data]);
}

/**
 * The client side of TLS on a socket whose NBD_OPT_STARTTLS the server has just
 * acknowledged (the server sends nothing more until the TLS handshake, so no NBD bytes are
 * left behind on the plain socket). Resolves with the TLS socket once it is secure.
 */
export function upgradeClient(sock, options) {
  const secure = tls.connect({ ...options, socket: sock });
  return new Promise((resolve, reject) => {
    secure.once('secureConnect', () => {
      secure.off('error', reject);
      resolve(secure);
    });
    secure.once('error', reject);
  });
}

/** Hands out the bytes `sock` receives, n at a time, to one waiting read. */
function byteReader(sock) {
  let got = Buffer.alloc(0);
  let want = null;
  const serve = () => {
    if (want && got.length >= want.n) {
      const w = want;
      want = null;
      const out = got.subarray(0, w.n);
      got = got.subarray(w.n);
      w.resolve(out);
    }
  };
  const onData = (d) => {
    got = Buffer.concat([got, d]);
    serve();
  };
  sock.on('data', onData);
  const until = (n) =>
    new Promise((resolve) => {
      want = { n, resolve };
      serve();
    });
  return { until, stop: () => sock.off('data', onData) };
}

/**
 * Connect to 127.0.0.1:`port` and read the 18-byte greeting. `until(n)` resolves with the
 * next n bytes received; one read at a time. With `tls` (node:tls connect options), the
 * client flags and NBD_OPT_STARTTLS go first and the connection carries on over TLS on the
 * same socket; `flags` is then empty, since the client flags were already sent.
 */
export async function rawConnect(port, { tls: tlsOptions } = {}) {
  const plain = net.connect(port, '127.0.0.1');
  plain.setNoDelay(true);
  let reader = byteReader(plain);
  await new Promise((resolve, reject) => {
    plain.once('connect', resolve);
    plain.once('error', reject);
  });
  // Hostile clients are expected to be cut off; their errors are not failures.
  plain.on('error', () => {});
  await reader.until(18);
  if (!tlsOptions) return { sock: plain, until: reader.until, flags: CLIENT_FLAGS };
  plain.write(Buffer.concat([CLIENT_FLAGS, encodeOptionHeader(OPT_STARTTLS, Buffer.alloc(0))]));
  const reply = await reader.until(20);
  if (reply.readUInt32BE(12) !== REP_ACK) throw new Error(`STARTTLS refused: reply type 0x${reply.readUInt32BE(12).toString(16)}`);
  await reader.until(reply.readUInt32BE(16));
  reader.stop();
  const sock = await upgradeClient(plain, tlsOptions);
  sock.on('error', () => {});
  reader = byteReader(sock);
  return { sock, until: reader.until, flags: Buffer.alloc(0) };
}

/** GO for the default export with no info requests, then wait for its ACK: transmission with simple replies. */
export async function goDefault({ sock, until, flags }) {
  sock.write(Buffer.concat([flags, encodeOptionHeader(7, Buffer.alloc(6))]));
  for (;;) {
    const h = await until(20);
    await until(h.readUInt32BE(16));
    if (h.readUInt32BE(12) === REP_ACK) return;
  }
}
