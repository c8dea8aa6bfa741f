// The connection loop (native/connection_loop.cc) against the JavaScript path, on a real server
// over real sockets: for random batches of READs, WRITEs (FUA or not), FLUSHes, BLOCK_STATUS
// and requests the loop must leave alone (out of range, bad flags), at unaligned offsets and
// lengths, with several in flight and a client that reads late, every reply must be the same
// bytes with the loop on and off, the file must end up the same, and the server must report
// the same requests. Also: the loop really serves (its starts and served requests are counted),
// a client that only asks what the loop hands back does not keep it starting, clients that
// hang up mid-request do not disturb others, and a server closing with clients idle in the
// loop closes at once.
import fc from 'fast-check';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registry } from '../catalog.ts';
import { nativeIo } from '../native-io.ts';
import { tempDir } from '../temp-dir.ts';
import { propertyParams, propertyTimeout } from '../testing/property-params.ts';
import { EVENT_FIELDS, type LoopMessage } from './connection-loop.ts';
import { RawNbdClient, readReplyData, type WireRequest } from './fast-read.testing.ts';
import { CMD, CMD_FLAG, SIMPLE_REPLY_MAGIC } from './protocol.ts';
import type { RequestEvent } from './request-event.ts';
import { encodeRequest } from './request-header.ts';
import { NbdServer } from './server.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const tmp = tempDir('blockscope-connection-loop-');

type Start = (sock: number, file: number, settings: unknown, onMessage: LoopMessage) => () => void;
const io = nativeIo() as { startLoop?: Start } | null;
const hasLoop = io?.startLoop !== undefined;
if (!hasLoop) console.warn('connection-loop.test: skipped: the native addon with startLoop is not loaded here (npm run build:native; BLOCKSCOPE_NO_NATIVE unset)');

/** Loops started and requests they served, counted by wrapping the addon's startLoop. */
const counted = { starts: 0, served: 0 };
let restore = () => {};
beforeAll(() => {
  const real = io?.startLoop;
  if (!io || !real) return;
  io.startLoop = (sock, file, settings, onMessage) => {
    counted.starts++;
    return real(sock, file, settings, (events, end) => {
      counted.served += events.length / EVENT_FIELDS;
      onMessage(events, end);
    });
  };
  restore = () => (io.startLoop = real);
});
afterAll(() => {
  restore();
  delete process.env.BLOCKSCOPE_CONNECTION_LOOP;
  tmp.cleanup();
});

let served = 0;
/** A writable server for `file`, on a Unix socket or loopback TCP, recording its request events. */
async function serveFile(file: string, tcp: boolean, events: RequestEvent[] = []) {
  const server = new NbdServer({ log: () => {} });
  server.on('request', (ev: RequestEvent) => events.push(ev));
  const chain = await registry.build({ plugin: { name: 'file', params: { file } }, filters: [] });
  server.addExport({ name: '', chain, writable: true });
  const listening = await server.listen(tcp ? { host: '127.0.0.1', port: 0 } : { path: path.join(tmp.dir, `s${served++}.sock`) });
  return { server, target: tcp ? { port: listening.port! } : { path: listening.path! } };
}

interface Op {
  kind: 'read' | 'write' | 'flush' | 'status' | 'outside' | 'badflag';
  at: number;
  length: number;
  flag: boolean;
  seed: number;
}

interface Case {
  size: number;
  tcp: boolean;
  structured: boolean;
  meta: boolean;
  stallMs: number;
  ops: Op[];
}

const opArb = (size: number): fc.Arbitrary<Op> => fc.record({
  kind: fc.constantFrom('read', 'read', 'read', 'write', 'write', 'write', 'flush', 'status', 'outside', 'badflag'),
  at: fc.nat(size - 1),
  // Unaligned lengths of every size the loop serves, short and long.
  length: fc.oneof(fc.integer({ min: 1, max: 9 * KiB }), fc.integer({ min: 9 * KiB, max: 600 * KiB })),
  flag: fc.boolean(),
  seed: fc.nat(255),
});

