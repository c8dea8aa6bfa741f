// The README's pictures, made from the real UI: the demo image served through cow while nbdsh
// reads and writes it (docs/screenshots/activity-heat.png: the map in both mode), then the
// same image compared with a modified copy of its file, the two-sided hex view open on a
// difference (docs/screenshots/compare-diff.png). Each picture's state is checked first, so
// a broken feature fails here rather than landing in the README.
import { test, expect, type Page } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { waitForCompleteMap, serveWritableThroughCow } from './flows.ts';
import { nbdTool, ROOT, startHost, type Host } from './host.ts';
import { waitForActivityOnMap } from './map-page.ts';
import { MiB } from './state-page.ts';

test.describe.configure({ mode: 'serial' });

const DOCS = path.join(ROOT, 'docs', 'screenshots');

let host: Host;
let page: Page;
let dir: string;
let demo: string;
let size: number;
let uri: string;

/** The allocation map's card, as the README shows it. */
async function saveMapCard(name: string): Promise<void> {
  mkdirSync(DOCS, { recursive: true });
  const file = path.join(DOCS, name);
  await page.getByRole('region', { name: 'Allocation map' }).screenshot({ path: file });
  expect(statSync(file).size).toBeGreaterThan(10_000);
}

/** `length` bytes of `byte` at each offset: `h.pwrite` lines for nbdsh. */
const writes = (at: number[], length: number, byte: number) => at.map((o) => `h.pwrite(b"\\x${byte.toString(16).padStart(2, '0')}" * ${length}, ${o})`);

test.beforeAll(async ({ browser }) => {
  // A fixed folder and a fixed clock: the pictures show the copy's path and "updated" times, and
  // should change only when the UI does.
  dir = path.join(os.tmpdir(), 'blockscope-readme');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  host = await startHost();
  // Tall enough for the map card with the compare panel and its hex view, whole.
  page = await browser.newPage({ viewport: { width: 1440, height: 1500 } });
  await page.clock.setFixedTime(new Date('2026-12-06T10:00:00'));
  await page.goto(host.url);
  await expect(page.getByTestId('image-tab')).toHaveCount(1);
  await waitForCompleteMap(page);
  const image = (await host.invoke('images.list', {}))[0]!;
  demo = image.path!;
  size = image.size;
});

test.afterAll(async () => {
  await page?.close();
  await host?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('activity-heat.png: reads and writes through a served export, on the map', async () => {
  uri = await serveWritableThroughCow(page);
  const at = (f: number) => Math.floor((size * f) / MiB) * MiB;
  // Heat on a log scale: one pass, eight passes, a hot spot read 64 times, scattered 4 KiB reads.
  const pattern = [
    `h.pread(${2 * MiB}, ${at(0.08)})`,
    `for i in range(8): h.pread(${MiB}, ${at(0.3)})`,
    `for i in range(64): h.pread(${256 * 1024}, ${at(0.55)})`,
    `for i in range(40): h.pread(4096, ${at(0.62)} + i * 131072)`,
    ...writes([at(0.18), at(0.42)], MiB, 0x5a),
    ...writes([at(0.72)], 64 * 1024, 0x5a),
  ];
  nbdTool('nbdsh', ['-u', uri, '-c', pattern.join('\n')]);
  await page.getByTestId('activity-mode-both').click();
  await waitForActivityOnMap(page);
  await saveMapCard('activity-heat.png');
});

test('compare-diff.png: the diff map and the two-sided hex view on a difference', async () => {
  const copy = path.join(dir, 'demo-copy.img');
  expect(spawnSync('cp', ['--sparse=always', demo, copy]).status).toBe(0);
  const fd = openSync(copy, 'r+');
  for (const f of [0.12, 0.5, 0.86]) writeSync(fd, Buffer.alloc(256 * 1024, 0xa5), 0, 256 * 1024, Math.floor((size * f) / 4096) * 4096);
  closeSync(fd);
  await page.getByTestId('activity-mode-allocation').click();
  await page.getByTestId('compare-open').click();
  await page.getByTestId('compare-other').fill(copy);
  await page.getByTestId('compare-run').click();
  await expect(page.getByTestId('compare-verdict')).toHaveAttribute('data-identical', 'false');
  // A few bytes written while the view is open: it updates by itself.
  const text = Math.floor((size * 0.3) / 4096) * 4096 + 7;
  nbdTool('nbdsh', ['-u', uri, '-c', `h.pwrite(b"Blockscope " * 8, ${text})`]);
  await expect(page.getByTestId('compare-live')).not.toHaveAttribute('data-updates', '0', { timeout: 5_000 });
  // Next until the text written: the hex view opens on it.
  const current = page.getByTestId('compare-current');
  for (let k = 0; k < 20 && Number(await current.getAttribute('data-offset')) < text; k++) await page.getByTestId('compare-next').click();
  await expect(current).toHaveAttribute('data-offset', String(text));
  await page.getByTestId('compare-hex-toggle').click();
  await expect(page.getByTestId('compare-hex-count')).not.toHaveAttribute('data-count', '0');
  await saveMapCard('compare-diff.png');
});
