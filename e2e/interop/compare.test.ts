// `blockscope compare` against `qemu-img compare` on images qemu-img made, in every test
// format, as local files and over NBD (our server and nbdkit): the same exit status, and the
// first difference at the offset qemu-img names (qemu-img reports the 512-byte sector that
// holds it; we report the byte).
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ok, run, serve, tempDir } from './harness.ts';

const tmp = tempDir();
const at = (name: string) => path.join(tmp.dir, name);
afterAll(() => tmp.cleanup());

const M = 1024 * 1024;
/** The changed byte: inside the 0x22 run at 1M, not on a sector boundary. */
const CHANGED = M + 1234;

interface JsonResult {
  identical: boolean;
  first_difference: number | null;
  totals: { identical: number; differ: number; only_a: number; only_b: number };
  ranges: { offset: number; length: number; class: string }[];
}

async function ours(a: string, b: string, ...flags: string[]): Promise<{ code: number; json: JsonResult }> {
  const r = await run(process.execPath, [CLI, 'compare', a, b, '--json', ...flags]);
  if (r.code === 2) throw new Error(`blockscope compare failed: ${r.stderr}`);
  return { code: r.code, json: JSON.parse(r.stdout) as JsonResult };
}

/** qemu-img compare's exit status and the offset it names, if any. */
async function qemus(a: string, b: string, ...flags: string[]): Promise<{ code: number; offset: number | null }> {
  const r = await run('qemu-img', ['compare', ...flags, a, b]);
  const m = /(?:Content mismatch at offset|Offset) (\d+)/.exec(r.stdout);
  return { code: r.code, offset: m ? Number(m[1]) : null };
}

const sector = (offset: number) => Math.floor(offset / 512) * 512;

beforeAll(async () => {
  await ok('qemu-img', ['create', '-f', 'raw', at('src.raw'), '4M']);
  await ok('qemu-io', ['-f', 'raw', '-c', 'write -P 0x11 0 192k', '-c', 'write -P 0x22 1M 64k', '-c', 'write -P 0x33 3M 512k', at('src.raw')]);
  await ok('cp', ['--sparse=always', at('src.raw'), at('one.raw')]);
  await ok('qemu-io', ['-f', 'raw', '-c', `write -P 0x99 ${CHANGED} 1`, at('one.raw')]);
}, 60_000);

const formats: [string, string[]][] = [
  ['raw', ['-O', 'raw']],
  ['qcow2', ['-O', 'qcow2']],
  ['vmdk', ['-O', 'vmdk']],
  ['vpc', ['-O', 'vpc', '-o', 'subformat=dynamic']],
  ['vhdx', ['-O', 'vhdx']],
  ['vdi', ['-O', 'vdi']],
];

