// What the UI does, in one place: each action calls the contract through the transport and
// puts the answer in the store. Components call these and never the transport directly, so
// every error ends up in the same banner.
import { isNbdUri } from '../../../shared/nbd-uri.ts';
import type { ChainConfig } from '../../../shared/chain-config.ts';
import { IpcError, type MapExportFormat, type OverlayCommitFormat, type OverlayCommitResult, type TlsServeSettings } from '../../../shared/ipc.ts';
import { recordSample, forgetSeries } from '../stats/series.ts';
import { withFilterEnabled } from '../store/chain-slice.ts';
import { imageById, selectClientsOf, selectServeForm } from '../store/selectors.ts';
import { exportOf, parsePort, type ServeSettings } from '../store/server-slice.ts';
import { useApp } from '../store/store.ts';
import { transport } from '../transport/index.ts';
import { activeMapPicture } from './active-map.ts';
import { exportName, saveExport } from './download.ts';
import { formatBytes } from '../format/bytes.ts';

const store = () => useApp.getState();

/**
 * Runs `f`; a failure goes to the banner as a failure of `source`, and a success takes down
 * a banner that an earlier failure of `source` put up (it is no longer true).
 */
async function guarded<T>(source: string, what: string, f: () => Promise<T>): Promise<T | undefined> {
  try {
    const value = await f();
    store().clearError(source);
    return value;
  } catch (e) {
    store().setError(`${what}: ${(e as Error).message}`, source);
    return undefined;
  }
}

const summaryRefreshes = new Map<string, ReturnType<typeof setTimeout>>();

/**
 * Re-reads an image's summary (its allocation totals) a moment after its map changed: at most
 * twice a second however fast a client writes. Its chain state too, once the sidebar has read
 * it: a client's write is what gives cow "unsaved writes".
 */
function refreshSummarySoon(imageId: string): void {
  if (summaryRefreshes.has(imageId)) return;
  summaryRefreshes.set(
    imageId,
    setTimeout(() => {
      summaryRefreshes.delete(imageId);
      transport()
        .invoke('images.get', { imageId })
        .then((image) => store().upsertImage(image))
        .catch(() => {});
      if (store().chains[imageId]) void loadChain(imageId);
    }, 500),
  );
}

/** Loads everything a fresh window shows and subscribes to the engine's events. */
export async function start(): Promise<void> {
  const t = transport();
  t.on('images.changed', (list) => store().setImages(list));
  t.on('map.changed', (e) => refreshSummarySoon(e.imageId));
  t.on('map.scanProgress', (p) => store().setScan(p.imageId, { done: p.done, total: p.total, complete: p.complete, error: p.error }));
  t.on('stats.sample', (s) => {
    recordSample(s);
    store().setClientStats(s.imageId, s.clients);
  });
  t.on('server.clients', (c) => store().setClients(c));
  t.on('server.status', (s) => store().setStatus(s));
  t.on('overlay.progress', (p) => store().setCommitProgress(p.imageId, { done: p.done, total: p.total }));
  await reload();
}

/** Reads the engine's whole state: at start, and after the browser host's socket reconnects. */
export async function reload(): Promise<void> {
  const t = transport();
  await guarded('connect', 'Connecting to Blockscope', async () => {
    const [components, images, recent, status, clients] = await Promise.all([
      t.invoke('components.list', {}),
      t.invoke('images.list', {}),
      t.invoke('images.recent', {}),
      t.invoke('server.status', {}),
      t.invoke('clients.list', {}),
    ]);
    store().setComponents(components);
    store().setImages(images);
    store().setRecent(recent);
    store().setStatus(status);
    store().setClients(clients);
  });
  // What the app made before fills the TLS fields; without it they start empty.
  await transport().invoke('tls.credentials', {}).then((made) => store().setTlsMade(made), () => {});
}

async function afterOpen(p: Promise<import('../../../shared/ipc.ts').ImageSummary>): Promise<void> {
  const image = await p;
  store().upsertImage(image);
  // Also when images.changed already brought it in, or it was open before: opening focuses it.
  store().setActive(image.id);
  const recent = await transport().invoke('images.recent', {});
  store().setRecent(recent);
}

export const openPath = (path: string) => guarded('open', `Opening ${path}`, () => afterOpen(transport().invoke('images.open', { path })));
export const openUri = (uri: string) => guarded('open', `Opening ${uri}`, () => afterOpen(transport().invoke('images.open', { uri })));
export const openDemo = () => guarded('open', 'Opening the demo image', () => afterOpen(transport().invoke('images.demo', {})));

