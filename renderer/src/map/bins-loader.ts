// Asks main for the bins of the visible range, one request at a time: while one is in flight
// only the newest wanted view is remembered, so a fast zoom costs at most two round trips and
// an answer for an old view never overwrites a newer one.
import type { MapBins } from '../../../shared/ipc.ts';

export interface BinsWanted {
  imageId: string;
  start: number;
  end: number;
  bins: number;
}

export class BinsLoader {
  private inFlight: BinsWanted | null = null;
  private queued: BinsWanted | null = null;
  private last: BinsWanted | null = null;
  private disposed = false;

  constructor(
    private readonly fetchBins: (wanted: BinsWanted) => Promise<MapBins>,
    private readonly onBins: (reply: MapBins) => void,
    private readonly onError: (error: Error) => void = (e) => console.error(e),
  ) {}

  want(wanted: BinsWanted): void {
    if (wanted.end <= wanted.start || wanted.bins < 1) return;
    if (same(wanted, this.last) && !this.inFlight) return;
    this.last = wanted;
    if (this.inFlight) {
      this.queued = same(wanted, this.inFlight) ? null : wanted;
      return;
    }
    void this.run(wanted);
  }

  /** The model changed: fetch the current view again even though it did not move. */
  refresh(): void {
    if (!this.last) return;
    if (this.inFlight) this.queued = this.last;
    else void this.run(this.last);
  }

  dispose(): void {
    this.disposed = true;
  }

  private async run(wanted: BinsWanted): Promise<void> {
    this.inFlight = wanted;
    try {
      const reply = await this.fetchBins(wanted);
      if (!this.disposed && !this.queued) this.onBins(reply);
    } catch (e) {
      if (!this.disposed) this.onError(e as Error);
    } finally {
      this.inFlight = null;
      const next = this.queued;
      this.queued = null;
      if (next && !this.disposed) void this.run(next);
    }
  }
}

function same(a: BinsWanted, b: BinsWanted | null): boolean {
  return !!b && a.imageId === b.imageId && a.start === b.start && a.end === b.end && a.bins === b.bins;
}

/** Whether any changed range [a, b) touches the view [start, end). */
export function touches(ranges: readonly [number, number][], start: number, end: number): boolean {
  return ranges.some(([a, b]) => a < end && b > start);
}
