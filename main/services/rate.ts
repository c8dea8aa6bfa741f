// A rate over a sliding window, for the stats charts. Counting the requests of each 250 ms
// sample and dividing by 250 ms quantises: a steady 10 requests a second lands 2 or 3 in a
// sample and reads as 8 or 12. Here the window keeps, per sample, the count, the amount (bytes)
// and the times of its first and last event, and the rate divides the events by the time
// they actually span: exact for a steady stream whatever its phase against the samples, and
// falling towards zero as soon as the stream stops.

interface Tick {
  /** When the sample that closed this tick was taken. */
  end: number;
  count: number;
  amount: number;
  first: number;
  last: number;
}

export interface Rate {
  /** Events per second. */
  perSecond: number;
  /** Amount (bytes) per second. */
  amountPerSecond: number;
}

const openTick = (): Tick => ({ end: 0, count: 0, amount: 0, first: Infinity, last: -Infinity });

export class SlidingRate {
  private readonly closed: Tick[] = [];
  private current = openTick();

  /** `windowMs`: how far back the rate looks. */
  constructor(private readonly windowMs: number) {}

  add(t: number, amount: number): void {
    const c = this.current;
    c.count++;
    c.amount += amount;
    c.first = Math.min(c.first, t);
    c.last = Math.max(c.last, t);
  }

  /**
   * The rate over the window ending at `t`; closes the current tick. `minSpanMs`, the shortest
   * time a rate divides by (the sample's own length), keeps a burst from reading as thousands
   * a second for one sample.
   */
  take(t: number, minSpanMs: number): Rate {
    this.current.end = t;
    this.closed.push(this.current);
    this.current = openTick();
    while (this.closed.length > 0 && this.closed[0]!.end <= t - this.windowMs) this.closed.shift();
    let count = 0;
    let amount = 0;
    let first = Infinity;
    let last = -Infinity;
    for (const tick of this.closed) {
      count += tick.count;
      amount += tick.amount;
      first = Math.min(first, tick.first);
      last = Math.max(last, tick.last);
    }
    if (count === 0) return { perSecond: 0, amountPerSecond: 0 };
    const seconds = spanMs(t, count, first, last, this.windowMs, minSpanMs) / 1000;
    return { perSecond: count / seconds, amountPerSecond: amount / seconds };
  }

  /** Nothing left in the window: the owner may drop this rate. */
  get idle(): boolean {
    return this.current.count === 0 && this.closed.every((tick) => tick.count === 0);
  }
}

/**
 * The time `count` events between `first` and `last` stand for, seen at `now`. n evenly spaced
 * events cover n gaps, of which n - 1 lie between the first and the last; the time since the
 * first event grows past that once the stream slows or stops. One event alone says nothing
 * about spacing: it counts once per window.
 */
function spanMs(now: number, count: number, first: number, last: number, windowMs: number, minSpanMs: number): number {
  const sinceFirst = now - first;
  const spacing = count > 1 ? ((last - first) * count) / (count - 1) : windowMs;
  return Math.max(sinceFirst, spacing, minSpanMs);
}
