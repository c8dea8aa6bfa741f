// The preload exposes exactly window.blockscope's contract type (no more functions, none
// missing, each typed by the channel map) and routes every call and event through the
// fake Electron objects given to it. The type checks run under tsc (npm run typecheck).
import type { IpcRendererEvent } from 'electron';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { apiNameOf, ipcChannels, type BlockscopeApi, type ChannelFunction, type IpcEvents } from '../shared/ipc.ts';
import { buildApi, type ExposedApi, type PreloadIpc } from './api.ts';

type Listener = (event: IpcRendererEvent, ...args: unknown[]) => void;

function fakeElectron() {
  const invoked: [string, unknown][] = [];
  const listeners = new Map<string, Set<Listener>>();
  const ipc = {
    invoke: async (channel: string, request: unknown) => {
      invoked.push([channel, request]);
      return { ok: true, value: channel };
    },
    on(channel: string, listener: Listener) {
      if (!listeners.has(channel)) listeners.set(channel, new Set());
      listeners.get(channel)!.add(listener);
      return this;
    },
    removeListener(channel: string, listener: Listener) {
      listeners.get(channel)?.delete(listener);
      return this;
    },
  } as unknown as PreloadIpc;
  const send = (channel: string, payload: unknown) => {
    for (const l of listeners.get(channel) ?? []) l({ sender: 'main' } as unknown as IpcRendererEvent, payload);
  };
  const api = buildApi(ipc, { getPathForFile: () => '/images/dropped.img' });
  return { api, invoked, listeners, send };
}

describe('the exposed API type', () => {
  it('has the keys of BlockscopeApi, no more and no fewer', () => {
    expectTypeOf<keyof ExposedApi>().toEqualTypeOf<keyof BlockscopeApi>();
    expectTypeOf<ExposedApi>().toExtend<BlockscopeApi>();
  });

  it('types each function by its channel', () => {
    expectTypeOf<ExposedApi['mapBins']>().toEqualTypeOf<ChannelFunction<'map.bins'>>();
    expectTypeOf<ExposedApi['serverStart']>().toEqualTypeOf<ChannelFunction<'server.start'>>();
    expectTypeOf<ExposedApi['on']>().toEqualTypeOf<BlockscopeApi['on']>();
  });
});

describe('buildApi', () => {
  it('invokes each channel under its own name, with {} for a missing request', async () => {
    const { api, invoked } = fakeElectron();
    const byName = api as unknown as Record<string, (r?: unknown) => Promise<unknown>>;
    for (const channel of ipcChannels) {
      invoked.length = 0;
      await expect(byName[apiNameOf(channel)]!()).resolves.toEqual({ ok: true, value: channel });
      expect(invoked).toEqual([[channel, {}]]);
    }
    await api.hexRead({ imageId: 'a', offset: 0, length: 16 });
    expect(invoked.at(-1)).toEqual(['hex.read', { imageId: 'a', offset: 0, length: 16 }]);
  });

  it('forwards an event payload without the IPC event object, until unsubscribed', () => {
    const { api, listeners, send } = fakeElectron();
    const got: IpcEvents['server.log'][] = [];
    const off = api.on('server.log', (p) => got.push(p));
    send('server.log', { t: 1, line: 'hi' });
    off();
    send('server.log', { t: 2, line: 'gone' });
    expect(got).toEqual([{ t: 1, line: 'hi' }]);
    expect(listeners.get('server.log')?.size).toBe(0);
  });

  it('refuses events outside the contract', () => {
    const { api } = fakeElectron();
    expect(() => api.on('no.such' as 'server.log', () => {})).toThrow("'no.such' is not a Blockscope event");
  });

  it('asks webUtils for a dropped file path', () => {
    expect(fakeElectron().api.pathForFile({})).toBe('/images/dropped.img');
  });
});
