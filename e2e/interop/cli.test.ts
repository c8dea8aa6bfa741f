// The `blockscope` command line: --run, pid files, background mode, Unix sockets, and the
// clear errors bad arguments get.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { registry } from '../../main/catalog.ts';
import { NbdServer } from '../../main/nbd/server.ts';
import { CLI, ok, run, tempDir } from './harness.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const blockscope = (...args: string[]) => run(process.execPath, [CLI, ...args]);

describe('blockscope serve --run', () => {
  it('sets $uri, waits for the command and exits with its status', async () => {
    const r = await blockscope('serve', '-p', '0', '--run', 'nbdinfo --size "$uri"; exit 3', 'memory', 'size=3M');
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('3145728\n');
  });

  it('works on a temporary Unix socket with -U -', async () => {
    const r = await blockscope('serve', '-U', '-', '--run', 'echo "$uri"; nbdinfo --map "$uri"', 'null', 'size=1M');
    expect(r.code).toBe(0);
    const [uri, map] = r.stdout.split('\n');
    expect(uri).toMatch(/^nbd\+unix:\/\/\/\?socket=.*nbd\.sock$/);
    expect(map).toBe('         0     1048576    3  hole,zero');
    expect(existsSync(/socket=(.*)$/.exec(uri!)![1]!)).toBe(false); // removed on exit
  });

  it('passes filter keys to their filter and the rest to the plugin', async () => {
    const r = await blockscope('serve', '-p', '0', '--filter=offset', '--run', 'nbdinfo --size "$uri"', 'memory', 'size=1M', 'offset=4096', 'range=8192');
    expect(r.stdout).toBe('8192\n');
  });
});

describe('blockscope serve --writable of a read-only format', () => {
  it('says so and serves it read-only; with cow on top it is writable', async () => {
    const img = path.join(tmp.dir, 'ro.qcow2');
    await ok('qemu-img', ['create', '-q', '-f', 'qcow2', img, '1M']);
    const plain = await blockscope('serve', '-w', '-p', '0', '--run', 'nbdinfo --can write "$uri"; echo "rc=$?"', img);
    expect(plain.stderr).toMatch(/qcow2 cannot be written \(read-only qcow2\); serving it read-only\. Add --filter=cow/);
    expect(plain.stdout).toMatch(/rc=2/);
    // The serving line says what clients get, not what was asked for.
    expect(plain.stderr).toMatch(/serving \S+ read-only at nbd:/);
    const cow = await blockscope('serve', '-w', '-p', '0', '--filter=cow', '--run', 'nbdinfo --can write "$uri"; echo "rc=$?"', img);
    expect(cow.stderr).not.toMatch(/cannot be written/);
    expect(cow.stdout).toMatch(/rc=0/);
    expect(cow.stderr).toMatch(/serving .* read-write at nbd:/);
  });
});

describe('blockscope serve -v', () => {
  it('logs every request with its flags, offset and length', async () => {
    const r = await blockscope('serve', '-v', '-p', '0', '--run', 'nbdinfo --map "$uri" >/dev/null; nbdcopy "$uri" - >/dev/null', 'pattern', 'size=1M');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/connection \d+: BLOCK_STATUS flags=0x0 offset=0 length=1048576/);
    expect(r.stderr).toMatch(/connection \d+: READ flags=0x0 offset=0 length=\d+/);
  });
});

describe('blockscope serve in the background', () => {
  it('prints the URI once listening, writes the pid file, and keeps serving', async () => {
    const pidfile = path.join(tmp.dir, 'bs.pid');
    const r = await blockscope('serve', '-p', '0', '-P', pidfile, 'memory', '2M');
    expect(r.code).toBe(0);
    const uri = r.stdout.trim();
    expect(uri).toMatch(/^nbd:\/\/127\.0\.0\.1:\d+\/$/);
    const pid = Number(readFileSync(pidfile, 'utf8'));
    try {
      expect(await ok('nbdinfo', ['--size', uri])).toBe('2097152\n');
    } finally {
      process.kill(pid, 'SIGTERM');
    }
    for (let i = 0; i < 50 && existsSync(pidfile); i++) await new Promise((r2) => setTimeout(r2, 50));
    expect(existsSync(pidfile)).toBe(false);
  });
});

