// Where the app's NBD server listens, and how it gets there: the address and port asked for
// (or kept from the running server), a free port when the standard one is taken, and a Unix
// socket beside the TCP port when one was named.
import type { TlsServeSettings } from '../../shared/ipc.ts';
import { DEFAULT_NBD_PORT } from '../../shared/ipc.ts';
import type { NbdServer } from '../nbd/server.ts';
import { ServiceError } from './errors.ts';

export interface Endpoint {
  host: string;
  port: number;
  socketPath?: string;
  tls: TlsServeSettings;
}

export interface EndpointRequest {
  host?: string;
  port?: number;
  socketPath?: string;
  tls?: TlsServeSettings;
}

/** What `asked` wants, filling gaps from the running endpoint `at` (or the defaults). */
export function wantedEndpoint(asked: EndpointRequest, at: Endpoint | null): Endpoint {
  return {
    host: asked.host ?? at?.host ?? '127.0.0.1',
    port: asked.port ?? at?.port ?? DEFAULT_NBD_PORT,
    socketPath: asked.socketPath ?? at?.socketPath,
    tls: asked.tls ?? at?.tls ?? { mode: 'off' },
  };
}

/** Whether serving at `wanted` needs the running server at `at` to stop and start again elsewhere. */
export function endpointMoved(at: Endpoint, wanted: Endpoint, askedPort: number | undefined): boolean {
  return wanted.host !== at.host || wanted.socketPath !== at.socketPath ||
    (askedPort !== undefined && askedPort !== 0 && askedPort !== at.port) || JSON.stringify(wanted.tls) !== JSON.stringify(at.tls);
}

/** Listen at `at`; returns the TCP port taken. Failures close nothing the caller does not own. */
export async function listenAt(server: Pick<NbdServer, 'listen' | 'close'>, at: Endpoint, portWasDefault: boolean, log: (line: string) => void): Promise<number> {
  let port = at.port;
  try {
    port = (await server.listen({ host: at.host, port })).port ?? port;
  } catch (err) {
    // The standard port is often taken (another server, another test): any free port will do.
    if (!portWasDefault) throw new ServiceError('failed', (err as Error).message);
    port = (await server.listen({ host: at.host, port: 0 })).port!;
    log(`port ${at.port} is in use; listening on ${port} instead`);
  }
  if (at.socketPath) {
    try {
      await server.listen({ path: at.socketPath });
    } catch (err) {
      await server.close();
      throw new ServiceError('failed', (err as Error).message);
    }
  }
  return port;
}
