// The NBD server as the serving panel shows it, and the settings typed for each image. A served
// image's form shows what the server runs (also after a reload); an image not served shows the
// defaults, joined to the running server's address, with what was typed for that image alone
// on top: nothing typed for one image (least of all "writable") carries over to another.
import type { ClientInfo, ExportState, ServerStatus, TlsCredentialsInfo, TlsMode } from '../../../shared/ipc.ts';
import type { SliceCreator } from './types.ts';

export interface ServeSettings {
  host: string;
  /** As typed; '' or '0' picks a free port. */
  port: string;
  /** '' gives the default export, or the image's title when another image has it. */
  exportName: string;
  writable: boolean;
  socketPath: string;
  /** STARTTLS is the whole server's: an image joining a running server shows (and keeps) its TLS. */
  tlsMode: TlsMode;
  tlsKind: 'x509' | 'psk';
  /** nbdkit's certificates folder: typed, or filled by "Create certificates". */
  certificates: string;
  verifyPeer: boolean;
  /** psktool's key file, filled by "Generate key", and the user whose client commands are shown. */
  pskFile: string;
  pskUser: string;
}

export interface ServerSlice {
  status: ServerStatus;
  clients: ClientInfo[];
  /** What was typed into each image's form, by image id. */
  settingsEdits: Record<string, Partial<ServeSettings>>;
  /** The TLS credentials the app made in its state folder. */
  tlsMade: TlsCredentialsInfo;
  busy: boolean;
  setStatus(status: ServerStatus): void;
  setClients(clients: ClientInfo[]): void;
  editSettings(imageId: string, patch: Partial<ServeSettings>): void;
  setBusy(busy: boolean): void;
  setTlsMade(made: TlsCredentialsInfo): void;
}

export const DEFAULT_SERVE_SETTINGS: ServeSettings = {
  host: '127.0.0.1', port: '10809', exportName: '', writable: false, socketPath: '',
  tlsMode: 'off', tlsKind: 'x509', certificates: '', verifyPeer: false, pskFile: '', pskUser: '',
};

export const createServerSlice: SliceCreator<ServerSlice> = (set) => ({
  status: { running: false, exports: [] },
  clients: [],
  settingsEdits: {},
  tlsMade: {},
  busy: false,
  setStatus: (status) => set({ status }),
  setClients: (clients) => set({ clients }),
  editSettings: (imageId, patch) => set((s) => ({ settingsEdits: { ...s.settingsEdits, [imageId]: { ...s.settingsEdits[imageId], ...patch } } })),
  setBusy: (busy) => set({ busy }),
  setTlsMade: (tlsMade) => set({ tlsMade }),
});

/** The export of `imageId`, if it is being served. */
export function exportOf(status: ServerStatus, imageId: string) {
  return status.running ? status.exports.find((e) => e.imageId === imageId) : undefined;
}

/** What the serving form of `imageId` shows (build it through useShallow: it is a new object). */
export function serveFormOf(status: ServerStatus, edits: Partial<ServeSettings> | undefined, imageId: string, made: TlsCredentialsInfo = {}): ServeSettings {
  const served = exportOf(status, imageId);
  // The user named with "Generate key" is whose commands are shown, also while serving.
  if (served) return { ...runningSettings(status, served), ...(edits?.pskUser ? { pskUser: edits.pskUser } : {}) };
  // Another image's server: starting this one joins it rather than moving it elsewhere.
  const joined = status.running ? { host: status.host ?? DEFAULT_SERVE_SETTINGS.host, port: String(status.port ?? ''), socketPath: status.socketPath ?? '', ...tlsSettings(status) } : {};
  // What the app made before is what "certificates" and "PSK" start from.
  const madeFiles = { certificates: made.certificates?.serverDir ?? '', pskFile: made.psk?.file ?? '', pskUser: made.psk?.users[0] ?? '' };
  return { ...DEFAULT_SERVE_SETTINGS, ...madeFiles, ...joined, ...edits };
}

/** The running server's TLS as the form's fields. */
function tlsSettings(status: ServerStatus): Partial<ServeSettings> {
  const tls = status.tls;
  if (!tls || tls.mode === 'off') return { tlsMode: 'off' };
  if (tls.kind === 'psk') return { tlsMode: tls.mode, tlsKind: 'psk', pskFile: tls.pskFile, pskUser: tls.pskUsers[0] ?? '' };
  return { tlsMode: tls.mode, tlsKind: 'x509', certificates: tls.certificates, verifyPeer: tls.verifyPeer };
}

function runningSettings(status: ServerStatus, served: ExportState): ServeSettings {
  return {
    ...DEFAULT_SERVE_SETTINGS,
    ...tlsSettings(status),
    host: status.host ?? DEFAULT_SERVE_SETTINGS.host,
    port: String(status.port ?? ''),
    exportName: served.exportName,
    // What was asked for: the panel says beside it when the chain could not give it.
    writable: served.writable || served.readOnlyReason !== undefined,
    socketPath: status.socketPath ?? '',
  };
}

/** Parses the port field: '' means "pick one" (0); anything else must be 0..65535. */
export function parsePort(text: string): number {
  const t = text.trim();
  if (t === '') return 0;
  if (!/^\d+$/.test(t) || Number(t) > 65535) throw new Error(`'${text}' is not a port number (0-65535)`);
  return Number(t);
}
