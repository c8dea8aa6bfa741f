// Certificates and PSK files for the TLS tests, made by GnuTLS's own tools (certtool,
// psktool: gnutls-bin) in a temp folder, laid out the way nbdkit, libnbd and qemu read them:
//   server/         ca-cert.pem, server-cert.pem, server-key.pem   (--tls-certificates)
//   client/         ca-cert.pem, client-cert.pem, client-key.pem   (libnbd tls-certificates=, qemu tls-creds-x509 dir)
//   client-nocert/  ca-cert.pem only
//   wrong-ca/       another CA's ca-cert.pem (and a client certificate it signed)
//   expired-client/ ca-cert.pem and a client certificate that expired in 2021
//   expired-server/ a server folder whose certificate expired in 2021
//   psk/keys.psk    alice's key (qemu tls-creds-psk dir), wrong.psk: alice with another key
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ok, tempDir } from './harness.ts';

export interface TlsFixtures {
  root: string;
  server: string;
  client: string;
  clientNoCert: string;
  wrongCa: string;
  expiredClient: string;
  expiredServer: string;
  /** Folder holding keys.psk (what qemu's tls-creds-psk wants). */
  pskDir: string;
  pskFile: string;
  wrongPskFile: string;
  cleanup(): void;
}

const EXPIRED = 'activation_date = "2020-01-01 00:00:00 UTC"\nexpiration_date = "2021-01-01 00:00:00 UTC"\n';

async function privateKey(file: string): Promise<void> {
  await ok('certtool', ['--generate-privkey', '--key-type=ecdsa', '--outfile', file]);
}

/** A CA (self-signed) in `dir` as ca-key.pem and ca-cert.pem. */
async function makeCa(dir: string, cn: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'ca.info'), `cn = ${cn}\nca\ncert_signing_key\nexpiration_days = 30\n`);
  await privateKey(path.join(dir, 'ca-key.pem'));
  await ok('certtool', ['--generate-self-signed', '--load-privkey', path.join(dir, 'ca-key.pem'), '--template', path.join(dir, 'ca.info'), '--outfile', path.join(dir, 'ca-cert.pem')]);
}

/** `<role>-key.pem` and `<role>-cert.pem` in `dir`, signed by the CA in `caDir`. */
async function makeCert(caDir: string, dir: string, role: 'server' | 'client', template: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const info = path.join(dir, `${role}.info`);
  writeFileSync(info, template);
  await privateKey(path.join(dir, `${role}-key.pem`));
  await ok('certtool', [
    '--generate-certificate', '--load-privkey', path.join(dir, `${role}-key.pem`),
    '--load-ca-certificate', path.join(caDir, 'ca-cert.pem'), '--load-ca-privkey', path.join(caDir, 'ca-key.pem'),
    '--template', info, '--outfile', path.join(dir, `${role}-cert.pem`),
  ]);
  copyFileSync(path.join(caDir, 'ca-cert.pem'), path.join(dir, 'ca-cert.pem'));
}

const SERVER_TEMPLATE = 'organization = Blockscope tests\ncn = localhost\ndns_name = localhost\nip_address = 127.0.0.1\nip_address = ::1\ntls_www_server\nsigning_key\nencryption_key\n';
const CLIENT_TEMPLATE = 'organization = Blockscope tests\ncn = alice\ntls_www_client\nsigning_key\nencryption_key\n';

export async function makeTlsFixtures(): Promise<TlsFixtures> {
  const tmp = tempDir('blockscope-tls-');
  const at = (name: string) => path.join(tmp.dir, name);
  await makeCa(at('ca'), 'Blockscope test CA');
  await makeCa(at('other-ca'), 'Some other CA');
  await makeCert(at('ca'), at('server'), 'server', `${SERVER_TEMPLATE}expiration_days = 30\n`);
  await makeCert(at('ca'), at('client'), 'client', `${CLIENT_TEMPLATE}expiration_days = 30\n`);
  await makeCert(at('other-ca'), at('wrong-ca'), 'client', `${CLIENT_TEMPLATE}expiration_days = 30\n`);
  await makeCert(at('ca'), at('expired-client'), 'client', CLIENT_TEMPLATE + EXPIRED);
  await makeCert(at('ca'), at('expired-server'), 'server', SERVER_TEMPLATE + EXPIRED);
  mkdirSync(at('client-nocert'));
  copyFileSync(at('ca/ca-cert.pem'), at('client-nocert/ca-cert.pem'));
  mkdirSync(at('psk'));
  await ok('psktool', ['-u', 'alice', '-p', at('psk/keys.psk')]);
  await ok('psktool', ['-u', 'alice', '-p', at('wrong.psk')]);
  return {
    root: tmp.dir,
    server: at('server'),
    client: at('client'),
    clientNoCert: at('client-nocert'),
    wrongCa: at('wrong-ca'),
    expiredClient: at('expired-client'),
    expiredServer: at('expired-server'),
    pskDir: at('psk'),
    pskFile: at('psk/keys.psk'),
    wrongPskFile: at('wrong.psk'),
    cleanup: tmp.cleanup,
  };
}