const caseArb: fc.Arbitrary<Case> = fc.integer({ min: 64 * KiB, max: 3 * MiB }).chain((size) => fc.record({
  size: fc.constant(size),
  tcp: fc.boolean(),
  structured: fc.boolean(),
  meta: fc.boolean(),
  // A client that reads late fills the socket, so the loop waits to send.
  stallMs: fc.constantFrom(0, 0, 30),
  ops: fc.array(opArb(size), { minLength: 1, maxLength: 14 }),
}));

/**
 * The wire requests of a case. Requests in flight together run in no set order, so a WRITE
 * never overlaps another request of its batch: then both paths must give the same bytes.
 */
function wireRequests(c: Case): WireRequest[] {
  const out: WireRequest[] = [];
  const writes: [number, number][] = [];
  const others: [number, number][] = [];
  const overlaps = (list: [number, number][], a: number, b: number) => list.some(([x, y]) => a < y && b > x);
  for (const op of c.ops) {
    const length = Math.min(op.length, c.size - op.at);
    const end = op.at + length;
    switch (op.kind) {
      case 'read':
        if (overlaps(writes, op.at, end)) continue;
        others.push([op.at, end]);
        out.push({ type: CMD.READ, flags: op.flag && c.structured ? CMD_FLAG.DF : op.flag ? CMD_FLAG.FUA : 0, offset: op.at, length });
        break;
      case 'write': {
        if (overlaps(writes, op.at, end) || overlaps(others, op.at, end)) continue;
        writes.push([op.at, end]);
        const payload = Buffer.alloc(length, op.seed);
        for (let i = 0; i < length; i += 4096) payload[i] = (op.seed + i / 4096) & 0xff;
        out.push({ type: CMD.WRITE, flags: op.flag ? CMD_FLAG.FUA : 0, offset: op.at, length, payload });
        break;
      }
      case 'flush':
        out.push({ type: CMD.FLUSH, flags: 0, offset: 0, length: 0 });
        break;
      case 'status':
        if (!(c.structured && c.meta) || overlaps(writes, op.at, end)) continue;
        others.push([op.at, end]);
        out.push({ type: CMD.BLOCK_STATUS, flags: op.flag ? CMD_FLAG.REQ_ONE : 0, offset: op.at, length });
        break;
      case 'outside':
        // Past the end: the loop leaves it to the JavaScript path, which answers an error.
        out.push(op.flag
          ? { type: CMD.READ, flags: 0, offset: c.size - 1, length: 2 }
          : { type: CMD.WRITE, flags: 0, offset: c.size, length: 1 + op.seed, payload: Buffer.alloc(1 + op.seed, 7) });
        break;
      case 'badflag':
        // DF without structured replies, or REQ_ONE on a READ: invalid, answered EINVAL.
        if (overlaps(writes, op.at, end)) continue;
        others.push([op.at, end]);
        out.push({ type: CMD.READ, flags: c.structured ? CMD_FLAG.REQ_ONE : CMD_FLAG.DF, offset: op.at, length });
        break;
    }
  }
  return out;
}

const WARM_UP: WireRequest = { type: CMD.READ, flags: 0, offset: 0, length: 1 };

/** One batch on a fresh connection with the loop on or off; the replies by cookie. */
async function repliesWith(loop: boolean, target: { path: string } | { port: number }, c: Case, batch: WireRequest[]) {
  process.env.BLOCKSCOPE_CONNECTION_LOOP = loop ? '1' : '0';
  const client = await RawNbdClient.connect(target, c.structured, c.meta);
  try {
    // The loop takes a connection over after its first READ or WRITE, served by the event loop.
    await client.batch([WARM_UP]);
    return await client.batch(batch, c.stallMs);
  } finally {
    client.close();
  }
}

/** What a request event says, without its timing, in an order that does not depend on timing. */
function summary(events: RequestEvent[]): string[] {
  return events.map((e) => `${e.op} ${e.offset}+${e.length}${e.error ? ` ${e.error}` : ''}`).sort();
}

/** A file of `size` bytes whose every 4 KiB block says where it is. */
function patterned(file: string, size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let at = 0; at + 4 <= size; at += 4096) b.writeUInt32BE(at / 4096, at);
  writeFileSync(file, b);
  return b;
}

