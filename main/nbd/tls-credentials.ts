// What the server needs for STARTTLS, read and checked once at start: nbdkit's certificate
// folder (ca-cert.pem, server-cert.pem, server-key.pem) or a psktool key file. Every
// problem a user can fix (a missing file, a key that belongs to another certificate, an
// expired certificate, a malformed PSK line) is a TlsSetupError naming the file, so the
// server refuses to start instead of failing each client later.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
// The modes are part of the app's contract too (server.start): declared there once.
import { TLS_MODES, type TlsMode } from '../../shared/ipc/serving-payloads.ts';

export { TLS_MODES, type TlsMode };

export class TlsSetupError extends Error {}

/** How each connection's TLSSocket is set up. */
export type TlsCredentials =
  /**
   * verifyPeer: the CA client certificates must be signed by (--tls-verify-peer), else null.
   * pem: the files' text, from which a TLS worker thread makes its own context (tls-offload.ts).
   */
  | { kind: 'x509'; context: tls.SecureContext; verifyPeer: X509Certificate | null; pem?: { cert: string; key: string; ca?: string } }
  | { kind: 'psk'; keys: Map<string, Buffer> };

export interface TlsServerConfig {
  mode: TlsMode;
  /** Absent only when mode is off. */
  credentials?: TlsCredentials;
}

export function readPem(dir: string, name: string): string {
  const file = path.join(dir, name);
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable by this user' : (err as Error).message;
    throw new TlsSetupError(`TLS: ${file} ${why}`);
  }
}

function parseCertificate(file: string, pem: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw new TlsSetupError(`TLS: ${file} is not a PEM certificate (${(err as Error).message})`);
  }
}

/** A certificate outside its validity period fails every client: say so now. */
function checkValidity(file: string, cert: X509Certificate, now = Date.now()): void {
  if (Date.parse(cert.validTo) < now) throw new TlsSetupError(`TLS: ${file} expired on ${cert.validTo}; make a new certificate`);
  if (Date.parse(cert.validFrom) > now) throw new TlsSetupError(`TLS: ${file} is not valid before ${cert.validFrom}`);
}

/** nbdkit's --tls-certificates DIR layout; ca-cert.pem is needed only to check clients. */
export function loadCertificates(dir: string, verifyPeer: boolean): TlsCredentials {
  const certFile = path.join(dir, 'server-cert.pem');
  const keyFile = path.join(dir, 'server-key.pem');
  const certPem = readPem(dir, 'server-cert.pem');
  const keyPem = readPem(dir, 'server-key.pem');
  const cert = parseCertificate(certFile, certPem);
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    throw new TlsSetupError(`TLS: ${keyFile} is not a PEM private key (${(err as Error).message})`);
  }
  if (!cert.checkPrivateKey(key)) throw new TlsSetupError(`TLS: ${keyFile} is not the key of ${certFile} (they do not match)`);
  checkValidity(certFile, cert);
  const ca = verifyPeer ? readPem(dir, 'ca-cert.pem') : undefined;
  const caCert = ca ? parseCertificate(path.join(dir, 'ca-cert.pem'), ca) : null;
  try {
    const context = tls.createSecureContext({ cert: certPem, key: keyPem, ca });
    return { kind: 'x509', context, verifyPeer: caCert, pem: { cert: certPem, key: keyPem, ...(ca ? { ca } : {}) } };
  } catch (err) {
    throw new TlsSetupError(`TLS: the certificates in ${dir} cannot be used: ${(err as Error).message}`);
  }
}

/** psktool's key file: one `identity:hexkey` per line. */
export function parsePskFile(text: string, file: string): Map<string, Buffer> {
  const keys = new Map<string, Buffer>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const colon = line.lastIndexOf(':');
    const identity = line.slice(0, colon);
    const hex = line.slice(colon + 1);
    if (colon <= 0 || hex.length === 0 || hex.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(hex)) {
      throw new TlsSetupError(`TLS: ${file} line ${i + 1} is not 'identity:hexkey' (psktool's format)`);
    }
    keys.set(identity, Buffer.from(hex, 'hex'));
  });
  if (keys.size === 0) throw new TlsSetupError(`TLS: ${file} holds no keys`);
  return keys;
}

export function loadPskFile(file: string): TlsCredentials {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new TlsSetupError(`TLS: cannot read the PSK file ${file}: ${(err as Error).message}`);
  }
  return { kind: 'psk', keys: parsePskFile(text, file) };
}

function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::ffff:127.0.0.1';
}

/** Said by the CLI (and shown by the app's serving panel) when other machines could read the disk in clear. */
export function exposureWarning(host: string, mode: TlsMode): string | null {
  if (mode === 'require' || isLoopback(host)) return null;
  return `listening on ${host} without --tls=require: anyone who can reach this address can read the export${mode === 'on' ? ' in clear text (TLS is only offered)' : ' in clear text'}, and write it if it is writable; use --tls=require with --tls-certificates DIR or --tls-psk FILE`;
}
