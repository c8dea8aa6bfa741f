// The I/O activity of every served image, keyed by image id: the server's request events go
// in (record), the heat overlay's bins, the per-partition totals and the exports come out,
// and a throttled "changed" tells the UI when to ask again. An image's counters start with
// its first request or query and restart when its size changes (a partition filter set).
import type { ActivityBins, ActivityExport, ActivityExportFormat, ActivityPartitions, ActivitySelection } from '../../shared/ipc.ts';
import type { RequestEvent } from '../nbd/request-event.ts';
import { ImageActivity, activityColumn, type CountedRange } from './activity.ts';
import { activityExport } from './activity-export.ts';

/** Whether request events are recorded: on unless BLOCKSCOPE_ACTIVITY=0 (for measuring its cost). */
export function activityEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.BLOCKSCOPE_ACTIVITY !== '0';
}

export interface ActivityGeometry {
  size: number;
  /** For export file names. */
  title: string;
  partitions: readonly (CountedRange & { number: number; name: string })[];
}

export interface ActivityRecorderOptions {
  /** An image's size and partitions; throws for an image that is not open. */
  geometry(imageId: string): ActivityGeometry;
  /** New activity (or a clear) for `imageId`; called at most once per throttleMs per image. */
  changed?(imageId: string): void;
  throttleMs?: number;
  now?: () => number;
  historySeconds?: number;
}

interface Tracked {
  activity: ImageActivity;
  geometry: ActivityGeometry;
}

export class ActivityRecorder {
  private readonly images = new Map<string, Tracked>();
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly options: ActivityRecorderOptions) {}

  /** Count a finished request against `imageId`; failed requests and flush, cache, block-status move no bytes. */
  record(imageId: string, ev: RequestEvent): void {
    const column = activityColumn(ev.op);
    if (ev.error || column < 0) return;
    const tracked = this.images.get(imageId) ?? this.track(imageId);
    tracked.activity.record(column, ev.offset, ev.length);
    this.touched(imageId);
  }

  bins(imageId: string, start: number, end: number, bins: number, selection: ActivitySelection, windowSeconds?: number): ActivityBins {
    const { activity } = this.current(imageId);
    const window = windowSeconds ?? null;
    const stop = Math.min(end, activity.size);
    const counts = stop > start ? activity.bins(activity.counters(window), start, stop, bins, selection) : new Array<number>(bins).fill(0);
    return { imageId, start, end: Math.max(start, stop), bins, counts, granularity: activity.bucketBytes, windowSeconds: window };
  }

  partitions(imageId: string, windowSeconds?: number): ActivityPartitions {
    const { activity, geometry } = this.current(imageId);
    const window = windowSeconds ?? null;
    const counters = activity.counters(window);
    const disk = { read: 0, written: 0, zeroed: 0, trimmed: 0 };
    for (let b = 0; b < activity.buckets; b++) {
      const c = activity.bucketCounts(counters, b);
      disk.read += c.read;
      disk.written += c.written;
      disk.zeroed += c.zeroed;
      disk.trimmed += c.trimmed;
    }
    const partitions = geometry.partitions.map((p, k) => ({ number: p.number, name: p.name, ...activity.partitionCounts(counters, k) }));
    return { imageId, windowSeconds: window, disk, partitions };
  }

  export(imageId: string, format: ActivityExportFormat, windowSeconds?: number): ActivityExport {
    const { activity, geometry } = this.current(imageId);
    return activityExport(activity, activity.counters(windowSeconds ?? null), format, geometry.title);
  }

  /** Forget what clients did to `imageId` so far (recording goes on). */
  clear(imageId: string): void {
    this.current(imageId).activity.clear();
    this.touched(imageId);
  }

  /** The image was closed: drop its counters. */
  forget(imageId: string): void {
    this.images.delete(imageId);
    this.dirty.delete(imageId);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.images.clear();
    this.dirty.clear();
  }

  private track(imageId: string): Tracked {
    const geometry = this.options.geometry(imageId);
    const activity = new ImageActivity(geometry.size, geometry.partitions, this.options.now, this.options.historySeconds);
    const tracked = { activity, geometry };
    this.images.set(imageId, tracked);
    return tracked;
  }

  /** The image's counters, started again when its size moved since they began. */
  private current(imageId: string): Tracked {
    const geometry = this.options.geometry(imageId);
    const tracked = this.images.get(imageId);
    if (tracked && tracked.geometry.size === geometry.size) {
      tracked.geometry = geometry;
      return tracked;
    }
    return this.track(imageId);
  }

  private touched(imageId: string): void {
    if (!this.options.changed) return;
    this.dirty.add(imageId);
    if (this.timer) return;
    this.timer = setTimeout(() => this.flush(), this.options.throttleMs ?? 250);
    this.timer.unref?.();
  }

  private flush(): void {
    this.timer = null;
    const ids = [...this.dirty];
    this.dirty.clear();
    for (const id of ids) this.options.changed!(id);
  }
}
