// The Electron app end to end, through Playwright's _electron: the real main process (window,
// preload, ipcMain handlers, services, NBD server) with the built renderer, running the flows
// of e2e/ui/app.spec.ts (the shared ones are in e2e/ui/flows.ts). Where no Electron binary exists (as on the project's own machines)
// every test is skipped with the reason printed: it did not run, and says so.
import { _electron as electron, expect, test, type ElectronApplication, type Page } from '@playwright/test';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { BlockscopeApi, DemoLayoutInfo, IpcChannel, IpcRequest, IpcResponse, IpcResult } from '../../shared/ipc.ts';
import { discardCowWrites, expectDemoKindColours, expectNbdinfoMap, expectNoextentsMapsAllData, expectWriteOnMap, serveWritableThroughCow, stopServing, waitForCompleteMap, withConnectedClient } from '../ui/flows.ts';
import { ROOT } from '../ui/host.ts';

test.describe.configure({ mode: 'serial' });

function electronBinary(): { path: string } | { error: string } {
  try {
    const found: unknown = createRequire(path.join(ROOT, 'package.json'))('electron');
    if (typeof found !== 'string') return { error: 'the electron package did not return a binary path' };
    return existsSync(found) ? { path: found } : { error: `${found} does not exist` };
  } catch (err) {
    return { error: (err as Error).message.split('\n')[0]! };
  }
}

const binary = electronBinary();
const skipReason = 'error' in binary ? `no Electron binary on this machine: ${binary.error}` : '';
if (skipReason) console.log(`e2e/electron: ${skipReason} (the Electron spec did not run)`);
test.skip(skipReason !== '', skipReason);

const SHOTS = path.join(ROOT, 'test-results', 'screenshots', 'electron');
let app: ElectronApplication;
let page: Page;
let userData: string;
let layout: DemoLayoutInfo;
let uri: string;

declare const window: { blockscope: BlockscopeApi };

/** A contract call through the preload, as the renderer makes it. */
async function invoke<C extends IpcChannel>(channel: C, request: IpcRequest<C>): Promise<IpcResponse<C>> {
  const result = await page.evaluate(
    ({ name, request }) => (window.blockscope as unknown as Record<string, (r: unknown) => Promise<unknown>>)[name]!(request),
    { name: channel.replace(/\.(\w)/, (_m, c: string) => c.toUpperCase()), request: request as unknown },
  ) as IpcResult<IpcResponse<C>>;
  if (!result.ok) throw new Error(`${channel}: ${result.error.message}`);
  return result.value;
}

test.beforeAll(async () => {
  userData = mkdtempSync(path.join(os.tmpdir(), 'bs-electron-'));
  app = await electron.launch({
    executablePath: (binary as { path: string }).path,
    args: [ROOT, `--user-data-dir=${userData}`],
    cwd: ROOT,
  });
  page = await app.firstWindow();
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
});

test.afterAll(async () => {
  await app?.close();
  if (userData) rmSync(userData, { recursive: true, force: true });
});

test('the window is locked down', async () => {
  const prefs = await app.evaluate(({ BrowserWindow }) => {
    const w = BrowserWindow.getAllWindows()[0]!;
    return { url: w.webContents.getURL() };
  });
  expect(prefs.url).toBe('app://blockscope/index.html');
  // The page has the named API and no Node.
  expect(await page.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined');
  expect(await page.evaluate(() => Object.keys(window.blockscope).includes('ipcRenderer'))).toBe(false);
});

test('opens on the demo image and paints each kind in its colour', async () => {
  await expect(page.getByTestId('image-tab')).toHaveCount(1, { timeout: 30_000 });
  await waitForCompleteMap(page);
  layout = (await invoke('app.demoLayout', {}))!;
  await expectDemoKindColours(page, layout);
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, '01-demo-image.png') });
});

test('serving lists a connected nbd client', async () => {
  uri = await serveWritableThroughCow(page);
  await withConnectedClient(page, uri, async () => {
    await page.screenshot({ path: path.join(SHOTS, '02-serving.png') });
  });
});

test('a write through nbdsh shows on the map within a second', async () => {
  await expectWriteOnMap(page, layout, uri);
});

test('the JSON export equals nbdinfo --map --json of the same export', async () => {
  // Electron saves downloads through a dialog: the export is read through the preload instead.
  const [image] = await invoke('images.list', {});
  const exported = await invoke('map.export', { imageId: image!.id, format: 'nbdinfo-json' });
  expectNbdinfoMap(exported.text, uri);
});

test('noextents turns the whole map into data', async () => {
  await expectNoextentsMapsAllData(page, layout);
});

test('switching cow off with unsaved writes asks first', async () => {
  await discardCowWrites(page);
  await stopServing(page);
});
