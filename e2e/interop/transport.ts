// How a conformance suite reaches the server: in plaintext, or over TLS with X.509
// certificates or alice's pre-shared key. TLS servers run with --tls=require, so nothing is
// served before STARTTLS and a client that skipped TLS fails instead of passing unnoticed.
// The suites' properties, oracles and models stay the same; only the server's flags and the
// clients' names for the export change (libnbd: nbds:// URIs; qemu: --object tls-creds-*
// with --image-opts, as users write them).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type tls from 'node:tls';
import { afterAll, beforeAll } from 'vitest';
import { loadCertificates, loadPskFile, parsePskFile, type TlsCredentials } from '../../main/nbd/tls-credentials.ts';
import { PSK_CIPHERS } from '../../main/nbd/tls-upgrade.ts';
import { makeTlsFixtures } from './tls-fixtures.ts';

export type TransportKind = 'plain' | 'x509' | 'psk';

/** qemu-img's view of an export: --object words and an --image-opts string, or a plain URI. */
export interface QemuExport {
  objects: string[];
  /** `driver=nbd,...` for --image-opts; null when `uri` is used as a filename with -f raw. */
  imageOpts: string | null;
  uri: string;
}

export interface Transport {
  kind: TransportKind;
  /** Words added to `blockscope serve`. */
  serverArgs: string[];
  /** The same credentials for an NbdServer in the test process; null in plaintext. */
  serverTls: TlsCredentials | null;
  /** The URI a libnbd client uses, from the nbd:// or nbd+unix:// URI of the server. */
  clientUri(served: string): string;
  qemu(served: string): QemuExport;
  /** node:tls options for a raw client after STARTTLS; null in plaintext. */
  nodeTls: tls.ConnectionOptions | null;
  /** Whether the server's log shows its clients were on TLS (always true in plaintext). */
  loggedTls(serverLog: string): boolean;
  close(): void;
}

export const PLAIN: Transport = {
  kind: 'plain',
  serverArgs: [],
  serverTls: null,
  clientUri: (served) => served,
  qemu: (served) => ({ objects: [], imageOpts: null, uri: served }),
  nodeTls: null,
  loggedTls: () => true,
  close: () => {},
};

function qemuOverTls(creds: string, served: string): QemuExport {
  const { port, pathname } = new URL(served);
  const name = decodeURIComponent(pathname.slice(1));
  const imageOpts = `driver=nbd,server.type=inet,server.host=localhost,server.port=${port},export=${name.replaceAll(',', ',,')},tls-creds=tls0`;
  return { objects: ['--object', creds], imageOpts, uri: served };
}

/**
 * nbd:// -> nbds://, nbd+unix:// -> nbds+unix://, with the credentials in the query. The
 * server certificate names localhost (libnbd checks that name over a Unix socket too).
 */
function tlsUri(served: string, user: string, query: string): string {
  const uri = served.replace(/^nbd(\+unix)?:\/\/(127\.0\.0\.1)?/, (_, unix: string | undefined, ip: string | undefined) => `nbds${unix ?? ''}://${user}${ip ? 'localhost' : ''}`);
  return `${uri}${uri.includes('?') ? '&' : '?'}${query}`;
}

/** The transport of this kind; TLS ones make their certificates (certtool, psktool) first. */
export async function openTransport(kind: TransportKind): Promise<Transport> {
  if (kind === 'plain') return PLAIN;
  const fx = await makeTlsFixtures();
  if (kind === 'x509') {
    return {
      kind,
      serverArgs: ['--tls=require', '--tls-certificates', fx.server],
      serverTls: loadCertificates(fx.server, false),
      clientUri: (served) => tlsUri(served, '', `tls-certificates=${fx.client}`),
      qemu: (served) => qemuOverTls(`tls-creds-x509,id=tls0,dir=${fx.client},endpoint=client`, served),
      nodeTls: { ca: readFileSync(path.join(fx.client, 'ca-cert.pem')), servername: 'localhost' },
      loggedTls: (log) => log.includes(' over TLS'),
      close: fx.cleanup,
    };
  }
  const psk = parsePskFile(readFileSync(fx.pskFile, 'utf8'), fx.pskFile).get('alice')!;
  return {
    kind,
    serverArgs: ['--tls=require', '--tls-psk', fx.pskFile],
    serverTls: loadPskFile(fx.pskFile),
    clientUri: (served) => tlsUri(served, 'alice@', `tls-psk-file=${fx.pskFile}`),
    qemu: (served) => qemuOverTls(`tls-creds-psk,id=tls0,dir=${fx.pskDir},endpoint=client,username=alice`, served),
    // A PSK handshake proves the server knows the key: there is no certificate to check.
    nodeTls: { pskCallback: () => ({ identity: 'alice', psk }), ciphers: PSK_CIPHERS, maxVersion: 'TLSv1.2', checkServerIdentity: () => undefined },
    loggedTls: (log) => /over TLS as 'alice'/.test(log),
    close: fx.cleanup,
  };
}

/** The transport of this kind for the enclosing describe block (TLS ones make certificates). */
export function useTransport(kind: TransportKind): () => Transport {
  let t: Transport | undefined;
  beforeAll(async () => {
    t = await openTransport(kind);
  });
  afterAll(() => t?.close());
  return () => t!;
}
