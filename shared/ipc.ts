// The one IPC contract between the engine (main) and the UI (renderer), whichever host
// carries it: Electron's ipcMain/contextBridge or the browser host's WebSocket. Importers use
// this index; each concern has its own module under shared/ipc/:
//
//   payloads.ts   the data channels answer and events push about images, maps and bytes
//                 (ImageSummary, MapBins, ...); serving-, stats-, compare- and
//                 activity-payloads.ts the data of those features
//   channels.ts   the channels, their request schemas (zod) and response types
//   events.ts     the events main pushes and their payloads
//   result.ts     the IpcResult reply envelope and IpcError
//   api.ts        window.blockscope, the Electron preload's API derived from the channels
//   websocket.ts  the browser host's WebSocket messages
export * from './ipc/payloads.ts';
export * from './ipc/serving-payloads.ts';
export * from './ipc/stats-payloads.ts';
export * from './ipc/compare-payloads.ts';
export * from './ipc/activity-payloads.ts';
export * from './ipc/channels.ts';
export * from './ipc/events.ts';
export * from './ipc/result.ts';
export * from './ipc/api.ts';
export * from './ipc/websocket.ts';
