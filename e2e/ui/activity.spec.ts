// The I/O activity heat overlay, as a user meets it: serve a partitioned image, let nbdsh read
// 1 MiB at A (partition 1) and write 1 MiB at B (partition 2), and the map lights exactly the
// bins of A in reads mode, of B in writes mode and of both in both mode (every pixel column is
// checked against the bins' edges); the info panel's per-partition totals say the same; the
// CSV and extent-list exports equal what the pattern did, what `blockscope serve --activity`
// writes for the same pattern, and nbdkit's extentlist filter reads the list as exactly A and B.
import { test, expect, type Page } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { binEdge } from '../../shared/bins.ts';
import { serveWritableThroughCow, waitForCompleteMap } from './flows.ts';
import { ROOT, nbdTool, startHost, type Host } from './host.ts';
import { litColumns, waitForActivityOnMap } from './map-page.ts';
import { MiB, makeSparseRaw, openTyped, shot } from './state-page.ts';

test.describe.configure({ mode: 'serial' });


const SIZE = 64 * MiB;
const A: [number, number] = [8 * MiB, MiB];
const B: [number, number] = [40 * MiB, MiB];
const PATTERN = `h.pread(${A[1]}, ${A[0]})\nh.pwrite(b"\\x5a" * ${B[1]}, ${B[0]})`;
const EXTENT_LIST = `${A[0]} ${A[1]}\n${B[0]} ${B[1]}\n`;

let dir: string;
let host: Host;
let page: Page;
let image: string;
let imageId: string;

