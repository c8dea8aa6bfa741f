// negotiate() through its I/O seam: a scripted client whose bytes are all there at once
// (the worst case: a client that pipelines options), and a send queue we say is full.
import { encodeOption } from './request-header.ts';
import { describe, expect, it } from 'vitest';
import { registry } from '../catalog.ts';
import type { ExportLookup, ServedExport } from './export.ts';
import { negotiate, type HandshakeIO } from './handshake.ts';
import { OPT, REP } from './protocol.ts';
import { ProtocolError } from './request-parser.ts';

const option = encodeOption;

/** INFO/GO data for the export named '' with no information requests. */
const EMPTY_NAME = Buffer.alloc(6);
const FLAGS = Buffer.from([0, 0, 0, 3]);

class ScriptedClient implements HandshakeIO {
  at = 0;
  readonly replies: Buffer[] = [];
  readonly logs: string[] = [];
  /** While set, the socket's send queue counts as full. */
  full: { promise: Promise<void>; release: () => void } | null = null;
  private readonly input: Buffer;

  constructor(input: Buffer) {
    this.input = input;
  }

  read(n: number): Promise<Buffer> {
    if (this.at + n > this.input.length) return new Promise(() => {});
    const b = Buffer.from(this.input.subarray(this.at, this.at + n));
    this.at += n;
    return Promise.resolve(b);
  }

  write(b: Buffer): void {
    this.replies.push(b);
  }

  drained(): Promise<void> {
    return this.full?.promise ?? Promise.resolve();
  }

  log(line: string): void {
    this.logs.push(line);
  }

  /** STARTTLS handshakes run; set `startTls` to undefined for a server without credentials. */
  tlsStarts = 0;
  tlsFailure: Error | null = null;
  startTls?: () => Promise<void> = () => {
    this.tlsStarts++;
    return this.tlsFailure ? Promise.reject(this.tlsFailure) : Promise.resolve();
  };

  fill(): void {
    let release = () => {};
    const promise = new Promise<void>((r) => (release = r));
    this.full = { promise, release: () => { this.full = null; release(); } };
  }
}

async function exportsWithOne(): Promise<ExportLookup> {
  const chain = await registry.build({ plugin: { name: 'memory', params: { size: '1M' } }, filters: [] });
  const exp: ServedExport = { name: '', chain, writable: false, chainLabel: 'memory' };
  return { findExport: (name) => (name === '' ? exp : undefined), listExports: () => [exp] };
}

/** LIST/SET_META_CONTEXT data for `name` with one query. */
function metaQuery(name: string, query: string): Buffer {
  const n = Buffer.from(name);
  const q = Buffer.from(query);
  const b = Buffer.alloc(4 + n.length + 4 + 4 + q.length);
  b.writeUInt32BE(n.length, 0);
  n.copy(b, 4);
  b.writeUInt32BE(1, 4 + n.length);
  b.writeUInt32BE(q.length, 8 + n.length);
  q.copy(b, 12 + n.length);
  return b;
}

/** The type of every option reply written, greeting left out. */
function replyTypes(io: ScriptedClient): number[] {
  const all = Buffer.concat(io.replies.slice(1));
  const out: number[] = [];
  for (let at = 0; at < all.length; at += 20 + all.readUInt32BE(at + 16)) out.push(all.readUInt32BE(at + 12));
  return out;
}

const settle = () => new Promise((r) => setTimeout(r, 20));

