// Open images (tabs), the active one, the recent list, and the error banner.
import type { ImageSummary, RecentImage, ScanState } from '../../../shared/ipc.ts';
import { viewsFollowingSizes } from './map-slice.ts';
import type { SliceCreator } from './types.ts';

/** A failure shown in the banner, with what failed: a later success of the same thing clears it. */
export interface AppError {
  source: string;
  message: string;
}

export interface ImagesSlice {
  images: ImageSummary[];
  activeId: string | null;
  recent: RecentImage[];
  /** The last failure to open or act on an image, shown until dismissed or until `source` succeeds. */
  error: AppError | null;
  setImages(list: ImageSummary[]): void;
  upsertImage(image: ImageSummary): void;
  removeImage(id: string): void;
  setActive(id: string): void;
  setRecent(list: RecentImage[]): void;
  setScan(id: string, scan: ScanState): void;
  /** Shows `message` as a failure of `source` ('app' by default); null dismisses the banner. */
  setError(message: string | null, source?: string): void;
  /** `source` succeeded: its failure, if the banner shows one, is no longer true. */
  clearError(source: string): void;
}

export const createImagesSlice: SliceCreator<ImagesSlice> = (set, get) => ({
  images: [],
  activeId: null,
  recent: [],
  error: null,
  setImages: (list) =>
    set((s) => ({
      images: list,
      activeId: list.some((i) => i.id === s.activeId) ? s.activeId : (list[0]?.id ?? null),
      views: viewsFollowingSizes(s.views, s.images, list),
    })),
  upsertImage: (fresh) =>
    set((s) => {
      const at = s.images.findIndex((i) => i.id === fresh.id);
      const image = at < 0 ? fresh : keepingPartitions(s.images[at]!, fresh);
      const images = at < 0 ? [...s.images, image] : s.images.map((i, k) => (k === at ? image : i));
      return { images, activeId: at < 0 ? image.id : s.activeId, views: viewsFollowingSizes(s.views, s.images, images) };
    }),
  removeImage: (id) =>
    set((s) => {
      const at = s.images.findIndex((i) => i.id === id);
      if (at < 0) return {};
      const images = s.images.filter((i) => i.id !== id);
      // Closing the active tab activates its right neighbour, else the left one, as browsers do.
      const activeId = s.activeId === id ? (images[at]?.id ?? images[at - 1]?.id ?? null) : s.activeId;
      return { images, activeId };
    }),
  setActive: (id) => set((s) => (s.images.some((i) => i.id === id) ? { activeId: id } : {})),
  setRecent: (recent) => set({ recent }),
  setScan: (id, scan) => set((s) => ({ images: s.images.map((i) => (i.id === id ? { ...i, scan } : i)) })),
  setError: (message, source = 'app') => set({ error: message === null ? null : { source, message } }),
  // Called after every success (each map reply too): leave the store untouched unless it clears something.
  clearError: (source) => {
    if (get().error?.source === source) set({ error: null });
  },
});

/**
 * `fresh` with `old`'s partitions when they read the same: a summary refreshed during a scan
 * (twice a second) brings a new but equal table, and a new one makes each map repaint.
 */
function keepingPartitions(old: ImageSummary, fresh: ImageSummary): ImageSummary {
  if (old.partitions === fresh.partitions || JSON.stringify(old.partitions) !== JSON.stringify(fresh.partitions)) return fresh;
  return { ...fresh, partitions: old.partitions };
}
