import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { OpenChain } from '../../backend/chain.ts';
import { mapOf, readAll } from '../../backend/testing.ts';
import { openTestChain } from '../../testing/chains.ts';
import { propertyParams } from '../../testing/property-params.ts';
import { HTTP_DEFAULTS, HttpResource } from './client.ts';
import { startTestServer, type TestServer } from './test-server.ts';

/** Byte i is i*7 mod 251: a misplaced range shows up as wrong bytes. */
function patterned(size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 7) % 251;
  return b;
}

const DISK = patterned(4 * 1024 * 1024 + 1000);
const FAST_RETRY = { ...HTTP_DEFAULTS, retries: 3, backoffMs: 1 };

let server: TestServer | null = null;
let open: OpenChain | null = null;
let resource: HttpResource | null = null;
afterEach(async () => {
  await open?.close();
  resource?.close();
  await server?.close();
  [server, open, resource] = [null, null, null];
});

const ranges = (s: TestServer) => s.requests.map((r) => r.range);

describe('http plugin', () => {
  it('serves the bytes at the URL, sized by a one-byte range request, all data', async () => {
    server = await startTestServer({ 'disk.img': DISK });
    open = await openTestChain('http', { url: server.url('disk.img') });
    expect(open.top.getSize()).toBe(4195304);
    expect(ranges(server)).toEqual(['bytes=0-0']);
    expect((await readAll(open, 1000, 6)).toJSON().data).toEqual([223, 230, 237, 244, 0, 7]);
    expect(await mapOf(open)).toEqual([[0, 4195304, 0]]);
    expect(open.top.canWrite()).toBe(false);
  });

  it('splits a large read into one range per connection, fetched at once', async () => {
    // Each answer waits long enough that all four are in flight together even on a loaded machine.
    server = await startTestServer({ 'disk.img': DISK }, { delayMs: 400 });
    open = await openTestChain('http', { url: server.url('disk.img'), connections: '4' });
    const got = await readAll(open, 0, 4 * 1024 * 1024);
    expect(got.equals(DISK.subarray(0, 4 * 1024 * 1024))).toBe(true);
    expect(ranges(server).slice(1).sort()).toEqual(['bytes=0-1048575', 'bytes=1048576-2097151', 'bytes=2097152-3145727', 'bytes=3145728-4194303']);
    expect(server.peak).toBe(4);
  });

  it('keeps to one connection with connections=1', async () => {
    server = await startTestServer({ 'disk.img': DISK }, { delayMs: 20 });
    open = await openTestChain('http', { url: server.url('disk.img'), connections: '1' });
    await Promise.all([readAll(open, 0, 2 * 1024 * 1024), readAll(open, 0, 4096), readAll(open, 8192, 4096)]);
    expect(ranges(server).slice(1)).toEqual(['bytes=0-2097151', 'bytes=0-4095', 'bytes=8192-12287']);
    expect(server.peak).toBe(1);
  });

  it('refuses a server that answers a range with the whole file', async () => {
    server = await startTestServer({ 'disk.img': DISK }, { noRanges: true });
    await expect(openTestChain('http', { url: server.url('disk.img') })).rejects.toThrow(/does not support range requests \(it answered a byte range with the whole file\)/);
  });

  it('says a missing object is missing', async () => {
    server = await startTestServer({ 'disk.img': DISK });
    await expect(openTestChain('http', { url: server.url('nope.img') })).rejects.toMatchObject({ code: 'ENOENT', message: expect.stringMatching(/HTTP 404 Not Found/) });
  });

  it('follows a redirect and asks the new place directly afterwards', async () => {
    server = await startTestServer({ 'disk.img': DISK }, { redirects: { 'old.img': 'disk.img' } });
    open = await openTestChain('http', { url: server.url('old.img') });
    await readAll(open, 10, 10);
    expect(server.requests.map((r) => r.url)).toEqual(['/old.img', '/disk.img', '/disk.img']);
  });

  it('does not follow a redirect with followlocation=false', async () => {
    server = await startTestServer({ 'disk.img': DISK }, { redirects: { 'old.img': 'disk.img' } });
    await expect(openTestChain('http', { url: server.url('old.img'), followlocation: 'false' })).rejects.toThrow(/redirects \(HTTP 302\) to \/disk.img and followlocation=false/);
  });

  it('sends Basic credentials, cookies and extra headers', async () => {
    server = await startTestServer({ 'disk.img': DISK }, { authorization: 'Basic YWxpY2U6czNjcmV0' });
    open = await openTestChain('http', { url: server.url('disk.img'), user: 'alice', password: 's3cret', cookie: 'a=1; b=2', header: 'X-One: 1\nX-Empty;' });
    const h = server.requests[0]!.headers;
    expect([h.cookie, h['x-one'], h['x-empty']]).toEqual(['a=1; b=2', '1', '']);
  });

  it('is refused without the credentials the server wants', async () => {
    server = await startTestServer({ 'disk.img': DISK }, { authorization: 'Basic YWxpY2U6czNjcmV0' });
    await expect(openTestChain('http', { url: server.url('disk.img'), user: 'alice', password: 'wrong' })).rejects.toMatchObject({ code: 'EACCES' });
  });
});

