// A remote object read by HTTP range requests (nbdkit-curl-plugin's model): keep-alive
// sockets up to `connections`, a large read split into that many ranges fetched side by side,
// sequential reads served from windows fetched ahead (read-ahead.ts), plain http:// bodies
// read straight into their buffers (range-connection.ts), the rest through Node's own client;
// connection errors and 5xx answers retried with exponential backoff.
// A server that answers a range request with the whole body (200) is refused, as nbdkit
// does: reading a disk image that way would download all of it for every request.
import http from 'node:http';
import https from 'node:https';
import { BlockError } from '../../backend/errors.ts';
import { RangeConnectionPool } from './range-connection.ts';
import { ReadAhead, type ReadAheadOptions } from './read-ahead.ts';
import { redactUrl } from './urls.ts';

export { isHttpUrl, redactUrl } from './urls.ts';

export interface HttpOptions {
  /** Request headers sent with every request (Cookie and Authorization included). */
  headers: Record<string, string>;
  /** Headers to leave out ("User-Agent:" in nbdkit's syntax). */
  removeHeaders?: readonly string[];
  /** PEM CA bundle replacing the system's (cainfo=). */
  ca?: string;
  sslVerify: boolean;
  /** Per request, milliseconds; 0 = none. */
  timeoutMs: number;
  connections: number;
  followLocation: boolean;
  /** Attempts after the first on connection errors and 5xx (tests shorten the backoff). */
  retries?: number;
  backoffMs?: number;
  /** Sequential reads served from large windows fetched ahead (tests pick smaller ones). */
  readAhead?: ReadAheadOptions;
}

export const HTTP_DEFAULTS: HttpOptions = { headers: {}, sslVerify: true, timeoutMs: 0, connections: 4, followLocation: true };

const MAX_REDIRECTS = 10;
const DEFAULT_RETRIES = 4;
const DEFAULT_BACKOFF_MS = 200;
/** Below this a read is one request: more requests cost more than they overlap. */
const MIN_PART = 256 * 1024;
/**
 * 4 MiB windows, one per connection ahead of each stream: a 2 GiB sequential read is 512
 * requests instead of 8192, and at most 16 windows (64 MiB) are held with 4 connections.
 */
function defaultReadAhead(connections: number): ReadAheadOptions {
  return { window: 4 * 1024 * 1024, ahead: connections, maxWindows: 4 * connections };
}

interface RangeReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: http.IncomingMessage;
}

class RetryableError extends Error {}

export class HttpResource {
  readonly url: string;
  readonly size: number;
  /** Where the last redirect led: later requests go there directly. */
  private location: URL;
  private readonly agent: http.Agent;
  private readonly readAhead: ReadAhead;
  /** Range bodies over plain http:// straight into their buffers (range-connection.ts); null for https. */
  private readonly fastPath: RangeConnectionPool | null;

  private constructor(url: string, location: URL, size: number, agent: http.Agent, private readonly options: HttpOptions) {
    this.url = url;
    this.location = location;
    this.size = size;
    this.agent = agent;
    const fetch = (buf: Buffer, offset: number, progress: (filled: number) => void) => this.readRange(buf, offset, progress);
    this.readAhead = new ReadAhead(size, fetch, options.readAhead ?? defaultReadAhead(options.connections));
    // Removed headers and line breaks in values are Node's client's business: it validates them.
    const plain = location.protocol === 'http:' && !options.removeHeaders?.length && !Object.values(options.headers).some((v) => /[\r\n]/.test(v));
    this.fastPath = plain ? new RangeConnectionPool(location.hostname.replace(/^\[|\]$/g, ''), Number(location.port || 80), options.connections, options.timeoutMs) : null;
  }

  /** Opens `url`: one range request for its first byte tells the size and proves Range works. */
  static async open(url: string, options: HttpOptions = HTTP_DEFAULTS): Promise<HttpResource> {
    let location: URL;
    try {
      location = new URL(url);
    } catch {
      throw new BlockError('EINVAL', `${url}: not a URL`);
    }
    if (location.protocol !== 'http:' && location.protocol !== 'https:') throw new BlockError('EINVAL', `${redactUrl(url)}: only http:// and https:// URLs are supported`);
    const agentOptions = { keepAlive: true, maxSockets: options.connections, ca: options.ca, rejectUnauthorized: options.sslVerify };
    const agent = location.protocol === 'https:' ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
    const resource = new HttpResource(url, location, 0, agent, options);
    try {
      const size = await resource.probeSize();
      return new HttpResource(url, resource.location, size, agent, options);
    } catch (err) {
      agent.destroy();
      throw err;
    }
  }

  /** Fill `buf` from `offset`: from read-ahead windows for a stream, else in up to `connections` ranges fetched at once. */
  async read(buf: Buffer, offset: number): Promise<void> {
    const inside = buf.length > 0 && offset + buf.length <= this.size;
    if (inside && this.readAhead.continuesStream(offset, buf.length)) return this.readAhead.read(buf, offset);
    return this.readExact(buf, offset);
  }

