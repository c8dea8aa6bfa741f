// How the map behaves under a stream of wheel zooms: frame times (the pan/zoom budget is one
// 60 Hz frame) and the renderer's heap after garbage collection, which must stay flat because
// MapRenderer reuses its pixel buffers. The numbers are printed for the performance note; the
// assertions are loose enough for a shared two-core machine without a GPU.
import { test, expect, type Page } from '@playwright/test';
import { startHost, type Host } from './host.ts';
import { DETAIL, waitForSettledMap } from './map-page.ts';

test.use({
  launchOptions: {
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--js-flags=--expose-gc'],
  },
});

let host: Host;

test.beforeAll(async () => {
  host = await startHost();
});

test.afterAll(async () => {
  await host?.stop();
});

declare const window: { gc(): void; __frames: number[]; requestAnimationFrame(f: (t: number) => void): number };
declare const performance: { now(): number; memory: { usedJSHeapSize: number } };

async function heapAfterGc(page: Page): Promise<number> {
  await page.evaluate(() => {
    window.gc();
    window.gc();
  });
  return page.evaluate(() => performance.memory.usedJSHeapSize);
}

async function zoomRound(page: Page, steps: number): Promise<void> {
  for (let k = 0; k < steps; k++) {
    await page.mouse.wheel(0, k < steps / 2 ? -150 : 150);
    await page.waitForTimeout(12);
  }
}

test('zooming keeps frames short and the heap flat', async ({ page }) => {
  await page.goto(host.url);
  if ((await page.getByTestId('image-tab').count()) === 0) await page.getByTestId('open-demo').first().click();
  await expect(page.getByTestId('scan-status')).toHaveText(/map complete/, { timeout: 30_000 });
  await waitForSettledMap(page);
  const box = (await page.locator(DETAIL).boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2);
  await zoomRound(page, 40); // warm-up: JIT, first allocations

  const heaps = [await heapAfterGc(page)];
  await page.evaluate(() => {
    window.__frames = [];
    let last = performance.now();
    const tick = (t: number) => {
      window.__frames.push(t - last);
      last = t;
      if (window.__frames.length < 2000) window.requestAnimationFrame(tick);
    };
    window.requestAnimationFrame(tick);
  });
  for (let round = 0; round < 3; round++) {
    await zoomRound(page, 60);
    heaps.push(await heapAfterGc(page));
  }
  const frames = (await page.evaluate(() => window.__frames.slice(1))).sort((a, b) => a - b);
  const q = (f: number) => frames[Math.floor(f * (frames.length - 1))]!;
  console.log(
    `map zoom: ${frames.length} frames, p50 ${q(0.5).toFixed(1)} ms, p95 ${q(0.95).toFixed(1)} ms, max ${q(1).toFixed(1)} ms; ` +
      `heap after GC per round: ${heaps.map((h) => (h / 2 ** 20).toFixed(2)).join(' -> ')} MiB`,
  );
  expect(q(0.5)).toBeLessThan(20);
  expect(heaps[heaps.length - 1]! - heaps[0]!).toBeLessThan(2 * 2 ** 20);
});