describe('HttpResource streams', () => {
  it('reads a stream of 256 KiB pieces, 8 in flight, with one request per 1 MiB window', async () => {
    server = await startTestServer({ 'disk.img': DISK });
    resource = await HttpResource.open(server.url('disk.img'), { ...HTTP_DEFAULTS, readAhead: { window: 1024 * 1024, ahead: 2, maxWindows: 8 } });
    const got = Buffer.alloc(DISK.length);
    const piece = 256 * 1024;
    for (let batch = 0; batch < DISK.length; batch += 8 * piece) {
      const offsets = Array.from({ length: 8 }, (_, k) => batch + k * piece).filter((at) => at < DISK.length);
      await Promise.all(offsets.map((at) => resource!.read(got.subarray(at, Math.min(DISK.length, at + piece)), at)));
    }
    expect(got.equals(DISK)).toBe(true);
    expect(ranges(server).slice(1).sort()).toEqual(['bytes=0-1048575', 'bytes=0-262143', 'bytes=1048576-2097151', 'bytes=2097152-3145727', 'bytes=3145728-4194303', 'bytes=4194304-4195303']);
  });

  it('asks again for only the bytes that had not arrived when a connection broke mid-body', async () => {
    server = await startTestServer({ 'disk.img': DISK });
    resource = await HttpResource.open(server.url('disk.img'), FAST_RETRY);
    server.options.cutBodies = 1;
    const buf = Buffer.alloc(100000);
    await resource.read(buf, 3000);
    expect(buf.equals(DISK.subarray(3000, 103000))).toBe(true);
    expect(ranges(server).slice(1)).toEqual(['bytes=3000-102999', 'bytes=53000-102999']);
  });

  it('opens a new connection when the server closes one after its last keep-alive request', async () => {
    server = await startTestServer({ 'disk.img': DISK }, { maxRequestsPerSocket: 2 });
    resource = await HttpResource.open(server.url('disk.img'), { ...FAST_RETRY, retries: 0 });
    for (const at of [0, 70000, 140000, 210000, 280000]) {
      const buf = Buffer.alloc(5000);
      await resource.read(buf, at);
      expect(buf.equals(DISK.subarray(at, at + 5000))).toBe(true);
    }
    expect(server.requests.length).toBe(6);
  });

  it('reads any piece at any offset with the right bytes', async () => {
    server = await startTestServer({ 'disk.img': DISK });
    resource = await HttpResource.open(server.url('disk.img'));
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: DISK.length - 1 }), fc.integer({ min: 1, max: 300 * 1024 }), async (offset, wanted) => {
        const buf = Buffer.alloc(Math.min(wanted, DISK.length - offset));
        await resource!.read(buf, offset);
        expect(buf.equals(DISK.subarray(offset, offset + buf.length))).toBe(true);
      }),
      propertyParams(30),
    );
  });
});

describe('HttpResource retries', () => {
  it('retries 5xx answers and reads the right bytes', async () => {
    server = await startTestServer({ 'disk.img': DISK });
    resource = await HttpResource.open(server.url('disk.img'), FAST_RETRY);
    server.options.failures = { count: 2, how: 503 };
    const buf = Buffer.alloc(100);
    await resource.read(buf, 5000);
    expect(buf.equals(DISK.subarray(5000, 5100))).toBe(true);
    expect(ranges(server).slice(1)).toEqual(['bytes=5000-5099', 'bytes=5000-5099', 'bytes=5000-5099']);
  });

  it('retries when the connection drops', async () => {
    server = await startTestServer({ 'disk.img': DISK }, { failures: { count: 3, how: 'reset' } });
    resource = await HttpResource.open(server.url('disk.img'), FAST_RETRY);
    expect(resource.size).toBe(DISK.length);
    expect(server.requests.length).toBe(4);
  });

  it('gives up after the last retry with the server\'s answer', async () => {
    server = await startTestServer({ 'disk.img': DISK });
    resource = await HttpResource.open(server.url('disk.img'), FAST_RETRY);
    server.options.failures = { count: 10, how: 500 };
    await expect(resource.read(Buffer.alloc(10), 0)).rejects.toMatchObject({ code: 'EIO', message: expect.stringMatching(/HTTP 500 Internal Server Error \(after 4 attempts\)/) });
  });

  it('does not retry a 4xx', async () => {
    server = await startTestServer({ 'disk.img': DISK });
    resource = await HttpResource.open(server.url('disk.img'), FAST_RETRY);
    server.options.failures = { count: 10, how: 403 };
    await expect(resource.read(Buffer.alloc(10), 0)).rejects.toMatchObject({ code: 'EACCES' });
    expect(server.requests.length).toBe(2);
  });
});
