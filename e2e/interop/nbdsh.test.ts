// nbdsh (python3-libnbd): block status with and without REQ_ONE, meta context negotiation in
// option mode, and the error each out-of-range or forbidden request must get.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nbdsh, serve, type Served } from './harness.ts';

// A 1 MiB RAM disk with 4 KiB written at 64 KiB and at 512 KiB.
let rw: Served;
let ro: Served;
beforeAll(async () => {
  rw = await serve(['--writable', 'memory', 'size=1M']);
  await nbdsh(rw.uri, "h.pwrite(b'\\x11' * 4096, 65536); h.pwrite(b'\\x22' * 4096, 524288)");
  ro = await serve(['pattern', 'size=1M']);
});
afterAll(async () => {
  await rw.stop();
  await ro.stop();
});

const COLLECT = `
out = []
def cb(ctx, offset, entries, err):
    out.append((ctx, offset, list(entries)))
`;

describe('nbdsh', () => {
  it('block status covers the range with consecutive descriptors', async () => {
    const text = await nbdsh(rw.uri, `${COLLECT}h.block_status(1048576, 0, cb); print(out)`, ['--base-allocation']);
    expect(text.trim()).toBe("[('base:allocation', 0, [65536, 3, 4096, 0, 454656, 3, 4096, 0, 520192, 3])]");
  });

  it('REQ_ONE returns exactly one descriptor no longer than the request', async () => {
    const text = await nbdsh(rw.uri, `${COLLECT}
h.block_status(1048576, 0, cb, nbd.CMD_FLAG_REQ_ONE)
h.block_status(100, 65536, cb, nbd.CMD_FLAG_REQ_ONE)
h.block_status(8192, 65536, cb, nbd.CMD_FLAG_REQ_ONE)
print(out)`, ['--base-allocation']);
    expect(text.trim()).toBe("[('base:allocation', 0, [65536, 3]), ('base:allocation', 65536, [100, 0]), ('base:allocation', 65536, [4096, 0])]");
  });

  it('a request starting mid-extent is answered from its offset', async () => {
    const text = await nbdsh(rw.uri, `${COLLECT}h.block_status(10000, 66000, cb); print(out)`, ['--base-allocation']);
    expect(text.trim()).toBe("[('base:allocation', 66000, [3632, 0, 6368, 3])]");
  });

  it('option mode: LIST_META_CONTEXT and SET_META_CONTEXT follow the spec', async () => {
    const text = await nbdsh(rw.uri.replace(/\/$/, '/'), `
h2 = nbd.NBD()
h2.set_opt_mode(True)
h2.connect_uri("${rw.uri}")
seen = []
h2.opt_list_meta_context(lambda name: seen.append(name))
print("all", sorted(seen))
seen.clear()
h2.add_meta_context("base:")
h2.opt_list_meta_context(lambda name: seen.append(name))
print("base:", sorted(seen))
seen.clear()
h2.clear_meta_contexts()
h2.add_meta_context("nosuch:context")
h2.opt_list_meta_context(lambda name: seen.append(name))
print("unknown", sorted(seen))
h2.clear_meta_contexts()
h2.add_meta_context("base:allocation")
h2.add_meta_context("nosuch:context")
h2.opt_go()
print("can", h2.can_meta_context("base:allocation"), h2.can_meta_context("nosuch:context"))
h2.shutdown()
`);
    expect(text.trim().split('\n')).toEqual(["all ['base:allocation']", "base: ['base:allocation']", 'unknown []', 'can True False']);
  });

  it('option mode: INFO reports size and flags without entering transmission; an unknown export is refused', async () => {
    const text = await nbdsh(rw.uri, `
h2 = nbd.NBD()
h2.set_opt_mode(True)
h2.connect_uri("${rw.uri}")
h2.opt_info()
print(h2.get_size(), h2.is_read_only(), h2.get_block_size(nbd.SIZE_MAXIMUM))
h2.set_export_name("nosuch")
try:
    h2.opt_info()
    print("no error")
except nbd.Error as e:
    print("refused")
h2.opt_abort()
`);
    expect(text.trim().split('\n')).toEqual(['1048576 False 33554432', 'refused']);
  });

  it('out-of-range and forbidden requests get the right errors and the connection survives', async () => {
    const script = `
import errno
def code(f):
    try:
        f()
        return "ok"
    except nbd.Error as e:
        return errno.errorcode.get(e.errno, e.errno)
h.set_strict_mode(0)
print(code(lambda: h.pread(512, 1048576 - 256)))
print(code(lambda: h.pwrite(b'x' * 512, 1048576 - 256)))
print(code(lambda: h.zero(4096, 1048576)))
print(code(lambda: h.trim(4096, 1048576)))
print(code(lambda: h.block_status(4096, 1048576, lambda *a: 0)))
print(code(lambda: h.pread(512, 0)))
print(code(lambda: h.cache(4096, 0)))
print(code(lambda: h.flush()))
`;
    const rwOut = (await nbdsh(rw.uri, script, ['--base-allocation'])).trim().split('\n');
    expect(rwOut).toEqual(['EINVAL', 'ENOSPC', 'ENOSPC', 'EINVAL', 'EINVAL', 'ok', 'ok', 'ok']);
    const roOut = (await nbdsh(ro.uri, `
import errno
h.set_strict_mode(0)
def code(f):
    try:
        f()
        return "ok"
    except nbd.Error as e:
        return errno.errorcode.get(e.errno, e.errno)
print(code(lambda: h.pwrite(b'x' * 512, 0)))
print(code(lambda: h.zero(512, 0)))
print(code(lambda: h.trim(512, 0)))
print(code(lambda: h.pread(16, 8)))
print(h.pread(16, 8).hex())
`)).trim().split('\n');
    expect(roOut).toEqual(['EPERM', 'EPERM', 'EPERM', 'ok', '00000000000000080000000000000010']);
  });

  it('DF reads come back in one data chunk; a flag not valid for a command is EINVAL', async () => {
    const text = await nbdsh(rw.uri, `
import errno
chunks = []
def chunk(buf, offset, status, err):
    chunks.append((offset, len(buf), status))
    return 0
h.pread_structured(262144, 0, chunk, nbd.CMD_FLAG_DF)
print(chunks)
h.set_strict_mode(0)
try:
    h.pread(512, 0, nbd.CMD_FLAG_REQ_ONE)
    print("ok")
except nbd.Error as e:
    print("EINVAL" if e.errno in (errno.EINVAL, "EINVAL") else e.errno)
print(len(h.pread(512, 0)))
`);
    expect(text.trim().split('\n')).toEqual(['[(0, 262144, 1)]', 'EINVAL', '512']);
  });

  it('many requests in flight on one connection all complete with the right data', async () => {
    const text = await nbdsh(ro.uri, `
bufs = []
cookies = []
for i in range(200):
    b = nbd.Buffer(4096)
    bufs.append((i, b))
    cookies.append(h.aio_pread(b, i * 4096))
while h.aio_in_flight() > 0:
    h.poll(-1)
for c in cookies:
    h.aio_command_completed(c)
bad = 0
for i, b in bufs:
    data = b.to_bytearray()
    for w in range(0, 4096, 8):
        if int.from_bytes(data[w:w+8], 'big') != i * 4096 + w:
            bad += 1
print(bad)
`);
    expect(text.trim()).toBe('0');
  });

  it('structured reads of holes come back as zeroes (OFFSET_HOLE chunks) to a client that does not ask for block status', async () => {
    const text = await nbdsh(rw.uri, `
data = h.pread(262144, 0)
print(data[:65536] == bytes(65536), data[65536:69632] == b'\\x11' * 4096, data[69632:] == bytes(262144 - 69632))
chunks = []
def chunk(buf, offset, status, err):
    chunks.append((offset, len(buf), status))
    return 0
h.pread_structured(262144, 0, chunk)
print(chunks)
`);
    const [eq, chunks] = text.trim().split('\n');
    expect(eq).toBe('True True True');
    // READ_HOLE = 2, READ_DATA = 1 in libnbd's callback status
    expect(chunks).toBe('[(0, 65536, 2), (65536, 4096, 1), (69632, 192512, 2)]');
  });
});
