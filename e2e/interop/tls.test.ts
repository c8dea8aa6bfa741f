// NBD over TLS with the real clients: libnbd's tools (nbdinfo, nbdcopy, nbdsh: GnuTLS) and
// qemu (qemu-img, qemu-io: GnuTLS through QEMU's crypto layer) against `blockscope serve
// --tls=require`, with certificates and PSK files made by certtool and psktool. Data goes
// both ways and is checked by checksum; every refusal is followed by a good client.
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ok, run, serve, tempDir, type Served } from './harness.ts';
import { makeTlsFixtures, type TlsFixtures } from './tls-fixtures.ts';

const tmp = tempDir();
const SIZE = 4 << 20;
const source = path.join(tmp.dir, 'source.img');
let fx: TlsFixtures;

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const portOf = (s: Served) => new URL(s.uri).port;

/** The server logs a refusal once its side of the handshake fails, which may be after the client has exited. */
async function logged(s: Served, text: string | RegExp): Promise<string> {
  for (let i = 0; i < 100 && !(typeof text === 'string' ? s.stderr().includes(text) : text.test(s.stderr())); i++) await new Promise((r) => setTimeout(r, 50));
  return s.stderr();
}

/** nbdsh on a URI naming local files (libnbd refuses those unless asked: tls-certificates=, tls-psk-file=). */
function nbdshTls(uri: string, script: string): Promise<string> {
  return ok('nbdsh', ['-c', 'h.set_uri_allow_local_file(True)', '-c', `h.connect_uri(${JSON.stringify(uri)})`, '-c', script]);
}

beforeAll(async () => {
  writeFileSync(source, randomBytes(SIZE));
  fx = await makeTlsFixtures();
});
afterAll(() => {
  tmp.cleanup();
  fx?.cleanup();
});

/** qemu's view of an export: --object for the credentials, --image-opts for the server. */
function qemuArgs(creds: string, where: { port: string } | { socket: string }): string[] {
  const server = 'port' in where ? `server.type=inet,server.host=localhost,server.port=${where.port}` : `server.type=unix,server.path=${where.socket},tls-hostname=localhost`;
  return ['--object', creds, '--image-opts', `driver=nbd,${server},export=,tls-creds=tls0`];
}

