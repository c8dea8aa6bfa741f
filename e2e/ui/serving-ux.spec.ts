// Serving and the cow overlay, as the user meets them: disconnecting one client from the
// clients table while another keeps reading, the question before stopping with clients
// connected, committing the overlay into a new raw and qcow2 file (cmp and qemu-img are the
// oracle), and discarding it (the map shows the image on disk again).
// Real clients only: nbdsh from libnbd against the real browser UI host.
import { test, expect, type Page } from '@playwright/test';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, openSync, rmSync, writeSync, closeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { formatBytes } from '../../renderer/src/format/bytes.ts';
import { serveWritableThroughCow, waitForCompleteMap } from './flows.ts';
import { nbdTool, nbdToolInBackground, startHost, type Host } from './host.ts';
import { COLOURS, colourAt, waitForSettledMap } from './map-page.ts';
import { MiB, makeSparseRaw, openTyped, shot, steadyReader } from './state-page.ts';

test.describe.configure({ mode: 'serial' });

let dir: string;
let host: Host;
let page: Page;
let image: string;
let uri: string;
const clients: ChildProcess[] = [];
/** Where the test writes through the cow overlay: the middle of a hole, big enough to see on the map. */
const WRITE_AT = 32 * MiB;
const WRITE_LENGTH = 4 * MiB;

test.beforeAll(async ({ browser }) => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'blockscope-e2e-serving-'));
  host = await startHost();
  page = await browser.newPage();
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  await page.goto(host.url);
  await expect(page.getByTestId('image-tab')).toHaveCount(1);
  image = makeSparseRaw(path.join(dir, 'disk.img'), 64 * MiB, [[0, MiB], [60 * MiB, MiB]]);
  await openTyped(page, image);
  await waitForCompleteMap(page);
  uri = await serveWritableThroughCow(page);
});

test.afterAll(async () => {
  for (const c of clients) c.kill();
  await page?.close();
  await host?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const rows = () => page.getByTestId('clients').locator('tbody tr');
const idle = (seconds: number) => nbdToolInBackground('nbdsh', ['-u', uri, '-c', `import time\ntime.sleep(${seconds})`]);
/** Reads 512 bytes every 0.2 s until its connection fails, then exits (non-zero). */
const poller = () => nbdToolInBackground('nbdsh', ['-u', uri, '-c', 'import time\nwhile True:\n    h.pread(512, 0)\n    time.sleep(0.2)']);
const requestsOf = async (id: number) => (await host.invoke('clients.list', {})).find((c) => c.id === id)?.requests ?? -1;

test('one client is disconnected from its row; the other keeps reading', async () => {
  clients.push(poller());
  await expect(rows()).toHaveCount(1, { timeout: 5_000 });
  clients.push(steadyReader(uri, 10, 60));
  await expect(rows()).toHaveCount(2, { timeout: 5_000 });
  const [dropped, reader] = await host.invoke('clients.list', {});
  await shot(page, 'serving-01-two-clients');

  await rows().first().getByTestId('client-disconnect').click();
  await expect(rows()).toHaveCount(1);
  expect((await host.invoke('clients.list', {})).map((c) => c.id)).toEqual([reader!.id]);
  // Its next read fails and nbdsh exits with an error: the connection really is gone.
  await expect.poll(() => clients[0]!.exitCode, { timeout: 5_000 }).toBeGreaterThan(0);
  const before = await requestsOf(reader!.id);
  await expect.poll(() => requestsOf(reader!.id), { timeout: 5_000 }).toBeGreaterThan(before + 5);
  expect(dropped!.id).not.toBe(reader!.id);
  await shot(page, 'serving-02-after-disconnect');
});

test('stopping with clients connected asks first and says how many', async () => {
  clients.push(idle(60));
  await expect(rows()).toHaveCount(2, { timeout: 5_000 });
  await page.getByTestId('serve-stop').click();
  await expect(page.getByTestId('confirm-dialog')).toBeVisible();
  await expect(page.getByTestId('confirm-text')).toHaveText('2 clients are connected and will be disconnected.');
  await shot(page, 'serving-03-stop-question');
  // Escape keeps serving.
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('confirm-dialog')).toBeHidden();
  await expect(page.getByTestId('serve-state')).toHaveText(/serving/);
  await expect(rows()).toHaveCount(2);

  await page.getByTestId('serve-stop').click();
  await page.getByTestId('confirm-yes').click();
  await expect(page.getByTestId('serve-state')).toHaveText('stopped');
  await expect(page.getByText('No one is connected.')).toBeVisible();
  expect(await host.invoke('clients.list', {})).toEqual([]);
});

test('with no one connected, stop stops at once', async () => {
  uri = await serveAgain();
  await page.getByTestId('serve-stop').click();
  await expect(page.getByTestId('serve-state')).toHaveText('stopped');
  await expect(page.getByTestId('confirm-dialog')).toBeHidden();
});

async function serveAgain(): Promise<string> {
  await page.getByTestId('serve-start').click();
  await expect(page.getByTestId('serve-state')).toHaveText(/serving · writable/);
  return (await page.getByTestId('serve-uri').textContent())!.trim();
}

/** The image as it should read after the test's write: a copy of it with the same bytes written. */
function expectedDisk(): string {
  const file = path.join(dir, 'expected.img');
  copyFileSync(image, file);
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.alloc(WRITE_LENGTH, 0x5a), 0, WRITE_LENGTH, WRITE_AT);
  closeSync(fd);
  return file;
}