describe('compare local images like qemu-img compare', () => {
  for (const [format, args] of formats) {
    it(`${format}: a converted copy is identical, one changed byte is found where qemu-img finds it`, async () => {
      const image = (name: string) => at(`${name}-${format}.img`);
      for (const name of ['src', 'copy', 'one']) {
        await ok('qemu-img', ['convert', '-f', 'raw', ...args, at(`${name === 'copy' ? 'src' : name}.raw`), image(name)]);
      }
      const same = await ours(image('src'), image('copy'));
      expect(same).toMatchObject({ code: 0, json: { identical: true, first_difference: null, ranges: [] } });
      expect((await qemus(image('src'), image('copy'))).code).toBe(0);

      const diff = await ours(image('src'), image('one'));
      expect(diff.code).toBe(1);
      expect(diff.json.ranges.filter((r) => r.class === 'differ')).toEqual([{ offset: CHANGED, length: 1, class: 'differ' }]);
      expect(diff.json.first_difference).toBe(CHANGED);
      expect(await qemus(image('src'), image('one'))).toEqual({ code: 1, offset: sector(CHANGED) });
      // Across formats: the raw original against this format's changed copy.
      expect((await ours(at('src.raw'), image('one'))).json.first_difference).toBe(CHANGED);
    });
  }

  it('different sizes: the tail is compared against zeroes; --strict counts the size', async () => {
    await ok('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', at('src.raw'), at('big.qcow2')]);
    await ok('qemu-img', ['resize', '-f', 'qcow2', at('big.qcow2'), '6M']);
    const zeroTail = await ours(at('src.raw'), at('big.qcow2'));
    expect(zeroTail).toMatchObject({ code: 0, json: { identical: true, totals: { identical: 6 * M, differ: 0 } } });
    expect((await qemus(at('src.raw'), at('big.qcow2'))).code).toBe(0);
    expect((await ours(at('src.raw'), at('big.qcow2'), '--strict')).code).toBe(1);
    expect((await qemus(at('src.raw'), at('big.qcow2'), '-s')).code).toBe(1);

    await ok('qemu-io', ['-f', 'qcow2', '-c', `write -P 0x44 ${5 * M} 4k`, at('big.qcow2')]);
    const dataTail = await ours(at('big.qcow2'), at('src.raw'));
    expect(dataTail.code).toBe(1);
    // qcow2 allocates the whole 64 KiB cluster: the rest of it is zeroes allocated in A only.
    expect(dataTail.json.ranges).toEqual([
      { offset: 5 * M, length: 4096, class: 'differ' },
      { offset: 5 * M + 4096, length: 65536 - 4096, class: 'only-a' },
    ]);
    expect(await qemus(at('big.qcow2'), at('src.raw'))).toEqual({ code: 1, offset: 5 * M });
  });

  it('allocation-only differences: identical, but different with --strict (qemu-img compare -s)', async () => {
    await ok('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', at('src.raw'), at('alloc-a.qcow2')]);
    await ok('cp', [at('alloc-a.qcow2'), at('alloc-b.qcow2')]);
    // Zero bytes written as data where A has nothing allocated.
    await ok('qemu-io', ['-f', 'qcow2', '-c', `write -P 0 ${2 * M + 512 * 1024} 64k`, at('alloc-b.qcow2')]);
    const loose = await ours(at('alloc-a.qcow2'), at('alloc-b.qcow2'));
    expect(loose).toMatchObject({ code: 0, json: { identical: true, ranges: [{ offset: 2 * M + 512 * 1024, length: 65536, class: 'only-b' }] } });
    expect((await qemus(at('alloc-a.qcow2'), at('alloc-b.qcow2'))).code).toBe(0);
    const strict = await ours(at('alloc-a.qcow2'), at('alloc-b.qcow2'), '--strict');
    expect(strict).toMatchObject({ code: 1, json: { first_difference: 2 * M + 512 * 1024 } });
    expect(await qemus(at('alloc-a.qcow2'), at('alloc-b.qcow2'), '-s')).toEqual({ code: 1, offset: 2 * M + 512 * 1024 });
  });

  it('a fragmented sparse image: every changed byte found across the short reads of its extents', async () => {
    // 24 extents of 4 KiB to 196 KiB, 1 MiB apart, in a 32 MiB image: compare reads the
    // longer ones in several short reads, so changes sit on and beside their boundaries.
    const writes = Array.from({ length: 24 }, (_, i) => ['-c', `write -P ${0x40 + i} ${i * M + (i % 3) * 4096} ${4 + (i * 8) % 196}k`]).flat();
    await ok('qemu-img', ['create', '-f', 'raw', at('frag.raw'), '32M']);
    await ok('qemu-io', ['-f', 'raw', ...writes, at('frag.raw')]);
    await ok('cp', ['--sparse=always', at('frag.raw'), at('frag-changed.raw')]);
    // Extent 13 starts at 13M+4K (108 KiB long), extent 22 at 22M+4K (180 KiB): bytes on both
    // sides of its first 64 KiB boundary, and the last byte before its second.
    const changed = [13 * M + 4096 + 100000, 22 * M + 4096 + 65535, 22 * M + 4096 + 65536, 22 * M + 4096 + 131071];
    await ok('qemu-io', ['-f', 'raw', ...changed.map((o) => ['-c', `write -P 0xee ${o} 1`]).flat(), at('frag-changed.raw')]);
    const same = await ours(at('frag.raw'), at('frag.raw'));
    expect(same).toMatchObject({ code: 0, json: { identical: true, ranges: [] } });
    const diff = await ours(at('frag.raw'), at('frag-changed.raw'));
    expect(diff.code).toBe(1);
    expect(diff.json.ranges).toEqual([
      { offset: changed[0], length: 1, class: 'differ' },
      { offset: changed[1], length: 2, class: 'differ' },
      { offset: changed[3], length: 1, class: 'differ' },
    ]);
    expect(await qemus(at('frag.raw'), at('frag-changed.raw'))).toEqual({ code: 1, offset: sector(changed[0]!) });
  });

  it('exit status 2 for errors: a missing image, one argument', async () => {
    expect((await run(process.execPath, [CLI, 'compare', at('src.raw'), at('missing.img')])).code).toBe(2);
    const r = await run(process.execPath, [CLI, 'compare', at('src.raw')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/two images/);
  });
});

describe('compare over NBD', () => {
  it('our server against a local file, and against nbdkit serving the same bytes', async () => {
    await ok('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', at('one.raw'), at('nbd-one.qcow2')]);
    const s = await serve([at('nbd-one.qcow2')]);
    try {
      const remote = await ours(s.uri, at('src.raw'));
      expect(remote.code).toBe(1);
      expect(remote.json.ranges.filter((r) => r.class === 'differ')).toEqual([{ offset: CHANGED, length: 1, class: 'differ' }]);
      expect(await qemus(s.uri, at('src.raw'))).toEqual({ code: 1, offset: sector(CHANGED) });
      // nbdkit serves one.raw over a Unix socket; its --run gives our exit status back.
      const r = await run('nbdkit', ['-U', '-', '-r', 'file', at('one.raw'), '--run', `"${process.execPath}" "${CLI}" compare "$uri" "${s.uri}"`]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Images are identical/);
      const d = await run('nbdkit', ['-U', '-', '-r', 'file', at('src.raw'), '--run', `"${process.execPath}" "${CLI}" compare "$uri" "${s.uri}"`]);
      expect(d.code).toBe(1);
      expect(d.stdout).toContain(`${String(CHANGED).padStart(10)}           1  differ`);
    } finally {
      await s.stop();
    }
  });
});
