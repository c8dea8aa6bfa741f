// Filters group A (nozero, fua, blocksize, blocksize-policy, protect, checkwrite, swab,
// nocache, noparallel, multi-conn) under Debian's nbdkit and `blockscope serve`: the same
// command line and nbdsh script, compared line for line (capabilities, bytes, errno names).
// Writes go to a memory disk, which each server holds privately.
import { describe, expect, it } from 'vitest';
import { PY_HELPERS, underBoth, type ParityArgs } from './parity.ts';

async function expectSame(args: ParityArgs, body: string): Promise<string> {
  const { ours, nbdkit } = await underBoth(args, `${PY_HELPERS}\n${body}`);
  expect(nbdkit.ok, nbdkit.output).toBe(true);
  expect(ours.output).toBe(nbdkit.output);
  return ours.output;
}

const CAPS = `
for name in ["can_zero", "can_fast_zero", "can_fua", "can_flush", "can_cache", "can_multi_conn", "can_trim", "is_read_only"]:
    show(name, getattr(h, name)())
`;

describe('parity with nbdkit: filters group A', { timeout: 120_000 }, () => {
  it('nozero: each zeromode advertises and zeroes the same', async () => {
    for (const mode of ['none', 'emulate', 'notrim', 'plugin']) {
      await expectSame(['--filter=nozero', 'memory', 'size=1M', `zeromode=${mode}`], `${CAPS}
h.pwrite(b"\\xaa" * 4096, 0)
show("zero", attempt(lambda: h.zero(1000, 100)))
show("fast", attempt(lambda: h.zero(512, 0, nbd.CMD_FLAG_FAST_ZERO)))
show("bytes", digest(h.pread(4096, 0)))
`);
    }
  });

  it('fua: each fuamode advertises and writes the same', async () => {
    // nbdkit 1.32 rejects its own default spelled out (unknown fuamode 'none'): leave it unset.
    for (const mode of ['', 'emulate', 'native', 'force', 'pass', 'discard']) {
      const out = await expectSame(['--filter=fua', 'memory', 'size=1M', ...(mode ? [`fuamode=${mode}`] : [])], `${CAPS}
show("fua write", attempt(lambda: h.pwrite(b"x" * 512, 0, nbd.CMD_FLAG_FUA)))
show("flush", attempt(lambda: h.flush()))
show("bytes", digest(h.pread(512, 0)))
`);
      expect(out).toContain('can_fua: ');
    }
  });

  it('blocksize: rounds the size down and reads, writes and zeroes unaligned ranges alike', async () => {
    await expectSame(['-r', '--filter=blocksize', 'pattern', 'size=1000000', 'minblock=4k', 'maxdata=8k'], `
show("size", h.get_size())
show("read", h.pread(40, 4090).hex())
show("long read", digest(h.pread(100000, 333)))
`);
    await expectSame(['--filter=blocksize', 'memory', 'size=1000000', 'minblock=4k', 'maxdata=8k', 'maxlen=16k'], `
show("size", h.get_size())
show("write", attempt(lambda: h.pwrite(b"hello" * 1000, 4093)))
show("zero", attempt(lambda: h.zero(20000, 9999)))
show("trim", attempt(lambda: h.trim(20000, 1)))
show("bytes", digest(h.pread(40960, 0)))
`);
  });

  it('blocksize-policy: refuses what breaks the limits with EINVAL, passes the rest', async () => {
    await expectSame(['--filter=blocksize-policy', 'memory', 'size=1M', 'blocksize-minimum=4k', 'blocksize-preferred=4k',
      'blocksize-maximum=64k', 'blocksize-error-policy=error'], `
h.set_strict_mode(0)
show("small", attempt(lambda: h.pread(512, 0)))
show("unaligned", attempt(lambda: h.pread(4096, 512)))
show("large", attempt(lambda: h.pread(131072, 0)))
show("odd zero", attempt(lambda: h.zero(6144, 0)))
show("big zero", attempt(lambda: h.zero(262144, 0)))
show("write", attempt(lambda: h.pwrite(b"y" * 8192, 4096)))
show("bytes", digest(h.pread(16384, 0)))
`);
  });

  // Not zero or trim: nbdkit 1.32's protect filter crashes (SIGSEGV) checking them.
  it('protect: refuses changes to protected bytes with EPERM and allows the rest', async () => {
    await expectSame(['--filter=protect', 'memory', 'size=1M', 'protect=512-1023'], `
show("same", attempt(lambda: h.pwrite(bytes(512), 512)))
show("change", attempt(lambda: h.pwrite(b"z", 1023)))
show("outside", attempt(lambda: h.pwrite(b"z" * 512, 0)))
show("straddle", attempt(lambda: h.pwrite(b"z" * 1024, 0)))
show("bytes", digest(h.pread(4096, 0)))
`);
  });

  it('checkwrite: the same bytes pass, anything else is EIO', async () => {
    await expectSame(['--filter=checkwrite', 'pattern', 'size=1M'], `${CAPS}
data = h.pread(4096, 8192)
show("same", attempt(lambda: h.pwrite(data, 8192)))
show("differ", attempt(lambda: h.pwrite(b"q" + data[1:], 8192)))
show("zero data", attempt(lambda: h.zero(512, 8192)))
show("zero zeroes", attempt(lambda: h.zero(7, 0)))
`);
  });

  it('swab: swaps words of each size and refuses split words', async () => {
    for (const bits of ['8', '16', '32', '64']) {
      await expectSame(['-r', '--filter=swab', 'pattern', 'size=1001', `swab-bits=${bits}`], `
show("size", h.get_size())
show("read", h.pread(32, 8).hex())
show("split", attempt(lambda: h.pread(8, 1)))
`);
    }
  });

  it('nocache, noparallel and multi-conn advertise the same', async () => {
    for (const mode of ['none', 'emulate', 'nop']) {
      await expectSame(['--filter=nocache', 'memory', 'size=1M', `cachemode=${mode}`], `${CAPS}
show("cache", attempt(lambda: h.cache(4096, 0)))
`);
    }
    for (const serialize of ['requests', 'all-requests', 'connections']) {
      await expectSame(['--filter=noparallel', 'memory', 'size=1M', `serialize=${serialize}`], CAPS);
    }
    for (const mode of ['auto', 'emulate', 'plugin', 'unsafe', 'disable']) {
      await expectSame(['--filter=multi-conn', 'memory', 'size=1M', `multi-conn-mode=${mode}`], `${CAPS}
show("flush", attempt(lambda: h.flush()))
`);
    }
  });
});
