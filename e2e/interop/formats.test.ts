// Every image format served by `blockscope serve`: qemu-img compare against the original
// image over NBD, and for a qcow2 backing chain the base:allocation and
// qemu:allocation-depth maps equal to what qemu-nbd serves for the same file.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ok, run, serve, tempDir } from './harness.ts';

const tmp = tempDir();
const at = (name: string) => path.join(tmp.dir, name);
afterAll(() => tmp.cleanup());

beforeAll(async () => {
  // A 4 MiB raw image with three patterns and holes, converted into every format.
  await ok('qemu-img', ['create', '-f', 'raw', at('src.raw'), '4M']);
  await ok('qemu-io', ['-f', 'raw', '-c', 'write -P 0x11 0 192k', '-c', 'write -P 0x22 1M 64k', '-c', 'write -P 0x33 3M 512k', at('src.raw')]);
}, 60_000);

const formats: [string, string[]][] = [
  ['qcow2', ['-O', 'qcow2']],
  ['vmdk', ['-O', 'vmdk']],
  ['vpc', ['-O', 'vpc', '-o', 'subformat=dynamic']],
  ['vhdx', ['-O', 'vhdx']],
  ['vdi', ['-O', 'vdi']],
];

describe('formats over NBD', () => {
  for (const [format, args] of formats) {
    it(`${format}: info, map and serve; qemu-img compare finds the served image identical to the original`, async () => {
      const image = at(`img.${format}`);
      await ok('qemu-img', ['convert', '-f', 'raw', ...args, at('src.raw'), image]);
      const info = await ok(process.execPath, [CLI, 'info', image]);
      expect(info).toMatch(new RegExp(`format: +${format === 'vpc' ? 'vhd' : format}`));
      const s = await serve([image]);
      try {
        // `blockscope map IMAGE` (no server) prints what nbdinfo gets from the served export.
        expect(await ok(process.execPath, [CLI, 'map', image])).toBe(await ok('nbdinfo', ['--map', s.uri]));
        const r = await run('qemu-img', ['compare', '-f', format, '-F', 'raw', image, s.uri]);
        expect(r.stdout + r.stderr).toMatch(/Images are identical/);
        // Full read + checksum as well: compare skips ranges both sides call zero.
        const [a, b] = await Promise.all([
          ok('sh', ['-c', `qemu-img convert -f ${format} -O raw '${image}' '${image}.raw' && sha256sum < '${image}.raw'`]),
          ok('sh', ['-c', `nbdcopy '${s.uri}' - | sha256sum`]),
        ]);
        expect(b).toBe(a);
      } finally {
        await s.stop();
      }
    });
  }
});

describe('qcow2 backing chain', () => {
  let chainTop: string;
  beforeAll(async () => {
    await ok('qemu-img', ['create', '-f', 'qcow2', at('base.qcow2'), '4M']);
    await ok('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0xaa 0 1M', '-c', 'write -P 0xbb 2M 512k', at('base.qcow2')]);
    await ok('qemu-img', ['create', '-f', 'qcow2', '-b', 'base.qcow2', '-F', 'qcow2', at('top.qcow2')]);
    await ok('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0xcc 512k 1M', '-c', 'write -z 2M 64k', at('top.qcow2')]);
    chainTop = at('top.qcow2');
  });

  async function qemuNbdMap(context: string): Promise<string> {
    const sock = at(`qemu-${context.replace(/\W/g, '')}.sock`);
    const r = await ok('sh', ['-c', `qemu-nbd -r -f qcow2 -A -k '${sock}' '${chainTop}' & pid=$!; for i in $(seq 50); do [ -S '${sock}' ] && break; sleep 0.1; done; nbdinfo --map=${context} 'nbd+unix:///?socket=${sock}'; rc=$?; kill $pid 2>/dev/null; exit $rc`]);
    return r;
  }

  it('base:allocation over NBD equals qemu-nbd\'s', async () => {
    const s = await serve([chainTop]);
    try {
      expect(await ok('nbdinfo', ['--map', s.uri])).toBe(await qemuNbdMap('base:allocation'));
    } finally {
      await s.stop();
    }
  });

  it('qemu:allocation-depth over NBD equals qemu-nbd\'s, and blockscope map --depth prints it', async () => {
    const expected = await qemuNbdMap('qemu:allocation-depth');
    expect(expected).toMatch(/backing depth 2/);
    const s = await serve([chainTop]);
    try {
      expect(await ok('nbdinfo', ['--map=qemu:allocation-depth', s.uri])).toBe(expected);
      expect(await ok(process.execPath, [CLI, 'map', '--depth', s.uri])).toBe(expected);
    } finally {
      await s.stop();
    }
    expect(await ok(process.execPath, [CLI, 'map', '--depth', chainTop])).toBe(expected);
  });

  it('a filter that changes extents hides the depth context; one that only moves offsets keeps it', async () => {
    const cow = await serve(['--filter=cow', chainTop]);
    try {
      const ctx = JSON.parse(await ok('nbdinfo', ['--json', cow.uri])).exports[0].contexts;
      expect(ctx).toEqual(['base:allocation']);
    } finally {
      await cow.stop();
    }
    const off = await serve(['--filter=offset', chainTop, 'offset=1M']);
    try {
      const ctx = JSON.parse(await ok('nbdinfo', ['--json', off.uri])).exports[0].contexts;
      expect(ctx).toEqual(['base:allocation', 'qemu:allocation-depth']);
      expect((await ok('nbdinfo', ['--map=qemu:allocation-depth', off.uri])).split('\n')[0]).toMatch(/^\s+0\s+\d+\s+1 {2}local$/);
    } finally {
      await off.stop();
    }
  });
});