/** "nbd://..." opens as a URI, anything else as a path: the engine expands ~/… and file:// URIs (typed-path.ts). */
export function openTyped(text: string) {
  const t = text.trim();
  if (!t) return;
  return isNbdUri(t) ? openUri(t) : openPath(t);
}

export const openWithDialog = () =>
  guarded('open', 'Opening an image', async () => {
    const { path } = await transport().invoke('dialog.openImage', {});
    if (path) await openPath(path);
  });

/** Closing a served image disconnects its clients: asked first when there are any. */
export const closeImage = (imageId: string) =>
  guarded('close', 'Closing the image', async () => {
    const n = exportOf(store().status, imageId) ? await connectedClients(imageId) : 0;
    const title = imageById(store(), imageId)?.title ?? 'the image';
    if (n > 0) store().askQuestion({ title: `Close ${title}?`, text: clientsWillGo(n), confirmLabel: 'Close', confirm: () => void closeNow(imageId) });
    else await closeNow(imageId);
  });

const closeNow = (imageId: string) =>
  guarded('close', 'Closing the image', async () => {
    await transport().invoke('images.close', { imageId });
    store().removeImage(imageId);
    forgetSeries(imageId);
  });

export const loadChain = (imageId: string) =>
  guarded('chain', 'Reading the chain', async () => store().setChain(await transport().invoke('chain.get', { imageId })));

export interface ApplyOptions {
  force?: boolean;
  /** The caller shows a refusal itself (beside the value refused) instead of the banner. */
  inline?: boolean;
}

/**
 * Applies a chain. When the engine says it would drop unsaved writes, the question goes to the
 * store and the confirmation dialog resends with force. Returns why the engine refused the
 * chain, or null.
 */
export async function applyChain(imageId: string, config: ChainConfig, options: ApplyOptions = {}): Promise<string | null> {
  try {
    const state = await transport().invoke('chain.set', { imageId, config, force: options.force ?? false });
    store().setChain(state);
    store().askConfirmation(null);
    store().clearError('chain');
    const image = await transport().invoke('images.get', { imageId });
    store().upsertImage(image);
    return null;
  } catch (e) {
    if (e instanceof IpcError && e.code === 'needs-confirmation') {
      store().askConfirmation({ imageId, config, filters: e.info.filters ?? [] });
      return null;
    }
    const message = (e as Error).message;
    if (!options.inline) store().setError(`Changing the chain: ${message}`, 'chain');
    return message;
  }
}

/** The fix the serving panel offers for a read-only format: a cow overlay takes the writes. */
export function enableCow(imageId: string): Promise<string | null> {
  const s = store();
  const config = s.chains[imageId]?.config ?? s.images.find((i) => i.id === imageId)?.chain;
  if (!config) return Promise.resolve(null);
  return applyChain(imageId, withFilterEnabled(config, 'cow', true));
}

export const startServing = (imageId: string) =>
  guarded('serve', 'Starting the server', async () => {
    const s = selectServeForm(store(), imageId);
    store().setBusy(true);
    try {
      const status = await transport().invoke('server.start', {
        imageId,
        host: s.host.trim() || '127.0.0.1',
        port: parsePort(s.port),
        // Left out, the engine gives the default export, or the title when another image has it.
        ...(s.exportName ? { exportName: s.exportName } : {}),
        writable: s.writable,
        ...(s.socketPath.trim() ? { socketPath: s.socketPath.trim() } : {}),
        tls: tlsRequest(s),
      });
      store().setStatus(status);
    } finally {
      store().setBusy(false);
    }
  });

/** The form's TLS as server.start takes it; an empty file field is left for the engine to name. */
function tlsRequest(s: ServeSettings): TlsServeSettings {
  if (s.tlsMode === 'off') return { mode: 'off' };
  if (s.tlsKind === 'psk') return { mode: s.tlsMode, ...(s.pskFile.trim() ? { pskFile: s.pskFile.trim() } : {}) };
  return { mode: s.tlsMode, ...(s.certificates.trim() ? { certificates: s.certificates.trim() } : {}), verifyPeer: s.verifyPeer };
}

