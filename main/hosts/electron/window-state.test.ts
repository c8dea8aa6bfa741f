import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { DEFAULT_WINDOW_STATE, loadWindowState, saveWindowState } from './window-state.ts';

let dir: string;
beforeEach(async () => (dir = await mkdtemp(path.join(os.tmpdir(), 'bs-win-'))));
afterEach(() => rm(dir, { recursive: true, force: true }));

it('remembers the size and position it saved', () => {
  saveWindowState(dir, { width: 1000, height: 700, x: 10, y: 20, maximized: true });
  expect(loadWindowState(dir)).toEqual({ width: 1000, height: 700, x: 10, y: 20, maximized: true });
});

it('falls back to the default for a missing file', () => {
  expect(loadWindowState(dir)).toEqual(DEFAULT_WINDOW_STATE);
});

it('falls back to the default for an absurd size', async () => {
  await writeFile(path.join(dir, 'window-state.json'), '{"width": 5, "height": 1e9}');
  expect(loadWindowState(dir)).toEqual(DEFAULT_WINDOW_STATE);
});
