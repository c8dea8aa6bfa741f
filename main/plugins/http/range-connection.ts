// The fast path for range bodies over plain http://. Node's HTTP client hands every socket
// read to the parser as a fresh Buffer and pushes it through a Readable: on a 2 GiB
// sequential read that is tens of thousands of allocations, and in a loopback test it moved
// 70-90 MB/s where a socket reading into one reused buffer (net's `onread`) moved 540-680.
// These connections send a plain GET with Range and accept only the simple answer: 206 with
// a Content-Length and the Content-Range asked for. Anything else (a redirect, an error, a
// chunked body) is handed back undecided, and the caller asks again through Node's client,
// which owns every other case, so the two never disagree about what an answer means.
import net from 'node:net';

/** How many bytes one socket read may bring: a few TCP windows' worth. */
const READ_BUFFER = 256 * 1024;
const MAX_HEAD = 64 * 1024;

/** One range request: its body lands in `target`, `arrived` hears how much has. */
export interface RangeJob {
  head: string;
  offset: number;
  target: Buffer;
  arrived: (filled: number) => void;
}

/**
 * 'done': the body is in `target`; `{ status }`: the server refused (200, 4xx, 5xx: the body
 * is not read, the socket dropped); 'declined': anything else, for Node's client to ask again.
 */
export type RangeOutcome = 'done' | 'declined' | { status: number };

interface Running extends RangeJob {
  headBytes: Buffer;
  bodyStarted: boolean;
  filled: number;
  closeAfter: boolean;
  resolve: (outcome: RangeOutcome) => void;
  reject: (err: Error) => void;
}

export class RangeConnection {
  private readonly socket: net.Socket;
  private job: Running | null = null;
  closed = false;

  constructor(host: string, port: number, timeoutMs: number) {
    const scratch = Buffer.allocUnsafe(READ_BUFFER);
    this.socket = net.connect({ host, port, onread: { buffer: scratch, callback: (n: number, buf: Uint8Array) => {
      this.received(Buffer.from(buf.buffer, buf.byteOffset, n));
      return true;
    } } });
    // The request is one small write that the answer waits for: Nagle would only delay it.
    this.socket.setNoDelay(true);
    if (timeoutMs > 0) this.socket.setTimeout(timeoutMs, () => this.socket.destroy(new Error(`no answer within ${timeoutMs / 1000} s (timeout=)`)));
    this.socket.on('error', (err) => this.fail(err));
    this.socket.on('close', () => this.fail(new Error('the server closed the connection')));
  }

  get busy(): boolean {
    return this.job !== null;
  }

  run(job: RangeJob): Promise<RangeOutcome> {
    return new Promise((resolve, reject) => {
      this.job = { ...job, headBytes: Buffer.alloc(0), bodyStarted: false, filled: 0, closeAfter: false, resolve, reject };
      // An idle keep-alive socket must not keep the process alive (`blockscope map` exits when done).
      this.socket.ref();
      this.socket.write(job.head);
    });
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }

  private fail(err: Error): void {
    this.closed = true;
    const job = this.job;
    this.job = null;
    job?.reject(err);
  }

  private finish(job: Running, outcome: RangeOutcome): void {
    this.job = null;
    this.socket.unref();
    job.resolve(outcome);
  }

  private received(chunk: Buffer): void {
    const job = this.job;
    if (!job) return void this.close();
    if (!job.bodyStarted) {
      const rest = this.readHead(job, chunk);
      if (rest === null) return;
      chunk = rest;
    }
    const take = Math.min(chunk.length, job.target.length - job.filled);
    chunk.copy(job.target, job.filled, 0, take);
    job.filled += take;
    job.arrived(job.filled);
    if (take < chunk.length) return void this.decline(job);
    if (job.filled < job.target.length) return;
    if (job.closeAfter) this.close();
    this.finish(job, 'done');
  }

  /** Collects the status line and headers; returns the body bytes after them, or null for more. */
  private readHead(job: Running, chunk: Buffer): Buffer | null {
    const all = job.headBytes.length === 0 ? chunk : Buffer.concat([job.headBytes, chunk]);
    const end = all.indexOf('\r\n\r\n');
    if (end < 0) {
      // The onread buffer is reused by the next read: keep a copy.
      job.headBytes = Buffer.from(all);
      if (all.length > MAX_HEAD) this.decline(job);
      return null;
    }
    const head = parseHead(all.toString('latin1', 0, end));
    const length = Number(head.headers['content-length']);
    const start = /^bytes (\d+)-/.exec(head.headers['content-range'] ?? '');
    if (head.status === 200 || head.status >= 400) {
      this.settle(job, { status: head.status });
      return null;
    }
    if (head.status !== 206 || length !== job.target.length || !start || Number(start[1]) !== job.offset || head.headers['transfer-encoding'] !== undefined) {
      this.decline(job);
      return null;
    }
    job.bodyStarted = true;
    job.closeAfter = /close/i.test(head.headers.connection ?? '') || head.version === '1.0';
    return all.subarray(end + 4);
  }

  private decline(job: Running): void {
    this.settle(job, 'declined');
  }

  private settle(job: Running, outcome: RangeOutcome): void {
    this.close();
    this.finish(job, outcome);
  }
}

function parseHead(text: string): { version: string; status: number; headers: Record<string, string> } {
  const [statusLine = '', ...lines] = text.split('\r\n');
  const m = /^HTTP\/(\d\.\d) (\d{3})/.exec(statusLine);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { version: m?.[1] ?? '', status: m ? Number(m[2]) : 0, headers };
}

/** Up to `max` keep-alive connections to one host; a request waits for a free one. */
export class RangeConnectionPool {
  private readonly connections: RangeConnection[] = [];
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly max: number,
    private readonly timeoutMs: number,
  ) {}

  async run(job: RangeJob): Promise<RangeOutcome> {
    let connection: RangeConnection | null;
    while (!(connection = this.idle())) await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      // run() takes the connection before anything else can find it idle.
      return await connection.run(job);
    } finally {
      this.waiting.shift()?.();
    }
  }

  /** Whether `url` is on the host and port this pool connects to (a redirect may lead elsewhere). */
  serves(url: URL): boolean {
    return url.protocol === 'http:' && url.hostname.replace(/^\[|\]$/g, '') === this.host && Number(url.port || 80) === this.port;
  }

  close(): void {
    for (const c of this.connections.splice(0)) c.close();
  }

  /** A free connection (a new one while under `max`), or null when all are busy. */
  private idle(): RangeConnection | null {
    for (let i = this.connections.length - 1; i >= 0; i--) if (this.connections[i]!.closed) this.connections.splice(i, 1);
    const free = this.connections.find((c) => !c.busy);
    if (free || this.connections.length >= this.max) return free ?? null;
    const fresh = new RangeConnection(this.host, this.port, this.timeoutMs);
    this.connections.push(fresh);
    return fresh;
  }
}
