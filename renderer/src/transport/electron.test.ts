// The Electron transport takes window.blockscope as the contract types it (the type the
// preload is checked against in preload/api.test.ts), calls each channel through the
// function the preload builds for it, and unwraps the envelopes. The type checks run under
// tsc (npm run typecheck).
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  channelApi, IpcError, ipcChannels, type BlockscopeApi, type IpcChannel, type IpcRequest, type IpcResponse, type IpcResult,
} from '../../../shared/ipc.ts';
import { ElectronTransport } from './electron.ts';
import type { Transport } from './transport.ts';

/** window.blockscope as the preload builds it, over a fake main process. */
function preloadApi(reply: (channel: IpcChannel, request: unknown) => IpcResult<unknown>) {
  const calls: [IpcChannel, unknown][] = [];
  const api: BlockscopeApi = {
    ...channelApi(async (channel, request) => {
      calls.push([channel, request]);
      return reply(channel, request);
    }),
    on: () => () => {},
  };
  return { api, calls };
}

describe('types', () => {
  it('the transport reads window.blockscope as BlockscopeApi', () => {
    expectTypeOf<Window['blockscope']>().toEqualTypeOf<BlockscopeApi | undefined>();
    expectTypeOf<ConstructorParameters<typeof ElectronTransport>>().toEqualTypeOf<[api: BlockscopeApi]>();
  });

  it('its invoke is the Transport contract, typed by the channel map', () => {
    expectTypeOf<ElectronTransport['invoke']>().toEqualTypeOf<Transport['invoke']>();
    const t = new ElectronTransport(preloadApi(() => ({ ok: true, value: null })).api);
    expectTypeOf(t.invoke<'map.bins'>).parameters.toEqualTypeOf<['map.bins', IpcRequest<'map.bins'>]>();
    expectTypeOf(t.invoke<'map.bins'>).returns.toEqualTypeOf<Promise<IpcResponse<'map.bins'>>>();
  });
});

describe('ElectronTransport', () => {
  it('calls every channel through its own preload function', async () => {
    const { api, calls } = preloadApi((channel) => ({ ok: true, value: channel }));
    const t = new ElectronTransport(api);
    for (const channel of ipcChannels) {
      calls.length = 0;
      await expect(t.invoke(channel, {} as IpcRequest<typeof channel>)).resolves.toBe(channel);
      expect(calls).toEqual([[channel, {}]]);
    }
  });

  it('rejects with an IpcError keeping the code', async () => {
    const { api } = preloadApi(() => ({ ok: false, error: { code: 'not-found', message: 'no image x' } }));
    const p = new ElectronTransport(api).invoke('images.get', { imageId: 'x' });
    await expect(p).rejects.toBeInstanceOf(IpcError);
    await expect(p).rejects.toMatchObject({ code: 'not-found', message: 'no image x' });
  });

  it('says so when the preload lacks a channel', async () => {
    const { api } = preloadApi(() => ({ ok: true, value: null }));
    const { serverStatus: _gone, ...older } = api;
    await expect(new ElectronTransport(older as BlockscopeApi).invoke('server.status', {})).rejects.toThrow('the preload does not expose server.status');
  });
});
