// STARTTLS on an accepted socket: after the ACK, the same socket carries a TLS handshake
// and then every later option and the transmission phase. Failures become one sentence a
// user can act on (OpenSSL's own words are kept in brackets for the search engine).
import type { X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import type { TlsCredentials } from './tls-credentials.ts';
import { recordsHandshake } from './tls-records.ts';

/** Who is on the other end of a TLS connection, as far as TLS knows. */
export interface TlsPeer {
  /** The PSK identity the client named. */
  pskIdentity?: string;
  /** The verified client certificate's subject ("CN=alice, O=Example"). */
  certificateSubject?: string;
}

/**
 * GnuTLS (libnbd, qemu) offers plain and (EC)DHE PSK suites only up to TLS 1.2; Node's
 * pskCallback does not serve TLS 1.3 external PSKs to it, so PSK stays on TLS 1.2.
 */
export const PSK_CIPHERS = 'ECDHE-PSK-AES256-CBC-SHA384:ECDHE-PSK-AES128-CBC-SHA256:ECDHE-PSK-CHACHA20-POLY1305:DHE-PSK-AES256-GCM-SHA384:DHE-PSK-AES128-GCM-SHA256:PSK-AES256-GCM-SHA384:PSK-AES128-GCM-SHA256:PSK-CHACHA20-POLY1305';

/** A client that opens TLS and then stalls must not hold the connection forever. */
export const HANDSHAKE_TIMEOUT_MS = 30_000;

/** A failure whose message is already the sentence for the user. */
export class TlsHandshakeError extends Error {}

/** The error a failed handshake ends the connection with. */
export function handshakeFailure(err: Error, creds: TlsCredentials, peer: TlsPeer): Error {
  return new Error(`TLS handshake failed: ${err instanceof TlsHandshakeError ? err.message : explainTlsFailure(err, creds, peer)}`);
}

function socketOptions(creds: TlsCredentials, peer: TlsPeer): tls.TLSSocketOptions {
  if (creds.kind === 'x509') {
    // The check is ours (see checkClientCertificate) so that its failure says what was wrong.
    return { isServer: true, secureContext: creds.context, requestCert: creds.verifyPeer !== null, rejectUnauthorized: false };
  }
  return {
    isServer: true,
    secureContext: tls.createSecureContext({ ciphers: PSK_CIPHERS, maxVersion: 'TLSv1.2' }),
    pskCallback: (_socket: tls.TLSSocket, identity: string) => {
      peer.pskIdentity = identity;
      return creds.keys.get(identity) ?? null;
    },
  } as tls.TLSSocketOptions;
}

/**
 * --tls-verify-peer: a client certificate that ca-cert.pem signed, valid now. Checked here
 * rather than by OpenSSL because a bare server-side TLSSocket never computes `authorized`
 * (only tls.Server does), and because each failure deserves its own sentence. Clients
 * present certificates the CA signed directly (nbdkit's and qemu's layout), so there is no
 * chain to walk.
 */
export function checkClientCertificate(cert: X509Certificate | undefined, ca: X509Certificate, peer: TlsPeer, now = Date.now()): void {
  if (!cert) throw new TlsHandshakeError('the client sent no certificate, and --tls-verify-peer requires one');
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) throw new TlsHandshakeError(`the client certificate (${cert.subject.replace(/\n/g, ', ')}) is not signed by our ca-cert.pem`);
  if (Date.parse(cert.validTo) < now) throw new TlsHandshakeError(`the client certificate expired on ${cert.validTo}`);
  if (Date.parse(cert.validFrom) > now) throw new TlsHandshakeError(`the client certificate is not valid before ${cert.validFrom}`);
  peer.certificateSubject = cert.subject.replace(/\n/g, ', ');
}

