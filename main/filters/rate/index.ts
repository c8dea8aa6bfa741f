// rate: limit the bandwidth reads and writes may use (nbdkit-rate-filter), for the whole
// export (rate=) and for each connection (connection-rate=), in bits per second. Reads and
// writes have separate buckets, as downloads and uploads do; zero, trim and the rest carry
// no data on the wire and are free. rate-file / connection-rate-file change the limit while
// serving.
import { defineFilter, type FilterHandle, type Next } from '../../backend/types.ts';
import { sleepAtLeast } from '../timing.ts';
import { RateSetting, TokenBucket, type Clock } from './bucket.ts';

/** A limit and its two buckets (read, write), following the limit's current setting. */
export class RateLimit {
  readonly read: TokenBucket;
  readonly write: TokenBucket;

  constructor(private readonly setting: RateSetting, burstSeconds: number, now: Clock) {
    this.read = new TokenBucket(setting.current(), burstSeconds, now);
    this.write = new TokenBucket(setting.current(), burstSeconds, now);
  }

  /** Wait until `bytes` may pass through the read or write bucket. */
  async pass(which: 'read' | 'write', bytes: number, sleep: (ms: number) => Promise<void>): Promise<void> {
    const bucket = this[which];
    bucket.setRate(this.setting.current());
    for (let bits = bytes * 8; bits > 0;) {
      const { owed, waitMs } = bucket.take(bits);
      bits = owed;
      if (owed > 0) await sleep(waitMs);
    }
  }
}

function rateHandle(next: Next, limits: RateLimit[]): FilterHandle {
  const pass = async (which: 'read' | 'write', bytes: number) => {
    for (const limit of limits) await limit.pass(which, bytes, sleepAtLeast);
  };
  return {
    async pread(buf, offset, flags) {
      await pass('read', buf.length);
      await next.pread(buf, offset, flags);
    },
    async pwrite(buf, offset, flags) {
      await pass('write', buf.length);
      await next.pwrite(buf, offset, flags);
    },
  };
}

export const rateFilter = defineFilter({
  name: 'rate',
  summary: 'limit the bandwidth of reads and writes (bits per second)',
  params: [
    { key: 'rate', kind: 'size', min: 0, description: 'total bandwidth of all connections, bits per second (e.g. 1M)' },
    { key: 'connection-rate', kind: 'size', min: 0, description: 'bandwidth of each connection, bits per second' },
    { key: 'rate-file', kind: 'path', description: 'file holding the total rate, re-read while serving' },
    { key: 'connection-rate-file', kind: 'path', group: 'more', description: 'file holding the per-connection rate, re-read while serving' },
    { key: 'burstiness', kind: 'string', default: '2.0', group: 'more', description: 'seconds of full-rate traffic a client may burst after being idle' },
  ],
  create(params) {
    const burst = Number(params.burstiness);
    if (!(burst > 0)) throw new Error(`rate: burstiness: '${params.burstiness}' is not a positive number of seconds`);
    const now = () => performance.now();
    const total = new RateLimit(new RateSetting(params.rate ?? 0, params['rate-file'], now), burst, now);
    return {
      open(next) {
        const own = new RateLimit(new RateSetting(params['connection-rate'] ?? 0, params['connection-rate-file'], now), burst, now);
        // nbdkit's order: the export's limit first, then the connection's.
        return rateHandle(next, [total, own]);
      },
    };
  },
});