describe('X.509 (--tls-certificates)', () => {
  const disk = path.join(tmp.dir, 'x509.img');
  const socket = path.join(tmp.dir, 'x509.sock');
  let tcp: Served;
  let unix: Served;
  beforeAll(async () => {
    copyFileSync(source, disk);
    tcp = await serve(['--tls=require', '--tls-certificates', fx.server, '-w', disk]);
    unix = await serve(['--tls=require', '--tls-certificates', fx.server, '-U', socket, '-w', disk]);
  });
  afterAll(async () => {
    await tcp?.stop();
    await unix?.stop();
  });
  const uris = () => ({
    tcp: `nbds://localhost:${portOf(tcp)}/?tls-certificates=${fx.client}`,
    unix: `nbds+unix:///?socket=${socket}&tls-certificates=${fx.client}`,
  });
  const x509 = () => `tls-creds-x509,id=tls0,dir=${fx.client},endpoint=client`;

  for (const kind of ['tcp', 'unix'] as const) {
    it(`nbdinfo and nbdsh negotiate TLS (${kind})`, async () => {
      expect((await ok('nbdinfo', ['--size', uris()[kind]])).trim()).toBe(String(SIZE));
      expect(await ok('nbdinfo', [uris()[kind]])).toContain('newstyle-fixed with TLS');
      expect((await nbdshTls(uris()[kind], 'print(h.get_tls_negotiated(), h.get_size())')).trim()).toBe(`True ${SIZE}`);
    });

    it(`nbdcopy reads and writes with matching checksums (${kind})`, async () => {
      const out = path.join(tmp.dir, `x509-${kind}.out`);
      await ok('nbdcopy', [uris()[kind], out]);
      expect(sha(out)).toBe(sha(disk));
      const fresh = path.join(tmp.dir, `x509-${kind}.new`);
      writeFileSync(fresh, randomBytes(SIZE));
      await ok('nbdcopy', [fresh, uris()[kind]]);
      await ok('nbdcopy', [uris()[kind], out]);
      expect(sha(out)).toBe(sha(fresh));
    });

    it(`qemu-img info/convert/compare and qemu-io write over TLS (${kind})`, async () => {
      const where = kind === 'tcp' ? { port: portOf(tcp) } : { socket };
      const info = JSON.parse(await ok('qemu-img', ['info', '--output=json', ...qemuArgs(x509(), where)]));
      expect(info['virtual-size']).toBe(SIZE);
      await ok('qemu-io', [...qemuArgs(x509(), where), '-c', 'write -P 0x5a 65536 131072']);
      const out = path.join(tmp.dir, `qemu-${kind}.img`);
      const [object, creds, , opts] = qemuArgs(x509(), where);
      await ok('qemu-img', ['convert', object!, creds!, '--image-opts', opts!, '-O', 'raw', out]);
      expect(readFileSync(out).subarray(65536, 65536 + 131072).equals(Buffer.alloc(131072, 0x5a))).toBe(true);
      expect(sha(out)).toBe(sha(disk));
      await ok('qemu-img', ['compare', ...qemuArgs(x509(), where), `driver=file,filename=${out}`]);
    });
  }

  it('a plaintext client gets TLS_REQD (nbdinfo names it), and a TLS client is served after it', async () => {
    const r = await run('nbdinfo', ['--size', `nbd://localhost:${portOf(tcp)}/`]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('server requires TLS');
    expect(await logged(tcp, 'without TLS')).toContain('without TLS: this server requires TLS (--tls=require)');
    expect((await ok('nbdinfo', ['--size', uris().tcp])).trim()).toBe(String(SIZE));
  });

  it('a client that does not trust our CA is refused, and the next one is served', async () => {
    const r = await run('nbdinfo', ['--size', `nbds://localhost:${portOf(tcp)}/?tls-certificates=${fx.wrongCa}`]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('certificate verification');
    expect(await logged(tcp, 'TLS handshake failed: the client closed')).toMatch(/TLS handshake failed: the client closed the connection during the TLS handshake \(does it trust our certificate\?\); closing this connection/);
    expect((await ok('nbdinfo', ['--size', uris().tcp])).trim()).toBe(String(SIZE));
  });

  it('qemu with another CA is refused too', async () => {
    const r = await run('qemu-img', ['info', ...qemuArgs(`tls-creds-x509,id=tls0,dir=${fx.wrongCa},endpoint=client`, { port: portOf(tcp) })]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/certificate/i);
  });
});

describe('--tls-verify-peer', () => {
  let s: Served;
  beforeAll(async () => {
    s = await serve(['--tls=require', '--tls-certificates', fx.server, '--tls-verify-peer', source]);
  });
  afterAll(() => s?.stop());
  const uri = (dir: string) => `nbds://localhost:${portOf(s)}/?tls-certificates=${dir}`;

  it('serves a client whose certificate our CA signed, and logs its subject', async () => {
    expect((await ok('nbdinfo', ['--size', uri(fx.client)])).trim()).toBe(String(SIZE));
    expect(s.stderr()).toMatch(/over TLS \(O=Blockscope tests, CN=alice\): export ''/);
  });

  it('refuses a client without a certificate, one with an expired certificate, and one from another CA', async () => {
    for (const dir of [fx.clientNoCert, fx.expiredClient, fx.wrongCa]) expect((await run('nbdinfo', ['--size', uri(dir)])).code).not.toBe(0);
    const log = await logged(s, 'expired on');
    expect(log).toContain('TLS handshake failed: the client sent no certificate, and --tls-verify-peer requires one; closing this connection');
    expect(log).toContain('TLS handshake failed: the client certificate expired on Jan  1 00:00:00 2021 GMT; closing this connection');
    expect((await ok('nbdinfo', ['--size', uri(fx.client)])).trim()).toBe(String(SIZE));
  });
});

describe('PSK (--tls-psk)', () => {
  const disk = path.join(tmp.dir, 'psk.img');
  const socket = path.join(tmp.dir, 'psk.sock');
  let tcp: Served;
  let unix: Served;
  beforeAll(async () => {
    copyFileSync(source, disk);
    tcp = await serve(['--tls=require', '--tls-psk', fx.pskFile, '-w', disk]);
    unix = await serve(['--tls=require', '--tls-psk', fx.pskFile, '-U', socket, '-w', disk]);
  });
  afterAll(async () => {
    await tcp?.stop();
    await unix?.stop();
  });
  const uri = (kind: 'tcp' | 'unix', file = fx.pskFile) =>
    kind === 'tcp' ? `nbds://alice@localhost:${portOf(tcp)}/?tls-psk-file=${file}` : `nbds+unix://alice@/?socket=${socket}&tls-psk-file=${file}`;
  const psk = () => `tls-creds-psk,id=tls0,dir=${fx.pskDir},endpoint=client,username=alice`;

  for (const kind of ['tcp', 'unix'] as const) {
    it(`nbdcopy round trip and nbdsh with alice's key (${kind})`, async () => {
      const out = path.join(tmp.dir, `psk-${kind}.out`);
      await ok('nbdcopy', [uri(kind), out]);
      expect(sha(out)).toBe(sha(disk));
      const fresh = path.join(tmp.dir, `psk-${kind}.new`);
      writeFileSync(fresh, randomBytes(SIZE));
      await ok('nbdcopy', [fresh, uri(kind)]);
      await ok('nbdcopy', [uri(kind), out]);
      expect(sha(out)).toBe(sha(fresh));
      expect((await nbdshTls(uri(kind), 'print(h.get_tls_negotiated())')).trim()).toBe('True');
    });

    it(`qemu-img compare and qemu-io with tls-creds-psk (${kind})`, async () => {
      const where = kind === 'tcp' ? { port: portOf(tcp) } : { socket };
      await ok('qemu-io', [...qemuArgs(psk(), where), '-c', 'write -P 0xa5 0 4096', '-c', 'read -P 0xa5 0 4096']);
      await ok('qemu-img', ['compare', ...qemuArgs(psk(), where), `driver=file,filename=${disk}`]);
    });
  }

  it('logs the PSK identity of each client', () => {
    expect(tcp.stderr()).toMatch(/over TLS as 'alice': export ''/);
  });

  it('refuses a wrong key, then serves the right one', async () => {
    const r = await run('nbdinfo', ['--size', uri('tcp', fx.wrongPskFile)]);
    expect(r.code).not.toBe(0);
    expect(await logged(tcp, 'wrong pre-shared key')).toContain("TLS handshake failed: wrong pre-shared key for 'alice' [decryption failed or bad record mac]; closing this connection");
    expect((await ok('nbdinfo', ['--size', uri('tcp')])).trim()).toBe(String(SIZE));
  });
});

describe('serve refuses to start with credentials that cannot work', () => {
  const fails = async (args: string[]) => {
    const r = await run(process.execPath, [CLI, 'serve', '-f', '-p', '0', ...args, 'memory', 'size=1M']);
    expect(r.code).not.toBe(0);
    return r.stderr;
  };

  it('an expired server certificate', async () => {
    expect(await fails(['--tls=require', '--tls-certificates', fx.expiredServer])).toMatch(/server-cert\.pem expired on Jan {2}1 00:00:00 2021 GMT/);
  });

  it('a key that belongs to another certificate', async () => {
    const dir = path.join(tmp.dir, 'mismatch');
    mkdirSync(dir);
    copyFileSync(path.join(fx.server, 'server-cert.pem'), path.join(dir, 'server-cert.pem'));
    copyFileSync(path.join(fx.client, 'client-key.pem'), path.join(dir, 'server-key.pem'));
    expect(await fails(['--tls=require', '--tls-certificates', dir])).toContain(`${path.join(dir, 'server-key.pem')} is not the key of ${path.join(dir, 'server-cert.pem')}`);
  });

  it('a folder without the certificate files, a bad PSK file, and TLS without credentials', async () => {
    expect(await fails(['--tls=on', '--tls-certificates', tmp.dir])).toContain(`${path.join(tmp.dir, 'server-cert.pem')} does not exist`);
    const bad = path.join(tmp.dir, 'bad.psk');
    writeFileSync(bad, 'alice:not-hex\n');
    expect(await fails(['--tls=require', '--tls-psk', bad])).toContain("line 1 is not 'identity:hexkey'");
    expect(await fails(['--tls=require'])).toContain('--tls=require needs --tls-certificates DIR or --tls-psk FILE');
  });
});

it('warns when it listens beyond loopback without --tls=require', async () => {
  const open = await serve(['-i', '0.0.0.0', 'memory', 'size=1M']);
  const safe = await serve(['-i', '0.0.0.0', '--tls=require', '--tls-psk', fx.pskFile, 'memory', 'size=1M']);
  await open.stop();
  await safe.stop();
  expect(open.stderr()).toContain('warning: listening on 0.0.0.0 without --tls=require: anyone who can reach this address can read the export');
  expect(safe.stderr()).not.toContain('warning');
});