  /** Fill `buf` from `offset` with exactly the ranges it covers (never a read-ahead window), up to `connections` at once. */
  async readExact(buf: Buffer, offset: number): Promise<void> {
    if (buf.length === 0) return;
    if (offset + buf.length > this.size) throw new BlockError('EIO', `${redactUrl(this.url)}: read of ${buf.length} bytes at ${offset} is past the end (${this.size} bytes)`);
    const parts = Math.max(1, Math.min(this.options.connections, Math.floor(buf.length / MIN_PART)));
    const step = Math.ceil(buf.length / parts / 4096) * 4096;
    const reads: Promise<void>[] = [];
    for (let at = 0; at < buf.length; at += step) reads.push(this.readRange(buf.subarray(at, Math.min(buf.length, at + step)), offset + at));
    await Promise.all(reads);
  }

  close(): void {
    this.agent.destroy();
    this.fastPath?.close();
  }

  private async probeSize(): Promise<number> {
    const reply = await this.retrying(() => this.follow('bytes=0-0'));
    // A 200 would stream the whole object: drop the socket instead of draining it.
    if (reply.status === 200) reply.body.destroy();
    else reply.body.resume();
    if (reply.status === 206) return totalOf(reply.headers['content-range'], this.url);
    if (reply.status === 416) return totalOf(reply.headers['content-range'], this.url, 0);
    if (reply.status === 200) throw this.noRanges();
    throw this.statusError(reply.status, 'opening');
  }

  private noRanges(): BlockError {
    return new BlockError('ENOTSUP', `${redactUrl(this.url)}: the server does not support range requests (it answered a byte range with the whole file); Blockscope, like nbdkit's curl plugin, needs Range`);
  }

  private statusError(status: number, doing: string): BlockError {
    const code = status === 404 || status === 410 ? 'ENOENT' : status === 401 || status === 403 ? 'EACCES' : 'EIO';
    return new BlockError(code, `${redactUrl(this.url)}: ${doing} failed: HTTP ${status} ${http.STATUS_CODES[status] ?? ''}`.trimEnd());
  }

  /** Fills `buf`; a retry asks only for the bytes that have not arrived yet. */
  private readRange(buf: Buffer, offset: number, progress?: (filled: number) => void): Promise<void> {
    let filled = 0;
    const arrived = (n: number) => {
      filled = n;
      progress?.(n);
    };
    return this.retrying(() => this.readRangeOnce(buf, offset, filled, arrived));
  }

  /** One request for `buf` from `from` on, the body written into `buf` as it arrives. */
  private async readRangeOnce(buf: Buffer, offset: number, from: number, arrived: (filled: number) => void): Promise<void> {
    offset += from;
    buf = buf.subarray(from);
    const range = `bytes=${offset}-${offset + buf.length - 1}`;
    if (await this.readRangeFast(buf, offset, range, (n) => arrived(from + n))) return;
    const reply = await this.follow(range);
    if (reply.status !== 206) {
      reply.body.destroy();
      throw reply.status === 200 ? this.noRanges() : this.statusError(reply.status, `reading ${buf.length} bytes at ${offset}`);
    }
    const start = /^bytes (\d+)-/.exec(reply.headers['content-range'] ?? '');
    if (!start || Number(start[1]) !== offset) {
      reply.body.destroy();
      throw new BlockError('EIO', `${redactUrl(this.url)}: asked for bytes at ${offset}, the server sent ${reply.headers['content-range'] ?? 'no Content-Range'}`);
    }
    let filled = 0;
    try {
      await new Promise<void>((resolve, reject) => {
        reply.body.on('data', (chunk: Buffer) => {
          if (filled + chunk.length > buf.length) return reject(new BlockError('EIO', `${redactUrl(this.url)}: the server sent more than the ${buf.length} bytes asked for at ${offset}`));
          chunk.copy(buf, filled);
          filled += chunk.length;
          arrived(from + filled);
        });
        reply.body.on('end', resolve);
        reply.body.on('error', reject);
        reply.body.on('close', () => reject(new Error('the connection closed before the whole body arrived')));
      });
    } catch (err) {
      reply.body.destroy();
      // A connection that broke mid-body is worth another try, like one that never answered.
      throw err instanceof BlockError ? err : new RetryableError((err as Error).message);
    }
    if (filled !== buf.length) throw new BlockError('EIO', `${redactUrl(this.url)}: the server sent ${filled} of ${buf.length} bytes at ${offset}`);
  }

