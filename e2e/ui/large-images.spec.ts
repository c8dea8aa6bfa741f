// The performance goals of the app on large images, measured through the real UI and printed
// for the performance note: the bench's 64 GiB sparse raw image (20,000 extents), open to the
// first full map drawn; and a sparse-random disk of about a million extents, pan and zoom
// frames, bins computed in main, and the renderer's heap while zooming; and a 1 TiB
// sparse-random disk of ten million extents, open to the full map (goal < 2 s) and the memory
// main holds for its allocation model (bound < 256 MB, asserted). The time assertions are
// only sanity bounds: the goals are benchmarks, and this machine is shared.
import { test, expect, type Page } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { IpcEvents } from '../../shared/ipc.ts';
import { SparseLayout } from '../../main/plugins/sparse-random/layout.ts';
import { createSession } from '../../main/services/engine.ts';
import { ROOT, startHost, type Host } from './host.ts';
import { DETAIL, waitForSettledMap } from './map-page.ts';
import { PERF_LAUNCH_OPTIONS, describeTimes, dragPan, heapAfterGc, mib, quantile, startFrames, stopFrames, zoomRound } from './perf.ts';
import { cliTotals, panelTotals, shot } from './state-page.ts';

test.use({ launchOptions: PERF_LAUNCH_OPTIONS });
test.describe.configure({ mode: 'serial' });

const ANCHORS = process.env.ANCHOR_IMAGES ?? '/tmp/anchors';
const SPARSE_64G = path.join(ANCHORS, 'raw-sparse-64g.img');
const SPARSE_RANDOM = ['sparse-random', 'size=64G', 'runlength=64K', 'percent=50', 'seed=1'];
/** 10,325,427 extents (5,162,713 data runs), counted from the plugin's layout. */
const SPARSE_RANDOM_10M = ['sparse-random', 'size=1T', 'runlength=104K', 'percent=50', 'seed=1'];
const MB = 1e6;

let host: Host;

test.beforeAll(async () => {
  host = await startHost();
});

test.afterAll(async () => {
  await host?.stop();
});

// Page-side shapes for the recorder below (the Node-side compile has no DOM library).
interface DrawRecord {
  t: number;
  map: string;
  viewEnd: number;
  unknown: number;
}
interface CanvasLike {
  dataset: Record<string, string | undefined>;
  getAttribute(name: string): string | null;
}
declare const window: { __draws: DrawRecord[] };
declare const document: { body: unknown };
declare class MutationObserver {
  constructor(cb: (records: { target: unknown }[]) => void);
  observe(target: unknown, options: { subtree: boolean; attributes: boolean; attributeFilter: string[] }): void;
}

/** Records every map draw from now on (wall-clock time, which map, its range end, unscanned bytes left). */
async function recordDraws(page: Page): Promise<void> {
  await page.evaluate(() => {
    const installed = Array.isArray(window.__draws);
    window.__draws = [];
    if (installed) return;
    new MutationObserver((records) => {
      for (const r of records) {
        const c = r.target as CanvasLike;
        window.__draws.push({ t: Date.now(), map: c.getAttribute('data-testid') ?? '', viewEnd: Number(c.dataset.viewEnd), unknown: Number(c.dataset.binsUnknown ?? NaN) });
      }
    }).observe(document.body, { subtree: true, attributes: true, attributeFilter: ['data-drawn'] });
  });
}

interface OpenTimes {
  imageId: string;
  size: number;
  /** From pressing Enter in the open field */
  firstDrawMs: number;
  scanMs: number;
  /** From the scan's last progress event to both maps drawn with nothing unscanned */
  fullMapAfterScanMs: number;
}

