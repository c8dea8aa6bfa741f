// The client's side of STARTTLS: after the server's ACK, the connected socket carries a TLS
// handshake as a client, with libnbd's credentials (a tls-certificates folder or a psktool
// key file). Node checks the server's certificate against ca-cert.pem and the host name;
// its failures are turned into a sentence naming the file or parameter to change.
import { existsSync, readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { parsePskFile, readPem } from './tls-credentials.ts';
import { PSK_CIPHERS } from './tls-upgrade.ts';
import type { ClientTls } from './uri.ts';

/** SNI carries names only: RFC 6066 forbids addresses (and Node warns about them). */
const isIpAddress = (host: string) => /^[\d.]+$/.test(host) || host.includes(':');

function x509Options(creds: Extract<ClientTls, { kind: 'x509' }>): tls.ConnectionOptions {
  const dir = creds.certificates;
  const own = dir !== undefined && existsSync(path.join(dir, 'client-cert.pem'));
  return {
    // Without a folder, the system's trusted CAs (Node's default), as libnbd falls back to its system paths.
    ca: dir !== undefined ? readPem(dir, 'ca-cert.pem') : undefined,
    cert: own ? readPem(dir, 'client-cert.pem') : undefined,
    key: own ? readPem(dir, 'client-key.pem') : undefined,
    host: creds.hostname,
    servername: isIpAddress(creds.hostname) ? undefined : creds.hostname,
    rejectUnauthorized: creds.verifyPeer,
  };
}

function pskOptions(creds: Extract<ClientTls, { kind: 'psk' }>): tls.ConnectionOptions {
  let text: string;
  try {
    text = readFileSync(creds.pskFile, 'utf8');
  } catch (err) {
    throw new Error(`TLS: cannot read the PSK file ${creds.pskFile}: ${(err as Error).message}`, { cause: err });
  }
  const key = parsePskFile(text, creds.pskFile).get(creds.username);
  if (!key) throw new Error(`TLS: ${creds.pskFile} has no key for the user '${creds.username}' (name it in the URI: nbds://USER@host/)`);
  return {
    // GnuTLS servers (nbdkit, qemu-nbd) do PSK up to TLS 1.2, as our server does.
    ciphers: PSK_CIPHERS,
    maxVersion: 'TLSv1.2',
    pskCallback: () => ({ identity: creds.username, psk: key }),
    // PSK authenticates both ends; there is no certificate whose name could be checked.
    checkServerIdentity: () => undefined,
  };
}

/** What went wrong in a client TLS handshake, as the thing to change. */
export function explainClientTlsFailure(err: Error, creds: ClientTls): string {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const reason = (err as { reason?: string }).reason ?? err.message;
  const ca = creds.kind === 'x509' && creds.certificates ? path.join(creds.certificates, 'ca-cert.pem') : "the system's trusted CAs";
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `the server's certificate is not for '${creds.kind === 'x509' ? creds.hostname : '?'}' (${reason}); connect by a name it has, or add tls-verify-peer=false`;
  }
  if (/UNABLE_TO_VERIFY|SELF_SIGNED|UNABLE_TO_GET_ISSUER|CERT_SIGNATURE_FAILURE/.test(code)) return `the server's certificate is not signed by ${ca} [${reason}]`;
  if (/CERT_HAS_EXPIRED|CERT_NOT_YET_VALID/.test(code)) return `the server's certificate is outside its validity period [${reason}]`;
  if (creds.kind === 'psk' && /bad record mac|decrypt|unknown psk|handshake failure|illegal parameter/i.test(reason)) {
    return `the server refused the pre-shared key of '${creds.username}' (wrong key, or a user it does not know) [${reason}]`;
  }
  if (/certificate required|bad certificate|unknown ca|certificate unknown/i.test(reason)) {
    return `the server refused our client certificate (does it want client-cert.pem in the tls-certificates folder, signed by its CA?) [${reason}]`;
  }
  // GnuTLS servers (nbdkit, qemu-nbd) hang up without an alert: name what is likely.
  if (/ECONNRESET|socket hang up|closed|disconnected/i.test(`${code} ${reason}`)) {
    return creds.kind === 'psk'
      ? `the server closed the connection during the TLS handshake: it does not accept the key of '${creds.username}' in ${creds.pskFile} (a wrong key or a user it does not know), or it uses certificates rather than PSK`
      : `the server closed the connection during the TLS handshake: it may want a client certificate (client-cert.pem and client-key.pem in the tls-certificates folder), or use PSK rather than certificates`;
  }
  return reason;
}

/** Upgrade `socket` to TLS as the client; rejects with an explained error. */
export function startClientTls(socket: Socket, creds: ClientTls): Promise<tls.TLSSocket> {
  const options = creds.kind === 'x509' ? x509Options(creds) : pskOptions(creds);
  return new Promise((resolve, reject) => {
    const secure = tls.connect({ ...options, socket });
    const fail = (err: Error) => {
      secure.destroy();
      reject(new Error(`TLS handshake failed: ${explainClientTlsFailure(err, creds)}`));
    };
    const onClose = () => fail(new Error('closed'));
    secure.once('error', fail);
    secure.once('close', onClose);
    secure.once('secureConnect', () => {
      secure.off('error', fail);
      secure.off('close', onClose);
      resolve(secure);
    });
  });
}