/** A CA (kept if the app has one), a server certificate for this host and the bind address, a client certificate. */
export const createCertificates = (imageId: string) =>
  guarded('tls', 'Creating certificates', async () => {
    const host = selectServeForm(store(), imageId).host.trim();
    const made = await transport().invoke('tls.createCertificates', host ? { listenHost: host } : {});
    store().setTlsMade(made);
    store().editSettings(imageId, { tlsKind: 'x509', certificates: made.certificates!.serverDir });
  });

/** A new random key for the form's PSK user in the app's keys.psk. */
export const createPskKey = (imageId: string) =>
  guarded('tls', 'Generating a PSK', async () => {
    const user = selectServeForm(store(), imageId).pskUser.trim();
    const made = await transport().invoke('tls.createPsk', { user });
    store().setTlsMade(made);
    store().editSettings(imageId, { tlsKind: 'psk', pskFile: made.psk!.file, pskUser: user });
  });

/** Stops serving `imageId` (every image when none): asked first when clients are connected. */
export const stopServing = (imageId?: string) =>
  guarded('serve', 'Stopping the server', async () => {
    const n = await connectedClients(imageId);
    if (n > 0) store().askQuestion({ title: 'Stop serving?', text: clientsWillGo(n), confirmLabel: 'Stop serving', confirm: () => void stopNow(imageId) });
    else await stopNow(imageId);
  });

/** The clients of `imageId` (of every image when none) connected now, as the engine counts them. */
async function connectedClients(imageId?: string): Promise<number> {
  const list = await transport().invoke('clients.list', {});
  store().setClients(list);
  return imageId ? selectClientsOf(store(), imageId).length : list.length;
}

const clientsWillGo = (n: number) => `${n} client${n === 1 ? ' is' : 's are'} connected and will be disconnected.`;

const stopNow = (imageId?: string) =>
  guarded('serve', 'Stopping the server', async () => {
    store().setBusy(true);
    try {
      store().setStatus(await transport().invoke('server.stop', imageId ? { imageId } : {}));
    } finally {
      store().setBusy(false);
    }
  });

export const disconnectClient = (clientId: number) =>
  guarded('serve', 'Disconnecting the client', async () => store().setClients(await transport().invoke('clients.disconnect', { clientId })));

/**
 * Writes the disk as the chain shows it into `path` and hands the result to `done`; an
 * existing file is replaced only after the user says so.
 */
export async function commitOverlay(imageId: string, path: string, format: OverlayCommitFormat, done: (r: OverlayCommitResult) => void, overwrite = false): Promise<void> {
  try {
    done(await transport().invoke('overlay.commit', { imageId, path, format, overwrite }));
    store().clearError('overlay');
  } catch (e) {
    if (e instanceof IpcError && e.code === 'needs-confirmation') {
      const again = () => void commitOverlay(imageId, path, format, done, true);
      store().askQuestion({ title: 'Replace the file?', text: e.message, confirmLabel: 'Replace', confirm: again });
      return;
    }
    store().setError(`Committing the overlay: ${(e as Error).message}`, 'overlay');
  }
}

/** Empties the cow overlay after asking, naming the bytes it drops. */
export const discardOverlay = (imageId: string) =>
  guarded('overlay', 'Discarding the overlay', async () => {
    const { heldBytes } = await transport().invoke('overlay.status', { imageId });
    const confirm = () => void guarded('overlay', 'Discarding the overlay', async () => {
      store().setChain(await transport().invoke('overlay.discard', { imageId }));
      store().upsertImage(await transport().invoke('images.get', { imageId }));
    });
    const text = `${formatBytes(heldBytes)} (${heldBytes.toLocaleString('en-US')} bytes) of writes held by cow will be dropped; the image reads as it is on disk again.`;
    store().askQuestion({ title: 'Discard the overlay?', text, confirmLabel: 'Discard writes', confirm });
  });

export const exportMap = (imageId: string, format: MapExportFormat) =>
  guarded('export', 'Exporting the map', async () => {
    const out = await transport().invoke('map.export', { imageId, format });
    await saveExport({ name: out.fileName, blob: new Blob([out.text], { type: out.mimeType }), text: out.text }, transport());
  });

/** The detail map as a picture with its title, axis, partition band and legend (map/export-png.ts). */
export const exportPng = (imageId: string) =>
  guarded('export', 'Exporting the map picture', async () => {
    const image = imageById(store(), imageId);
    const blob = image ? await activeMapPicture(image) : null;
    if (!image || !blob) throw new Error('no map on screen');
    await saveExport({ name: exportName(image.title, '-map.png'), blob }, transport());
  });
