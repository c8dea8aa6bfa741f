// The app's open field with a URL, through the real engine: a typed https?:// opens the image
// at that URL (its format probed over HTTP), not a local file of that name.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, qemuImg, qemuIo } from '../../formats/qemu-oracle.ts';
import { createSession } from '../../services/engine.ts';
import type { Session } from '../../services/session.ts';
import { startTestServer, type TestServer } from './test-server.ts';

const tmp = makeTempDir('open-url');
let session: Session;
let server: TestServer;

beforeAll(async () => {
  qemuImg('create', '-f', 'qcow2', tmp.file('disk.qcow2'), '4M');
  qemuIo(tmp.file('disk.qcow2'), 'qcow2', 'write -P 0x61 1M 64k');
  qemuImg('create', '-f', 'raw', tmp.file('disk.raw'), '1M');
  server = await startTestServer(tmp.dir);
});
afterAll(async () => {
  await server.close();
  tmp.remove();
});
beforeEach(() => {
  session = createSession({ stateDir: null });
});
afterEach(() => session.dispose());

describe('opening a URL in the app', () => {
  it('opens a qcow2 at a URL with its format plugin and reads its bytes', async () => {
    const url = server.url('disk.qcow2');
    const summary = await session.open(url);
    expect([summary.format, summary.uri, summary.size, summary.chain.plugin]).toEqual(['qcow2', url, 4194304, { name: 'qcow2', params: { file: url } }]);
    const bytes = await session.readBytes(summary.id, 1048576, 4);
    expect(Buffer.from(bytes.base64, 'base64').toJSON().data).toEqual([0x61, 0x61, 0x61, 0x61]);
  });

  it('opens a raw image at a URL with the http plugin, and the same URL twice as one image', async () => {
    const url = server.url('disk.raw');
    const first = await session.openPath(url);
    expect([first.format, first.chain.plugin]).toEqual(['raw', { name: 'http', params: { url } }]);
    expect((await session.open(url)).id).toBe(first.id);
  });
});
