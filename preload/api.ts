// What the preload puts on the page as window.blockscope: one named function per contract
// channel (shared/ipc/api.ts names them), `on` for contract events and pathForFile. It takes
// the two Electron objects it uses as arguments, so api.test.ts can check it without Electron.
import type { IpcRenderer, IpcRendererEvent, WebUtils } from 'electron';
import { channelApi, isIpcEventName, type BlockscopeApi, type IpcEventName, type IpcEvents } from '../shared/ipc.ts';

export type PreloadIpc = Pick<IpcRenderer, 'invoke' | 'on' | 'removeListener'>;

export function buildApi(ipcRenderer: PreloadIpc, webUtils: Pick<WebUtils, 'getPathForFile'>) {
  return {
    ...channelApi((channel, request) => ipcRenderer.invoke(channel, request ?? {})),
    on: <E extends IpcEventName>(event: E, listener: (payload: IpcEvents[E]) => void): (() => void) => {
      if (!isIpcEventName(event)) throw new Error(`'${String(event)}' is not a Blockscope event`);
      // The IPC event object (with its sender) stays on this side of the bridge.
      const forward = (_e: IpcRendererEvent, payload: IpcEvents[E]) => listener(payload);
      ipcRenderer.on(event, forward);
      return () => void ipcRenderer.removeListener(event, forward);
    },
    pathForFile: (file: unknown): string => webUtils.getPathForFile(file as Parameters<WebUtils['getPathForFile']>[0]),
  } satisfies BlockscopeApi;
}

/** The type of window.blockscope as the preload builds it (api.test.ts: the same as BlockscopeApi's). */
export type ExposedApi = ReturnType<typeof buildApi>;
