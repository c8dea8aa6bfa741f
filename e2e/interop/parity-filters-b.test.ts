// Filters group B (log, cache, cacheextents, extentlist, retry, readahead, rate, scan, pause)
// under Debian's nbdkit and `blockscope serve`: the same command line and nbdsh script,
// compared line for line. Where a filter's effect is timing (rate, readahead, scan) the
// comparison is of what the client sees: bytes and maps. Filters that own a file or socket
// named on the command line (log, pause) run one server after the other.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSparseFile } from '../../main/testing/sparse-file.ts';
import { tempDir } from './harness.ts';
import { PY_HELPERS, underBlockscope, underBoth, underNbdkit, type ParityArgs } from './parity.ts';

const tmp = tempDir('blockscope-parity-b-');
afterAll(() => tmp.cleanup());
const K = 1024;

/** A 1 MiB sparse file: data at 64K (4K), 400K (12K) and the last 8K; the rest holes. */
const image = path.join(tmp.dir, 'sparse.img');
writeSparseFile(image, 2 ** 20, [{ offset: 64 * K, length: 4 * K }, { offset: 400 * K, length: 12 * K }, { offset: 2 ** 20 - 8 * K, length: 8 * K }]);

async function expectSame(args: ParityArgs, body: string): Promise<string> {
  const { ours, nbdkit } = await underBoth(args, `${PY_HELPERS}\n${body}`);
  expect(nbdkit.ok, nbdkit.output).toBe(true);
  expect(ours.output).toBe(nbdkit.output);
  return ours.output;
}

/** For filters that hold a path from the command line: nbdkit first, then ours. */
async function inTurn(args: ParityArgs, body: string, after: () => string = () => '') {
  const nbdkit = await underNbdkit(args, `${PY_HELPERS}\n${body}`);
  const nbdkitAfter = after();
  const ours = await underBlockscope(args, `${PY_HELPERS}\n${body}`);
  expect(nbdkit.ok, nbdkit.output).toBe(true);
  expect(ours.output).toBe(nbdkit.output);
  return { nbdkitAfter, oursAfter: after(), output: ours.output };
}

const MAP = `
show("map", extents(h, h.get_size()))
pos, one = 0, []
while pos < h.get_size():
    e = extents(h, h.get_size() - pos, pos, nbd.CMD_FLAG_REQ_ONE)[0]
    one.append(e)
    pos += e[0]
show("req_one map", one)
show("bytes", digest(h.pread(h.get_size(), 0)))
`;

/** A log's connection lines without timestamps (nbdkit's server-wide lines are not ours to write). */
function connectionLines(file: string): string[] {
  return readFileSync(file, 'utf8').trimEnd().split('\n')
    .map((l) => l.replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} /, ''))
    .filter((l) => l.startsWith('connection='));
}

