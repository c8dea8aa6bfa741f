// The data wiring of one map canvas, outside React (the split of tldraw's minimap manager): it
// asks main for the bins of what the map shows, one request in flight, and asks again when the
// view or the image's size moves, the canvas resizes, a client writes inside the view, the
// scan advances or the set of images changes. It draws on a surface (MapRenderer in the window,
// a fake in the tests) and turns the surface's gestures into store actions. The component that
// owns the canvas creates one in an effect and disposes it on unmount.
import type { StoreApi } from 'zustand';
import type { PartitionInfo } from '../../../shared/ipc.ts';
import { imageById } from '../store/selectors.ts';
import type { AppState } from '../store/store.ts';
import type { Transport } from '../transport/transport.ts';
import { ActivityFeed, type ActivityHeat } from './activity-overlay.ts';
import { BinsLoader, touches } from './bins-loader.ts';
import { binsFromReply, type BinCounts, type BinSummary } from './bins.ts';
import { binsFor, centreOn, type View } from './viewport.ts';

export type MapMode = 'detail' | 'overview';

/** What a controller draws on. */
export interface MapSurface {
  /** Device pixels across the map: one bin each. */
  readonly deviceWidth: number;
  setView(view: View): void;
  /** The overview's highlighted range (the detail view). */
  setWindow(window: View | null): void;
  setBins(bins: BinCounts): void;
  setPartitions(partitions: readonly PartitionInfo[]): void;
  /** The heat overlay for the bins last set (activity-overlay.ts); null: allocation only. */
  setActivity?(heat: ActivityHeat | null): void;
  dispose(): void;
}

/** The surface's input, in map terms (MapRendererOptions has the details). */
export interface MapInput {
  onResize(): void;
  onHover?(hover: { offset: number; bin: BinSummary | null } | null): void;
  onZoom?(anchor: number, factor: number): void;
  onPan?(fraction: number): void;
  onClick(offset: number): void;
}

export interface MapControllerOptions<S extends MapSurface> {
  imageId: string;
  mode: MapMode;
  store: Pick<StoreApi<AppState>, 'getState' | 'subscribe'>;
  transport: Pick<Transport, 'invoke' | 'on'>;
  /** Builds the surface, wired to the controller's input handlers. */
  createSurface(input: MapInput): S;
  /** The surface's width in device pixels, at start and after each resize. */
  onDeviceWidth?(width: number): void;
}

export class MapController<S extends MapSurface = MapSurface> {
  readonly surface: S;
  private readonly loader: BinsLoader;
  private readonly activity: ActivityFeed;
  private readonly disposers: (() => void)[] = [];

  constructor(private readonly options: MapControllerOptions<S>) {
    // The loader first: the surface's callbacks may ask for bins as soon as it exists.
    this.loader = new BinsLoader(
      (wanted) => options.transport.invoke('map.bins', wanted),
      (reply) => {
        this.surface.setBins(binsFromReply(reply));
        this.app().clearError('map');
      },
      (e) => this.app().setError(`Reading the map: ${e.message}`, 'map'),
    );
    this.activity = new ActivityFeed(
      (wanted) => options.transport.invoke('activity.bins', wanted),
      () => this.app().activity,
      (heat) => this.surface.setActivity?.(heat),
      (e) => this.app().setError(`Reading the activity: ${e.message}`, 'map'),
    );
    this.surface = options.createSurface(this.input());
    this.surface.setPartitions(this.image()?.partitions ?? []);
    this.want();
    options.onDeviceWidth?.(this.surface.deviceWidth);
    this.disposers.push(options.store.subscribe((s, prev) => this.onStoreChange(s, prev)), ...this.listen());
  }

  dispose(): void {
    for (const d of this.disposers.splice(0)) d();
    this.loader.dispose();
    this.activity.dispose();
    this.surface.dispose();
  }

  private app(): AppState {
    return this.options.store.getState();
  }

  private image() {
    return imageById(this.app(), this.options.imageId);
  }

  /** The range the map spans: the detail view, or the whole disk for the overview. */
  private shown(): View {
    const id = this.options.imageId;
    return this.options.mode === 'overview' ? { start: 0, end: this.image()?.size ?? 0 } : this.app().viewOf(id);
  }

  /** Shows the current range at once (scaled from the last bins) and asks for its bins. */
  private want(): void {
    const id = this.options.imageId;
    const view = this.shown();
    this.surface.setView(view);
    if (this.options.mode === 'overview') this.surface.setWindow(this.app().viewOf(id));
    const wanted = { imageId: id, start: view.start, end: view.end, bins: binsFor(view, this.surface.deviceWidth) };
    this.loader.want(wanted);
    this.activity.want(wanted);
  }

  private onStoreChange(s: AppState, prev: AppState): void {
    const id = this.options.imageId;
    const image = imageById(s, id);
    // Closed: the owner disposes this controller next; asking for its bins now would fail.
    if (!image) return;
    const before = imageById(prev, id);
    if (s.views[id] !== prev.views[id] || image.size !== before?.size) this.want();
    if (image.partitions !== before?.partitions) this.surface.setPartitions(image.partitions);
    if (s.activity !== prev.activity) this.activity.refresh();
  }

  private listen(): (() => void)[] {
    const { transport, imageId } = this.options;
    return [
      transport.on('map.changed', (e) => {
        const view = this.shown();
        if (e.imageId === imageId && touches(e.ranges, view.start, view.end)) this.loader.refresh();
      }),
      // A scan's progress needs no bins of its own: the ranges it scanned arrive as map.changed
      // (throttled). Only its end is fetched at once, so the last of the map is not left waiting
      // for the throttle. Fetching on every progress too cost a 10 M-extent open about half a
      // second on two cores (bins in main, paint and compositing here).
      transport.on('map.scanProgress', (e) => {
        if (e.imageId === imageId && e.complete) this.loader.refresh();
      }),
      transport.on('images.changed', () => this.loader.refresh()),
      transport.on('activity.changed', (e) => {
        if (e.imageId === imageId) this.activity.refresh();
      }),
    ];
  }

  private input(): MapInput {
    const id = this.options.imageId;
    const app = () => this.app();
    const onResize = () => {
      this.want();
      this.options.onDeviceWidth?.(this.surface.deviceWidth);
    };
    if (this.options.mode === 'overview') {
      // A click (or a drag) on the overview centres the detail view there.
      return { onResize, onClick: (offset) => app().setView(id, centreOn(app().viewOf(id), offset, this.shown().end)) };
    }
    return {
      onResize,
      onHover: (h) => app().setHover(h && h.bin ? { imageId: id, offset: h.offset, bin: h.bin } : null),
      onZoom: (anchor, factor) => app().zoom(id, anchor, factor),
      onPan: (fraction) => app().pan(id, fraction),
      onClick: (offset) => app().select(id, offset),
    };
  }
}
