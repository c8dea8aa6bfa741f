import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createSession } from './engine.ts';
import { createHandlers, dispatch, type Handlers } from './handlers.ts';
import type { Session } from './session.ts';

const run = promisify(execFile);
let dir: string;
let session: Session;
let handlers: Handlers;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bs-handlers-'));
  session = createSession({ stateDir: null });
  handlers = createHandlers(session, { host: 'web', version: '1.2.3' });
});

afterEach(async () => {
  await session.dispose();
  await rm(dir, { recursive: true, force: true });
});

it('wraps a value in an ok envelope', async () => {
  expect(await dispatch(handlers, 'app.info', {})).toMatchObject({ ok: true, value: { host: 'web', version: '1.2.3', nativeDialogs: false } });
});

it('refuses an unknown channel', async () => {
  expect(await dispatch(handlers, 'shell.exec', {})).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
});

it('names the field that failed validation', async () => {
  const result = await dispatch(handlers, 'map.bins', { imageId: 'img-1', start: 0, end: 10, bins: 0 });
  expect(result).toMatchObject({ ok: false, error: { code: 'invalid-input', message: expect.stringMatching(/^map\.bins: bins: /) } });
});

it('says the file dialog is unsupported in the browser', async () => {
  expect(await dispatch(handlers, 'dialog.openImage', {})).toMatchObject({ ok: false, error: { code: 'unsupported' } });
});

it('carries the filters of a needs-confirmation error', async () => {
  const file = path.join(dir, 'disk.img');
  await writeFile(file, Buffer.alloc(1024 * 1024));
  const { id } = await session.openPath(file);
  const plugin = session.chainState(id).config.plugin;
  await session.setChain(id, { plugin, filters: [{ name: 'cow', params: {}, enabled: true }] });
  const { exports } = await session.startServing(id, { port: 0, writable: true });
  await run('nbdsh', ['-u', exports[0]!.uri, '-c', 'h.pwrite(b"data", 0)'], { env: { ...process.env, PATH: `/usr/bin:${process.env.PATH}` } });
  const result = await dispatch(handlers, 'chain.set', { imageId: id, config: { plugin, filters: [{ name: 'cow', params: {}, enabled: false }] } });
  expect(result).toMatchObject({ ok: false, error: { code: 'needs-confirmation', filters: ['cow'] } });
});

it('reports engine errors with their errno', async () => {
  const result = await dispatch(handlers, 'images.open', { path: path.join(dir, 'missing.img') });
  expect(result).toMatchObject({ ok: false, error: { code: 'failed', message: expect.stringContaining('missing.img') } });
});
