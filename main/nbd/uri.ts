// NBD URIs (the NBD project's doc/uri.md subset that matters here): nbd://host[:port]/export,
// nbd+unix:///export?socket=PATH, and their TLS forms nbds:// and nbds+unix:// with libnbd's
// query parameters: tls-certificates=DIR (ca-cert.pem, and client-cert.pem/client-key.pem
// if present), tls-psk-file=FILE with the user from the userinfo (nbds://alice@host/), and
// tls-verify-peer=false to skip checking the server's certificate.
import os from 'node:os';

/** How the client starts TLS; absent for nbd:// and nbd+unix://. */
export type ClientTls =
  /** certificates: the folder; absent means the system's trusted CAs. */
  | { kind: 'x509'; certificates?: string; verifyPeer: boolean; hostname: string }
  | { kind: 'psk'; pskFile: string; username: string };

export type NbdAddress = ({ host: string; port: number } | { path: string }) & { exportName: string; tls?: ClientTls };

export { isNbdUri } from '../../shared/nbd-uri.ts';

const EXAMPLES = 'examples: nbd://127.0.0.1:10809/, nbd+unix:///?socket=/tmp/s, nbds://host/?tls-certificates=DIR';

export function parseNbdUri(text: string): NbdAddress {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`'${text}' is not a valid NBD URI (${EXAMPLES})`);
  }
  const exportName = decodeURIComponent(url.pathname.replace(/^\//, ''));
  const secure = url.protocol.startsWith('nbds');
  const transport = url.protocol.replace(/^nbds?/, '');
  switch (transport) {
    case ':':
    case '+tcp:': {
      if (!url.hostname) throw new Error(`'${text}': an ${url.protocol}// URI needs a host`);
      const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
      return { host, port: url.port ? Number(url.port) : 10809, exportName, tls: secure ? clientTls(url, host) : undefined };
    }
    case '+unix:': {
      const path = url.searchParams.get('socket');
      if (!path) throw new Error(`'${text}': an ${url.protocol}// URI needs ?socket=PATH`);
      // libnbd checks a certificate reached over a Unix socket against "localhost".
      return { path, exportName, tls: secure ? clientTls(url, 'localhost') : undefined };
    }
    default:
      throw new Error(`'${text}': unsupported scheme ${url.protocol} (nbd://, nbds://, nbd+unix:// and nbds+unix:// are supported)`);
  }
}

/** The TLS half of an nbds URI: PSK when tls-psk-file= is given, else X.509. */
function clientTls(url: URL, hostname: string): ClientTls {
  const q = url.searchParams;
  const pskFile = q.get('tls-psk-file');
  if (pskFile) {
    // libnbd's default PSK user is the login name, as ssh's is.
    return { kind: 'psk', pskFile, username: url.username ? decodeURIComponent(url.username) : os.userInfo().username };
  }
  const verify = q.get('tls-verify-peer');
  if (verify !== null && !/^(true|false|on|off|yes|no|1|0)$/i.test(verify)) throw new Error(`'${url.href}': tls-verify-peer=${verify}: expected true or false`);
  return { kind: 'x509', certificates: q.get('tls-certificates') ?? undefined, verifyPeer: verify === null || /^(true|on|yes|1)$/i.test(verify), hostname };
}
