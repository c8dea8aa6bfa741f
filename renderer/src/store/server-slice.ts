// The NBD server as the serving panel shows it, and the settings the user typed for it.
import type { ClientInfo, ServerStatus } from '../../../shared/ipc.ts';
import type { SliceCreator } from './types.ts';

export interface ServeSettings {
  host: string;
  /** As typed; '' or '0' picks a free port. */
  port: string;
  exportName: string;
  writable: boolean;
  socketPath: string;
}

export interface ServerSlice {
  status: ServerStatus;
  clients: ClientInfo[];
  settings: ServeSettings;
  busy: boolean;
  setStatus(status: ServerStatus): void;
  setClients(clients: ClientInfo[]): void;
  editSettings(patch: Partial<ServeSettings>): void;
  setBusy(busy: boolean): void;
}

export const DEFAULT_SERVE_SETTINGS: ServeSettings = { host: '127.0.0.1', port: '10809', exportName: '', writable: false, socketPath: '' };

export const createServerSlice: SliceCreator<ServerSlice> = (set) => ({
  status: { running: false, exports: [] },
  clients: [],
  settings: DEFAULT_SERVE_SETTINGS,
  busy: false,
  setStatus: (status) => set({ status }),
  setClients: (clients) => set({ clients }),
  editSettings: (patch) => set((s) => ({ settings: { ...s.settings, ...patch } })),
  setBusy: (busy) => set({ busy }),
});

/** The export of `imageId`, if it is being served. */
export function exportOf(status: ServerStatus, imageId: string) {
  return status.running ? status.exports.find((e) => e.imageId === imageId) : undefined;
}

/** Parses the port field: '' means "pick one" (0); anything else must be 0..65535. */
export function parsePort(text: string): number {
  const t = text.trim();
  if (t === '') return 0;
  if (!/^\d+$/.test(t) || Number(t) > 65535) throw new Error(`'${text}' is not a port number (0-65535)`);
  return Number(t);
}
