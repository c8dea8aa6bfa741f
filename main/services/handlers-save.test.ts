// dialog.saveFile: the seam between the renderer's export and Electron's save dialog. The
// Electron side itself (dialog.showSaveDialog, writeFile) is type-checked only: no Electron
// binary runs here; these tests drive the shared handler with a host that records its calls.
import { afterAll, expect, it } from 'vitest';
import { createSession } from './engine.ts';
import { createHandlers, dispatch } from './handlers.ts';

const session = createSession({ stateDir: null });
afterAll(() => session.dispose());

it("answers 'unsupported' in the browser host, so the window downloads instead", async () => {
  const handlers = createHandlers(session, { host: 'web', version: '1' });
  expect(await dispatch(handlers, 'dialog.saveFile', { suggestedName: 'd.csv', text: 'a,b' })).toMatchObject({ ok: false, error: { code: 'unsupported' } });
});

it('hands the host the decoded bytes of a picture and the text of a text export, and answers its path', async () => {
  const saved: [string, Uint8Array | string][] = [];
  const handlers = createHandlers(session, {
    host: 'electron',
    version: '1',
    saveFileDialog: async (name, contents) => {
      saved.push([name, contents]);
      return `/home/u/Downloads/${name}`;
    },
  });
  expect(await dispatch(handlers, 'dialog.saveFile', { suggestedName: 'd-map.png', base64: 'iVBORw==' })).toEqual({ ok: true, value: { path: '/home/u/Downloads/d-map.png' } });
  expect(await dispatch(handlers, 'dialog.saveFile', { suggestedName: 'd.csv', text: 'a,b\n' })).toMatchObject({ ok: true });
  expect(saved.map(([n, c]) => [n, typeof c === 'string' ? c : [...c]])).toEqual([
    ['d-map.png', [0x89, 0x50, 0x4e, 0x47]],
    ['d.csv', 'a,b\n'],
  ]);
  console.log('dialog.saveFile: Electron main.ts (dialog.showSaveDialog + writeFile) is type-checked only; no Electron binary here');
});

it('refuses a suggested name with a directory in it, and bytes that are not base64', async () => {
  const handlers = createHandlers(session, { host: 'electron', version: '1', saveFileDialog: async () => '/x' });
  expect(await dispatch(handlers, 'dialog.saveFile', { suggestedName: '../../etc/passwd', text: 'x' })).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
  expect(await dispatch(handlers, 'dialog.saveFile', { suggestedName: 'a.png', base64: 'not base64!' })).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
});
