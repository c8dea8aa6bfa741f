// Two small TLS facts the serving panel shows: the engine's warning when anyone on the network
// could read the disk in clear (the CLI prints the same words), and how each client connected.
import type { ClientInfo } from '../../../shared/ipc.ts';

export function ExposureWarning({ warning }: { warning: string | undefined }) {
  if (!warning) return null;
  return (
    <div className="exposure-warning" role="alert" data-testid="serve-exposure-warning">
      ⚠ {warning}
    </div>
  );
}

/** "TLS · alice" (PSK identity or certificate subject), or "plain" for a client not on TLS. */
export function clientTlsWords(client: ClientInfo): string {
  if (!client.tls) return 'plain';
  const who = client.tls.pskIdentity ?? client.tls.certificateSubject;
  return who ? `TLS · ${who}` : 'TLS';
}

export function ClientTlsNote({ client }: { client: ClientInfo }) {
  return (
    <div className={client.tls ? 'client-tls on' : 'client-tls'} data-testid="client-tls">
      {clientTlsWords(client)}
    </div>
  );
}
