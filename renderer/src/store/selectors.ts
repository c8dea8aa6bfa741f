// What each part of the window reads from the store. Scan progress replaces an image's summary
// several times a second (images-slice setScan), so a panel that took the whole summary would
// re-render with it; these selectors pick only what a panel shows, and keep their results'
// identity (compared with useShallow where they build an object) while that part is unchanged.
// Only the map's progress pill and the status bar read the scan (selectScan); store.test.ts
// checks that progress leaves every other selection as it was.
import type { ClientInfo, ImageSummary } from '../../../shared/ipc.ts';
import { exportOf, serveFormOf, type ServeSettings } from './server-slice.ts';
import { selectActive, type AppState } from './store.ts';

export function imageById(s: AppState, id: string): ImageSummary | undefined {
  return s.images.find((i) => i.id === id);
}

export const selectActiveId = (s: AppState): string | null => selectActive(s)?.id ?? null;

/** What the open field shows: the active tab's path or URI ('' with no tab open). */
export function selectActiveTarget(s: AppState): string {
  const image = selectActive(s);
  return image?.path ?? image?.uri ?? '';
}

/** Scan progress: the only selection that changes while a scan runs. */
export const selectScan = (s: AppState, id: string) => imageById(s, id)?.scan;

/** The filter sidebar: the chain the image was opened with, and its label (changes on chain.set). */
export const selectChainOf = (s: AppState, id: string) => imageById(s, id)?.chain;
export const selectChainLabel = (s: AppState, id: string) => imageById(s, id)?.chainLabel;

/** What the info panel shows: the summary without the scan, but with whether it completed. */
export type ImageFacts = Omit<ImageSummary, 'scan'> & { scanComplete: boolean };

/** For useShallow: the same fields as before while only the scan's progress moved. */
export function selectImageFacts(s: AppState, id: string): ImageFacts | undefined {
  const image = imageById(s, id);
  if (!image) return undefined;
  const { scan, ...facts } = image;
  return { ...facts, scanComplete: scan.complete };
}

export const selectSize = (s: AppState, id: string) => imageById(s, id)?.size;
export const selectTitle = (s: AppState, id: string) => imageById(s, id)?.title;
export const selectPartitions = (s: AppState, id: string) => imageById(s, id)?.partitions;
export const selectLayers = (s: AppState, id: string) => imageById(s, id)?.layers;
/** Backing files the map has seen data of. */
export const selectBackingSeen = (s: AppState, id: string) => imageById(s, id)?.totals.backing?.length;
/** The serving panel: the image's export (also when the server runs for another image). */
export const selectExport = (s: AppState, id: string) => imageById(s, id)?.export;

/** The tabs: ids in order (for useShallow), each tab then reads its own label. */
export const selectImageIds = (s: AppState): string[] => s.images.map((i) => i.id);

/** A tab's title and tooltip (for useShallow). */
export function selectTabLabel(s: AppState, id: string): { title: string; tip: string } {
  const image = imageById(s, id);
  return { title: image?.title ?? '', tip: image ? (image.path ?? image.uri ?? image.title) : '' };
}

/** The serving form of an image (for useShallow): what the server runs, or what will be asked for. */
export const selectServeForm = (s: AppState, id: string): ServeSettings => serveFormOf(s.status, s.settingsEdits[id], id, s.tlsMade);

/**
 * The clients of an image's export (for useShallow). The one list both the serving panel and
 * the per-client stats show, so their counters agree; the engine sends it again as they move.
 */
export function selectClientsOf(s: AppState, id: string): ClientInfo[] {
  const served = exportOf(s.status, id) ?? imageById(s, id)?.export;
  return s.clients.filter((c) => c.imageId === id || (served !== undefined && c.exportName === served.exportName));
}

/** A client's request rate from the latest stats sample. */
export const selectClientOps = (s: AppState, imageId: string, clientId: number): number =>
  s.clientStats[imageId]?.find((c) => c.id === clientId)?.ops ?? 0;
