// One lock per block: read-modify-write of a block must not interleave with another
// request on the same block, or one of two overlapping writes would be lost. Each lock is
// a promise chain; entries are dropped when their chain drains, so idle blocks cost
// nothing. Ranges are always locked in ascending block order, so two requests can never
// each hold a block the other waits for.

export class BlockLocks {
  private readonly tails = new Map<number, Promise<void>>();

  /** Run `fn` holding the locks of blocks [first, end). */
  async withRange<T>(first: number, end: number, fn: () => Promise<T>): Promise<T> {
    const releases: (() => void)[] = [];
    try {
      for (let block = first; block < end; block++) releases.push(await this.acquire(block));
      return await fn();
    } finally {
      for (const release of releases) release();
    }
  }

  with<T>(block: number, fn: () => Promise<T>): Promise<T> {
    return this.withRange(block, block + 1, fn);
  }

  private async acquire(block: number): Promise<() => void> {
    const before = this.tails.get(block) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = before.then(() => mine);
    this.tails.set(block, tail);
    await before;
    return () => {
      release();
      if (this.tails.get(block) === tail) this.tails.delete(block);
    };
  }

  /** Blocks with a request holding or waiting for their lock. */
  get busy(): number {
    return this.tails.size;
  }
}
