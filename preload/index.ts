// The renderer's only door to the engine: one named function per contract channel and `on`
// for contract events (built in api.ts). ipcRenderer itself never crosses the bridge, so a
// compromised page can call exactly these functions and nothing else (Electron Fiddle's
// preload does the same).
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import { buildApi } from './api.ts';

contextBridge.exposeInMainWorld('blockscope', buildApi(ipcRenderer, webUtils));