/** An MBR image: partition 1 over [1 MiB, 32 MiB), partition 2 over [32 MiB, 64 MiB). */
function partitionedImage(file: string): string {
  makeSparseRaw(file, SIZE, [[0, 4096]]);
  const r = spawnSync('/usr/sbin/sfdisk', ['--no-reread', '--no-tell-kernel', '-q', file], { input: 'label: dos\n1MiB,31MiB,83\n32MiB,,83\n', encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sfdisk failed: ${r.stderr}`);
  return file;
}

test.beforeAll(async ({ browser }) => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'blockscope-e2e-activity-'));
  host = await startHost();
  page = await browser.newPage();
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  await page.goto(host.url);
  await expect(page.getByTestId('image-tab')).toHaveCount(1);
  image = partitionedImage(path.join(dir, 'disk.img'));
  await openTyped(page, image);
  await waitForCompleteMap(page);
  imageId = (await host.invoke('images.list', {})).find((i) => i.path === image)!.id;
  const uri = await serveWritableThroughCow(page);
  nbdTool('nbdsh', ['-u', uri, '-c', PATTERN]);
});

test.afterAll(async () => {
  await page?.close();
  await host?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Whether a bin overlaps any of the ranges. */
function binTouches(start: number, end: number, bins: number, i: number, ranges: [number, number][]): boolean {
  const lo = binEdge(start, end, bins, i);
  const hi = binEdge(start, end, bins, i + 1);
  return ranges.some(([o, l]) => lo < o + l && hi > o);
}

async function expectLit(mode: 'reads' | 'writes' | 'both', ranges: [number, number][], screenshot: string) {
  await page.getByTestId(`activity-mode-${mode}`).click();
  await waitForActivityOnMap(page);
  const { lit, start, end, bins } = await litColumns(page);
  expect(bins).toBe(lit.length);
  const expected = lit.map((_, x) => binTouches(start, end, bins, x, ranges));
  const wrong = lit.flatMap((l, x) => (l === expected[x] ? [] : [x]));
  expect(wrong, `columns lit (or not) against the pattern: ${wrong.slice(0, 10).join(', ')}`).toEqual([]);
  expect(expected.filter(Boolean).length).toBeGreaterThan(0);
  await shot(page, screenshot);
}

test('reads mode lights exactly the bins read; writes mode those written; both both', async () => {
  await expectLit('reads', [A], 'activity-01-reads');
  await expect(page.getByTestId('activity-legend')).toBeVisible();
  await expectLit('writes', [B], 'activity-02-writes');
  await expectLit('both', [A, B], 'activity-03-both');
});

test('the info panel totals each partition', async () => {
  const expected = {
    disk: { read: MiB, written: MiB, zeroed: 0, trimmed: 0 },
    partitions: [
      { number: 1, name: '', read: MiB, written: 0, zeroed: 0, trimmed: 0 },
      { number: 2, name: '', read: 0, written: MiB, zeroed: 0, trimmed: 0 },
    ],
  };
  expect(await host.invoke('activity.partitions', { imageId })).toMatchObject(expected);
  const row = (key: string) => page.getByTestId(`activity-row-${key}`).locator('td[data-bytes]');
  await expect(row('1')).toHaveCount(4);
  expect(await row('1').evaluateAll((tds) => tds.map((t) => Number(t.getAttribute('data-bytes'))))).toEqual([MiB, 0, 0, 0]);
  expect(await row('2').evaluateAll((tds) => tds.map((t) => Number(t.getAttribute('data-bytes'))))).toEqual([0, MiB, 0, 0]);
  expect(await row('disk').evaluateAll((tds) => tds.map((t) => Number(t.getAttribute('data-bytes'))))).toEqual([MiB, MiB, 0, 0]);
  await page.getByTestId('activity-totals').scrollIntoViewIfNeeded();
  await shot(page, 'activity-04-partition-totals');
});

test('the exports equal the pattern, the CLI recorder, and what nbdkit reads back', async () => {
  const save = async (format: 'csv' | 'extentlist') => {
    const download = page.waitForEvent('download');
    await page.getByTestId('activity-export').selectOption(format);
    return readFileSync(await (await download).path(), 'utf8');
  };
  const csv = await save('csv');
  const granularity = (await host.invoke('activity.bins', { imageId, start: 0, end: SIZE, bins: 1, op: 'both' })).granularity;
  const rows = (at: [number, number], column: 'read' | 'written') =>
    Array.from({ length: at[1] / granularity }, (_, k) => `${at[0] + k * granularity},${granularity},${column === 'read' ? granularity : 0},${column === 'written' ? granularity : 0},0,0`);
  expect(csv).toBe(['offset,length,read,written,zeroed,trimmed', ...rows(A, 'read'), ...rows(B, 'written')].join('\n') + '\n');
  const extents = await save('extentlist');
  expect(extents).toBe(EXTENT_LIST);

  // The CLI's recorder, serving a copy of the image with the same client pattern, writes the same list.
  const cliList = path.join(dir, 'cli.extents');
  const copy = path.join(dir, 'copy.img');
  spawnSync('cp', ['--sparse=always', image, copy]);
  const cli = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'blockscope.mjs'), 'serve', '-p', '0', '-w', '--activity', cliList, copy, '--run', `nbdsh -u "$uri" -c '${PATTERN}'`], {
    encoding: 'utf8', env: { ...process.env, PATH: `/usr/bin:${process.env.PATH ?? ''}` }, timeout: 30_000,
  });
  expect(cli.status, cli.stderr).toBe(0);
  expect(readFileSync(cliList, 'utf8')).toBe(extents);

  // nbdkit's extentlist filter reads the list as data at A and B, holes elsewhere.
  const listFile = path.join(dir, 'ui.extents');
  spawnSync('sh', ['-c', `cat > '${listFile}'`], { input: extents });
  const map = JSON.parse(nbdTool('nbdkit', ['-r', '--filter=extentlist', 'null', `size=${SIZE}`, `extentlist=${listFile}`, '--run', 'nbdinfo --map --json "$uri"'])) as { offset: number; length: number; type: number }[];
  expect(map.filter((e) => e.type === 0).map((e) => [e.offset, e.length])).toEqual([A, B]);
});

test('Clear empties the overlay and the totals', async () => {
  await page.getByTestId('activity-clear').click();
  await expect.poll(async () => (await host.invoke('activity.partitions', { imageId })).disk.read).toBe(0);
  await expect.poll(async () => (await litColumns(page)).lit.some(Boolean)).toBe(false);
  await expect(page.getByTestId('activity-row-disk').locator('td[data-bytes]').first()).toHaveAttribute('data-bytes', '0');
  await shot(page, 'activity-05-cleared');
});
