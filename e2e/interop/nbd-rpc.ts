// A python3-libnbd connection as a long-lived child process (nbd-rpc.py), so property tests
// can issue many requests through the real libnbd client without starting nbdsh for each.
// Requests on one connection go one at a time; open several for concurrency.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { CMD_FLAG } from '../../main/nbd/protocol.ts';
import { ROOT, TOOL_ENV } from './harness.ts';

export { CMD_FLAG };

const SCRIPT = path.join(ROOT, 'e2e', 'interop', 'nbd-rpc.py');

export interface ExportInfo {
  size: number;
  structured: boolean;
  meta: boolean;
  readonly: boolean;
  flush: boolean;
  fua: boolean;
  trim: boolean;
  zero: boolean;
  fastZero: boolean;
  cache: boolean;
  multiConn: boolean;
}

/** A request the server (or libnbd) refused; `errno` is the name, e.g. 'ENOTSUP'. */
export class NbdRequestError extends Error {
  readonly errno: string | null;

  constructor(message: string, errno: string | null) {
    super(message);
    this.errno = errno;
  }
}

/** libnbd's chunk status: READ_DATA = 1, READ_HOLE = 2, READ_ERROR = 3. */
export interface ReadChunk {
  offset: number;
  length: number;
  status: number;
}

/** One extent callback: the context and the descriptors as [offset, length, flags]. */
export interface ExtentCall {
  context: string;
  extents: [offset: number, length: number, flags: number][];
}

function toChunks(raw: [number, number, number][]): ReadChunk[] {
  return raw.map(([offset, length, status]) => ({ offset, length, status }));
}

type Reply = { ok?: unknown; error?: string; errno?: string | null };

export class NbdConnection {
  readonly info: ExportInfo;
  private readonly child: ChildProcess;
  private readonly waiting: ((r: Reply) => void)[] = [];
  private stderr = '';

  private constructor(child: ChildProcess, info: ExportInfo) {
    this.child = child;
    this.info = info;
  }

  /** Connect to `uri`; `meta` asks for base:allocation, `structured` for structured replies. */
  static open(uri: string, { meta = true, structured = true } = {}): Promise<NbdConnection> {
    const child = spawn('/usr/bin/python3', [SCRIPT, uri, meta ? '1' : '0', structured ? '1' : '0'], { env: TOOL_ENV, stdio: ['pipe', 'pipe', 'pipe'] });
    return new Promise((resolve, reject) => {
      let conn: NbdConnection | null = null;
      let err = '';
      child.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        if (conn) conn.stderr = err;
      });
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const reply = JSON.parse(line) as Reply;
        if (conn) return conn.waiting.shift()?.(reply);
        if (reply.error !== undefined) return reject(new NbdRequestError(`connect ${uri}: ${reply.error}`, reply.errno ?? null));
        conn = new NbdConnection(child, reply.ok as ExportInfo);
        resolve(conn);
      });
      child.once('exit', (code) => {
        if (!conn) reject(new Error(`nbd-rpc.py exited ${code} before connecting:\n${err}`));
        else for (const w of conn.waiting.splice(0)) w({ error: `nbd-rpc.py exited ${code}:\n${conn.stderr}`, errno: null });
      });
    });
  }

  private call(op: string, args: Record<string, unknown>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.waiting.push((r) => (r.error !== undefined ? reject(new NbdRequestError(`${op} ${JSON.stringify(args).slice(0, 200)}: ${r.error}`, r.errno ?? null)) : resolve(r.ok)));
      this.child.stdin!.write(`${JSON.stringify({ op, flags: 0, ...args })}\n`);
    });
  }

  async pread(offset: number, count: number, flags = 0): Promise<Buffer> {
    const r = (await this.call('pread', { offset, count, flags })) as { data: string };
    return Buffer.from(r.data, 'base64');
  }

  async preadStructured(offset: number, count: number, flags = 0): Promise<{ data: Buffer; chunks: ReadChunk[] }> {
    const r = (await this.call('pread_structured', { offset, count, flags })) as { data: string; chunks: [number, number, number][] };
    return { data: Buffer.from(r.data, 'base64'), chunks: toChunks(r.chunks) };
  }

  /**
   * A read that returns the SHA-256 of the bytes instead of the bytes (much cheaper through
   * the pipe); `structured` uses pread_structured and returns its chunks too.
   */
  async readDigest(offset: number, count: number, { flags = 0, structured = false } = {}): Promise<{ sha256: string; chunks: ReadChunk[] }> {
    const r = (await this.call(structured ? 'pread_structured' : 'pread', { offset, count, flags, digest: true })) as { sha256: string; chunks?: [number, number, number][] };
    return { sha256: r.sha256, chunks: toChunks(r.chunks ?? []) };
  }

  /** BLOCK_STATUS as libnbd delivers it: one call per context, descriptors made absolute. */
  async blockStatus(offset: number, count: number, flags = 0): Promise<ExtentCall[]> {
    const r = (await this.call('block_status', { offset, count, flags })) as { calls: [string, number, number[]][] };
    return r.calls.map(([context, start, entries]) => {
      const extents: ExtentCall['extents'] = [];
      let at = start;
      for (let i = 0; i + 1 < entries.length; i += 2) {
        extents.push([at, entries[i]!, entries[i + 1]!]);
        at += entries[i]!;
      }
      return { context, extents };
    });
  }

  async pwrite(offset: number, data: Buffer, flags = 0): Promise<void> {
    await this.call('pwrite', { offset, data: data.toString('base64'), flags });
  }

  async zero(offset: number, count: number, flags = 0): Promise<void> {
    await this.call('zero', { offset, count, flags });
  }

  async trim(offset: number, count: number, flags = 0): Promise<void> {
    await this.call('trim', { offset, count, flags });
  }

  async flush(): Promise<void> {
    await this.call('flush', {});
  }

  async cache(offset: number, count: number): Promise<void> {
    await this.call('cache', { offset, count });
  }

  /** Disconnect cleanly (NBD_CMD_DISC) and wait for the process to go. */
  close(): Promise<void> {
    if (this.child.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.stdin!.end();
    });
  }
}
