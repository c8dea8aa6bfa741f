// What e2e/ui/app-state.spec.ts reads and does on the page, and the files and clients it makes:
// sparse raw images written with plain file I/O, qcow2 images from qemu-img, the CLI's own
// totals as the oracle for the info panel, and nbdsh clients that keep a steady pace.
import { expect, type Page } from '@playwright/test';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { nbdToolInBackground, ROOT } from './host.ts';

export const MiB = 2 ** 20;
export const GiB = 2 ** 30;
const SHOTS = path.join(ROOT, 'test-results', 'screenshots');

export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

/** A sparse raw file of `size` bytes holding `length` bytes of 0x5a at each offset. */
export function makeSparseRaw(file: string, size: number, writes: readonly [offset: number, length: number][] = []): string {
  const fd = openSync(file, 'w');
  try {
    for (const [offset, length] of writes) writeSync(fd, Buffer.alloc(length, 0x5a), 0, length, offset);
  } finally {
    closeSync(fd);
  }
  const r = spawnSync('truncate', ['-s', String(size), file]);
  if (r.status !== 0) throw new Error(`truncate failed: ${r.stderr}`);
  return file;
}

export function makeQcow2(file: string, size: string): string {
  const r = spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', file, size], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`qemu-img create failed: ${r.stderr}`);
  return file;
}

/** Opens a path through the open field and waits for its tab to be the active one. */
export async function openTyped(page: Page, target: string): Promise<void> {
  // Counted by name, not all tabs: right after the page loads, the host's own first image (the
  // demo) may still be arriving, and a count of every tab taken then is one short.
  const named = page.getByTestId('image-tab').filter({ hasText: path.basename(target) });
  const tabs = await named.count();
  await page.getByTestId('open-input').fill(target);
  await page.getByTestId('open-input').press('Enter');
  await expect(named).toHaveCount(tabs + 1);
  await expect(page.locator('[data-testid="image-tab"][aria-selected="true"]')).toContainText(path.basename(target));
}

export type TotalKind = 'data' | 'zero' | 'hole' | 'hole-undefined' | 'unknown';
const KIND_OF_FLAGS: Record<number, TotalKind> = { 0: 'data', 1: 'hole-undefined', 2: 'zero', 3: 'hole' };

/** `blockscope map --totals --json`, as bytes per kind. */
export function cliTotals(image: string): Partial<Record<TotalKind, number>> {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'blockscope.mjs'), 'map', '--totals', '--json', image], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`blockscope map --totals failed: ${r.stderr}`);
  const rows = JSON.parse(r.stdout) as { size: number; type: number }[];
  return Object.fromEntries(rows.map((row) => [KIND_OF_FLAGS[row.type]!, row.size]));
}

/** The info panel's totals in exact bytes (each row's tooltip), leaving out empty rows. */
export async function panelTotals(page: Page): Promise<Partial<Record<TotalKind, number>>> {
  const rows = await page.getByTestId('totals').locator(':scope > span').evaluateAll((spans) =>
    spans.map((s) => {
      const el = s as unknown as { title: string; querySelector(sel: string): { className: string } | null };
      return { kind: /sw-([a-z-]+)/.exec(el.querySelector('.swatch')?.className ?? '')?.[1] ?? '', title: el.title };
    }),
  );
  const out: Partial<Record<TotalKind, number>> = {};
  for (const { kind, title } of rows) {
    const bytes = Number(title.replace(/\D/g, ''));
    if (bytes > 0) out[kind as TotalKind] = bytes;
  }
  return out;
}

/** Opens a filter's parameter form in its sidebar card, unless it is open already. */
export async function openFilterParams(page: Page, filter: string): Promise<void> {
  const card = page.getByTestId(`filter-${filter}`);
  if ((await card.locator('.filter-body').count()) === 0) await card.getByTitle('Parameters').click();
}

/** Opens a filter's parameter form, fills it and applies it (enabling the filter). */
export async function applyFilterParams(page: Page, filter: string, params: Record<string, string>): Promise<void> {
  await openFilterParams(page, filter);
  const card = page.getByTestId(`filter-${filter}`);
  for (const [key, value] of Object.entries(params)) await card.locator(`#${filter}-${key}`).fill(value);
  await card.getByRole('button', { name: /^Apply/ }).click();
}

/** nbdsh reading 4 KiB `perSecond` times a second on a fixed schedule (no drift), for `seconds`. */
export function steadyReader(uri: string, perSecond: number, seconds: number): ChildProcess {
  const script = [
    'import time',
    `n = ${Math.round(perSecond * seconds)}`,
    't0 = time.monotonic()',
    'for i in range(n):',
    `    time.sleep(max(0, t0 + i / ${perSecond} - time.monotonic()))`,
    '    h.pread(4096, (i % 256) * 4096)',
  ].join('\n');
  return nbdToolInBackground('nbdsh', ['-u', uri, '-c', script]);
}

/** nbdsh reading `mib` MiB in 1 MiB requests, then staying connected for `holdSeconds`. */
export function bulkReader(uri: string, mib: number, holdSeconds: number): ChildProcess {
  const script = ['import time', `for i in range(${mib}):`, '    h.pread(1048576, i * 1048576)', `time.sleep(${holdSeconds})`].join('\n');
  return nbdToolInBackground('nbdsh', ['-u', uri, '-c', script]);
}

/** The "x/px" figure of the map header, in bytes. */
export async function headerBytesPerPixel(page: Page): Promise<string> {
  const text = (await page.getByTestId('view-range').textContent()) ?? '';
  return /· ([^·]+)\/px/.exec(text)?.[1]?.trim() ?? '';
}
