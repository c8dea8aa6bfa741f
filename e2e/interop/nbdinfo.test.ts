// nbdinfo (libnbd-bin) against `blockscope serve` over TCP and a Unix socket.
import { closeSync, openSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SparseLayout } from '../../main/plugins/sparse-random/layout.ts';
import { propertyParams } from '../../main/testing/property-params.ts';
import { CLI, ok, run, serve, tempDir, type Served } from './harness.ts';

const tmp = tempDir();
const sparse = path.join(tmp.dir, 'sparse.img');

beforeAll(() => {
  // 8 MiB file: data at 1 MiB (64 KiB) and 5 MiB (192 KiB), holes elsewhere.
  writeFileSync(sparse, '');
  truncateSync(sparse, 8 << 20);
  const fd = openSync(sparse, 'r+');
  writeSync(fd, Buffer.alloc(64 << 10, 0xaa), 0, 64 << 10, 1 << 20);
  writeSync(fd, Buffer.alloc(192 << 10, 0x55), 0, 192 << 10, 5 << 20);
  closeSync(fd);
});
afterAll(() => tmp.cleanup());

describe('nbdinfo', () => {
  let tcp: Served;
  let unix: Served;
  beforeAll(async () => {
    tcp = await serve([sparse]);
    unix = await serve(['-U', path.join(tmp.dir, 'nbd.sock'), sparse]);
  });
  afterAll(async () => {
    await tcp.stop();
    await unix.stop();
  });

  for (const kind of ['tcp', 'unix'] as const) {
    it(`--json describes the export (${kind})`, async () => {
      const uri = kind === 'tcp' ? tcp.uri : unix.uri;
      expect(uri).toMatch(kind === 'tcp' ? /^nbd:\/\/127\.0\.0\.1:\d+\/$/ : /^nbd\+unix:\/\/\/\?socket=/);
      const info = JSON.parse(await ok('nbdinfo', ['--json', uri]));
      const exp = info.exports[0];
      expect(info.protocol).toBe('newstyle-fixed');
      expect(info.structured).toBe(true);
      expect(exp['export-size']).toBe(8 << 20);
      expect(exp.contexts).toContain('base:allocation');
      expect(exp.is_read_only).toBe(true);
      expect(exp.can_multi_conn).toBe(true);
      expect(exp.block_size_maximum).toBe(32 << 20);
    });

    it(`--map matches the file's holes (${kind})`, async () => {
      const uri = kind === 'tcp' ? tcp.uri : unix.uri;
      expect(await ok('nbdinfo', ['--map', uri])).toBe(
        [
          '         0     1048576    3  hole,zero',
          '   1048576       65536    0  data',
          '   1114112     4128768    3  hole,zero',
          '   5242880      196608    0  data',
          '   5439488     2949120    3  hole,zero',
          '',
        ].join('\n'),
      );
    });
  }

  it('--map --json equals what nbdinfo gets from nbdkit\'s file plugin on the same file', async () => {
    const ours = await ok('nbdinfo', ['--map', '--json', tcp.uri]);
    const theirs = await ok('nbdinfo', ['--map', '--json', '--', '[', 'nbdkit', '-r', 'file', sparse, ']']);
    expect(JSON.parse(ours)).toEqual(JSON.parse(theirs));
  });

  it('--map --totals', async () => {
    expect(await ok('nbdinfo', ['--map', '--totals', tcp.uri])).toBe('    262144   3.1%   0 data\n   8126464  96.9%   3 hole,zero\n');
  });

  it('blockscope map (as a client of the URI) prints what nbdinfo prints', async () => {
    for (const flags of [[], ['--json'], ['--totals'], ['--totals', '--json']]) {
      const nbdinfo = await ok('nbdinfo', ['--map', ...flags, tcp.uri]);
      const ours = await ok(process.execPath, [CLI, 'map', ...flags, tcp.uri]);
      const local = await ok(process.execPath, [CLI, 'map', ...flags, sparse]);
      expect(ours, flags.join(' ')).toBe(nbdinfo);
      expect(local, flags.join(' ')).toBe(nbdinfo);
    }
  });

  it('--can answers from the transmission flags', async () => {
    const can = async (what: string, uri: string) => (await run('nbdinfo', ['--can', what, uri])).code;
    expect(await can('read', tcp.uri)).toBe(0);
    expect(await can('write', tcp.uri)).toBe(2);
    expect(await can('flush', tcp.uri)).toBe(0);
    expect(await can('multi-conn', tcp.uri)).toBe(0);
    expect(await can('df', tcp.uri)).toBe(0);
    expect(await can('cache', tcp.uri)).toBe(0);
    const rw = await serve(['--writable', sparse]);
    try {
      expect(await can('write', rw.uri)).toBe(0);
      expect(await can('trim', rw.uri)).toBe(0);
      expect(await can('zero', rw.uri)).toBe(0);
      expect(await can('fast-zero', rw.uri)).toBe(0);
      expect(await can('fua', rw.uri)).toBe(0);
    } finally {
      await rw.stop();
    }
  });

  it('--list shows the export with its name and description', async () => {
    const s = await serve(['-e', 'disk1', '-D', 'my test disk', 'memory', 'size=1M']);
    try {
      const list = JSON.parse(await ok('nbdinfo', ['--list', '--json', s.uri]));
      expect(list.exports.map((e: { 'export-name': string; description: string }) => [e['export-name'], e.description])).toEqual([['disk1', 'my test disk']]);
    } finally {
      await s.stop();
    }
  });
});