describe('blockscope errors', () => {
  const cases: [string, string[], RegExp][] = [
    ['unknown plugin', ['serve', '-f', 'nosuch'], /unknown plugin 'nosuch'/],
    ['missing file', ['serve', '-f', '/no/such/disk.img'], /\/no\/such\/disk\.img: no such file/],
    ['unknown filter', ['serve', '-f', '--filter=bogus', 'memory', '1M'], /unknown filter 'bogus'/],
    ['bad parameter value', ['serve', '-f', 'memory', 'size=lots'], /memory: size: 'lots' is not a size/],
    ['unknown parameter', ['serve', '-f', 'memory', 'size=1M', 'colour=blue'], /memory: unknown parameter 'colour'/],
    ['missing parameter', ['serve', '-f', 'memory'], /memory: missing required parameter 'size'/],
    ['size beyond 2^53', ['serve', '-f', 'memory', 'size=16E'], /larger than 2\^53/],
    ['bad port', ['serve', '-f', '-p', '99999', 'memory', '1M'], /--port 99999: not a port number/],
    ['unknown option', ['serve', '--bogus'], /unknown option --bogus/],
    ['unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
    ['map of a missing file', ['map', '/no/such.img'], /no such file/],
    ['contradicting options', ['serve', '-f', '-r', '-w', 'memory', '1M'], /contradict/],
  ];
  for (const [what, args, message] of cases) {
    it(`${what}: one clear line and a non-zero exit`, async () => {
      const r = await blockscope(...args);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    });
  }

  it('a port in use is reported, not thrown', async () => {
    const s = await blockscope('serve', '-p', '0', '--run', 'blockscope_port=$port; node ' + JSON.stringify(CLI) + ' serve -f -p "$port" memory 1M; echo "rc=$?"', 'memory', '1M');
    expect(s.stdout).toMatch(/rc=1/);
    expect(s.stderr).toMatch(/cannot listen on 127\.0\.0\.1:\d+: listen EADDRINUSE/);
  });
});

describe('several exports in one server', () => {
  it('are listed by NBD_OPT_LIST and each serves its own chain', async () => {
    const server = new NbdServer({ log: () => {} });
    const mk = (plugin: string, params: Record<string, string>) => registry.build({ plugin: { name: plugin, params }, filters: [] });
    server.addExport({ name: 'zeros', description: 'all zero', chain: await mk('null', { size: '1M' }), writable: false });
    server.addExport({ name: 'pattern', description: 'offsets', chain: await mk('pattern', { size: '2M' }), writable: false });
    const sock = path.join(tmp.dir, 'multi.sock');
    await server.listen({ path: sock });
    try {
      const list = JSON.parse(await ok('nbdinfo', ['--list', '--json', `nbd+unix:///?socket=${sock}`]));
      expect(list.exports.map((e: Record<string, unknown>) => [e['export-name'], e.description, e['export-size']])).toEqual([
        ['zeros', 'all zero', 1048576],
        ['pattern', 'offsets', 2097152],
      ]);
      expect(await ok('nbdinfo', ['--size', `nbd+unix:///pattern?socket=${sock}`])).toBe('2097152\n');
      const r = await run('nbdinfo', ['--size', `nbd+unix:///nosuch?socket=${sock}`]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/no export named 'nosuch'/);
    } finally {
      await server.close();
    }
  });
});


describe('blockscope info', () => {
  it('names the partitions and the filesystem labels in each', async () => {
    const { ensureDemoImage } = await import('../../main/demo/index.ts');
    const info = JSON.parse(await ok(process.execPath, [CLI, 'info', '--json', await ensureDemoImage()]));
    expect(info.format).toBe('raw');
    expect(info.partitions.scheme).toBe('gpt');
    expect(info.partitions.entries.map((p: { number: number; name: string; filesystem: { type: string; label: string } }) => [p.number, p.name, p.filesystem.type, p.filesystem.label])).toEqual([
      [1, 'demo-efi', 'fat32', 'DEMO-EFI'],
      [2, 'demo-root', 'ext4', 'demo-root'],
      [3, 'demo-swap', 'swap', 'demo-swap'],
    ]);
  });

  it('reports the filesystem of an unpartitioned image', async () => {
    const img = path.join(tmp.dir, 'fs.img');
    await ok('truncate', ['-s', '8M', img]);
    await ok('mkfs.ext4', ['-q', '-L', 'plainfs', img]);
    const text = await ok(process.execPath, [CLI, 'info', img]);
    expect(text).toMatch(/partitions: {2}none/);
    expect(text).toMatch(/filesystem: {2}ext4 "plainfs"/);
  });
});
