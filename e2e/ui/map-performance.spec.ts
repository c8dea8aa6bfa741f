// How the map behaves under a stream of wheel zooms: frame times (the pan/zoom budget is one
// 60 Hz frame) and the renderer's heap after garbage collection, which must stay flat because
// MapRenderer reuses its pixel buffers. The numbers are printed for the performance note; the
// assertions are loose enough for a shared two-core machine without a GPU.
import { test, expect } from '@playwright/test';
import { startHost, type Host } from './host.ts';
import { DETAIL, waitForSettledMap } from './map-page.ts';
import { PERF_LAUNCH_OPTIONS, describeTimes, heapAfterGc, mib, quantile, startFrames, stopFrames, zoomRound } from './perf.ts';

test.use({ launchOptions: PERF_LAUNCH_OPTIONS });

let host: Host;

test.beforeAll(async () => {
  host = await startHost();
});

test.afterAll(async () => {
  await host?.stop();
});

test('zooming keeps frames short and the heap flat', async ({ page }) => {
  await page.goto(host.url);
  if ((await page.getByTestId('image-tab').count()) === 0) await page.getByTestId('open-demo').first().click();
  await expect(page.getByTestId('scan-status')).toHaveText(/map complete/, { timeout: 30_000 });
  await waitForSettledMap(page);
  const box = (await page.locator(DETAIL).boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2);
  await zoomRound(page, 40); // warm-up: JIT, first allocations

  const heaps = [await heapAfterGc(page)];
  await startFrames(page);
  for (let round = 0; round < 3; round++) {
    await zoomRound(page, 60);
    heaps.push(await heapAfterGc(page));
  }
  const { intervals, work } = await stopFrames(page);
  console.log(
    `map zoom (demo image): ${intervals.length} frames; between frames ${describeTimes(intervals)}; work per frame ${describeTimes(work)}; ` +
      `heap after GC per round: ${heaps.map(mib).join(' -> ')} MiB`,
  );
  // A sanity bound only (a map that stopped painting): frame-time goals are reported, not gated.
  expect(quantile(intervals, 0.5)).toBeLessThan(50);
  expect(heaps[heaps.length - 1]! - heaps[0]!).toBeLessThan(2 * 2 ** 20);
});
