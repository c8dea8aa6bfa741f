// Reply bytes the server holds for its clients: READ buffers being filled and replies the
// socket has not yet taken. Capping requests in flight is not enough: 32 pipelined 32 MiB
// READs from a client that never reads its replies once held 1 GiB per connection. So a
// connection takes no new request while it holds more than its share, or while the whole
// server holds more than the total; but a connection that holds nothing may always start
// one, so clients that never read cannot starve the ones that do.
export const REPLY_BYTES_PER_CONNECTION = 64 * 1024 * 1024;
export const REPLY_BYTES_TOTAL = 256 * 1024 * 1024;

export class ReplyBudget {
  private used = 0;
  private readonly perConnection: number;
  private readonly total: number;
  /** Connections waiting for the server-wide total to drop. */
  private readonly waiting = new Set<() => void>();

  constructor(perConnection = REPLY_BYTES_PER_CONNECTION, total = REPLY_BYTES_TOTAL) {
    this.perConnection = perConnection;
    this.total = total;
  }

  /** Bytes held across the server. */
  get held(): number {
    return this.used;
  }

  /** May a connection that holds `held` bytes start another request? */
  admits(held: number): boolean {
    return held === 0 || (held < this.perConnection && this.used < this.total);
  }

  take(n: number): void {
    this.used += n;
  }

  give(n: number): void {
    this.used -= n;
    if (this.used < this.total && this.waiting.size > 0) {
      const wake = [...this.waiting];
      this.waiting.clear();
      // Later, not inside the write callback that gave the bytes back.
      for (const w of wake) queueMicrotask(w);
    }
  }

  /** Call `wake` once, the next time bytes are given back while under the total. */
  wait(wake: () => void): void {
    this.waiting.add(wake);
  }

  cancel(wake: () => void): void {
    this.waiting.delete(wake);
  }
}
