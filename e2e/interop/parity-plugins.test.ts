// Plugins data, zero, full, random, split, tmpdisk and the filters gzip and xz under Debian's
// nbdkit and `blockscope serve`: the same command line and nbdsh script, compared line for
// line (sizes, capabilities, bytes as digests, maps, errno names). The data cases are the
// examples of nbdkit-data-plugin(1). Rebuild the CLI first: node scripts/build.mjs --no-renderer.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MBR_EXAMPLE } from '../../main/plugins/data/examples.testing.ts';
import { tempDir } from '../../main/temp-dir.ts';
import { PY_HELPERS, underBlockscope, underBoth, underNbdkit, type ParityArgs, type ParityOutput } from './parity.ts';

const { dir, cleanup } = tempDir('blockscope-parity-plugins-');
afterAll(cleanup);

function expectParity(ours: ParityOutput, nbdkit: ParityOutput): string {
  expect(nbdkit.ok, nbdkit.output).toBe(true);
  expect(ours.output).toBe(nbdkit.output);
  return ours.output;
}

async function expectSame(args: ParityArgs, body: string): Promise<string> {
  const { ours, nbdkit } = await underBoth(args, `${PY_HELPERS}\n${body}`);
  return expectParity(ours, nbdkit);
}

const CAPS = `
for name in ["is_read_only", "can_zero", "can_fast_zero", "can_trim", "can_flush", "can_fua", "can_multi_conn", "can_cache"]:
    show(name, getattr(h, name)())
`;

const WHOLE = `
size = h.get_size()
show("size", size)
show("bytes", digest(h.pread(size, 0)) if size else "empty")
`;

/** Bytes and size of a read-only disk; the man page's data examples are small. */
const READ = `${WHOLE}
show("head", h.pread(min(size, 16), 0).hex())
`;

describe('parity with nbdkit: plugins', { timeout: 120_000 }, () => {
  it('data: the examples of nbdkit-data-plugin(1)', async () => {
    const files = ['file1', 'file2', 'file3'].map((name, i) => {
      const f = path.join(dir, name);
      writeFileSync(f, Buffer.alloc(100 + 300 * i, 0x41 + i));
      return f;
    });
    const examples: string[][] = [
      ['data', ' ( 0x55 0xAA )*2048 '],
      ['data', ' ( "Hello" )*2000 ', 'size=8192'],
      ['data', MBR_EXAMPLE, 'size=1M'],
      ['data', `data= <${files[0]} @^512 <${files[1]} @^512 <${files[2]} @^512 `],
      ['data', 'base64=MTIz', 'size=1M'],
      ['data', 'raw=Hello, world!'],
      ['data', '0 1 2 3 @0x1fe 0x55 0xaa'],
      ['data', '0 1 2 3 @^0x200 @-2 le16:0xaa55'],
      ['data', ' be32:0x1 '],
      ['data', '( 0x55 0xAA ) * 256'],
      ['data', ' ( 0x55 0xAA ) -> \\boot-signature ( @0x1fe \\boot-signature ) -> \\sector \\sector \\sector '],
      // data= spelled out: the script holds '=', which our CLI takes for KEY=VALUE (nbdkit
      // checks whether the part before '=' is a valid key).
      ['data', 'data= <( i=0\n while :; do\n printf "%04d" $i; i=$((i+1))\n done )[:32768] '],
      ['data', '(1 2 3 4)[1:3] "a"*3 @0 2 (1 @4)*2 1*0'],
    ];
    for (const args of examples) await expectSame(['-r', ...args], READ);
  });

  it('data: writable, writes read back', async () => {
    await expectSame(['data', '1 2 3 4 @4096'], `${CAPS}
show("write", attempt(lambda: h.pwrite(b"xyz", 2)))
show("zero", attempt(lambda: h.zero(2, 0)))
${WHOLE}`);
  });

  it('zero: an empty read-only disk', async () => {
    await expectSame(['zero'], `${CAPS}${WHOLE}`);
  });

  it('full: reads zeroes, writes, zeroes and trims fail with ENOSPC', async () => {
    await expectSame(['full', 'size=1M'], `${CAPS}${WHOLE}
show("write", attempt(lambda: h.pwrite(b"x" * 512, 0)))
show("zero", attempt(lambda: h.zero(512, 0)))
show("trim", attempt(lambda: h.trim(512, 0)))
show("map", extents(h, 1 << 20))
`);
  });

  it("random: nbdkit's bytes for the same seed; matching writes pass, others fail with EIO", async () => {
    for (const seed of ['1', '12345', '4294967295']) {
      await expectSame(['random', 'size=256K', `seed=${seed}`], `${WHOLE}
show("odd read", h.pread(37, 100001).hex())
same = h.pread(4096, 8192)
show("same write", attempt(lambda: h.pwrite(same, 8192)))
show("other write", attempt(lambda: h.pwrite(bytes(b ^ 1 for b in same[:512]), 8192)))
`);
    }
  });

  it('split: files end to end, a write lands in its file', async () => {
    const make = (tag: string) => ['a', 'b', 'c'].map((name, i) => {
      const f = path.join(dir, `${tag}-${name}`);
      writeFileSync(f, Buffer.alloc(4096 * (i + 1) + 7 * i, 0x61 + i));
      return f;
    });
    // Capabilities differ on purpose: nbdkit 1.32's split has no flush, trim or multi-conn,
    // ours syncs, punches holes and advertises multi-conn. nbdkit 1.32 also writes to a later
    // file at the disk's offset rather than the file's (a write at 4100 lands at byte 4100
    // of the second file), so the compared write stays in the first file; split.test.ts
    // checks writes into and across later files.
    const script = `${PY_HELPERS}${WHOLE}
show("write", attempt(lambda: h.pwrite(b"Z" * 20, 1000)))
show("after", digest(h.pread(h.get_size(), 0)))
show("map", extents(h, h.get_size()))
`;
    const theirs = make('nbdkit');
    const ours = make('ours');
    const [a, b] = await Promise.all([
      underBlockscope(['split', ...ours.map((f) => `file=${f}`)], script),
      underNbdkit(['split', ...theirs.map((f) => `file=${f}`)], script),
    ]);
    expectParity(a, b);
    expect(execFileSync('cmp', [theirs[0]!, ours[0]!]).length).toBe(0);
    expect(execFileSync('cmp', [theirs[1]!, ours[1]!]).length).toBe(0);
  });

  it('tmpdisk: each client gets its own fresh disk from command=', async () => {
    const script = `${PY_HELPERS}${WHOLE}
show("write", attempt(lambda: h.pwrite(b"mine", 0)))
h2 = nbd.NBD()
h2.connect_uri(h.get_uri())
show("second client sees", h2.pread(4, 0).hex())
`;
    await expectSame(['tmpdisk', 'size=1M', 'command=truncate -s $size "$disk"'], script);
  });

  it('tmpdisk: mkfs formats ext4 with the label', async () => {
    await expectSame(['tmpdisk', 'size=16M', 'label=parity'], `
sb = h.pread(1024, 1024)
show("size", h.get_size())
show("magic", sb[56:58].hex())
show("label", sb[120:126])
`);
  });
});

