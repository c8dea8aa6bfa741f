// Readers share, a writer is alone (nbdkit's blocksize filter takes a pthread rwlock the same
// way): aligned pieces go straight down side by side, while a read-modify-write of a partial
// block must not interleave with any other write, or one of two writes would be lost.

export class RwLock {
  private readers = 0;
  private writer = false;
  private readonly waiting: { exclusive: boolean; admit: () => void }[] = [];

  async shared<T>(fn: () => Promise<T>): Promise<T> {
    await this.enter(false);
    try {
      return await fn();
    } finally {
      this.readers--;
      this.wake();
    }
  }

  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    await this.enter(true);
    try {
      return await fn();
    } finally {
      this.writer = false;
      this.wake();
    }
  }

  private enter(exclusive: boolean): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push({ exclusive, admit: resolve });
      this.wake();
    });
  }

  /** Admit waiters in arrival order, so a writer is not starved by a stream of readers. */
  private wake(): void {
    while (this.waiting.length > 0 && !this.writer) {
      const first = this.waiting[0]!;
      if (first.exclusive ? this.readers > 0 : false) return;
      this.waiting.shift();
      if (first.exclusive) this.writer = true;
      else this.readers++;
      first.admit();
    }
  }
}