/** Opens `target` through the open field and times the scan and the first full map. */
async function openAndTime(page: Page, target: string): Promise<OpenTimes> {
  const progress: { t: number; p: IpcEvents['map.scanProgress'] }[] = [];
  const off = host.on('map.scanProgress', (p) => progress.push({ t: Date.now(), p }));
  try {
    await recordDraws(page);
    const tabs = await page.getByTestId('image-tab').count();
    await page.getByTestId('open-input').fill(target);
    const t0 = Date.now();
    await page.getByTestId('open-input').press('Enter');
    await expect(page.getByTestId('image-tab')).toHaveCount(tabs + 1);
    const image = (await host.invoke('images.list', {})).find((i) => i.path === target || i.uri === target)!;
    await expect(page.getByTestId('scan-status')).toHaveText(/map complete/, { timeout: 180_000 });
    const full = (d: DrawRecord) => d.viewEnd === image.size && d.unknown === 0;
    await page.waitForFunction(
      (size) => ['map-detail', 'map-overview'].every((m) => window.__draws.some((d) => d.map === m && d.viewEnd === size && d.unknown === 0)),
      image.size,
    );
    const draws = await page.evaluate(() => window.__draws);
    const done = progress.find((e) => e.p.imageId === image.id && e.p.complete)!;
    const fullAt = Math.max(...['map-detail', 'map-overview'].map((m) => draws.find((d) => d.map === m && full(d))!.t));
    return {
      imageId: image.id,
      size: image.size,
      firstDrawMs: draws.find((d) => d.map === 'map-detail' && d.viewEnd === image.size)!.t - t0,
      scanMs: done.t - t0,
      fullMapAfterScanMs: fullAt - done.t,
    };
  } finally {
    off();
  }
}

test('64 GiB sparse raw image: open to the first full map', async ({ page }) => {
  test.setTimeout(240_000);
  const why = `${SPARSE_64G} is missing: it is a benchmark image (make it with ../shared/bench/make-images.sh ${ANCHORS})`;
  if (!existsSync(SPARSE_64G)) console.log(`large images: skipped, ${why}`);
  test.skip(!existsSync(SPARSE_64G), why);

  await page.goto(host.url);
  await expect(page.getByTestId('image-tab')).toHaveCount(1);
  // Three opens, each after closing the last: the first also warms the page cache and the JIT.
  const runs: OpenTimes[] = [];
  let dataBytes = 0;
  for (let k = 0; k < 3; k++) {
    const t = await openAndTime(page, SPARSE_64G);
    const summary = await host.invoke('images.get', { imageId: t.imageId });
    expect(summary.totals.unknown).toBe(0);
    // 20,000 extents cut by 64 scan slices: the panel's totals, to the byte, are the CLI's.
    if (k === 0) await expect.poll(() => panelTotals(page)).toEqual(cliTotals(SPARSE_64G));
    dataBytes = summary.totals.data;
    runs.push(t);
    await host.invoke('images.close', { imageId: t.imageId });
    await expect(page.getByTestId('image-tab')).toHaveCount(1);
  }
  const list = (f: (t: OpenTimes) => number) => `${runs.map(f).join(' / ')} ms`;
  console.log(
    `large images: 64 GiB sparse raw (${(dataBytes / 2 ** 20).toFixed(0)} MiB data), three opens: first map drawn ${list((t) => t.firstDrawMs)} after open; ` +
      `scan done ${list((t) => t.scanMs)} after open; full map drawn ${list((t) => t.fullMapAfterScanMs)} after the scan (goal < 300 ms)`,
  );
  expect(quantile(runs.map((t) => t.fullMapAfterScanMs), 0.5)).toBeLessThan(5_000);
});