describe('parity with nbdkit: filters group B', { timeout: 120_000 }, () => {
  // Two runs, so the Connect line compares capabilities both plugins share: writes on a
  // memory disk (both do FUA natively), then a real map from a read-only file.
  it('log: the same lines for the same requests, timestamps aside', async () => {
    const logfile = path.join(tmp.dir, 'requests.log');
    const lines = () => connectionLines(logfile).join('\n');
    const writes = await inTurn(['--filter=log', 'memory', 'size=1M', `logfile=${logfile}`], `
h.pwrite(b"\\x11" * 512, 0, nbd.CMD_FLAG_FUA)
show("read", digest(h.pread(4096, 0)))
h.zero(4096, 8192)
h.zero(4096, 8192, nbd.CMD_FLAG_NO_HOLE | nbd.CMD_FLAG_FAST_ZERO)
h.trim(4096, 65536)
h.flush()
h.cache(4096, 0)
show("map", extents(h, 512 * 1024, 512 * 1024))
`, lines);
    expect(writes.oursAfter).toBe(writes.nbdkitAfter);
    expect(writes.oursAfter).toContain('connection=1 Write id=1 offset=0x0 count=0x200 fua=1 ...');
    const reads = await inTurn(['-r', '--filter=log', 'file', image, `logfile=${logfile}`], `
show("read", digest(h.pread(4096, 64 * 1024)))
show("map", extents(h, 1024 * 1024))
show("one", extents(h, 1024 * 1024, 0, nbd.CMD_FLAG_REQ_ONE))
`, lines);
    expect(reads.oursAfter).toBe(reads.nbdkitAfter);
    expect(reads.oursAfter).toContain('...Extents id=2 extents=(0x0 0x10000 "hole,zero" 0x10000 0x1000 "" ');
  });

  it('cache: bytes the same in each mode after writes, flushes and reads', async () => {
    for (const mode of ['writeback', 'writethrough', 'unsafe']) {
      await expectSame(['--filter=cache', 'memory', 'size=1M', `cache=${mode}`, 'cache-on-read=true'], `
h.pwrite(b"\\x22" * 5000, 1000)
show("read", digest(h.pread(8192, 0)))
h.flush()
h.pwrite(b"\\x33" * 512, 70000, nbd.CMD_FLAG_FUA)
show("zero", attempt(lambda: h.zero(3000, 2000)))
show("fast zero", attempt(lambda: h.zero(4096, 0, nbd.CMD_FLAG_FAST_ZERO)))
show("cache", attempt(lambda: h.cache(65536, 0)))
show("bytes", digest(h.pread(1024 * 1024, 0)))
`);
    }
  });

  it('cache: the map of a read-only file is the file\'s', async () => {
    await expectSame(['-r', '--filter=cache', 'file', image, 'cache-on-read=true', 'cache-max-size=1M', 'cache-min-block-size=4K'], MAP);
  });

  it('cacheextents: the same maps, whole and one extent at a time', async () => {
    await expectSame(['-r', '--filter=cacheextents', 'file', image], MAP);
  });

  it('extentlist: the listed map, not the file\'s', async () => {
    const list = path.join(tmp.dir, 'extents.txt');
    writeFileSync(list, '0 4K\n512K 64K hole\n  900K 1K zero\n');
    const out = await expectSame(['-r', '--filter=extentlist', 'file', image, `extentlist=${list}`], MAP);
    expect(out).toContain('map: [(4096, 0), (520192, 3), (65536, 1)');
  });

  it('retry: transparent while the disk works, the same error when it never recovers', async () => {
    await expectSame(['-r', '--filter=retry', 'file', image], MAP);
    const trigger = path.join(tmp.dir, 'broken');
    writeFileSync(trigger, '');
    await expectSame(['-r', '--filter=retry', '--filter=error', 'file', image, 'retries=1', 'retry-delay=1', 'error-pread-rate=1', `error-pread-file=${trigger}`], `
show("read", attempt(lambda: h.pread(512, 0)))
show("map", extents(h, 65536))
`);
  });

  it('retry: a source that recovers while the filter waits serves the read', async () => {
    const trigger = path.join(tmp.dir, 'recovers');
    writeFileSync(trigger, '');
    // The first read fails; the trigger is gone long before the 2 s wait ends, so the retry works.
    const { nbdkitAfter, oursAfter, output } = await inTurn(['-r', '--filter=retry', '--filter=error', 'file', image, 'retries=2', 'retry-delay=2',
      'retry-exponential=no', 'error-pread-rate=1', `error-pread-file=${trigger}`], `
import os, threading, time
t0 = time.monotonic()
threading.Timer(0.3, lambda: os.remove(${JSON.stringify(trigger)})).start()
show("read", attempt(lambda: digest(h.pread(4096, 64 * 1024))))
show("waited", time.monotonic() - t0 >= 1.9)
`, () => {
      writeFileSync(trigger, ''); // broken again for the second server
      return '';
    });
    expect(oursAfter).toBe(nbdkitAfter);
    expect(output).toMatch(/^read: [0-9a-f]{16}\nwaited: True$/);
  });

  it('readahead, rate and scan: the same bytes and maps as without them', async () => {
    await expectSame(['-r', '--filter=readahead', '--filter=cache', 'file', image], MAP);
    await expectSame(['-r', '--filter=rate', 'file', image, 'rate=1G', 'connection-rate=1G'], MAP);
    await expectSame(['-r', '--filter=scan', '--filter=cache', 'file', image, 'scan-size=64K'], MAP);
  });

  it('pause: the control socket answers P, R and X alike, and requests go on after r', async () => {
    const control = path.join(tmp.dir, 'pause.sock');
    await inTurn(['-r', '--filter=pause', 'file', image, `pause-control=${control}`], `
import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(${JSON.stringify(control)})
for c in [b"p", b"r", b"?"]:
    s.sendall(c)
    show(c.decode(), s.recv(1).decode())
show("read", digest(h.pread(4096, 64 * 1024)))
`);
  });
});
