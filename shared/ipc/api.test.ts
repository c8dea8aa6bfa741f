// The contract agrees with itself: the response map, the event list and window.blockscope's
// type all cover exactly the channels and events there are, and the function channelApi
// stores under a channel's API name is the one channelFunction finds for it. The type checks
// run under tsc (npm run typecheck); expectTypeOf does nothing at run time.
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  apiNameOf, channelApi, channelFunction, ipcChannels, ipcEventNames, ipcRequestSchemas, type ApiName, type BlockscopeApi, type ChannelApi,
  type ChannelFunction, type IpcChannel, type IpcEventName, type IpcRequest, type IpcResponse, type IpcResponses, type IpcResult,
} from '../ipc.ts';

describe('types', () => {
  it('answer every channel and only those', () => {
    expectTypeOf<keyof IpcResponses>().toEqualTypeOf<IpcChannel>();
    expectTypeOf<keyof typeof ipcRequestSchemas>().toEqualTypeOf<IpcChannel>();
  });

  it('list every event', () => {
    expectTypeOf<(typeof ipcEventNames)[number]>().toEqualTypeOf<IpcEventName>();
  });

  it('give window.blockscope one function per channel, under its API name, typed by the channel map', () => {
    expectTypeOf<keyof ChannelApi>().toEqualTypeOf<ApiName<IpcChannel>>();
    expectTypeOf<{ [C in IpcChannel]: ChannelApi[ApiName<C>] }>().toEqualTypeOf<{ [C in IpcChannel]: ChannelFunction<C> }>();
    expectTypeOf<keyof BlockscopeApi>().toEqualTypeOf<ApiName<IpcChannel> | 'on' | 'pathForFile'>();
    expectTypeOf<BlockscopeApi['mapBins']>().toEqualTypeOf<(request: IpcRequest<'map.bins'>) => Promise<IpcResult<IpcResponse<'map.bins'>>>>();
  });

  it('type a channel found by name as that channel', () => {
    expectTypeOf(channelFunction<'hex.read'>).returns.toEqualTypeOf<ChannelFunction<'hex.read'> | undefined>();
    expectTypeOf(apiNameOf<'map.extentAt'>).returns.toEqualTypeOf<'mapExtentAt'>();
  });
});

describe('channelApi', () => {
  const calls: [string, unknown][] = [];
  const api = channelApi(async (channel, request) => {
    calls.push([channel, request]);
    return { ok: true, value: channel };
  });

  it('has a function for each channel under its API name, and nothing else', () => {
    expect(Object.keys(api).sort()).toEqual(ipcChannels.map(apiNameOf).sort());
  });

  it('sends each function to its own channel with the request as given', async () => {
    for (const channel of ipcChannels) {
      calls.length = 0;
      const request = { probe: channel };
      const fn = api[apiNameOf(channel)] as (r: unknown) => Promise<unknown>;
      await expect(fn(request)).resolves.toEqual({ ok: true, value: channel });
      expect(calls).toEqual([[channel, request]]);
    }
  });

  it('is what channelFunction finds for each channel', () => {
    for (const channel of ipcChannels) expect(channelFunction(api, channel)).toBe(api[apiNameOf(channel)]);
  });

  it('finds nothing for a channel an older preload lacks', () => {
    const { mapBins: _gone, ...older } = api;
    expect(channelFunction(older as ChannelApi, 'map.bins')).toBeUndefined();
  });
});
