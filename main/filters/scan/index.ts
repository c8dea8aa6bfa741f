// scan: while a client is connected, prefetch the whole disk from start to end in the
// background (nbdkit-scan-filter), with CACHE requests of scan-size. It helps where a layer
// below keeps what is prefetched (a cache filter, cow with cow-on-cache, a remote plugin's
// own cache). Like nbdkit's it scans the default export only, skips ahead of client reads
// (scan-ahead), resumes where it stopped when clients come back (scan-clock), and stops
// after one pass unless scan-forever.
import { setImmediate as nextTick, setTimeout as sleep } from 'node:timers/promises';
import { defineFilter, type FilterHandle, type Next } from '../../backend/types.ts';
import { requirePowerOfTwo } from '../power-of-two.ts';

export interface ScanSettings {
  ahead: boolean;
  clock: boolean;
  forever: boolean;
  size: number;
}

/** Where the scan is: the export's, so it survives connections (scan-clock). No I/O here. */
export class ScanCursor {
  private pos = 0;

  constructor(private readonly s: ScanSettings) {}

  /** The next range to prefetch on a disk of `diskSize` (`restart`: a new pass of scan-forever), or null when the scan is over. */
  next(diskSize: number): { offset: number; count: number; restart: boolean } | null {
    let restart = false;
    if (this.pos >= diskSize) {
      if (!this.s.forever || diskSize === 0) return null;
      this.pos = 0;
      restart = true;
    }
    const count = Math.min(this.s.size, diskSize - this.pos);
    const range = { offset: this.pos, count, restart };
    this.pos += count;
    return range;
  }

  /** A client read: with scan-ahead, skip past it if it is ahead of the scan. */
  clientRead(count: number, offset: number): void {
    if (this.s.ahead && offset + count > this.pos) this.pos = offset + count;
  }

  /** The scanning connection left: without scan-clock, the next scan starts over. */
  stopped(): void {
    if (!this.s.clock) this.pos = 0;
  }
}

/** The export's one scanner: started by a connection when none runs, stopped when it closes. */
interface Scanner {
  cursor: ScanCursor;
  running: boolean;
}

/** Between passes of scan-forever: a pass over a warm cache costs nothing, so do not spin a core. */
export const FOREVER_PAUSE_MS = 1000;

function scanningHandle(next: Next, scanner: Scanner, exportName: string): FilterHandle {
  const owns = !scanner.running && exportName === '' && next.canCache() !== 'none';
  const stop = new AbortController();
  let loop: Promise<void> = Promise.resolve();
  if (owns) {
    scanner.running = true;
    loop = (async () => {
      const size = next.getSize();
      for (let r = scanner.cursor.next(size); r && !stop.signal.aborted; r = scanner.cursor.next(size)) {
        if (r.restart) await sleep(FOREVER_PAUSE_MS, undefined, { signal: stop.signal }).catch(() => {});
        if (stop.signal.aborted) break;
        await next.cache(r.count, r.offset).catch(() => {});
        // Let client requests in between prefetches.
        await nextTick();
      }
    })();
  }
  return {
    async pread(buf, offset, flags) {
      scanner.cursor.clientRead(buf.length, offset);
      await next.pread(buf, offset, flags);
    },
    // The layers below close after this handle: the scan must be over by then.
    async close() {
      if (!owns) return;
      stop.abort();
      await loop;
      scanner.running = false;
      scanner.cursor.stopped();
    },
  };
}

export const scanFilter = defineFilter({
  name: 'scan',
  summary: 'prefetch the whole disk in the background while a client is connected',
  params: [
    { key: 'scan-ahead', kind: 'bool', default: 'true', description: 'skip forward past client reads that are ahead of the scan' },
    { key: 'scan-clock', kind: 'bool', default: 'true', description: 'resume where the scan stopped when clients come back (false: start over)' },
    { key: 'scan-forever', kind: 'bool', default: 'false', description: 'start over after the end of the disk, for as long as clients are connected' },
    { key: 'scan-size', kind: 'size', min: 4096, default: '2M', group: 'more', description: 'prefetch size (a power of 2)' },
  ],
  create(params) {
    requirePowerOfTwo('scan', 'scan-size', params['scan-size']);
    const settings: ScanSettings = { ahead: params['scan-ahead'], clock: params['scan-clock'], forever: params['scan-forever'], size: params['scan-size'] };
    const scanner: Scanner = { cursor: new ScanCursor(settings), running: false };
    return { open: (next, options) => scanningHandle(next, scanner, options.exportName) };
  },
});
