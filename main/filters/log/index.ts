// log: write every request and its result to a file (nbdkit-log-filter), in nbdkit's line
// format (format.ts). Each call is logged when it starts and again when it returns, tied by
// an id unique within the connection, since requests run in parallel and may interleave.
import { closeSync, openSync, writeSync } from 'node:fs';
import type { Extent } from '../../../shared/extents.ts';
import { errnoOf } from '../../backend/errors.ts';
import { FLAG_FAST_ZERO, FLAG_FUA, FLAG_MAY_TRIM, FLAG_REQ_ONE, type Support } from '../../backend/flags.ts';
import { defineFilter, type FilterHandle, type FilterInstance, type Next, type OpenOptions } from '../../backend/types.ts';
import { formatExtents, hex, logTimestamp, shellQuote } from './format.ts';

/** Where lines go; tests pass their own clock to get literal timestamps. */
export interface LogSink {
  write(line: string): void;
  now(): Date;
}

const bit = (flags: number, flag: number) => (flags & flag ? 1 : 0);
/** nbdkit's NBDKIT_FUA_* / NBDKIT_CACHE_* / NBDKIT_ZERO_* numbers. */
const LEVEL: Record<Support, number> = { none: 0, emulate: 1, native: 2 };

/** The Connect line's fields: what the layer below offers this connection. */
function connectFields(next: Next, options: OpenOptions): string {
  const b = (v: boolean) => (v ? 1 : 0);
  // 0 = no block size constraints, as nbdkit prints for a plugin without any.
  const sizes = next.blockSize();
  return `export=${shellQuote(options.exportName)} tls=0 size=${hex(next.getSize())} ` +
    `minsize=${hex(sizes?.minimum ?? 0)} prefsize=${hex(sizes?.preferred ?? 0)} maxsize=${hex(sizes?.maximum ?? 0)} ` +
    `write=${b(next.canWrite())} flush=${b(next.canFlush())} rotational=${b(next.isRotational())} trim=${b(next.canTrim())} ` +
    `zero=${next.canZero() ? 2 : 0} fua=${LEVEL[next.canFua()]} extents=${b(next.canExtents())} cache=${LEVEL[next.canCache()]} ` +
    `fast_zero=${b(next.canFastZero())}`;
}

/**
 * One connection's logging: numbering of its calls, and the enter/leave pair around each.
 * Its Connect line waits for the first call (see logInstance), stamped with the open's time.
 */
class ConnectionLog {
  private lastId = 0;
  private connection = 0;
  private readonly openedAt: Date;

  constructor(private readonly sink: LogSink, private readonly connect: string, private readonly number: () => number) {
    this.openedAt = sink.now();
  }

  line(text: string): void {
    if (this.connection === 0) {
      this.connection = this.number();
      this.write(this.openedAt, `Connect ${this.connect}`);
    }
    this.write(this.sink.now(), text);
  }

  private write(at: Date, text: string): void {
    this.sink.write(`${logTimestamp(at)} connection=${this.connection} ${text}\n`);
  }

  get transactions(): number {
    return this.lastId;
  }

  /** "Act id=N fields ..." then "...Act id=N [result] return=0" or "return=-1 error=EIO". */
  async call<T>(act: string, fields: string, run: () => Promise<T>, result?: (value: T) => string): Promise<T> {
    const id = ++this.lastId;
    this.line(`${act} id=${id} ${fields ? `${fields} ` : ''}...`);
    try {
      const value = await run();
      this.line(`...${act} id=${id} ${result ? `${result(value)} ` : ''}return=0`);
      return value;
    } catch (err) {
      this.line(`...${act} id=${id} return=-1 error=${errnoOf(err)}`);
      throw err;
    }
  }
}

/** The handle for one connection: every data operation goes through `log.call`. */
export function loggingHandle(next: Next, log: ConnectionLog): FilterHandle {
  const at = (count: number, offset: number) => `offset=${hex(offset)} count=${hex(count)}`;
  return {
    // FUA reaches the layer below as the client sent it (nbdkit emulates it at the plugin), so
    // the log shows fua=1; the layer below flushes if it cannot do FUA itself.
    canFua: () => (next.canFua() === 'none' ? 'none' : 'native'),
    pread: (buf, offset, flags) => log.call('Read', at(buf.length, offset), () => next.pread(buf, offset, flags)),
    pwrite: (buf, offset, flags) =>
      log.call('Write', `${at(buf.length, offset)} fua=${bit(flags, FLAG_FUA)}`, () => next.pwrite(buf, offset, flags)),
    zero: (count, offset, flags) =>
      log.call('Zero', `${at(count, offset)} trim=${bit(flags, FLAG_MAY_TRIM)} fua=${bit(flags, FLAG_FUA)} fast=${bit(flags, FLAG_FAST_ZERO)}`,
        () => next.zero(count, offset, flags)),
    trim: (count, offset, flags) => log.call('Trim', `${at(count, offset)} fua=${bit(flags, FLAG_FUA)}`, () => next.trim(count, offset, flags)),
    flush: (flags) => log.call('Flush', '', () => next.flush(flags)),
    cache: (count, offset, flags) => log.call('Cache', at(count, offset), () => next.cache(count, offset, flags)),
    extents: (count, offset, flags) =>
      log.call<Extent[]>('Extents', `${at(count, offset)} req_one=${bit(flags, FLAG_REQ_ONE)}`, () => next.extents(count, offset, flags),
        (list) => `extents=${formatExtents(list)}`),
  };
}

/** A sink writing whole lines with one write each, so lines of parallel requests never mix. */
function fileSink(path: string, append: boolean): LogSink & { close(): void } {
  const fd = openSync(path, append ? 'a' : 'w');
  return { write: (line) => void writeSync(fd, line), now: () => new Date(), close: () => closeSync(fd) };
}

/**
 * The filter over any sink. Like nbdkit's it logs client connections, numbered from 1 per
 * export. The app's own views of the chain (the server's probes) never pass preconnect, so a
 * connection counts only if it opens while an admitted client is waiting. The handshake may
 * open the chain for a look before the client's real open (meta contexts, NBD_OPT_INFO): a
 * connection that closes without a request hands its client back and leaves no lines.
 */
export function logInstance(sink: LogSink, close?: () => void): FilterInstance {
  let connections = 0;
  /** Admitted clients whose requests have not started; each leaves when served or gone. */
  const admitted: object[] = [];
  return {
    preconnect() {
      const client = {};
      admitted.push(client);
      return () => {
        const at = admitted.indexOf(client);
        if (at >= 0) admitted.splice(at, 1);
      };
    },
    open(next: Next, options: OpenOptions): FilterHandle {
      const client = admitted.shift();
      if (client === undefined) return {};
      const log = new ConnectionLog(sink, connectFields(next, options), () => ++connections);
      return {
        ...loggingHandle(next, log),
        close() {
          if (log.transactions > 0) log.line(`Disconnect transactions=${log.transactions}`);
          else admitted.unshift(client);
        },
      };
    },
    unload: close,
  };
}

export const logFilter = defineFilter({
  name: 'log',
  summary: 'log every request and its result to a file, in nbdkit\'s log format',
  params: [
    { key: 'logfile', kind: 'path', description: 'the file the log is written to (no file: the filter does nothing)' },
    { key: 'logappend', kind: 'bool', default: 'false', description: 'append to an existing log file instead of truncating it' },
  ],
  create(params) {
    if (params.logfile === undefined) return { open: () => ({}) };
    const sink = fileSink(params.logfile, params.logappend);
    return logInstance(sink, () => sink.close());
  },
});
