// The http plugin and image formats at a URL against a real web server (Debian's nginx,
// started by the test): the bytes qemu-img reads from the local file, the local file's map,
// the same bytes as `nbdkit curl`, a clear refusal where Range is off, HTTPS with a CA of our
// own, and, from nginx's access log, that mapping a 64 GiB sparse qcow2 fetches < 1% of it.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ok, run, serve, tempDir, TOOL_ENV } from './harness.ts';
import { startNginx, type Nginx } from './nginx.ts';
import { makeTlsFixtures, type TlsFixtures } from './tls-fixtures.ts';

const FORMATS: [file: string, qemuFormat: string][] = [
  ['disk.raw', 'raw'], ['disk.qcow2', 'qcow2'], ['disk.vmdk', 'vmdk'], ['disk.vhd', 'vpc'], ['disk.vhdx', 'vhdx'], ['disk.vdi', 'vdi'],
];

const tmp = tempDir('blockscope-http-');
const www = path.join(tmp.dir, 'www');
const at = (name: string) => path.join(tmp.dir, name);
let nginx: Nginx;
let tls: TlsFixtures;

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** The CLI with an extra env (NODE_EXTRA_CA_CERTS for a URL that takes no cainfo=). */
function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...TOOL_ENV, ...env }, maxBuffer: 64 << 20, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** The export of `blockscope serve ARGS` copied to a file by nbdcopy; its sha256. */
async function servedDigest(args: string[], name: string): Promise<string> {
  const served = await serve(args);
  try {
    await ok('nbdcopy', [served.uri, at(name)]);
  } finally {
    await served.stop();
  }
  return sha(at(name));
}

beforeAll(async () => {
  // mkdtemp makes 0700 folders; nginx's workers must reach the images below it.
  chmodSync(tmp.dir, 0o755);
  mkdirSync(www);
  const raw = path.join(www, 'disk.raw');
  await ok('qemu-img', ['create', '-f', 'raw', raw, '24M']);
  await ok('qemu-io', ['-f', 'raw', '-c', 'write -P 0x5a 0 3M', '-c', 'write -P 0xa5 9M 1M', '-c', 'write -P 0x11 23M 512k', raw]);
  for (const [file, format] of FORMATS.slice(1)) await ok('qemu-img', ['convert', '-f', 'raw', '-O', format, raw, path.join(www, file)]);
  // 64 GiB, 128 MiB of it written in four places: mapping it needs four L2 tables.
  const big = path.join(www, 'big.qcow2');
  await ok('qemu-img', ['create', '-f', 'qcow2', big, '64G']);
  await ok('qemu-io', ['-f', 'qcow2', ...['1G', '17G', '40G', '63G'].flatMap((o) => ['-c', `write -P 0x77 ${o} 32M`]), big]);
  tls = await makeTlsFixtures();
  nginx = await startNginx(at('nginx'), www, tls.server);
}, 180_000);

afterAll(async () => {
  await nginx?.stop();
  tls?.cleanup();
  tmp.cleanup();
});

describe('images at a URL, served by nginx', () => {
  for (const [file, format] of FORMATS) {
    it(`${file}: the bytes qemu-img reads from the local file`, async () => {
      await ok('qemu-img', ['convert', '-f', format, '-O', 'raw', path.join(www, file), at(`${file}.expected`)]);
      expect(await servedDigest([`${nginx.http}/${file}`], `${file}.got`)).toBe(sha(at(`${file}.expected`)));
    });
  }

  for (const [file] of FORMATS.slice(1)) {
    it(`${file}: the local file's map, from its tables`, async () => {
      const [remote, local] = await Promise.all([cli(['map', '--json', `${nginx.http}/${file}`]), cli(['map', '--json', path.join(www, file)])]);
      expect(remote.code, remote.stderr).toBe(0);
      expect(JSON.parse(remote.stdout)).toEqual(JSON.parse(local.stdout));
    });
  }

  it('a raw image maps as all data (a server tells nothing about holes)', async () => {
    const r = await cli(['map', '--json', `${nginx.http}/disk.raw`]);
    expect(JSON.parse(r.stdout)).toMatchObject([{ offset: 0, length: 25165824, type: 0 }]);
  });

  it('maps a 64 GiB sparse qcow2 fetching less than 1% of the file', async () => {
    const before = nginx.log().length;
    const [remote, local] = await Promise.all([cli(['map', '--json', `${nginx.http}/big.qcow2`]), cli(['map', '--json', path.join(www, 'big.qcow2')])]);
    expect(JSON.parse(remote.stdout)).toEqual(JSON.parse(local.stdout));
    const sent = nginx.log().slice(before).filter((e) => e.path === '/big.qcow2').reduce((n, e) => n + e.bytes, 0);
    const fileSize = statSync(path.join(www, 'big.qcow2')).size;
    expect(fileSize).toBeGreaterThan(128 << 20);
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThan(fileSize / 100);
  });

  it('the http plugin reads what nbdkit curl reads from the same URL', async () => {
    const url = `${nginx.http}/disk.qcow2`;
    await ok('nbdkit', ['-r', '-U', '-', 'curl', `url=${url}`, '--run', `nbdcopy "$uri" ${at('curl.out')}`]);
    expect(await servedDigest(['http', `url=${url}`, 'connections=2'], 'ours.out')).toBe(sha(at('curl.out')));
    expect(sha(at('curl.out'))).toBe(sha(path.join(www, 'disk.qcow2')));
  });

  it('refuses a location without Range support, as nbdkit curl does', async () => {
    const url = `${nginx.http}/norange/disk.raw`;
    const ours = await cli(['info', url]);
    expect(ours.code).not.toBe(0);
    expect(ours.stderr).toMatch(/does not support range requests/);
    const theirs = await run('nbdkit', ['-r', '-U', '-', 'curl', `url=${url}`, '--run', 'nbdinfo "$uri"']);
    expect(theirs.code).not.toBe(0);
  });

  it('reads over HTTPS with cainfo=, and refuses a certificate it cannot verify', async () => {
    const url = `${nginx.https}/disk.raw`;
    const ca = path.join(tls.server, 'ca-cert.pem');
    expect(await servedDigest(['http', `url=${url}`, `cainfo=${ca}`], 'tls.out')).toBe(sha(path.join(www, 'disk.raw')));
    await ok('nbdkit', ['-r', '-U', '-', 'curl', `url=${url}`, `cainfo=${ca}`, '--run', `nbdcopy "$uri" ${at('tls-curl.out')}`]);
    expect(sha(at('tls-curl.out'))).toBe(sha(path.join(www, 'disk.raw')));
    const refused = await cli(['info', 'http', `url=${url}`]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/certificate/i);
  });

  it('maps a qcow2 over HTTPS with the CA from NODE_EXTRA_CA_CERTS', async () => {
    const r = await cli(['map', '--json', `${nginx.https}/disk.qcow2`], { NODE_EXTRA_CA_CERTS: path.join(tls.server, 'ca-cert.pem') });
    const local = await cli(['map', '--json', path.join(www, 'disk.qcow2')]);
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(local.stdout));
  });
});
