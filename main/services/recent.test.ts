import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { RecentImages } from './recent.ts';

let dir: string;
beforeEach(async () => (dir = await mkdtemp(path.join(os.tmpdir(), 'bs-recent-'))));
afterEach(() => rm(dir, { recursive: true, force: true }));

it('puts the latest image first and keeps one entry per path', async () => {
  const recent = new RecentImages(dir);
  await recent.add({ path: '/a.img', title: 'a.img', openedAt: 1 });
  await recent.add({ path: '/b.img', title: 'b.img', openedAt: 2 });
  await recent.add({ path: '/a.img', title: 'a.img', openedAt: 3 });
  expect((await recent.list()).map((r) => [r.path, r.openedAt])).toEqual([['/a.img', 3], ['/b.img', 2]]);
});

it('survives a new instance (the file is the state)', async () => {
  await new RecentImages(dir).add({ uri: 'nbd://h/x', title: 'x', openedAt: 1 });
  expect(await new RecentImages(dir).list()).toEqual([{ uri: 'nbd://h/x', title: 'x', openedAt: 1 }]);
});

it('reads a damaged file as an empty list', async () => {
  await writeFile(path.join(dir, 'recent.json'), '{not json');
  expect(await new RecentImages(dir).list()).toEqual([]);
});
