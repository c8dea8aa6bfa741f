// Received bytes not yet consumed: a list of chunks and a cursor into the first one. Reads
// that fall inside one chunk are zero-copy views; only reads across chunk edges copy.
// Consumed chunks are dropped by moving `head`, not by Array.shift, which copies the rest of
// the array and made a stream of tiny chunks (a trickling client) quadratic.
export class ByteQueue {
  private chunks: Buffer[] = [];
  private head = 0;
  private cursor = 0;
  private total = 0;

  get length(): number {
    return this.total;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.total += chunk.length;
  }

  /** The next `n` bytes (n <= length), consumed. A view when possible, else a copy. */
  take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.chunks[this.head]!;
    if (first.length - this.cursor >= n) {
      const view = first.subarray(this.cursor, this.cursor + n);
      this.skip(n);
      return view;
    }
    const out = Buffer.allocUnsafe(n);
    this.copyInto(out, 0, n);
    return out;
  }

  /** The next `n` bytes (n <= length) without consuming them. */
  peek(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.chunks[this.head]!;
    if (first.length - this.cursor >= n) return first.subarray(this.cursor, this.cursor + n);
    const out = Buffer.allocUnsafe(n);
    let done = 0;
    for (let i = this.head, at = this.cursor; done < n; i++, at = 0) {
      const c = this.chunks[i]!;
      const m = Math.min(n - done, c.length - at);
      c.copy(out, done, at, at + m);
      done += m;
    }
    return out;
  }

  /** Move `n` bytes (n <= length) into `target` at `at`, consuming them. */
  copyInto(target: Buffer, at: number, n: number): void {
    let done = 0;
    while (done < n) {
      const first = this.chunks[this.head]!;
      const m = Math.min(n - done, first.length - this.cursor);
      first.copy(target, at + done, this.cursor, this.cursor + m);
      done += m;
      this.skip(m);
    }
  }

  /** Drop `n` bytes (n <= length). */
  skip(n: number): void {
    this.total -= n;
    while (n > 0) {
      const first = this.chunks[this.head]!;
      const left = first.length - this.cursor;
      if (n < left) {
        this.cursor += n;
        return;
      }
      n -= left;
      this.dropFirst();
    }
  }

  private dropFirst(): void {
    this.head++;
    this.cursor = 0;
    // Compact once the consumed prefix is most of the array: amortised O(1) per chunk.
    if (this.head === this.chunks.length) {
      this.chunks = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }

  /**
   * Copy whatever is left into memory of our own: the chunks may be views of a read buffer
   * the socket reuses for its next read.
   */
  own(): void {
    if (this.total === 0) return;
    const rest = Buffer.from(this.takeAll());
    this.push(rest);
  }

  /** Everything left, consumed (for handing leftovers to the next phase). */
  takeAll(): Buffer {
    return this.total === 0 ? Buffer.alloc(0) : this.take(this.total);
  }
}
