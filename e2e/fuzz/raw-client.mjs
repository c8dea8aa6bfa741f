// A raw NBD client over TCP for hostile-client tests and measurements: byte-exact reads,
// no protocol logic beyond the greeting and a plain GO. Plain JavaScript so that
// hostile-load.mjs runs under node as it is, and the vitest suites import the same code
// (types in raw-client.d.mts).
import net from 'node:net';

/** Fixed newstyle, no zeroes: what every raw client here answers the greeting with. */
export const CLIENT_FLAGS = Buffer.from([0, 0, 0, 3]);

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
 * Connect to 127.0.0.1:`port` and read the 18-byte greeting. `until(n)` resolves with the
 * next n bytes received; one read at a time.
 */
export async function rawConnect(port) {
  const sock = net.connect(port, '127.0.0.1');
  sock.setNoDelay(true);
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
  sock.on('data', (d) => {
    got = Buffer.concat([got, d]);
    serve();
  });
  const until = (n) =>
    new Promise((resolve) => {
      want = { n, resolve };
      serve();
    });
  await new Promise((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  // Hostile clients are expected to be cut off; their errors are not failures.
  sock.on('error', () => {});
  await until(18);
  return { sock, until };
}

/** GO for the default export with no info requests, then wait for its ACK: transmission with simple replies. */
export async function goDefault({ sock, until }) {
  sock.write(Buffer.concat([CLIENT_FLAGS, encodeOptionHeader(7, Buffer.alloc(6))]));
  for (;;) {
    const h = await until(20);
    await until(h.readUInt32BE(16));
    if (h.readUInt32BE(12) === 1) return;
  }
}
