// Sequential reads over HTTP: a client like nbdcopy reads a disk in 256 KiB pieces, and one
// range request per piece spends more on request overhead and round trips than on bytes
// (nbdkit curl is serialised per connection and still wins that way). Once a read continues
// where an earlier one ended, the stream is served from large aligned windows, each one
// range request, fetched a few windows ahead of the reader. A reader waits only for its own
// bytes of a window, not for the whole window, so the first reply goes out as soon as its
// bytes arrive. Random reads never touch windows: they cost one exact request, as before.

/** Fills `buf` from `offset` of the remote object, reporting how many bytes have arrived. */
export type RangeFetch = (buf: Buffer, offset: number, progress: (filled: number) => void) => Promise<void>;

export interface ReadAheadOptions {
  /** Bytes per window: one range request each. */
  window: number;
  /** Windows fetched beyond the one a stream is reading. */
  ahead: number;
  /** Windows kept (least recently used dropped first); bounds the memory to window * this. */
  maxWindows: number;
}

interface Waiter {
  end: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface Window {
  data: Buffer;
  filled: number;
  failed: unknown;
  waiters: Waiter[];
  /** Reads still to copy out of `data`, and whether its request is still running. */
  readers: number;
  fetching: boolean;
  dropped: boolean;
}

/** How many recent read ends are remembered to recognise a stream (a few per client connection). */
const REMEMBERED_ENDS = 64;

export class ReadAhead {
  private readonly windows = new Map<number, Window>();
  private readonly ends = new Set<number>();
  /**
   * Buffers of dropped windows, for the next windows: a fresh 4 MiB allocation per window
   * costs page faults on first touch and garbage collections, more than the network does.
   */
  private readonly spare: Buffer[] = [];

  constructor(
    private readonly size: number,
    private readonly fetch: RangeFetch,
    private readonly options: ReadAheadOptions,
  ) {}

  /**
   * Whether the read of `length` bytes at `offset` belongs to a stream (it starts where a
   * recent read ended, or inside a window already fetched) and `read` should serve it.
   * Notes where this read ends, so the read after it is recognised as its continuation.
   */
  continuesStream(offset: number, length: number): boolean {
    if (length >= this.options.window) return false;
    const continues = this.ends.has(offset) || this.windows.has(this.indexOf(offset));
    this.ends.delete(offset);
    this.ends.add(offset + length);
    if (this.ends.size > REMEMBERED_ENDS) this.ends.delete(this.ends.values().next().value!);
    return continues;
  }

  /** Fills `buf` from the windows over [offset, offset + buf.length), fetching those and the next few. */
  async read(buf: Buffer, offset: number): Promise<void> {
    const end = offset + buf.length;
    const first = this.indexOf(offset);
    const last = this.indexOf(end - 1);
    const windows: Window[] = [];
    // Counted as readers before the prefetches below can push them out of the map.
    for (let i = first; i <= last; i++) {
      const w = this.use(i);
      w.readers++;
      windows.push(w);
    }
    for (let i = last + 1; i <= Math.min(last + this.options.ahead, this.indexOf(this.size - 1)); i++) this.use(i);
    await Promise.all(
      windows.map(async (w, k) => {
        const start = (first + k) * this.options.window;
        const from = Math.max(offset, start) - start;
        const to = Math.min(end, start + w.data.length) - start;
        try {
          await until(w, to);
          w.data.copy(buf, start + from - offset, from, to);
        } finally {
          w.readers--;
          this.recycle(w);
        }
      }),
    );
  }

  private indexOf(offset: number): number {
    return Math.floor(offset / this.options.window);
  }

  /** The window `index`, fetched now if it is not held; marks it most recently used. */
  private use(index: number): Window {
    const held = this.windows.get(index);
    if (held) {
      // Map order is insertion order: re-inserting makes it the last to be dropped.
      this.windows.delete(index);
      this.windows.set(index, held);
      return held;
    }
    const start = index * this.options.window;
    const length = Math.min(this.options.window, this.size - start);
    const data = (length === this.options.window && this.spare.pop()) || Buffer.allocUnsafe(length);
    const w: Window = { data, filled: 0, failed: undefined, waiters: [], readers: 0, fetching: true, dropped: false };
    this.windows.set(index, w);
    while (this.windows.size > this.options.maxWindows) this.drop(this.windows.keys().next().value!);
    this.fetch(w.data, start, (filled) => wake(w, filled)).then(
      () => wake(w, w.data.length),
      (err: unknown) => {
        // Forget a failed window so the next read asks again (after the client's own retries).
        if (this.windows.get(index) === w) this.drop(index);
        w.failed = err;
        for (const waiter of w.waiters.splice(0)) waiter.reject(err);
      },
    ).finally(() => {
      w.fetching = false;
      this.recycle(w);
    });
    return w;
  }

  private drop(index: number): void {
    const w = this.windows.get(index)!;
    this.windows.delete(index);
    w.dropped = true;
    this.recycle(w);
  }

  /** A dropped window's buffer is reused once its request has ended and its readers have copied. */
  private recycle(w: Window): void {
    if (!w.dropped || w.fetching || w.readers > 0 || w.data.length !== this.options.window) return;
    // Steady streaming drops about one window for each one it fetches: a few spares suffice.
    if (this.spare.length < Math.ceil(this.options.maxWindows / 2)) this.spare.push(w.data);
    // Recycled once: a late call must not hand the same buffer out twice.
    w.readers = Number.POSITIVE_INFINITY;
  }
}

/** Resolves once the window holds its first `end` bytes. */
function until(w: Window, end: number): Promise<void> {
  if (w.filled >= end) return Promise.resolve();
  if (w.failed !== undefined) return Promise.reject(w.failed);
  return new Promise((resolve, reject) => w.waiters.push({ end, resolve, reject }));
}

function wake(w: Window, filled: number): void {
  w.filled = filled;
  if (w.waiters.length === 0) return;
  const still: Waiter[] = [];
  for (const waiter of w.waiters) {
    if (waiter.end <= filled) waiter.resolve();
    else still.push(waiter);
  }
  w.waiters = still;
}
