// TLS credentials the app makes for its user, kept in the app's state folder under tls/ in the
// layout nbdkit, libnbd and qemu read (the same as e2e/interop/tls-fixtures.ts):
//   ca-cert.pem, ca-key.pem   the CA (kept, so clients that trust it go on trusting new certificates)
//   server/                   ca-cert.pem, server-cert.pem, server-key.pem   (--tls-certificates)
//   client/                   ca-cert.pem, client-cert.pem, client-key.pem   (tls-certificates=, tls-creds-x509 dir)
//   psk/keys.psk              psktool's format (tls-psk-file=, tls-creds-psk dir)
// Folders are 0700 and private keys 0600: anyone who reads a key can impersonate its owner.
import { X509Certificate as NodeCertificate, randomBytes, webcrypto } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as x509 from '@peculiar/x509';
import { PSK_USER_PATTERN, type TlsCredentialsInfo, type TlsServeSettings, type TlsServerInfo } from '../../shared/ipc.ts';
import { ServiceError } from './errors.ts';
import { loadCertificates, loadPskFile, parsePskFile, readPem, TlsSetupError, type TlsServerConfig } from '../nbd/tls-credentials.ts';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
/** Node's webcrypto, as the library's (DOM-typed) signature names it. */
const crypto = webcrypto as unknown as NonNullable<Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[1]>;
const subtle = webcrypto.subtle;
const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 3600 * 1000;
/** Long enough not to surprise anyone; a new "create" renews server and client certificates. */
const CERT_DAYS = 825;
const CA_DAYS = 3650;

export interface TlsFolders {
  root: string;
  server: string;
  client: string;
  psk: string;
  pskFile: string;
}

export function tlsFolders(root: string): TlsFolders {
  return { root, server: path.join(root, 'server'), client: path.join(root, 'client'), psk: path.join(root, 'psk'), pskFile: path.join(root, 'psk', 'keys.psk') };
}

/** The names a client may use to reach this host: what the server certificate is issued for. */
export function hostNames(listenHost?: string): { dns: string[]; ips: string[] } {
  const dns = new Set(['localhost', os.hostname()]);
  const ips = new Set(['127.0.0.1', '::1']);
  const listen = listenHost?.replace(/^\[|\]$/g, '');
  // A wildcard address is not a name anyone connects to.
  if (listen && listen !== '0.0.0.0' && listen !== '::') (net.isIP(listen) ? ips : dns).add(listen);
  return { dns: [...dns].filter(Boolean), ips: [...ips] };
}

async function ensureFolder(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // mkdir leaves an existing folder's mode alone, and the umask trims a new one's.
  await chmod(dir, 0o700);
}

/** Written whole under a temporary name, then renamed: a server starting now never reads half a file. */
async function writeSecret(file: string, text: string, mode: number): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode });
  await chmod(tmp, mode);
  await rename(tmp, file);
}

async function keyPem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

interface Ca {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
}

/** The CA kept in `root`, when it is there, readable and valid for another year; else null. */
async function existingCa(root: string, now: Date): Promise<Ca | null> {
  try {
    const cert = new x509.X509Certificate(await readFile(path.join(root, 'ca-cert.pem'), 'utf8'));
    if (cert.notAfter.getTime() < now.getTime() + 365 * DAY_MS) return null;
    const der = x509.PemConverter.decodeFirst(await readFile(path.join(root, 'ca-key.pem'), 'utf8'));
    const privateKey = await subtle.importKey('pkcs8', der, KEY_ALGORITHM, true, ['sign']);
    return { cert, keys: { privateKey, publicKey: await cert.publicKey.export(KEY_ALGORITHM, ['verify'], crypto) } };
  } catch {
    return null;
  }
}

