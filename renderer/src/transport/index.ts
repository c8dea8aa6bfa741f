// Picks the transport for this page: the preload's API inside Electron, else the browser
// host's WebSocket.
import type { BlockscopeApi } from '../../../shared/ipc.ts';
import { ElectronTransport } from './electron.ts';
import type { Transport } from './transport.ts';
import { WebTransport, webSocketUrl } from './web.ts';

declare global {
  interface Window {
    blockscope?: BlockscopeApi;
  }
}

let current: Transport | null = null;

export function transport(): Transport {
  if (!current) current = window.blockscope ? new ElectronTransport(window.blockscope) : new WebTransport(webSocketUrl(window.location));
  return current;
}

/** Tests and the dev fake install their own. */
export function setTransport(t: Transport): void {
  current = t;
}
