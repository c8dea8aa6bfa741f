// Serving over TLS from the app, as a user does it: create certificates in the serving panel,
// serve with TLS require, copy the nbdinfo command the panel shows and run it (it connects and
// reports the size), the same with a generated PSK, a plaintext client refused, the clients
// table saying who is on TLS, the warning for a non-loopback address without TLS, and the ip
// and limit filters in the sidebar. Real clients only: nbdinfo, nbdsh and qemu-img.
import { test, expect, type Page } from '@playwright/test';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exposureWarning } from '../../main/nbd/tls-credentials.ts';
import { waitForCompleteMap } from './flows.ts';
import { nbdToolInBackground, startHost, type Host } from './host.ts';
import { MiB, applyFilterParams, makeSparseRaw, openTyped, shot } from './state-page.ts';

test.describe.configure({ mode: 'serial' });

const SIZE = 64 * MiB;
let dir: string;
let host: Host;
let page: Page;
const clients: ChildProcess[] = [];

test.beforeAll(async ({ browser }) => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'blockscope-e2e-tls-'));
  host = await startHost();
  page = await browser.newPage();
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  await page.goto(host.url);
  await expect(page.getByTestId('image-tab')).toHaveCount(1);
  await openTyped(page, makeSparseRaw(path.join(dir, 'disk.img'), SIZE, [[0, MiB]]));
  await waitForCompleteMap(page);
  await page.locator('#serve-port').fill('0');
});