async function newCa(root: string, now: Date): Promise<Ca> {
  const keys = await subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=Blockscope CA (${os.hostname()}), O=Blockscope`,
    keys,
    serialNumber: randomBytes(8).toString('hex'),
    notBefore: new Date(now.getTime() - DAY_MS),
    notAfter: new Date(now.getTime() + CA_DAYS * DAY_MS),
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
    ],
  }, crypto);
  await writeSecret(path.join(root, 'ca-key.pem'), await keyPem(keys.privateKey), 0o600);
  await writeFile(path.join(root, 'ca-cert.pem'), cert.toString('pem'), { mode: 0o644 });
  return { cert, keys };
}

/** A certificate signed by `ca` for a server or a client, written with its key and the CA's certificate into `dir`. */
async function issue(ca: Ca, dir: string, role: 'server' | 'client', subject: string, names: x509.JsonGeneralNames, now: Date): Promise<void> {
  const keys = await subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.create({
    subject,
    issuer: ca.cert.subject,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    serialNumber: randomBytes(8).toString('hex'),
    notBefore: new Date(now.getTime() - DAY_MS),
    notAfter: new Date(now.getTime() + CERT_DAYS * DAY_MS),
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      // qemu refuses a critical key usage without both of these, whatever the key type.
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([role === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth], false),
      ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names, false)] : []),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey, false, crypto),
    ],
  }, crypto);
  await ensureFolder(dir);
  await writeSecret(path.join(dir, `${role}-key.pem`), await keyPem(keys.privateKey), 0o600);
  await writeFile(path.join(dir, `${role}-cert.pem`), cert.toString('pem'), { mode: 0o644 });
  await writeFile(path.join(dir, 'ca-cert.pem'), ca.cert.toString('pem'), { mode: 0o644 });
}

/**
 * The CA (kept when there is one), a server certificate for this host's names and `listenHost`,
 * and a client certificate, so qemu and nbdinfo can both check the server and be checked.
 */
export async function createCertificates(root: string, listenHost?: string, now = new Date()): Promise<TlsCredentialsInfo> {
  await ensureFolder(root);
  const ca = (await existingCa(root, now)) ?? (await newCa(root, now));
  const { dns, ips } = hostNames(listenHost);
  const names: x509.JsonGeneralNames = [...dns.map((value) => ({ type: 'dns' as const, value })), ...ips.map((value) => ({ type: 'ip' as const, value }))];
  const folders = tlsFolders(root);
  await issue(ca, folders.server, 'server', `CN=${dns[1] ?? 'localhost'}, O=Blockscope`, names, now);
  await issue(ca, folders.client, 'client', `CN=${os.userInfo().username}, O=Blockscope client`, [], now);
  return credentialsIn(root);
}

/** A new random key for `user` in tls/psk/keys.psk; the other users' lines stay. */
export async function createPsk(root: string, user: string): Promise<TlsCredentialsInfo> {
  if (!PSK_USER_PATTERN.test(user)) throw new TlsSetupError(`TLS: '${user}' is not a PSK user name (letters, digits, '.', '_', '-')`);
  const { psk, pskFile } = tlsFolders(root);
  await ensureFolder(root);
  await ensureFolder(psk);
  const keys = existsSync(pskFile) ? parsePskFile(await readFile(pskFile, 'utf8'), pskFile) : new Map<string, Buffer>();
  keys.set(user, randomBytes(32));
  const text = [...keys].map(([id, key]) => `${id}:${key.toString('hex')}\n`).join('');
  await writeSecret(pskFile, text, 0o600);
  return credentialsIn(root);
}

/** SHA-256 of a PEM certificate, as `openssl x509 -fingerprint -sha256` and `certtool -i` print it. */
export function fingerprintOf(pem: string): string {
  return new NodeCertificate(pem).fingerprint256;
}

/** What the app has made so far in `root` (a fresh install has nothing). */
export async function credentialsIn(root: string): Promise<TlsCredentialsInfo> {
  const folders = tlsFolders(root);
  const info: TlsCredentialsInfo = {};
  try {
    const ca = await readFile(path.join(folders.server, 'ca-cert.pem'), 'utf8');
    info.certificates = { serverDir: folders.server, clientDir: folders.client, caFingerprint: fingerprintOf(ca) };
  } catch {
    // Not created yet.
  }
  try {
    const keys = parsePskFile(await readFile(folders.pskFile, 'utf8'), folders.pskFile);
    info.psk = { dir: folders.psk, file: folders.pskFile, users: [...keys.keys()] };
  } catch {
    // Not created yet.
  }
  return info;
}

/** The server's TLS configuration for `settings`, read and checked now: a file at fault is the user's to fix, named. */
export function serverTlsConfig(settings: TlsServeSettings): TlsServerConfig | undefined {
  try {
    if (settings.mode === 'off') return undefined;
    if (settings.pskFile !== undefined) return { mode: settings.mode, credentials: loadPskFile(settings.pskFile) };
    if (settings.certificates !== undefined) return { mode: settings.mode, credentials: loadCertificates(settings.certificates, settings.verifyPeer ?? false) };
    throw new TlsSetupError(`TLS ${settings.mode} needs a certificates folder or a PSK file`);
  } catch (err) {
    throw err instanceof TlsSetupError ? new ServiceError('invalid-input', err.message) : err;
  }
}

/** What the serving panel shows of the running server's TLS: where a client's files are and whom it may be. */
export function describeTls(settings: TlsServeSettings, config: TlsServerConfig | undefined): TlsServerInfo {
  if (!config?.credentials || config.mode === 'off') return { mode: 'off' };
  if (config.credentials.kind === 'psk') {
    return { mode: config.mode, kind: 'psk', pskFile: settings.pskFile!, pskDir: path.dirname(settings.pskFile!), pskUsers: [...config.credentials.keys.keys()] };
  }
  const dir = settings.certificates!;
  // Our own layout keeps the client's files beside the server's; another folder serves both.
  const sibling = path.join(path.dirname(dir), 'client');
  const clientDir = path.basename(dir) === 'server' && existsSync(path.join(sibling, 'ca-cert.pem')) ? sibling : dir;
  let caFingerprint: string | undefined;
  try {
    caFingerprint = fingerprintOf(readPem(dir, 'ca-cert.pem'));
  } catch {
    // nbdkit's layout needs ca-cert.pem only to check clients: without it there is nothing to show.
  }
  return { mode: config.mode, kind: 'x509', certificates: dir, clientDir, verifyPeer: settings.verifyPeer ?? false, ...(caFingerprint ? { caFingerprint } : {}) };
}