/** A client of a fresh server for a patterned file of `size` bytes, with the loop on; both closed after `use`. */
async function withClient(name: string, size: number, structured: boolean, meta: boolean, use: (client: RawNbdClient) => Promise<void>): Promise<void> {
  const file = path.join(tmp.dir, name);
  patterned(file, size);
  const { server, target } = await serveFile(file, true);
  process.env.BLOCKSCOPE_CONNECTION_LOOP = '1';
  const client = await RawNbdClient.connect(target, structured, meta);
  try {
    await use(client);
  } finally {
    client.close();
    await server.close();
  }
}

describe.skipIf(!hasLoop)('the connection loop', () => {
  it('answers byte for byte as the JavaScript path does, and leaves the file the same', async () => {
    const before = { ...counted };
    await fc.assert(fc.asyncProperty(caseArb, async (c) => {
      const batch = wireRequests(c);
      const result = async (loop: boolean) => {
        const file = path.join(tmp.dir, loop ? 'on.img' : 'off.img');
        patterned(file, c.size);
        const events: RequestEvent[] = [];
        const { server, target } = await serveFile(file, c.tcp, events);
        try {
          const replies = await repliesWith(loop, target, c, batch);
          // The events of what the loop served arrive in batches: wait for the last.
          await expect.poll(() => events.length, { timeout: 5_000 }).toBe(batch.length + 1);
          return { replies, events: summary(events), bytes: readFileSync(file) };
        } finally {
          await server.close();
        }
      };
      const off = await result(false);
      const on = await result(true);
      const model = patterned(path.join(tmp.dir, 'model.img'), c.size);
      for (const r of batch) if (r.type === CMD.WRITE && r.offset + r.length <= c.size) r.payload!.copy(model, r.offset);
      const differing = batch.filter((_, i) => !on.replies.get(i + 1)!.equals(off.replies.get(i + 1)!));
      expect(differing).toEqual([]);
      for (const [i, r] of batch.entries()) {
        const reply = on.replies.get(i + 1)!;
        const failed = reply.readUInt32BE(0) === SIMPLE_REPLY_MAGIC ? reply.readUInt32BE(4) !== 0 : reply.readUInt16BE(6) >= 0x8000;
        if (r.type === CMD.READ && !failed) expect(readReplyData(reply, r.offset, r.length).equals(off.bytes.subarray(r.offset, r.offset + r.length))).toBe(true);
      }
      expect(on.bytes.equals(off.bytes)).toBe(true);
      expect(on.bytes.equals(model)).toBe(true);
      expect(on.events).toEqual(off.events);
    }), propertyParams(40));
    // The loop served most of it: the property would pass with the loop never running.
    expect(counted.starts - before.starts).toBeGreaterThan(0);
    expect(counted.served - before.served).toBeGreaterThan(40);
  }, propertyTimeout(240_000));

  it('is not started for a client of block status alone, and starts with its first READ', async () => {
    await withClient('status.img', MiB, true, true, async (client) => {
      const before = { ...counted };
      // One request at a time, as qemu asks for block status.
      for (let i = 0; i < 100; i++) {
        const replies = await client.batch([{ type: CMD.BLOCK_STATUS, flags: CMD_FLAG.REQ_ONE, offset: (i * 4096) % MiB, length: 4096 }]);
        expect(replies.size).toBe(1);
      }
      expect(counted.starts).toBe(before.starts);
      // The first READ is served here, the loop starts after it and serves the second.
      for (const at of [8192, 12288]) {
        const r = await client.batch([{ type: CMD.READ, flags: 0, offset: at, length: 4096 }]);
        expect(readReplyData(r.get(1)!, at, 4096).readUInt32BE(0)).toBe(at / 4096);
      }
      expect(counted.starts).toBe(before.starts + 1);
      await expect.poll(() => counted.served).toBe(before.served + 1);
    });
  });

  it('stops being started for a client whose reads it only hands back', async () => {
    // Structured replies without base:allocation: long READs are answered with hole chunks
    // where there are holes (sparse-read.ts), which only the event loop does.
    await withClient('holes.img', MiB, true, false, async (client) => {
      const before = counted.starts;
      for (let i = 0; i < 300; i++) {
        const at = (i * 64 * KiB) % (MiB - 64 * KiB);
        const r = await client.batch([{ type: CMD.READ, flags: 0, offset: at, length: 64 * KiB }]);
        expect(readReplyData(r.get(1)!, at, 64 * KiB).readUInt32BE(0)).toBe(at / 4096);
      }
      // Doubling the READs served here between tries: 1 + 2 + 4 + ... reaches 300 in 9.
      expect(counted.starts - before).toBeLessThanOrEqual(10);
    });
  });

  it('keeps serving other clients when one hangs up mid-header or mid-payload', async () => {
    const file = path.join(tmp.dir, 'hangup.img');
    const model = patterned(file, MiB);
    const { server, target } = await serveFile(file, false);
    process.env.BLOCKSCOPE_CONNECTION_LOOP = '1';
    try {
      const steady = await RawNbdClient.connect(target, true, true);
      for (const cut of [5, 28 + 100]) {
        const leaving = await RawNbdClient.connect(target, false, false);
        // A first READ, after which the loop has the connection.
        const starts = counted.starts;
        await leaving.batch([{ type: CMD.READ, flags: 0, offset: 0, length: 4096 }]);
        await expect.poll(() => counted.starts).toBe(starts + 1);
        // A WRITE of 64 KiB at 0, cut after `cut` bytes: half its header, or part of its payload.
        const whole = Buffer.concat([encodeRequest({ type: CMD.WRITE, flags: 0, cookie: 1, offset: 0, length: 64 * KiB }), Buffer.alloc(64 * KiB, 0xab)]);
        leaving.sock.write(whole.subarray(0, cut));
        await new Promise((r) => setTimeout(r, 50));
        leaving.close();
        const replies = await steady.batch([{ type: CMD.READ, flags: 0, offset: 0, length: 256 * KiB }]);
        // The cut WRITE wrote nothing: its payload never arrived whole.
        expect(readReplyData(replies.get(1)!, 0, 256 * KiB).equals(model.subarray(0, 256 * KiB))).toBe(true);
      }
      steady.close();
      await expect.poll(() => server.connections.length, { timeout: 5_000 }).toBe(0);
    } finally {
      await server.close();
    }
  });

  it('lets a closing server close at once while its clients wait in the loop', async () => {
    const file = path.join(tmp.dir, 'idle.img');
    patterned(file, MiB);
    const { server, target } = await serveFile(file, true);
    process.env.BLOCKSCOPE_CONNECTION_LOOP = '1';
    const clients = await Promise.all(Array.from({ length: 3 }, () => RawNbdClient.connect(target, true, false)));
    // After a first READ each connection is the loop's.
    const starts = counted.starts;
    for (const c of clients) await c.batch([{ type: CMD.READ, flags: 0, offset: 0, length: 4096 }]);
    await expect.poll(() => counted.starts).toBe(starts + 3);
    const closed = clients.map((c) => new Promise<void>((r) => c.sock.once('close', () => r())));
    const t0 = Date.now();
    await server.close();
    await Promise.all(closed);
    expect(Date.now() - t0).toBeLessThan(2_000);
  });

  it('is not used over a chain with a layer that acts on reads or writes', async () => {
    const file = path.join(tmp.dir, 'filtered.img');
    patterned(file, MiB);
    const server = new NbdServer({ log: () => {} });
    const chain = await registry.build({ plugin: { name: 'file', params: { file } }, filters: [{ name: 'cow', params: {}, enabled: true }] });
    server.addExport({ name: '', chain, writable: true });
    const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
    process.env.BLOCKSCOPE_CONNECTION_LOOP = '1';
    const before = counted.starts;
    const client = await RawNbdClient.connect({ port: port! }, true, false);
    try {
      await client.batch([{ type: CMD.WRITE, flags: 0, offset: 0, length: 4096, payload: Buffer.alloc(4096, 1) }]);
      const r = await client.batch([{ type: CMD.READ, flags: 0, offset: 0, length: 8192 }]);
      expect(counted.starts).toBe(before);
      // cow kept the write to itself: the file's first block still says 0, and the read saw the write.
      expect(readFileSync(file).readUInt32BE(0)).toBe(0);
      expect(readReplyData(r.get(1)!, 0, 8192).subarray(0, 4096).equals(Buffer.alloc(4096, 1))).toBe(true);
    } finally {
      client.close();
      await server.close();
    }
  });
});
