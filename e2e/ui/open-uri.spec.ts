// Several images at once: the demo image served by the host, opened again through its own
// nbd:// URI in a second tab, which must show the same map.
import { test, expect, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { ROOT, startHost, type Host } from './host.ts';
import { COLOURS, colourAt, middleOfWidest, waitForSettledMap } from './map-page.ts';

test.describe.configure({ mode: 'serial' });

let host: Host;
let page: Page;

test.beforeAll(async ({ browser }) => {
  host = await startHost();
  page = await browser.newPage();
  await page.goto(host.url);
});

test.afterAll(async () => {
  await page?.close();
  await host?.stop();
});

test('an nbd:// URI opens in a second tab with the same map', async () => {
  if ((await page.getByTestId('image-tab').count()) === 0) await page.getByTestId('open-demo').first().click();
  await expect(page.getByTestId('image-tab')).toHaveCount(1);
  const [demo] = await host.invoke('images.list', {});
  const layout = (await host.invoke('app.demoLayout', {}))!;
  const status = await host.invoke('server.start', { imageId: demo!.id, port: 0 });
  const uri = status.exports.find((e) => e.imageId === demo!.id)!.uri;

  await page.getByTestId('open-input').fill(uri);
  await page.getByTestId('open-input').press('Enter');
  await expect(page.getByTestId('image-tab')).toHaveCount(2);
  await expect(page.getByTestId('info-panel')).toContainText(uri);
  await expect(page.getByTestId('scan-status')).toHaveText(/map complete/, { timeout: 30_000 });
  await waitForSettledMap(page);
  expect(await colourAt(page, middleOfWidest(layout.zeroRanges))).toEqual(COLOURS.kinds.zero);
  expect(await colourAt(page, middleOfWidest(layout.dataRanges))).toEqual(COLOURS.kinds.data);
  mkdirSync(path.join(ROOT, 'test-results', 'screenshots'), { recursive: true });
  await page.screenshot({ path: path.join(ROOT, 'test-results', 'screenshots', '10-nbd-uri-tab.png') });

  await page.keyboard.press('Control+w');
  await expect(page.getByTestId('image-tab')).toHaveCount(1);
});