// The server answers BLOCK_STATUS without REQ_ONE from a plugin's descriptors as they are
// (sparse-random has its map in that form): nbdinfo --map must read the disk's own layout,
// and qemu-img map (REQ_ONE, the list path) the same.
describe('nbdinfo --map of a sparse-random disk (property)', () => {
  it('reads the layout the plugin generates, as qemu-img map does', async () => {
    await fc.assert(fc.asyncProperty(
      fc.oneof(
        fc.record({ size: fc.integer({ min: 4096, max: 8 << 20 }), runlength: fc.integer({ min: 4096, max: 1 << 20 }) }),
        // Past 4 GiB: nbdinfo asks in steps of 4 GiB - 1, so every request after the first starts
        // and ends off the sector grid (the server rounds out to whole sectors and clips back).
        fc.record({ size: fc.integer({ min: 2 ** 32 + 1, max: 20 * 2 ** 30 }), extents: fc.integer({ min: 50, max: 3000 }) })
          .map(({ size, extents }) => ({ size, runlength: Math.max(4096, Math.floor(size / extents)) })),
      ).chain((disk) => fc.record({ size: fc.constant(disk.size), runlength: fc.constant(disk.runlength), seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }), percent: fc.integer({ min: 0, max: 100 }) })),
      async ({ size, seed, percent, runlength }) => {
        const served = await serve(['sparse-random', `size=${size}`, `seed=${seed}`, `percent=${percent}`, `runlength=${runlength}`]);
        try {
          const layout = SparseLayout.generate({ size, seed, fraction: percent / 100, runLength: runlength });
          const expected: [number, number, boolean][] = [];
          let pos = 0;
          for (let i = 0; i < layout.runCount; i++) {
            if (layout.runStart(i) > pos) expected.push([pos, layout.runStart(i) - pos, false]);
            expected.push([layout.runStart(i), layout.runEnd(i) - layout.runStart(i), true]);
            pos = layout.runEnd(i);
          }
          if (pos < size) expected.push([pos, size - pos, false]);
          const map = JSON.parse(await ok('nbdinfo', ['--map', '--json', served.uri])) as { offset: number; length: number; type: number }[];
          expect(map.map((e) => [e.offset, e.length, e.type === 0])).toEqual(expected);
          const qemu = JSON.parse(await ok('qemu-img', ['map', '--output=json', '-f', 'raw', served.uri])) as { start: number; length: number; data: boolean }[];
          // qemu counts whole sectors: its map of a disk whose size is off the grid runs on to the next one.
          expect(qemu.filter((e) => e.start < size).map((e) => [e.start, Math.min(e.length, size - e.start), e.data])).toEqual(expected);
        } finally {
          await served.stop();
        }
      },
    ), propertyParams(8));
  }, 180_000);
});
