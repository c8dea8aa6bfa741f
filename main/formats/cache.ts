// A bounded least-recently-used cache for the tables format readers look up (BAT pages,
// L2 tables, sector bitmaps). Bounded by bytes, not entries, so a 2 TiB image with small
// clusters maps quickly without holding its whole metadata in memory. Concurrent misses on
// one key share a single load, so parallel NBD requests do not read the same table twice.

export class BoundedCache<K, V extends { length: number }> {
  private readonly entries = new Map<K, V>();
  private readonly loading = new Map<K, Promise<V>>();
  private bytes = 0;

  /** `budget`: total `length` of the values kept; one value larger than that is still returned. */
  constructor(private readonly budget: number) {}

  /** The cached value without loading it, for hot loops that only await on a miss. */
  peek(key: K): V | undefined {
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  async get(key: K, load: () => Promise<V>): Promise<V> {
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      // Map iteration order is insertion order: re-inserting marks the entry most recent.
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const pending = this.loading.get(key);
    if (pending) return pending;
    const promise = load().then(
      (value) => {
        this.loading.delete(key);
        this.insert(key, value);
        return value;
      },
      (err: unknown) => {
        this.loading.delete(key);
        throw err;
      },
    );
    this.loading.set(key, promise);
    return promise;
  }

  /** Bytes currently held (for tests and stats). */
  get size(): number {
    return this.bytes;
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  private insert(key: K, value: V): void {
    if (value.length > this.budget) return;
    const old = this.entries.get(key);
    if (old !== undefined) {
      this.bytes -= old.length;
      this.entries.delete(key);
    }
    this.entries.set(key, value);
    this.bytes += value.length;
    for (const [k, v] of this.entries) {
      if (this.bytes <= this.budget) break;
      this.entries.delete(k);
      this.bytes -= v.length;
    }
  }
}