/** `blockscope serve PLUGIN KEY=VALUE...` on a Unix socket for the tests of a describe; gives its URI. */
function serveDuringDescribe(args: string[]): () => string {
  let dir = '';
  let server: ChildProcess | undefined;
  let uri = '';
  test.beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'blockscope-e2e-large-'));
    const socket = path.join(dir, 'nbd.sock');
    server = spawn(process.execPath, [path.join(ROOT, 'bin', 'blockscope.mjs'), 'serve', '-f', '-U', socket, ...args], { stdio: 'ignore' });
    const until = Date.now() + 60_000;
    while (!existsSync(socket) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(socket)).toBe(true);
    uri = `nbd+unix:///?socket=${socket}`;
  });
  test.afterAll(async () => {
    server?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return () => uri;
}

test.describe('a sparse-random disk of about a million extents', () => {
  const served = serveDuringDescribe(SPARSE_RANDOM);
  let uri: string;
  test.beforeAll(() => {
    uri = served();
  });

  test('pan and zoom frames, bins from main, and the heap while zooming', async ({ page }) => {
    test.setTimeout(300_000);
    await page.goto(host.url);
    await expect(page.getByTestId('image-tab').first()).toBeVisible();
    const t = await openAndTime(page, uri);
    console.log(`large images: sparse-random (${SPARSE_RANDOM.slice(1).join(' ')}) over NBD: scan done ${t.scanMs} ms after open, full map drawn ${t.fullMapAfterScanMs} ms after the scan`);
    await waitForSettledMap(page);

    // Bins as the renderer asks for them, over the WebSocket: main's work plus the round trip.
    const width = await page.locator(DETAIL).evaluate((c) => (c as unknown as { width: number }).width);
    const trips: number[] = [];
    for (let k = 0; k < 40; k++) {
      const span = t.size / 2 ** (k % 12);
      const start = Math.floor(((t.size - span) * ((k * 7919) % 1000)) / 1000);
      const t0 = performance.now();
      await host.invoke('map.bins', { imageId: t.imageId, start, end: start + span, bins: width });
      trips.push(performance.now() - t0);
    }
    console.log(`large images: map.bins of ${width} bins over the WebSocket (views from the whole disk to 1/2048 of it): ${describeTimes(trips)}`);

    const box = (await page.locator(DETAIL).boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2);
    await zoomRound(page, 40, 300); // warm-up: JIT, first allocations
    const heaps = [await heapAfterGc(page)];
    const zoom = { intervals: [] as number[], work: [] as number[] };
    const pan = { intervals: [] as number[], work: [] as number[] };
    const add = (to: typeof zoom, from: typeof zoom) => {
      to.intervals.push(...from.intervals);
      to.work.push(...from.work);
    };
    for (let round = 0; round < 3; round++) {
      await page.mouse.move(box.x + box.width * (0.3 + 0.2 * round), box.y + box.height / 2);
      await startFrames(page);
      await zoomRound(page, 60, 300);
      add(zoom, await stopFrames(page));
      await startFrames(page);
      await dragPan(page, 40, 8);
      add(pan, await stopFrames(page));
      heaps.push(await heapAfterGc(page));
    }
    const intervals = [...zoom.intervals, ...pan.intervals];
    const over = (list: number[]) => list.filter((ms) => ms > 25).length;
    console.log(
      `large images: zoom on ~1M extents: ${zoom.intervals.length} frames, between frames ${describeTimes(zoom.intervals)} (${over(zoom.intervals)} over 25 ms), ` +
        `work per frame ${describeTimes(zoom.work)}; pan: ${pan.intervals.length} frames, between frames ${describeTimes(pan.intervals)} (${over(pan.intervals)} over 25 ms), ` +
        `work per frame ${describeTimes(pan.work)} (goal < 16 ms); heap after GC per round: ${heaps.map(mib).join(' -> ')} MiB`,
    );
    expect(quantile(intervals, 0.5)).toBeLessThan(50);
    expect(heaps[heaps.length - 1]! - heaps[0]!).toBeLessThan(8 * 2 ** 20);
  });

  test('bins for a view computed by the services, without the transport', async () => {
    test.setTimeout(300_000);
    const session = createSession({ stateDir: null });
    try {
      const { id } = await session.openUri(uri);
      const t0 = performance.now();
      while (!session.get(id).scan.complete) await new Promise((r) => setTimeout(r, 20));
      const scanMs = performance.now() - t0;
      const size = session.get(id).size;
      const extents = (await session.exportMap(id, 'csv')).text.split('\n').length - 2;
      const times: Record<number, number[]> = { 2000: [], 16384: [] };
      for (const bins of [2000, 16384]) {
        for (let k = 0; k < 30; k++) {
          const span = size / 2 ** (k % 12);
          const start = Math.floor(((size - span) * ((k * 7919) % 1000)) / 1000);
          const t1 = performance.now();
          session.bins(id, start, start + span, bins);
          times[bins]!.push(performance.now() - t1);
        }
      }
      console.log(
        `large images: services scan of sparse-random over NBD (${extents} extents) ${scanMs.toFixed(0)} ms; Session.bins: 2000 bins ${describeTimes(times[2000]!)}; ` +
          `16384 bins ${describeTimes(times[16384]!)} (goal < 20 ms)`,
      );
      expect(extents).toBeGreaterThan(500_000);
      expect(quantile(times[2000]!, 0.5)).toBeLessThan(200);
    } finally {
      await session.dispose();
    }
  });
});

/** The resident memory of process `pid` (Linux), in bytes. */
function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** The worker's gc(), for memory figures after collection. */
function exposedGc(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

test.describe('a 1 TiB sparse-random disk of ten million extents', () => {
  const uri = serveDuringDescribe(SPARSE_RANDOM_10M);
  const params = SPARSE_RANDOM_10M.slice(1).join(' ');

  test('open to the full map in the UI, and the memory of the UI host', async ({ page }) => {
    test.setTimeout(300_000);
    await page.goto(host.url);
    await expect(page.getByTestId('image-tab').first()).toBeVisible();
    const rssBefore = rssOf(host.process.pid!);
    const t = await openAndTime(page, uri());
    const rssAfter = rssOf(host.process.pid!);
    const { totals } = await host.invoke('images.get', { imageId: t.imageId });
    expect(totals.unknown).toBe(0);
    expect(totals.data + totals.hole).toBe(2 ** 40);
    await shot(page, 'large-images-10m-extents');
    const fullMs = t.scanMs + t.fullMapAfterScanMs;
    console.log(
      `large images: sparse-random (${params}, 10.3 M extents) over NBD: first map drawn ${t.firstDrawMs} ms after open, scan done ${t.scanMs} ms, ` +
        `full map drawn ${fullMs} ms after open (goal < 2000 ms); UI host RSS ${mib(rssBefore)} -> ${mib(rssAfter)} MiB`,
    );
    // A sanity bound 30x the goal (this machine is shared); the goal itself is the printed figure.
    expect(fullMs).toBeLessThan(30 * 2_000);
    await host.invoke('images.close', { imageId: t.imageId });
  });

  test('the memory main keeps for the allocation model, measured in the engine', async () => {
    test.setTimeout(300_000);
    const gc = exposedGc();
    const session = createSession({ stateDir: null });
    try {
      gc();
      const before = process.memoryUsage();
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const { id } = await session.openUri(uri());
      while (!session.get(id).scan.complete) await new Promise((r) => setTimeout(r, 20));
      const scanMs = performance.now() - t0;
      // Time on this process's threads, less at the mercy of the machine's load than the wall clock.
      const cpu = process.cpuUsage(cpu0);
      gc();
      const after = process.memoryUsage();
      // The model is typed arrays (arrayBuffers); the rest of the open image is on the heap.
      const held = after.arrayBuffers - before.arrayBuffers + (after.heapUsed - before.heapUsed);
      const { totals } = session.get(id);
      console.log(
        `large images: services scan of sparse-random (${params}) over NBD ${scanMs.toFixed(0)} ms (CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms); memory held after GC ${(held / MB).toFixed(1)} MB ` +
          `(array buffers +${((after.arrayBuffers - before.arrayBuffers) / MB).toFixed(1)} MB, heap +${((after.heapUsed - before.heapUsed) / MB).toFixed(1)} MB; bound 256 MB)`,
      );
      expect(totals.unknown).toBe(0);
      // The plugin's own count of its data bytes, from its layout: exact through NBD, chain and model.
      expect(totals.data).toBe(SparseLayout.generate({ size: 2 ** 40, seed: 1, fraction: 0.5, runLength: 104 * 1024 }).dataBytes);
      expect(held).toBeLessThan(256 * MB);
    } finally {
      await session.dispose();
    }
  });
});
