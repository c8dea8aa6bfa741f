// What the UI does, in one place: each action calls the contract through the transport and
// puts the answer in the store. Components call these and never the transport directly, so
// every error ends up in the same banner.
import { isNbdUri } from '../../../shared/nbd-uri.ts';
import type { ChainConfig } from '../../../shared/chain-config.ts';
import { IpcError, type MapExportFormat } from '../../../shared/ipc.ts';
import { recordSample, forgetSeries } from '../stats/series.ts';
import { withFilterEnabled } from '../store/chain-slice.ts';
import { selectServeForm } from '../store/selectors.ts';
import { parsePort } from '../store/server-slice.ts';
import { useApp } from '../store/store.ts';
import { transport } from '../transport/index.ts';
import { activeMap } from './active-map.ts';
import { download } from './download.ts';

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
 * twice a second however fast a client writes.
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

/** "nbd://..." opens as a URI, anything else as a path. */
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

export const closeImage = (imageId: string) =>
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
      });
      store().setStatus(status);
    } finally {
      store().setBusy(false);
    }
  });

export const stopServing = (imageId?: string) =>
  guarded('serve', 'Stopping the server', async () => {
    store().setBusy(true);
    try {
      store().setStatus(await transport().invoke('server.stop', imageId ? { imageId } : {}));
    } finally {
      store().setBusy(false);
    }
  });

export const exportMap = (imageId: string, format: MapExportFormat) =>
  guarded('export', 'Exporting the map', async () => {
    const out = await transport().invoke('map.export', { imageId, format });
    download(new Blob([out.text], { type: out.mimeType }), out.fileName);
  });

export const exportPng = (title: string) =>
  guarded('export', 'Exporting the map picture', async () => {
    const blob = await activeMap()?.toBlob();
    if (!blob) throw new Error('no map on screen');
    download(blob, `${title.replace(/[^\w.-]+/g, '_')}-map.png`);
  });