  /** The range over the fast path: true when the body is in `buf`, false to ask through Node's client. */
  private async readRangeFast(buf: Buffer, offset: number, range: string, arrived: (filled: number) => void): Promise<boolean> {
    if (!this.fastPath?.serves(this.location)) return false;
    const job = { head: this.requestHead(this.location, range), offset, target: buf, arrived };
    const outcome = await this.fastPath.run(job).catch((err: Error) => {
      throw new RetryableError(err.message);
    });
    if (outcome === 'done' || outcome === 'declined') return outcome === 'done';
    throw outcome.status === 200 ? this.noRanges() : outcome.status >= 500 ? serverError(outcome.status) : this.statusError(outcome.status, `reading ${buf.length} bytes at ${offset}`);
  }

  /** `fn` again after connection errors and 5xx answers, waiting twice as long each time. */
  private async retrying<T>(fn: () => Promise<T>): Promise<T> {
    const retries = this.options.retries ?? DEFAULT_RETRIES;
    const backoff = this.options.backoffMs ?? DEFAULT_BACKOFF_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (!(err instanceof RetryableError) || attempt >= retries) {
          if (err instanceof BlockError) throw err;
          throw new BlockError('EIO', `${redactUrl(this.url)}: ${(err as Error).message}${attempt > 0 ? ` (after ${attempt + 1} attempts)` : ''}`);
        }
        await new Promise((r) => setTimeout(r, backoff * 2 ** attempt));
      }
    }
  }

  /** One GET with a Range, following redirects if allowed; a 5xx is thrown to be retried. */
  private async follow(range: string): Promise<RangeReply> {
    let target = this.location;
    for (let hops = 0; ; hops++) {
      const reply = await this.send(target, range);
      const to = reply.headers.location;
      if (reply.status < 300 || reply.status >= 400 || reply.status === 304 || !to) {
        this.location = target;
        if (reply.status >= 500) {
          reply.body.resume();
          throw serverError(reply.status);
        }
        return reply;
      }
      reply.body.resume();
      if (!this.options.followLocation) throw new BlockError('EIO', `${redactUrl(this.url)}: the server redirects (HTTP ${reply.status}) to ${redactUrl(to)} and followlocation=false`);
      if (hops >= MAX_REDIRECTS) throw new BlockError('EIO', `${redactUrl(this.url)}: more than ${MAX_REDIRECTS} redirects`);
      target = new URL(to, target);
      if (target.protocol !== this.location.protocol) throw new BlockError('EIO', `${redactUrl(this.url)}: a redirect to ${target.protocol} is not followed (the connection pool speaks ${this.location.protocol})`);
    }
  }

  private requestHeaders(target: URL, range: string): Record<string, string> {
    const headers: Record<string, string> = { ...this.options.headers, range };
    if (target.username && !('authorization' in lowerKeys(headers))) {
      headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`).toString('base64')}`;
    }
    return headers;
  }

  /** The request line and headers the fast path writes, as Node's client would send them. */
  private requestHead(target: URL, range: string): string {
    const headers = this.requestHeaders(target, range);
    const host = 'host' in lowerKeys(headers) ? [] : [`Host: ${target.host}`];
    return [`GET ${target.pathname}${target.search} HTTP/1.1`, ...host, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), '', ''].join('\r\n');
  }

  private send(target: URL, range: string): Promise<RangeReply> {
    const headers = this.requestHeaders(target, range);
    const mod = target.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(target, { method: 'GET', agent: this.agent, headers, auth: undefined }, (res) => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res });
      });
      for (const name of this.options.removeHeaders ?? []) req.removeHeader(name);
      req.on('error', (err: NodeJS.ErrnoException) => reject(isTlsRefusal(err) ? new BlockError('EACCES', `${redactUrl(this.url)}: ${err.message}`) : new RetryableError(err.message)));
      if (this.options.timeoutMs > 0) req.setTimeout(this.options.timeoutMs, () => req.destroy(new Error(`no answer within ${this.options.timeoutMs / 1000} s (timeout=)`)));
      req.end();
    });
  }
}

/** A 5xx: worth asking again. */
function serverError(status: number): RetryableError {
  return new RetryableError(`HTTP ${status} ${http.STATUS_CODES[status] ?? ''}`.trimEnd());
}

function lowerKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

/** A certificate the client refuses will be refused again: retrying only delays the error. */
function isTlsRefusal(err: NodeJS.ErrnoException): boolean {
  return /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|HOSTNAME/.test(err.code ?? '');
}

/** The TOTAL that ends a Content-Range (`bytes a-b/TOTAL`, or `bytes *` + `/TOTAL` on a 416). */
function totalOf(contentRange: string | undefined, url: string, fallback?: number): number {
  const m = /\/(\d+)\s*$/.exec(contentRange ?? '');
  if (m) return Number(m[1]);
  if (fallback !== undefined) return fallback;
  throw new BlockError('EIO', `${redactUrl(url)}: the server's range reply has no total size (Content-Range: ${contentRange ?? 'missing'})`);
}