async function commitTo(file: string, format: 'raw' | 'qcow2'): Promise<void> {
  await page.getByTestId('overlay-path').fill(file);
  await page.getByTestId('overlay-format').selectOption(format);
  await page.getByTestId('overlay-commit').click();
}

test('the overlay is committed into a new raw file and a qcow2 one', async () => {
  uri = await serveAgain();
  nbdTool('nbdsh', ['-u', uri, '-c', `h.pwrite(b"\\x5a" * ${WRITE_LENGTH}, ${WRITE_AT})`]);
  await expect(page.getByTestId('unsaved-cow')).toBeVisible({ timeout: 5_000 });
  await page.getByTestId('overlay-commit-open').click();
  const raw = path.join(dir, 'committed.img');
  await page.getByTestId('overlay-path').fill(raw);
  await shot(page, 'serving-04-commit-form');
  await commitTo(raw, 'raw');
  await expect(page.getByTestId('overlay-result')).toContainText(`Wrote ${raw} (raw, ${formatBytes(64 * MiB)} disk, ${formatBytes(6 * MiB)} of data)`);
  await shot(page, 'serving-05-committed');
  const expected = expectedDisk();
  expect(spawnSync('cmp', [expected, raw]).status).toBe(0);
  // Sparse: the 60 MiB never written take no space.
  expect(Number(spawnSync('du', ['-k', raw], { encoding: 'utf8' }).stdout.split('\t')[0])).toBeLessThan(8 * 1024);

  const qcow = path.join(dir, 'committed.qcow2');
  await commitTo(qcow, 'qcow2');
  await expect(page.getByTestId('overlay-result')).toContainText(`Wrote ${qcow} (qcow2`);
  const compare = spawnSync('qemu-img', ['compare', '-f', 'raw', '-F', 'qcow2', expected, qcow], { encoding: 'utf8' });
  expect(compare.stdout + compare.stderr).toContain('Images are identical');
});

test('committing onto an existing file asks first; onto the open image is refused', async () => {
  const raw = path.join(dir, 'committed.img');
  await commitTo(raw, 'raw');
  await expect(page.getByTestId('confirm-text')).toContainText(`${raw} exists; replace it?`);
  await page.getByTestId('confirm-yes').click();
  await expect(page.getByTestId('overlay-result')).toContainText(`Wrote ${raw}`);
  await commitTo(image, 'raw');
  await expect(page.getByTestId('error-banner')).toContainText('is an image Blockscope has open');
});

test('discarding asks with the bytes dropped; the map shows the image on disk again', async () => {
  await waitForSettledMap(page);
  await expect.poll(() => colourAt(page, WRITE_AT + WRITE_LENGTH / 2, 'bottom'), { timeout: 5_000 }).toEqual(COLOURS.kinds.data);
  await page.getByTestId('overlay-discard').click();
  await expect(page.getByTestId('confirm-text')).toContainText(`${formatBytes(WRITE_LENGTH)} (4,194,304 bytes) of writes held by cow will be dropped`);
  await shot(page, 'serving-06-discard-question');
  await page.getByTestId('confirm-yes').click();
  await expect(page.getByTestId('unsaved-cow')).toBeHidden();
  await expect.poll(() => colourAt(page, WRITE_AT + WRITE_LENGTH / 2, 'bottom'), { timeout: 5_000 }).toEqual(COLOURS.kinds.hole);
  // What a client reads now is the image on disk.
  const read = nbdTool('nbdsh', ['-u', uri, '-c', `print(h.pread(16, ${WRITE_AT}).hex())`]).trim();
  expect(read).toBe('00'.repeat(16));
  await shot(page, 'serving-07-map-after-discard');
});

test('closing a served tab with a client connected asks first, then closes it', async () => {
  clients.push(idle(60));
  await expect(rows()).toHaveCount(1, { timeout: 5_000 });
  await page.getByRole('button', { name: 'Close disk.img' }).click();
  await expect(page.getByTestId('confirm-dialog')).toContainText('Close disk.img?');
  await expect(page.getByTestId('confirm-text')).toHaveText('1 client is connected and will be disconnected.');
  await page.getByTestId('confirm-yes').click();
  await expect(page.getByTestId('image-tab')).toHaveCount(1);
  expect(await host.invoke('clients.list', {})).toEqual([]);
});
