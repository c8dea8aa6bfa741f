// Types of raw-client.mjs for the TypeScript suites that import it.
import type net from 'node:net';
import type tls from 'node:tls';

export interface RawConnection {
  /** The plain socket, or the TLS socket over it after STARTTLS. */
  sock: net.Socket;
  /** The next `n` bytes received. */
  until(n: number): Promise<Buffer>;
  /** The client flags still to send: CLIENT_FLAGS, or nothing once STARTTLS has sent them. */
  flags: Buffer;
}

export declare const CLIENT_FLAGS: Buffer;
export declare function encodeOptionHeader(option: number, data: Buffer | number): Buffer;
export declare function upgradeClient(sock: net.Socket, options: tls.ConnectionOptions): Promise<tls.TLSSocket>;
export declare function rawConnect(port: number, options?: { tls?: tls.ConnectionOptions }): Promise<RawConnection>;
export declare function goDefault(conn: RawConnection): Promise<void>;
