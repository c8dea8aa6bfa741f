// Reading a socket into memory the reader chooses. Node's own reads are 64 KiB, a new buffer
// each: at a gigabyte a second that is a stream of fresh allocations, each page faulted in
// (on this VM a first touch costs ~10 us per 4 KiB page) and later collected. With net's
// documented `onread` option the socket reads into one reused buffer instead, or wherever
// the reader says (its buffer function is asked again after every read), so a large payload
// can land in place with one copy, from the kernel. The server reads its clients this way
// (WRITE payloads), the client its server (READ data, block status answers).
import net from 'node:net';

/** Bytes read from a socket at once. */
const READ_BUFFER_SIZE = 1024 * 1024;

/** Where a lent-buffer socket's bytes go. */
export interface SocketReader {
  /** The buffer the next read fills: `shared`, a part of it, or one of the reader's own. */
  target(shared: Buffer): Buffer;
  /** Bytes read into the shared buffer: a view valid until this call returns. */
  received(chunk: Buffer): void;
  /** `n` bytes read into a buffer of the reader's own that target() returned. */
  receivedDirect(n: number): void;
}

/**
 * A socket on `socket`'s connection that reads as `reader` says. Node offers onread only when
 * a Socket is constructed, so the handle moves to a new Socket; the old one is closed with it
 * (a server's connection count stays right). Returns null where that cannot be done safely:
 * the runtime lacks it, or the old socket holds bytes read or to be written (then the caller
 * goes on with `socket` as it is).
 */
export function lendReadBuffer(socket: net.Socket, reader: SocketReader): net.Socket | null {
  const internal = socket as unknown as { _handle: { useUserBuffer?: unknown; readStop?: () => number; reading?: boolean } | null };
  const handle = internal._handle;
  if (!handle || typeof handle.useUserBuffer !== 'function') return null;
  if (socket.readableLength > 0 || socket.writableLength > 0) return null;
  const shared = Buffer.allocUnsafe(READ_BUFFER_SIZE);
  const onread = {
    buffer: () => reader.target(shared),
    callback: (n: number, buf: Buffer) => {
      if (buf.buffer === shared.buffer) reader.received(buf.subarray(0, n));
      else reader.receivedDirect(n);
    },
  };
  try {
    // A socket that has been reading (a client after its handshake) stops first, and says so
    // on the handle (net's own flag): the new one starts it reading again only if it is not,
    // and libuv refuses a second start. Stopping a handle that is not reading does nothing.
    handle.readStop?.();
    handle.reading = false;
    const lent = new net.Socket({ handle, readable: true, writable: true, onread } as net.SocketConstructorOpts);
    internal._handle = null;
    lent.once('close', () => socket.destroy());
    return lent;
  } catch {
    return null;
  }
}
