// window.blockscope, the API the Electron preload puts on the page: one function per channel,
// named after it ('map.extentAt' -> mapExtentAt) and answering IpcResult envelopes, plus `on`
// for events. The preload builds the functions with channelApi and the renderer's Electron
// transport finds a channel's function with channelFunction, so the naming rule is written
// once, here, and both sides compile against BlockscopeApi.
import { ipcChannels, type IpcChannel, type IpcRequest, type IpcResponse } from './channels.ts';
import type { IpcEventName, IpcEvents } from './events.ts';
import type { IpcResult } from './result.ts';

/** 'map.extentAt' -> 'mapExtentAt': the name of a channel's function on window.blockscope. */
export type ApiName<C extends string> = C extends `${infer A}.${infer B}` ? `${A}${Capitalize<B>}` : C;

export function apiNameOf<C extends IpcChannel>(channel: C): ApiName<C> {
  const dot = channel.indexOf('.');
  return (channel.slice(0, dot) + channel.charAt(dot + 1).toUpperCase() + channel.slice(dot + 2)) as ApiName<C>;
}

/** A channel's function on window.blockscope: its request in, its reply's envelope out. */
export type ChannelFunction<C extends IpcChannel> = (request: IpcRequest<C>) => Promise<IpcResult<IpcResponse<C>>>;

/** Every channel's function, under the channel's API name. */
export type ChannelApi = { [C in IpcChannel as ApiName<C>]: ChannelFunction<C> };

/**
 * window.blockscope in Electron: one function per channel (replies as IpcResult envelopes,
 * unwrap with unwrapResult) and `on` for contract events, returning an unsubscribe function.
 */
export type BlockscopeApi = ChannelApi & {
  on<E extends IpcEventName>(event: E, listener: (payload: IpcEvents[E]) => void): () => void;
  /**
   * The filesystem path of a File dropped on the window (Electron's webUtils.getPathForFile:
   * a sandboxed page cannot read File.path). Browser hosts have no such thing.
   */
  pathForFile?(file: unknown): string;
};

/** Carries one call to the engine and resolves with its reply envelope (the preload's ipcRenderer.invoke). */
export type InvokeChannel = (channel: IpcChannel, request: unknown) => Promise<unknown>;

// The two functions below state the one fact the compiler cannot follow through a generic
// channel: that apiNameOf gives every channel its own name, so the function stored under
// apiNameOf(C) is C's. ipc/api.test.ts checks it for every channel.

/** The named functions of window.blockscope, each calling `invoke` with its channel. */
export function channelApi(invoke: InvokeChannel): ChannelApi {
  const api: Record<string, (request: unknown) => Promise<unknown>> = {};
  for (const channel of ipcChannels) api[apiNameOf(channel)] = (request) => invoke(channel, request);
  return api as unknown as ChannelApi;
}

/** `channel`'s function on `api`; undefined when the preload that built it predates the channel. */
export function channelFunction<C extends IpcChannel>(api: ChannelApi, channel: C): ChannelFunction<C> | undefined {
  return api[apiNameOf(channel)] as ChannelFunction<C> | undefined;
}