describe('parity with nbdkit: compressed-image filters', { timeout: 120_000 }, () => {
  const raw = Buffer.alloc(3 << 20);
  for (let i = 0; i < raw.length; i++) raw[i] = i < 1 << 20 ? (i * 13) & 0xff : i >= 2 << 20 ? (i >> 10) & 0xff : 0;
  const rawFile = path.join(dir, 'disk.img');
  writeFileSync(rawFile, raw);
  const script = `${CAPS}${WHOLE}
show("across", digest(h.pread(70000, (1 << 20) - 35000)))
show("write", attempt(lambda: h.pwrite(b"x", 0)))
show("map", extents(h, size))
`;

  it('gzip: the uncompressed bytes, read-only', async () => {
    const gz = path.join(dir, 'disk.img.gz');
    writeFileSync(gz, execFileSync('gzip', ['-c', rawFile], { maxBuffer: 1 << 26 }));
    await expectSame(['--filter=gzip', 'file', gz], script);
  });

  it('xz: the uncompressed bytes of a multi-block file, read-only', async () => {
    const xz = path.join(dir, 'disk.img.xz');
    writeFileSync(xz, execFileSync('xz', ['-c', '--block-size=256KiB', rawFile], { maxBuffer: 1 << 26 }));
    await expectSame(['--filter=xz', 'file', xz], script);
  });

  it('xz: a block over xz-max-block is refused by both', async () => {
    const xz = path.join(dir, 'big-block.img.xz');
    writeFileSync(xz, execFileSync('xz', ['-c', '--block-size=1MiB', rawFile], { maxBuffer: 1 << 26 }));
    // Both refuse at startup, before serving a byte.
    const args = ['--filter=xz', 'file', xz, 'xz-max-block=64K'];
    const script = 'print(h.pread(1, 0).hex())';
    expect((await underNbdkit(args, script)).ok).toBe(false);
    await expect(underBlockscope(args, script)).rejects.toThrow(/larger than xz-max-block=65536/);
  });
});
