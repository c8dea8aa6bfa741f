// nbdcopy, qemu-img and qemu-io against `blockscope serve`: data round trips with checksums,
// maps as qemu sees them, and qemu-io's write/zero/discard/flush commands.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ok, serve, tempDir } from './harness.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** A deterministic 4 MiB image with data in the first and third MiB, a hole between. */
function makeImage(name: string): string {
  const file = path.join(tmp.dir, name);
  writeFileSync(file, '');
  truncateSync(file, 4 << 20);
  const fd = openSync(file, 'r+');
  const data = Buffer.alloc(1 << 20);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 9)) & 0xff;
  writeSync(fd, data, 0, data.length, 0);
  writeSync(fd, data.reverse(), 0, data.length, 2 << 20);
  closeSync(fd);
  return file;
}

describe('nbdcopy', () => {
  it('copies an export to a file and back with identical checksums', async () => {
    const src = makeImage('src.img');
    const s = await serve([src]);
    const out = path.join(tmp.dir, 'out.img');
    try {
      await ok('nbdcopy', [s.uri, out]);
    } finally {
      await s.stop();
    }
    expect(sha(out)).toBe(sha(src));

    const target = path.join(tmp.dir, 'target.img');
    writeFileSync(target, '');
    truncateSync(target, 4 << 20);
    const w = await serve(['--writable', target]);
    try {
      await ok('nbdcopy', ['--flush', src, w.uri]);
      const back = path.join(tmp.dir, 'back.img');
      await ok('nbdcopy', [w.uri, back]);
      expect(sha(back)).toBe(sha(src));
    } finally {
      await w.stop();
    }
    expect(sha(target)).toBe(sha(src));
  });

  it('copies through the memory plugin with one connection and with four', async () => {
    const src = makeImage('src2.img');
    const m = await serve(['--writable', 'memory', 'size=4M']);
    try {
      await ok('nbdcopy', ['--connections=1', src, m.uri]);
      const a = path.join(tmp.dir, 'a.img');
      await ok('nbdcopy', ['--connections=4', m.uri, a]);
      expect(sha(a)).toBe(sha(src));
    } finally {
      await m.stop();
    }
  });
});

describe('qemu-img', () => {
  it('info sees the size, map shows data and holes, compare finds no difference', async () => {
    const src = makeImage('q.img');
    const s = await serve([src]);
    try {
      const info = JSON.parse(await ok('qemu-img', ['info', '--output=json', s.uri]));
      expect(info['virtual-size']).toBe(4 << 20);
      const map = JSON.parse(await ok('qemu-img', ['map', '--output=json', '-f', 'raw', s.uri]));
      expect(map.map((e: { start: number; length: number; data: boolean; zero: boolean }) => [e.start, e.length, e.data, e.zero])).toEqual([
        [0, 1 << 20, true, false],
        [1 << 20, 1 << 20, false, true],
        [2 << 20, 1 << 20, true, false],
        [3 << 20, 1 << 20, false, true],
      ]);
      await ok('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', src, s.uri]);
    } finally {
      await s.stop();
    }
  });
});

describe('qemu-io', () => {
  it('writes patterns, zeroes, discards and flushes, and reads them back', async () => {
    const file = path.join(tmp.dir, 'io.img');
    writeFileSync(file, '');
    truncateSync(file, 8 << 20);
    const s = await serve(['--writable', file]);
    try {
      const io = (...cmds: string[]) => ok('qemu-io', ['-f', 'raw', ...cmds.flatMap((c) => ['-c', c]), s.uri]);
      await io('write -P 0xab 0 1M', 'write -P 0xcd 2M 64k', 'flush');
      const verify = await io('read -P 0xab 0 1M', 'read -P 0xcd 2M 64k', 'read -P 0 1M 1M');
      expect(verify).not.toMatch(/Pattern verification failed/);
      await io('write -z 256k 256k', 'discard 2M 64k', 'flush');
      // Mapped before anything reads the zeroed range: ext4 reports cached pages of an
      // unwritten extent as data.
      // write -z without -u keeps the range allocated (zero), discard punches a hole.
      expect(await ok('nbdinfo', ['--map', s.uri])).toBe([
        '         0      262144    0  data',
        '    262144      262144    2  zero',
        '    524288      524288    0  data',
        '   1048576     7340032    3  hole,zero',
        '',
      ].join('\n'));
      const after = await io('read -P 0xab 0 256k', 'read -P 0 256k 256k', 'read -P 0xab 512k 512k', 'read -P 0 2M 64k');
      expect(after).not.toMatch(/Pattern verification failed/);
    } finally {
      await s.stop();
    }
    // Writes that were flushed are on disk.
    const bytes = readFileSync(file);
    expect(bytes.subarray(0, 256 << 10).every((b) => b === 0xab)).toBe(true);
    expect(bytes.subarray(256 << 10, 512 << 10).every((b) => b === 0)).toBe(true);
    expect(bytes.subarray(2 << 20, (2 << 20) + (64 << 10)).every((b) => b === 0)).toBe(true);
  });
});
