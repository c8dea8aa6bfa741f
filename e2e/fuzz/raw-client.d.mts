// Types of raw-client.mjs for the TypeScript suites that import it.
import type net from 'node:net';

export interface RawConnection {
  sock: net.Socket;
  /** The next `n` bytes received. */
  until(n: number): Promise<Buffer>;
}

export declare const CLIENT_FLAGS: Buffer;
export declare function encodeOptionHeader(option: number, data: Buffer | number): Buffer;
export declare function rawConnect(port: number): Promise<RawConnection>;
export declare function goDefault(conn: RawConnection): Promise<void>;