describe('negotiate', () => {
  it('reads no further option while the replies to the last one have not drained', async () => {
    const info = option(OPT.INFO, EMPTY_NAME);
    const io = new ScriptedClient(Buffer.concat([FLAGS, info, info, option(OPT.ABORT)]));
    io.fill();
    const done = negotiate(io, await exportsWithOne());
    await settle();
    // Greeting sent and flags read; no option read while the queue is full.
    expect(io.at).toBe(FLAGS.length);
    io.full!.release();
    await settle();
    expect(io.at).toBe(FLAGS.length + info.length + info.length + 16);
    await expect(done).resolves.toBeNull();
  });

  it('waits for the drain between every two options', async () => {
    const info = option(OPT.INFO, EMPTY_NAME);
    const io = new ScriptedClient(Buffer.concat([FLAGS, info, info, option(OPT.ABORT)]));
    const exports = await exportsWithOne();
    const realWrite = io.write.bind(io);
    io.write = (b) => {
      realWrite(b);
      if (!io.full) io.fill();
    };
    const done = negotiate(io, exports);
    await settle();
    expect(io.at).toBe(FLAGS.length); // the greeting filled the queue
    io.full!.release();
    await settle();
    expect(io.at).toBe(FLAGS.length + info.length);
    io.full!.release();
    await settle();
    expect(io.at).toBe(FLAGS.length + 2 * info.length);
    io.full!.release();
    await expect(done).resolves.toBeNull();
  });

  it('drops a client that sends option after option without choosing an export', async () => {
    const info = option(OPT.INFO, EMPTY_NAME);
    const io = new ScriptedClient(Buffer.concat([FLAGS, ...Array.from({ length: 500 }, () => info), option(OPT.ABORT)]));
    const err = await negotiate(io, await exportsWithOne()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as Error).message).toBe('client sent 68 options without choosing an export');
    // 64 plus 4 per export were answered, then nothing more was read.
    expect(io.replies.length - 1).toBe(68);
    expect(io.at).toBe(FLAGS.length + 68 * info.length + 16);
  });

  it('drops the meta context selection when SET_META_CONTEXT fails (the spec: it replaces the selection even then)', async () => {
    const io = new ScriptedClient(Buffer.concat([
      FLAGS, option(OPT.STRUCTURED_REPLY), option(OPT.SET_META_CONTEXT, metaQuery('', 'base:allocation')),
      option(OPT.SET_META_CONTEXT, metaQuery('nope', 'base:allocation')), option(OPT.GO, EMPTY_NAME),
    ]));
    const session = await negotiate(io, await exportsWithOne());
    await session?.open.close();
    expect(replyTypes(io)).toEqual([REP.ACK, REP.META_CONTEXT, REP.ACK, REP.ERR_UNKNOWN, REP.INFO, REP.INFO, REP.ACK]);
    expect(session?.contexts.size).toBe(0);
  });

  it('keeps the selection only for the export SET_META_CONTEXT named', async () => {
    const one = await exportsWithOne();
    const other = { ...one.findExport('')!, name: 'other' };
    const two: ExportLookup = { findExport: (n) => (n === 'other' ? other : one.findExport(n)), listExports: () => [...one.listExports(), other] };
    const selectedAfterGo = async (setFor: string) => {
      const io = new ScriptedClient(Buffer.concat([
        FLAGS, option(OPT.STRUCTURED_REPLY), option(OPT.SET_META_CONTEXT, metaQuery(setFor, 'base:allocation')), option(OPT.GO, EMPTY_NAME),
      ]));
      const session = await negotiate(io, two);
      await session?.open.close();
      return [...session!.contexts.values()];
    };
    expect(await selectedAfterGo('')).toEqual(['base:allocation']);
    expect(await selectedAfterGo('other')).toEqual([]);
  });

  it('lets a client list and inspect before it chooses (nbdinfo --list, qemu)', async () => {
    const io = new ScriptedClient(Buffer.concat([
      FLAGS, option(OPT.STRUCTURED_REPLY), option(OPT.LIST),
      ...Array.from({ length: 60 }, () => option(OPT.INFO, EMPTY_NAME)),
      option(OPT.GO, EMPTY_NAME),
    ]));
    const session = await negotiate(io, await exportsWithOne());
    expect(session?.export.name).toBe('');
    await session?.open.close();
    const last = io.replies[io.replies.length - 1]!;
    expect(last.readUInt32BE(last.length - 20 + 12)).toBe(REP.ACK);
  });
});

