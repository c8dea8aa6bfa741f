// nbdkit's toolbox in the sidebar: the request-shaping filters with nbdkit's parameter names,
// a bad value refused beside its field in the CLI's words, the CLI-only filters (exitlast,
// exitwhen) left out, and a served image with nozero zeromode=emulate still served (nbdinfo).
import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ROOT, nbdTool } from './host.ts';
import { MiB, openFilterParams, shot } from './state-page.ts';

import { sharedPageWithImage } from './shared-page.ts';

test.describe.configure({ mode: 'serial' });

const shared = sharedPageWithImage('toolbox', 16 * MiB, [[0, 65536]]);

const card = (name: string) => shared.page.getByTestId(`filter-${name}`);

const openParams = (name: string) => openFilterParams(shared.page, name);

test('the request-shaping filters are listed with nbdkit parameter names; exitlast and exitwhen are not', async () => {
  const fields: Record<string, string[]> = {
    nozero: ['zeromode', 'fastzeromode'], fua: ['fuamode'], blocksize: ['minblock', 'maxdata', 'maxlen'],
    'blocksize-policy': ['blocksize-minimum', 'blocksize-preferred', 'blocksize-maximum', 'blocksize-error-policy'],
    protect: ['protect'], swab: ['swab-bits'], nocache: ['cachemode'], noparallel: ['serialize'], 'multi-conn': ['multi-conn-mode'],
    cache: ['cache', 'cache-on-read', 'cache-max-size'], retry: ['retries', 'retry-delay', 'retry-exponential', 'retry-readonly'],
    rate: ['rate', 'connection-rate', 'rate-file'], log: ['logfile', 'logappend'], pause: ['pause-control'],
    scan: ['scan-ahead', 'scan-clock', 'scan-forever'], extentlist: ['extentlist'], xz: ['xz-max-block', 'xz-max-depth'],
  };
  for (const [name, keys] of Object.entries(fields)) {
    await openParams(name);
    for (const key of keys) await expect(card(name).locator(`#${name}-${key}`)).toBeAttached();
  }
  for (const name of ['checkwrite', 'cacheextents', 'readahead', 'gzip']) await expect(card(name)).toBeAttached();
  await expect(card('exitlast')).toHaveCount(0);
  await expect(card('exitwhen')).toHaveCount(0);
  await card('swab').scrollIntoViewIfNeeded();
  await shot(shared.page, 'toolbox-01-filters-listed');
});

test('a bad value is refused beside its field with the words the CLI prints', async () => {
  const cli = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'blockscope.mjs'), 'serve', '-U', '-', '--filter=blocksize', 'memory', 'size=1M', 'minblock=3', '--run', 'true'], { encoding: 'utf8' });
  const said = /blocksize: minblock: (.*)/.exec(cli.stderr)?.[1];
  expect(said).toBe('3 is not a power of 2');
  await openParams('blocksize');
  await card('blocksize').locator('#blocksize-minblock').fill('3');
  await card('blocksize').getByRole('button', { name: /^Apply/ }).click();
  await expect(card('blocksize').locator('[data-testid="param-error"][data-key="minblock"]')).toHaveText(said!);
  await expect(shared.page.getByTestId('chain-label')).not.toContainText('blocksize');
  await shot(shared.page, 'toolbox-02-error-beside-field');
  await card('blocksize').getByRole('button', { name: 'Reset' }).click();
});

test('nozero zeromode=emulate on a served image: nbdinfo still reads it and sees zeroing offered', async () => {
  await openParams('nozero');
  await card('nozero').locator('#nozero-zeromode').selectOption('emulate');
  await card('nozero').getByRole('button', { name: /^Apply/ }).click();
  await expect(shared.page.getByTestId('chain-label')).toContainText('nozero');
  await shared.page.locator('#serve-port').fill('0');
  await shared.page.getByTestId('serve-writable').check();
  await shared.page.getByTestId('serve-start').click();
  await expect(shared.page.getByTestId('serve-state')).toHaveText(/serving/);
  const uri = (await shared.page.getByTestId('serve-uri').textContent())!.trim();
  const info = nbdTool('nbdinfo', [uri]);
  expect(info).toMatch(/export-size: 16777216/);
  expect(info).toMatch(/can_zero: true/);
  await shot(shared.page, 'toolbox-03-nozero-served');
  await shared.page.getByTestId('serve-stop').click();
});
