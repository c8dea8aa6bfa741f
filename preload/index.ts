// The renderer's only door to the engine: one named function per contract channel and `on`
// for contract events. ipcRenderer itself never crosses the bridge, so a compromised page
// can call exactly these functions and nothing else (Electron Fiddle's preload does the same).
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import { apiNameOf, ipcChannels, isIpcEventName, type BlockscopeApi, type IpcEventName, type IpcEvents } from '../shared/ipc.ts';

function buildApi(): BlockscopeApi {
  const api: Record<string, unknown> = {};
  for (const channel of ipcChannels) {
    api[apiNameOf(channel)] = (request: unknown) => ipcRenderer.invoke(channel, request ?? {});
  }
  api.on = <E extends IpcEventName>(event: E, listener: (payload: IpcEvents[E]) => void): (() => void) => {
    if (!isIpcEventName(event)) throw new Error(`'${String(event)}' is not a Blockscope event`);
    // The IPC event object (with its sender) stays on this side of the bridge.
    const forward = (_e: IpcRendererEvent, payload: IpcEvents[E]) => listener(payload);
    ipcRenderer.on(event, forward);
    return () => void ipcRenderer.removeListener(event, forward);
  };
  api.pathForFile = (file: unknown): string => webUtils.getPathForFile(file as Parameters<typeof webUtils.getPathForFile>[0]);
  return api as BlockscopeApi;
}

contextBridge.exposeInMainWorld('blockscope', buildApi());