describe('STARTTLS and --tls', () => {
  const GO = option(OPT.GO, EMPTY_NAME);
  const run = async (mode: 'off' | 'on' | 'require', ...options: Buffer[]) => {
    const io = new ScriptedClient(Buffer.concat([FLAGS, ...options]));
    const outcome = await negotiate(io, await exportsWithOne(), mode).catch((e: unknown) => e as Error);
    if (outcome && !(outcome instanceof Error)) await outcome.open.close();
    return { io, outcome, types: replyTypes(io) };
  };

  it('off: STARTTLS gets ERR_POLICY and the client goes on in the clear', async () => {
    const { io, outcome, types } = await run('off', option(OPT.STARTTLS), GO);
    expect(types).toEqual([REP.ERR_POLICY, REP.INFO, REP.INFO, REP.ACK]);
    expect(io.tlsStarts).toBe(0);
    expect(outcome).toMatchObject({ export: { name: '' } });
  });

  it('on without credentials behaves as off (ERR_POLICY)', async () => {
    const io = new ScriptedClient(Buffer.concat([FLAGS, option(OPT.STARTTLS), option(OPT.ABORT)]));
    io.startTls = undefined;
    await expect(negotiate(io, await exportsWithOne(), 'on')).resolves.toBeNull();
    expect(replyTypes(io)).toEqual([REP.ERR_POLICY, REP.ACK]);
  });

  it('on: a plaintext client is served as before', async () => {
    const { io, types } = await run('on', option(OPT.STRUCTURED_REPLY), GO);
    expect(types).toEqual([REP.ACK, REP.INFO, REP.INFO, REP.ACK]);
    expect(io.tlsStarts).toBe(0);
  });

  it('on: STARTTLS is ACKed, then the TLS handshake runs before the next option is read', async () => {
    const { io, types } = await run('on', option(OPT.STARTTLS), GO);
    expect(types).toEqual([REP.ACK, REP.INFO, REP.INFO, REP.ACK]);
    expect(io.tlsStarts).toBe(1);
  });

  it('forgets structured replies and meta contexts negotiated in the clear (the spec)', async () => {
    const { types, outcome } = await run('on',
      option(OPT.STRUCTURED_REPLY), option(OPT.SET_META_CONTEXT, metaQuery('', 'base:allocation')), option(OPT.STARTTLS),
      option(OPT.SET_META_CONTEXT, metaQuery('', 'base:allocation')), GO);
    expect(types).toEqual([REP.ACK, REP.META_CONTEXT, REP.ACK, REP.ACK, REP.ERR_INVALID, REP.INFO, REP.INFO, REP.ACK]);
    expect(outcome).toMatchObject({ structuredReplies: false });
    expect((outcome as { contexts: Map<number, string> }).contexts.size).toBe(0);
  });

  it('a second STARTTLS gets ERR_INVALID; STARTTLS with data gets ERR_INVALID', async () => {
    const twice = await run('on', option(OPT.STARTTLS), option(OPT.STARTTLS), option(OPT.ABORT));
    expect(twice.types).toEqual([REP.ACK, REP.ERR_INVALID, REP.ACK]);
    expect(twice.io.tlsStarts).toBe(1);
    const withData = await run('on', option(OPT.STARTTLS, Buffer.from([1])), option(OPT.ABORT));
    expect(withData.types).toEqual([REP.ERR_INVALID, REP.ACK]);
    expect(withData.io.tlsStarts).toBe(0);
  });

  it('require: every option but STARTTLS and ABORT gets ERR_TLS_REQD before TLS, logged once', async () => {
    const { io, outcome, types } = await run('require',
      option(OPT.STRUCTURED_REPLY), option(OPT.LIST), option(OPT.INFO, EMPTY_NAME), GO, option(OPT.ABORT));
    expect(types).toEqual([REP.ERR_TLS_REQD, REP.ERR_TLS_REQD, REP.ERR_TLS_REQD, REP.ERR_TLS_REQD, REP.ACK]);
    expect(outcome).toBeNull();
    expect(io.logs).toEqual(['STRUCTURED_REPLY without TLS: this server requires TLS (--tls=require): send STARTTLS first']);
  });

  it('require: EXPORT_NAME before TLS ends the connection (it has no error reply)', async () => {
    const { io, outcome } = await run('require', option(OPT.EXPORT_NAME));
    expect(outcome).toBeInstanceOf(ProtocolError);
    expect((outcome as Error).message).toMatch(/^EXPORT_NAME without TLS/);
    expect(io.replies.length).toBe(1); // the greeting only
  });

  it('require: after STARTTLS the client is served', async () => {
    const { types, outcome } = await run('require', option(OPT.STARTTLS), option(OPT.STRUCTURED_REPLY), GO);
    expect(types).toEqual([REP.ACK, REP.ACK, REP.INFO, REP.INFO, REP.ACK]);
    expect(outcome).toMatchObject({ structuredReplies: true });
  });

  it('a failed TLS handshake ends negotiation with its reason', async () => {
    const io = new ScriptedClient(Buffer.concat([FLAGS, option(OPT.STARTTLS), GO]));
    io.tlsFailure = new Error('TLS handshake failed: wrong pre-shared key');
    await expect(negotiate(io, await exportsWithOne(), 'require')).rejects.toThrow('wrong pre-shared key');
    expect(replyTypes(io)).toEqual([REP.ACK]);
  });
});