/** OpenSSL's reason for a failed handshake, as the user's next step. */
export function explainTlsFailure(err: Error, creds: TlsCredentials, peer: TlsPeer): string {
  // OpenSSL's message carries a source path and line; its reason alone is what users search for.
  const reason = (err as { reason?: string }).reason ?? err.message;
  const text = reason.toLowerCase();
  if (creds.kind === 'psk' && peer.pskIdentity !== undefined && !creds.keys.has(peer.pskIdentity)) {
    return `the client's PSK identity '${peer.pskIdentity}' is not in the key file`;
  }
  if (creds.kind === 'psk' && /bad record mac|decrypt/.test(text)) return `wrong pre-shared key for '${peer.pskIdentity ?? '?'}' [${reason}]`;
  if (/unknown ca|bad certificate|certificate unknown|decrypt error/.test(text)) return `the client does not trust our certificate (is its CA our ca-cert.pem?) [${reason}]`;
  if (/no shared cipher|no suitable|unsupported protocol|version/.test(text)) {
    return `the client and this server share no TLS version or cipher${creds.kind === 'psk' ? ' (is the client using PSK?)' : ' (is the client using PSK against certificates?)'} [${reason}]`;
  }
  if (/wrong version number|http request|unknown protocol/.test(text)) return `the client did not start TLS after STARTTLS [${reason}]`;
  if (/econnreset|socket hang up|closed/.test(text)) return 'the client closed the connection during the TLS handshake (does it trust our certificate?)';
  return reason;
}

/**
 * Plain TCP reports a client's FIN in a read of its own; TLS reports its close_notify in the
 * same read as the records before it, and the stream's automatic end (allowHalfOpen false)
 * then ran before the requests in those records were answered: a FLUSH pipelined just
 * before DISC lost its reply. Ending one event-loop turn later gives them plaintext's turn.
 */
function endOneTurnLater(secure: tls.TLSSocket): void {
  secure.allowHalfOpen = true;
  secure.once('end', () => setImmediate(() => secure.end()));
}

/** A connection after its TLS handshake. */
export interface UpgradedConnection {
  /** The plaintext stream that takes the accepted socket's place. */
  socket: Socket;
  peer: TlsPeer;
  /**
   * Where `socket` runs on a descriptor of its own: closes the accepted socket's. Call it once
   * `socket` has taken its place, so that the old one's 'close' does not end the session.
   */
  retire?: () => void;
}

/**
 * Wrap `socket` in TLS as the server and complete the handshake. Resolves with the stream
 * that carries the connection from now on, ready for options: our record layer's for TLS 1.3
 * with certificates (tls-records.ts), else Node's TLS socket. Rejects with an explained error
 * after destroying it.
 */
export async function upgradeToTls(socket: Socket, creds: TlsCredentials): Promise<UpgradedConnection> {
  const peer: TlsPeer = {};
  // PSK stays on TLS 1.2 (PSK_CIPHERS), which the record layer does not do.
  const records = creds.kind === 'x509' ? await recordsHandshake(socket) : null;
  if (!records && socket.isPaused()) socket.resume();
  const secure = new tls.TLSSocket((records?.tap ?? socket) as Socket, socketOptions(creds, peer));
  records?.attach(secure);
  endOneTurnLater(secure);
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => fail(new TlsHandshakeError(`no TLS handshake within ${HANDSHAKE_TIMEOUT_MS / 1000} s`)), HANDSHAKE_TIMEOUT_MS);
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      secure.destroy();
      socket.destroy();
      reject(handshakeFailure(err, creds, peer));
    };
    const onClose = () => fail(new Error('closed'));
    secure.once('secure', () => {
      try {
        if (creds.kind === 'x509' && creds.verifyPeer) checkClientCertificate(secure.getPeerX509Certificate(), creds.verifyPeer, peer);
      } catch (err) {
        fail(err as Error);
        return;
      }
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      secure.off('error', fail);
      secure.off('close', onClose);
      if (!records) return resolve({ socket: secure, peer });
      records.handOver().then(
        (ours) => resolve({ socket: ours ?? secure, peer, retire: records.retire }),
        (err: Error) => {
          secure.destroy();
          socket.destroy();
          reject(handshakeFailure(err, creds, peer));
        },
      );
    });
    // Stays on after a failure: a destroyed TLS socket may still report an error.
    secure.on('error', fail);
    secure.once('close', onClose);
  });
}
