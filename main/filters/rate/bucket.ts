// The token bucket behind the rate filter (nbdkit's bucket.c model): the bucket holds up to
// rate x burstiness bits and refills at `rate` bits a second; a request takes its bits, and
// when the bucket runs dry the request waits for the missing ones. Time comes from `now`, so
// tests drive it by hand.
import { readFileSync, statSync } from 'node:fs';
import { parseSize } from '../../../shared/params.ts';

export type Clock = () => number;

export class TokenBucket {
  /** Bits taken out of a full bucket and not yet refilled. */
  private used = 0;
  private last: number;

  constructor(private rate: number, private readonly burstSeconds: number, private readonly now: Clock) {
    this.last = now();
  }

  /** Bits per second; 0 = unlimited. The bucket's contents carry over. */
  setRate(rate: number): void {
    this.rate = rate;
  }

  /**
   * Take `bits` out of the bucket: 0 if they were there, else the bits still missing after
   * emptying it, and the milliseconds until they have refilled. Call again after waiting.
   */
  take(bits: number): { owed: number; waitMs: number } {
    if (this.rate <= 0) return { owed: 0, waitMs: 0 };
    const capacity = this.rate * this.burstSeconds;
    const now = this.now();
    this.used -= Math.min(this.used, (this.rate * (now - this.last)) / 1000);
    this.last = now;
    if (capacity - this.used >= bits) {
      this.used += bits;
      return { owed: 0, waitMs: 0 };
    }
    const owed = bits - (capacity - this.used);
    this.used = capacity;
    return { owed, waitMs: (owed / this.rate) * 1000 };
  }
}

/** How often a rate file is looked at: changes take effect within this long. */
export const RATE_FILE_CHECK_MS = 1000;

/**
 * A rate given as a parameter and optionally a file to re-read while serving: the file's
 * number wins while it is readable; a missing or garbled file keeps the last good rate.
 */
export class RateSetting {
  private rate: number;
  private checkedAt = -Infinity;
  private mtime = -1;

  constructor(initial: number, private readonly file: string | undefined, private readonly now: Clock) {
    this.rate = initial;
  }

  current(): number {
    if (this.file === undefined || this.now() - this.checkedAt < RATE_FILE_CHECK_MS) return this.rate;
    this.checkedAt = this.now();
    try {
      const mtime = statSync(this.file).mtimeMs;
      if (mtime !== this.mtime) {
        this.rate = parseSize(readFileSync(this.file, 'utf8').trim());
        this.mtime = mtime;
      }
    } catch {
      // Missing or half-written: keep the last rate, as nbdkit does.
    }
    return this.rate;
  }
}