test.afterAll(async () => {
  for (const c of clients) c.kill();
  await page?.close();
  await host?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs a command line as a user pasting it would: through the shell, libnbd's tools first on PATH. */
function run(command: string): { status: number | null; out: string } {
  const r = spawnSync('sh', ['-c', command], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, PATH: `/usr/bin:${process.env.PATH ?? ''}` } });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** Clicks a command's Copy button and reads what landed on the clipboard. */
async function copied(tool: string): Promise<string> {
  const shown = (await page.getByTestId(`client-command-${tool}`).textContent())!.trim();
  await page.getByTestId(`copy-${tool}`).click();
  // A string: the spec compiles without the DOM's types.
  const text = String(await page.evaluate('navigator.clipboard.readText()'));
  expect(text).toBe(shown);
  return text;
}

const port = async () => (await host.invoke('server.status', {})).port!;
const rows = () => page.getByTestId('clients').locator('tbody tr');

async function startServing(): Promise<void> {
  await page.getByTestId('serve-start').click();
  await expect(page.getByTestId('serve-state')).toHaveText(/serving/);
}

async function stopServing(): Promise<void> {
  for (const c of clients.splice(0)) c.kill();
  await expect(rows()).toHaveCount(0, { timeout: 10_000 });
  await page.getByTestId('serve-stop').click();
  await expect(page.getByTestId('serve-state')).toHaveText('stopped');
}

/** An nbdsh that stays connected for a while through `uri` (libnbd reads files a URI names only when allowed). */
function holdConnection(uri: string, seconds = 20): void {
  const script = `import time\nh.set_uri_allow_local_file(True)\nh.connect_uri(${JSON.stringify(uri)})\nh.pread(512, 0)\ntime.sleep(${seconds})`;
  clients.push(nbdToolInBackground('nbdsh', ['-c', script]));
}

test('certificates created in the panel: serve with require, the copied nbdinfo and qemu-img commands connect', async () => {
  await page.getByTestId('serve-tls-mode').selectOption('require');
  await expect(page.getByTestId('serve-tls-settings')).toBeVisible();
  await shot(page, 'tls-01-require-chosen');
  await page.getByTestId('serve-tls-create').click();
  await expect(page.getByTestId('serve-tls-made')).toContainText('CA SHA-256');
  const serverDir = await page.getByTestId('serve-tls-dir').inputValue();
  expect(statSync(path.join(serverDir, 'server-key.pem')).mode & 0o777).toBe(0o600);
  await shot(page, 'tls-02-certificates-created');
  await startServing();
  await expect(page.getByTestId('client-commands')).toBeVisible();
  // The fingerprint shown is the CA's that the client files trust.
  const clientDir = (await page.getByTestId('client-files').textContent())!.trim();
  const ca = new X509Certificate(readFileSync(path.join(clientDir, 'ca-cert.pem')));
  await expect(page.getByTestId('ca-fingerprint')).toHaveText(`CA SHA-256 ${ca.fingerprint256}`);
  // The export's own URI is the TLS one: nbd:// would not start TLS.
  await expect(page.getByTestId('serve-uri')).toHaveText(/^nbds:\/\/127\.0\.0\.1:\d+\/$/);
  await shot(page, 'tls-03-serving-require');

  const nbdinfo = await copied('nbdinfo');
  expect(nbdinfo).toBe(`nbdinfo 'nbds://127.0.0.1:${await port()}/?tls-certificates=${clientDir}'`);
  const info = run(nbdinfo);
  expect(info.out).toContain(`export-size: ${SIZE}`);
  expect(info.status).toBe(0);
  const qemu = run(await copied('qemu-img'));
  expect(qemu.out).toMatch(/virtual size: 64 MiB/);
});

test('a plaintext client is refused under require; a TLS client shows in the clients table', async () => {
  const plain = run(`nbdinfo nbd://127.0.0.1:${await port()}/`);
  expect(plain.status).not.toBe(0);
  expect(plain.out).toMatch(/TLS/i);
  const uri = (await page.getByTestId('client-command-nbdinfo').textContent())!.trim().replace(/^nbdinfo '|'$/g, '');
  holdConnection(uri);
  await expect(rows()).toHaveCount(1, { timeout: 10_000 });
  await expect(rows().first().getByTestId('client-tls')).toHaveText(/^TLS/);
  await page.getByTestId('clients').scrollIntoViewIfNeeded();
  await shot(page, 'tls-04-tls-client-listed');
  await stopServing();
});

test('a PSK generated for a named user: the copied nbdinfo connects, the table shows the identity', async () => {
  await page.getByTestId('serve-tls-psk').check();
  await page.getByTestId('serve-psk-user').fill('alice');
  await page.getByTestId('serve-psk-create').click();
  await expect(page.getByTestId('serve-psk-file')).toHaveValue(/keys\.psk$/);
  const pskFile = await page.getByTestId('serve-psk-file').inputValue();
  expect(readFileSync(pskFile, 'utf8')).toMatch(/^alice:[0-9a-f]{64}\n$/);
  expect(statSync(pskFile).mode & 0o777).toBe(0o600);
  await shot(page, 'tls-05-psk-generated');
  await startServing();
  const nbdinfo = await copied('nbdinfo');
  expect(nbdinfo).toBe(`nbdinfo 'nbds://alice@127.0.0.1:${await port()}/?tls-psk-file=${pskFile}'`);
  const info = run(nbdinfo);
  expect(info.out).toContain(`export-size: ${SIZE}`);
  expect(run(`nbdinfo nbd://127.0.0.1:${await port()}/`).status).not.toBe(0);
  holdConnection(nbdinfo.replace(/^nbdinfo '|'$/g, ''));
  await expect(rows()).toHaveCount(1, { timeout: 10_000 });
  await expect(rows().first().getByTestId('client-tls')).toHaveText('TLS · alice');
  await page.getByTestId('clients').scrollIntoViewIfNeeded();
  await shot(page, 'tls-06-psk-client-listed');
  await stopServing();
});

test('serving on a non-loopback address without TLS require shows the CLI\'s warning', async () => {
  await page.getByTestId('serve-tls-mode').selectOption('off');
  await page.locator('#serve-host').fill('0.0.0.0');
  await startServing();
  await expect(page.getByTestId('serve-exposure-warning')).toHaveText(`⚠ ${exposureWarning('0.0.0.0', 'off')}`);
  await shot(page, 'tls-07-exposure-warning');
});

test('the ip and limit filters are in the sidebar; limit=1 refuses a second client while one is connected', async () => {
  await expect(page.getByTestId('filter-ip')).toBeVisible();
  await expect(page.getByTestId('filter-limit')).toBeVisible();
  await applyFilterParams(page, 'limit', { limit: '1' });
  await expect(page.getByTestId('chain-label')).toContainText('limit');
  const uri = `nbd://127.0.0.1:${await port()}/`;
  holdConnection(uri);
  await expect(rows()).toHaveCount(1, { timeout: 10_000 });
  const second = run(`nbdinfo ${uri}`);
  expect(second.status).not.toBe(0);
  await page.getByTestId('filter-limit').scrollIntoViewIfNeeded();
  await shot(page, 'tls-08-limit-refuses-second');
  for (const c of clients.splice(0)) c.kill();
  await expect(rows()).toHaveCount(0, { timeout: 10_000 });
  // With the first client gone, the limit admits the next one.
  expect(run(`nbdinfo ${uri}`).out).toContain(`export-size: ${SIZE}`);
});
