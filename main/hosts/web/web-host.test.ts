import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveInside } from './static-files.ts';
import { connectWs, httpGet, invoke, startTestHost, type TestHost } from './test-clients.ts';

let testHost: TestHost;
let host: TestHost['host'];
let base: string;

beforeAll(async () => {
  testHost = await startTestHost();
  host = testHost.host;
  base = testHost.base;
});

afterAll(() => testHost.close());

const get = (pathAndQuery: string, headers: Record<string, string> = {}) => httpGet(base, pathAndQuery, headers);
const connect = (options: { token?: string; origin?: string }) => connectWs(base, options);

describe('HTTP', () => {
  it('prints a loopback URL with a token', () => {
    expect(host.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{32}$/);
  });

  it('refuses the page without the token', async () => {
    expect((await get('/')).status).toBe(403);
  });

  it('refuses a wrong token', async () => {
    expect((await get('/?token=x' + host.token.slice(1))).status).toBe(403);
  });

  it('serves the page with the token, a strict CSP and the token cookie', async () => {
    const res = await get(`/?token=${host.token}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.headers['set-cookie']?.[0]).toMatch(/HttpOnly; SameSite=Strict/);
  });

  it('serves scripts to a page holding the cookie, and not without it', async () => {
    const cookie = (await get(`/?token=${host.token}`)).headers['set-cookie']![0]!.split(';')[0]!;
    expect((await get('/assets/app.js', { cookie })).status).toBe(200);
    expect((await get('/assets/app.js')).status).toBe(403);
  });

  it('refuses a Host header that is not the loopback (DNS rebinding)', async () => {
    const port = new URL(base).port;
    expect((await get(`/?token=${host.token}`, { host: `evil.example:${port}` })).status).toBe(403);
  });

  it('never serves files outside the renderer folder', () => {
    expect(resolveInside('/srv/r', '/../../etc/passwd')).toBe('/srv/r/etc/passwd');
    expect(resolveInside('/srv/r', '/%2e%2e/%2e%2e/etc/passwd')).toBe('/srv/r/etc/passwd');
    expect(resolveInside('/srv/r', '/a%00b')).toBeNull();
  });
});

describe('WebSocket', () => {
  it('refuses an upgrade without the token', async () => {
    await expect(connect({})).rejects.toThrow(/403/);
  });

  it('refuses an upgrade from another origin', async () => {
    await expect(connect({ token: host.token, origin: 'http://evil.example' })).rejects.toThrow(/403/);
  });

  it('answers a contract call', async () => {
    const ws = await connect({ token: host.token });
    const reply = await invoke(ws, 1, 'server.status', {});
    expect(reply).toEqual({ kind: 'result', id: 1, result: { ok: true, value: { running: false, exports: [] } } });
    ws.close();
  });

  it('answers invalid input with invalid-input', async () => {
    const ws = await connect({ token: host.token });
    const reply = await invoke(ws, 2, 'hex.read', { imageId: 'img-1', offset: -1, length: 16 });
    expect(reply.kind === 'result' && !reply.result.ok && reply.result.error.code).toBe('invalid-input');
    ws.close();
  });

  it('answers an unknown image with not-found', async () => {
    const ws = await connect({ token: host.token });
    const reply = await invoke(ws, 3, 'images.get', { imageId: 'img-404' });
    expect(reply.kind === 'result' && !reply.result.ok && reply.result.error.code).toBe('not-found');
    ws.close();
  });
});
