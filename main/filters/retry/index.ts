// retry: when a request fails, reopen the layers below and try again (nbdkit-retry-filter),
// so a long copy survives a dropped network connection under an nbd, ssh or http source.
// Every request gets `retries` more tries, waiting retry-delay before each (doubled each
// time with retry-exponential); with retry-readonly the layers are reopened read-only, and
// writes then fail with EROFS for the rest of the connection.
import { BlockError, errnoOf } from '../../backend/errors.ts';
import { FLAG_FAST_ZERO } from '../../backend/flags.ts';
import { defineFilter, type FilterHandle, type Next, type OpenOptions, type Reopen } from '../../backend/types.ts';
import { sleepAtLeast } from '../timing.ts';

export interface RetrySettings {
  retries: number;
  delayMs: number;
  exponential: boolean;
  readonlyAfter: boolean;
}

/** The waits before each retry of one request, in order. */
export function retryDelays(s: RetrySettings): number[] {
  return Array.from({ length: s.retries }, (_, i) => (s.exponential ? s.delayMs * 2 ** i : s.delayMs));
}

/** Errors no reopen can cure: the request itself was refused. */
function isFinal(err: unknown, flags: number): boolean {
  const code = errnoOf(err);
  return code === 'EROFS' || ((code === 'ENOTSUP' || code === 'EOPNOTSUPP') && (flags & FLAG_FAST_ZERO) !== 0);
}

export function retryingHandle(first: Next, reopen: Reopen, options: OpenOptions, s: RetrySettings): FilterHandle {
  const size = first.getSize();
  /** null while the layers below are closed (a reopen failed). */
  let next: Next | null = first;
  let reopened = false;
  // Requests failing together reopen once: a request whose failure predates the last reopen
  // just tries again on the new layers.
  let generation = 0;
  let reopening: Promise<void> | null = null;

  function reopenSince(seen: number): Promise<void> {
    if (generation !== seen) return Promise.resolve();
    reopening ??= (async () => {
      try {
        next = null;
        next = await reopen({ readonly: options.readonly || s.readonlyAfter });
        reopened = true;
      } finally {
        generation++;
        reopening = null;
      }
    })();
    return reopening;
  }

  /** One attempt on the current layers, with nbdkit's checks that the reopened disk still fits. */
  function attempt<T>(op: string, write: boolean, run: (n: Next) => Promise<T>): Promise<T> {
    if (!next) throw new BlockError('ESHUTDOWN', `retry: ${op}: the layers below could not be reopened`);
    if (next.getSize() !== size) throw new BlockError('EIO', `retry: ${op}: the disk changed size from ${size} to ${next.getSize()} on reopening`);
    if (write && !next.canWrite()) throw new BlockError('EROFS', `retry: ${op}: the disk was reopened read-only`);
    return run(next);
  }

  async function withRetry<T>(op: string, write: boolean, flags: number, run: (n: Next) => Promise<T>): Promise<T> {
    const delays = retryDelays(s);
    for (let tries = 0; ; tries++) {
      const seen = generation;
      try {
        return await attempt(op, write, run);
      } catch (err) {
        if (tries >= delays.length || isFinal(err, flags) || (write && reopened && s.readonlyAfter)) throw err;
        await sleepAtLeast(delays[tries]!);
        // A failed reopen counts as a failed try: the next one reopens again.
        await reopenSince(seen).catch(() => {});
      }
    }
  }

  return {
    pread: (buf, offset, flags) => withRetry('pread', false, flags, (n) => n.pread(buf, offset, flags)),
    pwrite: (buf, offset, flags) => withRetry('pwrite', true, flags, (n) => n.pwrite(buf, offset, flags)),
    trim: (count, offset, flags) => withRetry('trim', true, flags, (n) => n.trim(count, offset, flags)),
    zero: (count, offset, flags) => withRetry('zero', true, flags, (n) => n.zero(count, offset, flags)),
    flush: (flags) => withRetry('flush', false, flags, (n) => n.flush(flags)),
    cache: (count, offset, flags) => withRetry('cache', false, flags, (n) => n.cache(count, offset, flags)),
    extents: (count, offset, flags) => withRetry('extents', false, flags, (n) => n.extents(count, offset, flags)),
  };
}

export const retryFilter = defineFilter({
  name: 'retry',
  summary: 'reopen the disk and retry requests that fail (flaky network sources)',
  params: [
    { key: 'retries', kind: 'int', min: 0, default: '5', description: 'how many times a request is retried before it fails' },
    { key: 'retry-delay', kind: 'duration', min: 0, default: '2', description: 'wait before retrying (seconds, or e.g. 500ms)' },
    { key: 'retry-exponential', kind: 'bool', default: 'true', description: 'double the wait before each further retry' },
    { key: 'retry-readonly', kind: 'bool', default: 'false', description: 'after a failure reopen read-only: writes then fail for this connection' },
  ],
  create(params) {
    const settings: RetrySettings = {
      retries: params.retries,
      delayMs: params['retry-delay'],
      exponential: params['retry-exponential'],
      readonlyAfter: params['retry-readonly'],
    };
    return { open: (next, options, reopen) => retryingHandle(next, reopen, options, settings) };
  },
});
