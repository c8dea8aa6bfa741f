// Blockscope as a TLS client (nbds://, nbds+unix://): `blockscope info/map` and the nbd plugin
// against nbdkit --tls=require (X.509 and PSK), qemu-nbd --tls-creds and our own server, with
// nbdinfo on the same URI as the oracle, and the refusals a user has to understand.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { openSync, readFileSync, writeSync, closeSync, existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ok, run, serve, tempDir, TOOL_ENV, type Served } from './harness.ts';
import { makeTlsFixtures, type TlsFixtures } from './tls-fixtures.ts';

const tmp = tempDir();
const SIZE = 8 << 20;
const disk = path.join(tmp.dir, 'disk.img');
let fx: TlsFixtures;
const children: ChildProcess[] = [];

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const blockscope = (...args: string[]) => run(process.execPath, [CLI, ...args]);

/** A sparse image with a few data runs, so maps have something to say. */
function makeDisk(): void {
  const fd = openSync(disk, 'w');
  for (const at of [0, 1 << 20, 5 << 20]) writeSync(fd, randomBytes(256 << 10), 0, 256 << 10, at);
  writeSync(fd, Buffer.alloc(1), 0, 1, SIZE - 1);
  closeSync(fd);
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** A server in the foreground until afterAll; resolves once `probe` (an nbdinfo URI) answers. */
async function background(cmd: string, args: string[], probe: string): Promise<void> {
  const child = spawn(cmd, args, { env: TOOL_ENV, stdio: 'ignore' });
  children.push(child);
  for (let i = 0; i < 100; i++) {
    if ((await run('nbdinfo', ['--size', probe])).code === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${cmd} did not come up`);
}

beforeAll(async () => {
  makeDisk();
  fx = await makeTlsFixtures();
});
afterAll(() => {
  for (const c of children) c.kill();
  tmp.cleanup();
  fx?.cleanup();
});

/** What nbdinfo and blockscope say about `uri`: size, map (text and JSON) and totals. */
async function sameAsNbdinfo(uri: string): Promise<void> {
  for (const flags of [[], ['--json'], ['--totals']]) {
    const theirs = await ok('nbdinfo', ['--map', ...flags, uri]);
    expect((await blockscope('map', ...flags, uri)).stdout).toBe(theirs);
  }
  const info = JSON.parse((await blockscope('info', '--json', uri)).stdout);
  const theirs = JSON.parse(await ok('nbdinfo', ['--json', uri])).exports[0];
  expect(info.size).toBe(SIZE);
  expect(info.size).toBe(theirs['export-size']);
}

/** Our nbd plugin proxies `uri` (TLS to the server, plaintext to nbdcopy); the copy equals the disk. */
async function copyThroughPlugin(uri: string): Promise<void> {
  const proxy = await serve(['nbd', `uri=${uri}`]);
  try {
    const out = path.join(tmp.dir, `copy-${children.length}-${Date.now()}.img`);
    await ok('nbdcopy', [proxy.uri, out]);
    expect(sha(readFileSync(out))).toBe(sha(readFileSync(disk)));
  } finally {
    await proxy.stop();
  }
}

describe('against nbdkit --tls=require', () => {
  let x509Port: number;
  let pskPort: number;
  const x509 = (dir = fx.client, host = 'localhost') => `nbds://${host}:${x509Port}/?tls-certificates=${dir}`;
  const psk = (file = fx.pskFile, user = 'alice') => `nbds://${user}@localhost:${pskPort}/?tls-psk-file=${file}`;
  beforeAll(async () => {
    [x509Port, pskPort] = [await freePort(), await freePort()];
    await background('nbdkit', ['-f', '-r', '-p', String(x509Port), '--tls=require', `--tls-certificates=${fx.server}`, 'file', disk], `nbds://localhost:${x509Port}/?tls-certificates=${fx.client}`);
    await background('nbdkit', ['-f', '-r', '-p', String(pskPort), '--tls=require', `--tls-psk=${fx.pskFile}`, 'file', disk], `nbds://alice@localhost:${pskPort}/?tls-psk-file=${fx.pskFile}`);
  });

  it('X.509: info and map answer as nbdinfo does', () => sameAsNbdinfo(x509()));
  it('PSK: info and map answer as nbdinfo does', () => sameAsNbdinfo(psk()));
  it('X.509: the nbd plugin reads the file (sha256)', () => copyThroughPlugin(x509()));
  it('PSK: the nbd plugin reads the file (sha256)', () => copyThroughPlugin(psk()));

  it('nbd:// to a server that requires TLS says to use nbds://', async () => {
    const r = await blockscope('info', `nbd://localhost:${x509Port}/`);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('blockscope: the server requires TLS: use nbds://');
  });

  it("a CA that did not sign the server's certificate is refused, naming the file", async () => {
    const r = await blockscope('info', x509(fx.wrongCa));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`TLS handshake failed: the server's certificate is not signed by ${path.join(fx.wrongCa, 'ca-cert.pem')}`);
  });

  it("a host name the certificate does not name is refused, unless tls-verify-peer=false", async () => {
    const r = await blockscope('info', x509(fx.client, '127.0.0.2'));
    expect(r.stderr).toContain("the server's certificate is not for '127.0.0.2'");
    expect(r.stderr).toContain('tls-verify-peer=false');
    const skip = await blockscope('info', '--json', `${x509(fx.client, '127.0.0.2')}&tls-verify-peer=false`);
    expect(JSON.parse(skip.stdout).size).toBe(SIZE);
  });

  it('a wrong pre-shared key, and a user the key file lacks, are refused', async () => {
    const wrong = await blockscope('info', psk(fx.wrongPskFile));
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`TLS handshake failed: the server closed the connection during the TLS handshake: it does not accept the key of 'alice' in ${fx.wrongPskFile}`);
    const bob = await blockscope('info', psk(fx.pskFile, 'bob'));
    expect(bob.stderr).toContain(`${fx.pskFile} has no key for the user 'bob'`);
  });

  it('nbds:// to a server without TLS says the server does not offer it', async () => {
    const port = await freePort();
    await background('nbdkit', ['-f', '-r', '-p', String(port), 'file', disk], `nbd://localhost:${port}/`);
    const r = await blockscope('info', `nbds://localhost:${port}/?tls-certificates=${fx.client}`);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the server does not offer TLS (it refused STARTTLS');
  });
});

describe('against qemu-nbd --tls-creds (X.509, Unix socket)', () => {
  const socket = path.join(tmp.dir, 'qemu.sock');
  const uri = () => `nbds+unix:///?socket=${socket}&tls-certificates=${fx.client}`;
  beforeAll(async () => {
    const creds = `tls-creds-x509,id=tls0,dir=${fx.server},endpoint=server`;
    await background('qemu-nbd', ['-r', '-f', 'raw', '-k', socket, '--object', creds, '--tls-creds', 'tls0', '--persistent', '--shared=8', disk], uri());
    expect(existsSync(socket)).toBe(true);
  });

  it('info and map answer as nbdinfo does; the nbd plugin reads the file', async () => {
    await sameAsNbdinfo(uri());
    await copyThroughPlugin(uri());
  });
});

describe('against blockscope serve --tls=require', () => {
  let x509: Served;
  let pskServer: Served;
  let verifying: Served;
  beforeAll(async () => {
    x509 = await serve(['--tls=require', '--tls-certificates', fx.server, disk]);
    pskServer = await serve(['--tls=require', '--tls-psk', fx.pskFile, disk]);
    verifying = await serve(['--tls=require', '--tls-certificates', fx.server, '--tls-verify-peer', disk]);
  });
  afterAll(async () => {
    for (const s of [x509, pskServer, verifying]) await s?.stop();
  });
  const port = (s: Served) => new URL(s.uri).port;

  it('X.509 and PSK: info and map answer as nbdinfo does', async () => {
    await sameAsNbdinfo(`nbds://localhost:${port(x509)}/?tls-certificates=${fx.client}`);
    await sameAsNbdinfo(`nbds://alice@localhost:${port(pskServer)}/?tls-psk-file=${fx.pskFile}`);
  });

  it('the nbd plugin reads the file over TLS (sha256)', () => copyThroughPlugin(`nbds://localhost:${port(x509)}/?tls-certificates=${fx.client}`));

  it('--tls-verify-peer: our client certificate is accepted, no certificate is refused', async () => {
    const good = await blockscope('info', '--json', `nbds://localhost:${port(verifying)}/?tls-certificates=${fx.client}`);
    expect(JSON.parse(good.stdout).size).toBe(SIZE);
    expect(verifying.stderr()).toMatch(/over TLS \(O=Blockscope tests, CN=alice\)/);
    const none = await blockscope('info', `nbds://localhost:${port(verifying)}/?tls-certificates=${fx.clientNoCert}`);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('closed the connection during the handshake after TLS: it may want a client certificate');
  });

  it('plain nbd:// is told to use nbds://', async () => {
    const r = await blockscope('info', `nbd://localhost:${port(x509)}/`);
    expect(r.stderr).toContain('the server requires TLS: use nbds://');
  });
});

it('blockscope --help lists the TLS flags serve takes and the nbds:// client URIs', async () => {
  const help = (await blockscope('--help')).stdout;
  for (const flag of ['--tls=off|on|require', '--tls-certificates DIR', '--tls-verify-peer', '--tls-psk FILE', 'nbds://HOST[:PORT]/EXPORT?tls-certificates=DIR', 'tls-psk-file=FILE']) {
    expect(help).toContain(flag);
  }
});
