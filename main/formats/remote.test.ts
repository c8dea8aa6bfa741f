// Image formats read from a URL: the same bytes, maps and layer depths as the local file,
// backing files found beside the image at its URL, and metadata fetched once.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../plugins/http/test-server.ts';
import { propertyParams } from '../testing/property-params.ts';
import { openImageChain } from './backing.ts';
import { detectImage } from './detect.ts';
import { chainContents } from './layered-testing.ts';
import { makeTempDir, qemuImg, qemuIo } from './qemu-oracle.ts';

const tmp = makeTempDir('remote-formats');
let server: TestServer;

beforeAll(async () => {
  qemuImg('create', '-f', 'raw', tmp.file('disk.raw'), '8M');
  qemuIo(tmp.file('disk.raw'), 'raw', 'write -P 0x11 0 1M', 'write -P 0x22 3M 200k', 'write -P 0x33 7M 4k');
  for (const [name, format, ...opts] of [['disk.qcow2', 'qcow2'], ['disk.vmdk', 'vmdk'], ['disk.vhd', 'vpc'], ['disk.vhdx', 'vhdx'], ['disk.vdi', 'vdi'], ['stream.vmdk', 'vmdk', '-o', 'subformat=streamOptimized']]) {
    qemuImg('convert', '-f', 'raw', '-O', format!, ...opts, tmp.file('disk.raw'), tmp.file(name!));
  }
  qemuImg('create', '-f', 'qcow2', '-b', 'disk.qcow2', '-F', 'qcow2', tmp.file('top.qcow2'));
  qemuIo(tmp.file('top.qcow2'), 'qcow2', 'write -P 0x44 512k 1M', 'write -z 7M 64k');
  server = await startTestServer(tmp.dir);
});
afterAll(async () => {
  await server.close();
  tmp.remove();
});

describe('image formats at a URL', () => {
  for (const [name, format] of [['disk.qcow2', 'qcow2'], ['disk.vmdk', 'vmdk'], ['stream.vmdk', 'vmdk'], ['disk.vhd', 'vhd'], ['disk.vhdx', 'vhdx'], ['disk.vdi', 'vdi'], ['top.qcow2', 'qcow2']]) {
    it(`reads ${name} with the bytes, map and depths of the local file`, async () => {
      expect(await detectImage(server.url(name!))).toEqual({ format, plugin: format });
      const remote = await chainContents(server.url(name!), format!);
      const local = await chainContents(tmp.file(name!), format!);
      expect(remote.bytes.equals(local.bytes)).toBe(true);
      expect(remote.extents).toEqual(local.extents);
      expect(remote.depth).toEqual(local.depth);
    });
  }

  it('finds a relative backing file at the URL beside the image', async () => {
    const stack = await openImageChain(server.url('top.qcow2'));
    try {
      expect(stack.layers.map((l) => l.path)).toEqual([server.url('top.qcow2'), server.url('disk.qcow2')]);
    } finally {
      await stack.close();
    }
  });

  it('serves a raw image at a URL with the http plugin', async () => {
    expect(await detectImage(server.url('disk.raw'))).toEqual({ format: 'raw', plugin: 'http' });
  });

  it('maps a second time without a request: the tables are cached', async () => {
    const stack = await openImageChain(server.url('disk.vmdk'));
    try {
      const first = await stack.extents(stack.size, 0);
      const before = server.requests.length;
      expect(await stack.extents(stack.size, 0)).toEqual(first);
      expect(server.requests.length).toBe(before);
    } finally {
      await stack.close();
    }
  });

  it('reads any range of a remote chain as the local chain does', async () => {
    const remote = await openImageChain(server.url('top.qcow2'));
    const local = await openImageChain(tmp.file('top.qcow2'));
    try {
      const size = local.size;
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: size - 1 }), fc.integer({ min: 1, max: 300 * 1024 }), async (offset, wanted) => {
          const length = Math.min(wanted, size - offset);
          const [a, b] = [Buffer.alloc(length), Buffer.alloc(length)];
          await Promise.all([remote.read(a, offset), local.read(b, offset)]);
          expect(a.equals(b)).toBe(true);
        }),
        propertyParams(40),
      );
    } finally {
      await Promise.all([remote.close(), local.close()]);
    }
  });
});
