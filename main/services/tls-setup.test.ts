import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TlsCredentialsInfo } from '../../shared/ipc.ts';
import { NbdClient } from '../nbd/client.ts';
import { exposureWarning, loadCertificates, parsePskFile } from '../nbd/tls-credentials.ts';
import { propertyParams, propertyTimeout } from '../testing/property-params.ts';
import { createSession } from './engine.ts';
import { createCertificates, createPsk, credentialsIn, describeTls, hostNames, serverTlsConfig, tlsFolders } from './tls-setup.ts';

const mode = (file: string) => statSync(file).mode & 0o777;
const pem = (dir: string, name: string) => readFileSync(path.join(dir, name), 'utf8');

let root: string;
let made: TlsCredentialsInfo;

beforeAll(async () => {
  root = path.join(mkdtempSync(path.join(os.tmpdir(), 'bs-tls-setup-')), 'tls');
  made = await createCertificates(root, '192.0.2.7');
});
afterAll(() => rmSync(path.dirname(root), { recursive: true, force: true }));

/** A TLS handshake between a node:tls server on the made server files and a client on the client files. */
async function handshake(host: string, servername: string | undefined): Promise<{ authorizedClient: string; peerSubject: string }> {
  const { server: serverDir, client: clientDir } = tlsFolders(root);
  const server = tls.createServer({
    cert: pem(serverDir, 'server-cert.pem'), key: pem(serverDir, 'server-key.pem'), ca: pem(serverDir, 'ca-cert.pem'),
    // The server says why it would refuse a client rather than hang up on it.
    requestCert: true, rejectUnauthorized: false,
  });
  const clientSeen = new Promise<string>((resolve) => {
    server.on('secureConnection', (s) => {
      resolve(s.authorized ? (s.getPeerCertificate().subject.CN as string) : `refused: ${String(s.authorizationError)}`);
      s.end();
    });
    server.on('tlsClientError', (err) => resolve(`handshake failed: ${err.message}`));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as net.AddressInfo).port;
  try {
    const socket = tls.connect({
      host, port, servername,
      ca: pem(clientDir, 'ca-cert.pem'), cert: pem(clientDir, 'client-cert.pem'), key: pem(clientDir, 'client-key.pem'),
    });
    const peerSubject = await new Promise<string>((resolve, reject) => {
      socket.once('secureConnect', () => resolve(socket.getPeerCertificate().subject.CN as string));
      socket.once('error', reject);
    });
    // TLS 1.3 finishes the client's side first: hanging up now would cut the server's short.
    const authorizedClient = await clientSeen;
    socket.destroy();
    return { authorizedClient, peerSubject };
  } finally {
    server.close();
  }
}

describe('createCertificates', () => {
  it('lays out nbdkit\'s server folder and libnbd/qemu\'s client folder, with the CA\'s fingerprint', () => {
    const f = tlsFolders(root);
    expect(made.certificates).toEqual({ serverDir: f.server, clientDir: f.client, caFingerprint: new X509Certificate(pem(root, 'ca-cert.pem')).fingerprint256 });
    expect(made.certificates!.caFingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(pem(f.server, 'ca-cert.pem')).toBe(pem(root, 'ca-cert.pem'));
    expect(pem(f.client, 'ca-cert.pem')).toBe(pem(root, 'ca-cert.pem'));
  });

  it('keeps private keys to the user (0600) in folders only the user can enter (0700)', () => {
    const f = tlsFolders(root);
    for (const dir of [root, f.server, f.client]) expect(mode(dir)).toBe(0o700);
    for (const key of [path.join(root, 'ca-key.pem'), path.join(f.server, 'server-key.pem'), path.join(f.client, 'client-key.pem')]) expect(mode(key)).toBe(0o600);
  });

  it('makes a server folder the server loads, client certificate check included', () => {
    const creds = loadCertificates(tlsFolders(root).server, true);
    expect(creds.kind).toBe('x509');
  });

  it('a client trusting the CA accepts the server by address and by name, and the server accepts the client', async () => {
    const byAddress = await handshake('127.0.0.1', undefined);
    expect(byAddress.authorizedClient).toBe(os.userInfo().username);
    expect(byAddress.peerSubject).toBe(os.hostname());
    const byName = await handshake('127.0.0.1', 'localhost');
    expect(byName.authorizedClient).toBe(os.userInfo().username);
  });

  it('issues the server certificate for this host\'s names and the listen address', () => {
    const cert = new X509Certificate(pem(tlsFolders(root).server, 'server-cert.pem'));
    for (const name of ['localhost', os.hostname(), '127.0.0.1', '192.0.2.7']) expect(cert.checkHost(name) ?? cert.checkIP(name)).toBe(name);
    expect(cert.checkIP('::1')).toBe('::1');
    expect(cert.checkIP('192.0.2.8')).toBeUndefined();
    expect(cert.verify(new X509Certificate(pem(root, 'ca-cert.pem')).publicKey)).toBe(true);
  });

  it('GnuTLS (certtool -i, what qemu and libnbd use) parses every certificate as CA, server and client', () => {
    const f = tlsFolders(root);
    const info = (file: string) => execFileSync('certtool', ['-i', '--infile', file], { encoding: 'utf8' });
    expect(info(path.join(root, 'ca-cert.pem'))).toMatch(/Certificate Authority \(CA\): TRUE/);
    const server = info(path.join(f.server, 'server-cert.pem'));
    expect(server).toMatch(/TLS WWW Server/);
    expect(server).toMatch(/IPAddress: 127\.0\.0\.1/);
    expect(info(path.join(f.client, 'client-cert.pem'))).toMatch(/TLS WWW Client/);
    // certtool checks the chain the way GnuTLS clients do.
    const chain = pem(f.server, 'server-cert.pem') + pem(root, 'ca-cert.pem');
    const verified = execFileSync('certtool', ['--verify-chain'], { input: chain, encoding: 'utf8' });
    expect(verified).toMatch(/Chain verification output: Verified/);
  });

  it('keeps the CA when made again, so clients that trust it go on trusting the new certificates', async () => {
    const again = await createCertificates(root, 'example.test');
    expect(again.certificates!.caFingerprint).toBe(made.certificates!.caFingerprint);
    expect(new X509Certificate(pem(tlsFolders(root).server, 'server-cert.pem')).checkHost('example.test')).toBe('example.test');
  });
});

describe('createPsk', () => {
  it('writes psktool\'s format, 32 random bytes per user, 0600, keeping the other users', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bs-tls-psk-'));
    try {
      await createPsk(dir, 'alice');
      const first = parsePskFile(readFileSync(tlsFolders(dir).pskFile, 'utf8'), 'keys.psk').get('alice')!;
      const info = await createPsk(dir, 'bob');
      expect(info.psk).toEqual({ dir: tlsFolders(dir).psk, file: tlsFolders(dir).pskFile, users: ['alice', 'bob'] });
      const keys = parsePskFile(readFileSync(tlsFolders(dir).pskFile, 'utf8'), 'keys.psk');
      expect(keys.get('alice')).toEqual(first);
      expect(keys.get('bob')!.length).toBe(32);
      expect(keys.get('bob')).not.toEqual(first);
      expect(mode(tlsFolders(dir).pskFile)).toBe(0o600);
      expect(mode(tlsFolders(dir).psk)).toBe(0o700);
      await expect(createPsk(dir, 'no:colons')).rejects.toThrow(/not a PSK user name/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('any sequence of users: the file holds each once, with its latest key, in psktool\'s format', async () => {
    const user = fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/);
    await fc.assert(fc.asyncProperty(fc.array(user, { minLength: 1, maxLength: 6 }), async (users) => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'bs-tls-psk-'));
      try {
        for (const u of users) await createPsk(dir, u);
        const text = readFileSync(tlsFolders(dir).pskFile, 'utf8');
        expect(text).toMatch(/^([A-Za-z0-9._-]+:[0-9a-f]{64}\n)+$/);
        expect([...parsePskFile(text, 'keys.psk').keys()].sort()).toEqual([...new Set(users)].sort());
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }), propertyParams(40));
  }, propertyTimeout(30_000));
});

describe('what the serving panel is told', () => {
  it('a fresh folder has nothing made', async () => {
    expect(await credentialsIn(path.join(root, 'nothing-here'))).toEqual({});
  });

  it('x509 from the app\'s folder points clients at the client folder and shows the CA fingerprint', () => {
    const settings = { mode: 'require' as const, certificates: tlsFolders(root).server };
    expect(describeTls(settings, serverTlsConfig(settings))).toEqual({
      mode: 'require', kind: 'x509', certificates: tlsFolders(root).server, clientDir: tlsFolders(root).client, verifyPeer: false,
      caFingerprint: made.certificates!.caFingerprint,
    });
  });

  it('a missing certificates folder is the user\'s to fix, named', () => {
    expect(() => serverTlsConfig({ mode: 'on', certificates: path.join(root, 'missing') })).toThrow(/missing\/server-cert\.pem does not exist/);
    expect(serverTlsConfig({ mode: 'off' })).toBeUndefined();
  });

  it('names a wildcard listen address nowhere, any other address and name once', () => {
    fc.assert(fc.property(fc.oneof(fc.ipV4(), fc.ipV6(), fc.domain()), (host) => {
      const { dns, ips } = hostNames(host);
      expect([...dns, ...ips].filter((n) => n === host)).toHaveLength(1);
      expect(ips).toEqual(expect.arrayContaining(['127.0.0.1', '::1']));
    }), propertyParams(200));
    expect(hostNames('0.0.0.0').ips).toEqual(['127.0.0.1', '::1']);
    expect(hostNames('::').ips).toEqual(['127.0.0.1', '::1']);
  });
});

describe('serving with TLS through the session', () => {
  it('serves require with the made certificates, keeps serving when asked for a broken folder, and warns off loopback without require', async () => {
    const state = mkdtempSync(path.join(os.tmpdir(), 'bs-tls-session-'));
    const session = createSession({ stateDir: state });
    try {
      const file = path.join(state, 'disk.img');
      writeFileSync(file, Buffer.alloc(1 << 20, 0x5a));
      const { id } = await session.openPath(file);
      const made = await createCertificates(session.tlsRoot());
      expect(made.certificates!.serverDir).toBe(path.join(state, 'tls', 'server'));
      const status = await session.startServing(id, { port: 0, tls: { mode: 'require', certificates: made.certificates!.serverDir } });
      expect(status.tls).toMatchObject({ mode: 'require', kind: 'x509', clientDir: made.certificates!.clientDir, caFingerprint: made.certificates!.caFingerprint });
      expect(status.exports[0]!.tls).toBe('require');
      expect(status.exposureWarning).toBeUndefined();
      const tlsClient = await NbdClient.connect(`nbds://127.0.0.1:${status.port}/?tls-certificates=${made.certificates!.clientDir}`);
      expect(tlsClient.size).toBe(1 << 20);
      await expect.poll(() => session.clients().map((c) => c.tls !== undefined)).toEqual([true]);
      await tlsClient.close();
      await expect(NbdClient.connect(`nbd://127.0.0.1:${status.port}/`)).rejects.toThrow(/TLS/);

      await expect(session.startServing(id, { tls: { mode: 'require', certificates: path.join(state, 'nowhere') } })).rejects.toThrow(/nowhere\/server-cert\.pem does not exist/);
      expect(session.serverStatus()).toMatchObject({ running: true, port: status.port, tls: { mode: 'require' } });

      const open = await session.startServing(id, { host: '0.0.0.0', port: 0, tls: { mode: 'off' } });
      expect(open.tls).toEqual({ mode: 'off' });
      expect(open.exposureWarning).toBe(exposureWarning('0.0.0.0', 'off'));
    } finally {
      await session.dispose();
      rmSync(state, { recursive: true, force: true });
    }
  });
});
