// The connection loop (native/connection_loop.cc) against the JavaScript path, on a real server
// over real sockets: for random batches of READs, WRITEs (FUA or not), FLUSHes, BLOCK_STATUS
// (REQ_ONE or not) and requests the loop must leave alone (out of range, bad flags), at
// unaligned offsets and lengths, on files of random data, holes and unwritten (allocated,
// zero-reading) extents and unaligned sizes, with several in flight and a client that reads
// late, every reply must be the same bytes with the loop on and off, the file must end up the
// same, the extents said to read as zero must, and the server must report the same requests.
// Also: the loop really serves (its starts and served requests are counted), a client that
// only asks what the loop hands back does not keep it starting, clients that hang up
// mid-request do not disturb others, and a server closing with clients idle in the loop
// closes at once.
import fc from 'fast-check';
import { closeSync, openSync, readFileSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registry } from '../catalog.ts';
import { nativeIo } from '../native-io.ts';
import { tempDir } from '../temp-dir.ts';
import { propertyParams, propertyTimeout } from '../testing/property-params.ts';
import { EVENT_FIELDS, type LoopMessage } from './connection-loop.ts';
import { RawNbdClient, readReplyData, type WireRequest } from './fast-read.testing.ts';
import { CMD, CMD_FLAG, REPLY_TYPE, SIMPLE_REPLY_MAGIC } from './protocol.ts';
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

/** Loops started and requests they served (BLOCK_STATUS also apart), counted by wrapping the addon's startLoop. */
const counted = { starts: 0, served: 0, status: 0 };
let restore = () => {};
beforeAll(() => {
  const real = io?.startLoop;
  if (!io || !real) return;
  io.startLoop = (sock, file, settings, onMessage) => {
    counted.starts++;
    return real(sock, file, settings, (events, end) => {
      counted.served += events.length / EVENT_FIELDS;
      for (let i = 0; i < events.length; i += EVENT_FIELDS) if (events[i] === CMD.BLOCK_STATUS) counted.status++;
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

/** A run of 4 KiB blocks of the file: written, never written, or allocated but unwritten. */
interface Run {
  kind: 'data' | 'hole' | 'unwritten';
  blocks: number;
}

interface Case {
  size: number;
  layout: Run[];
  tcp: boolean;
  structured: boolean;
  meta: boolean;
  stallMs: number;
  ops: Op[];
}

type Kind = Op['kind'];
const MIXED: Kind[] = ['read', 'read', 'read', 'write', 'write', 'write', 'flush', 'status', 'outside', 'badflag'];
/** qemu's traffic: block status one extent at a time, with some reads and writes. */
const MAPPING: Kind[] = ['status', 'status', 'status', 'status', 'read', 'write'];

const opArb = (size: number, kinds: Kind[]): fc.Arbitrary<Op> => fc.record({
  kind: fc.constantFrom(...kinds),
  at: fc.nat(size - 1),
  // Unaligned lengths of every size the loop serves, short and long.
  length: fc.oneof(fc.integer({ min: 1, max: 9 * KiB }), fc.integer({ min: 9 * KiB, max: 600 * KiB })),
  flag: fc.boolean(),
  seed: fc.nat(255),
});

/**
 * Cases of requests of `kinds` on files of `runs`. Unwritten extents only where the map is
 * asked for by BLOCK_STATUS alone (meta true): a READ that looks for holes reads too, which
 * changes what SEEK_DATA says of unwritten blocks (see wireRequests).
 */
const caseArb = (kinds: Kind[], meta: fc.Arbitrary<boolean>, runs: Run['kind'][]): fc.Arbitrary<Case> => fc.integer({ min: 64 * KiB, max: 3 * MiB }).chain((size) => fc.record({
  size: fc.constant(size),
  layout: fc.array(fc.record({ kind: fc.constantFrom(...runs), blocks: fc.integer({ min: 1, max: 48 }) }), { minLength: 1, maxLength: 24 }),
  tcp: fc.boolean(),
  structured: meta.chain((m) => (m ? fc.constant(true) : fc.boolean())),
  meta,
  // A client that reads late fills the socket, so the loop waits to send.
  stallMs: fc.constantFrom(0, 0, 30),
  ops: fc.array(opArb(size, kinds), { minLength: 1, maxLength: 14 }),
}));

/**
 * The wire requests of a case. Requests in flight together run in no set order, so a WRITE
 * never comes near another request of its batch: a write allocates whole blocks, and ext4
 * turns unwritten blocks up to 32 KiB around it into data, which a map or a READ's hole
 * chunks show. Then both paths must give the same bytes.
 */
const WRITE_REACH = 64 * KiB;

/**
 * Also, on a file with unwritten extents, READs and BLOCK_STATUS do not share a batch: reading
 * brings those blocks into the page cache (readahead reaches 8 MiB on this VM), after which
 * SEEK_DATA calls them data, so the map would depend on the order the batch ran in.
 */
function wireRequests(c: Case): WireRequest[] {
  const readsChangeTheMap = c.layout.some((r) => r.kind === 'unwritten');
  let reads = false;
  let maps = false;
  const out: WireRequest[] = [];
  const writes: [number, number][] = [];
  const others: [number, number][] = [];
  const overlaps = (list: [number, number][], a: number, b: number) => list.some(([x, y]) => a < y && b > x);
  for (const op of c.ops) {
    const length = Math.min(op.length, c.size - op.at);
    const end = Math.ceil((op.at + length) / 4096) * 4096;
    const at = op.at - (op.at % 4096);
    switch (op.kind) {
      case 'read':
        if (overlaps(writes, at, end) || (readsChangeTheMap && maps)) continue;
        reads = true;
        others.push([at, end]);
        out.push({ type: CMD.READ, flags: op.flag && c.structured ? CMD_FLAG.DF : op.flag ? CMD_FLAG.FUA : 0, offset: op.at, length });
        break;
      case 'write': {
        const reach: [number, number] = [at - WRITE_REACH, end + WRITE_REACH];
        if (overlaps(writes, ...reach) || overlaps(others, ...reach)) continue;
        writes.push(reach);
        const payload = Buffer.alloc(length, op.seed);
        for (let i = 0; i < length; i += 4096) payload[i] = (op.seed + i / 4096) & 0xff;
        out.push({ type: CMD.WRITE, flags: op.flag ? CMD_FLAG.FUA : 0, offset: op.at, length, payload });
        break;
      }
      case 'flush':
        out.push({ type: CMD.FLUSH, flags: 0, offset: 0, length: 0 });
        break;
      case 'status':
        if (!(c.structured && c.meta) || overlaps(writes, at, end) || (readsChangeTheMap && reads)) continue;
        maps = true;
        others.push([at, end]);
        // Mostly REQ_ONE, as qemu asks.
        out.push({ type: CMD.BLOCK_STATUS, flags: op.flag || op.seed % 4 !== 0 ? CMD_FLAG.REQ_ONE : 0, offset: op.at, length });
        break;
      case 'outside':
        // Past the end: the loop leaves it to the JavaScript path, which answers an error.
        out.push(op.flag
          ? { type: CMD.READ, flags: 0, offset: c.size - 1, length: 2 }
          : { type: CMD.WRITE, flags: 0, offset: c.size, length: 1 + op.seed, payload: Buffer.alloc(1 + op.seed, 7) });
        break;
      case 'badflag':
        // DF without structured replies, or REQ_ONE on a READ: invalid, answered EINVAL.
        if (overlaps(writes, at, end)) continue;
        others.push([at, end]);
        out.push({ type: CMD.READ, flags: c.structured ? CMD_FLAG.REQ_ONE : CMD_FLAG.DF, offset: op.at, length });
        break;
    }
  }
  return out;
}

/** A first request the event loop serves, after which the connection loop takes over: a map request where there can be one, so that no READ brings the file into the page cache (see wireRequests). */
function warmUp(c: Case): WireRequest {
  return { type: c.structured && c.meta ? CMD.BLOCK_STATUS : CMD.READ, flags: c.structured && c.meta ? CMD_FLAG.REQ_ONE : 0, offset: 0, length: 1 };
}

/** One batch on a fresh connection with the loop on or off; the replies by cookie. */
async function repliesWith(loop: boolean, target: { path: string } | { port: number }, c: Case, batch: WireRequest[]) {
  process.env.BLOCKSCOPE_CONNECTION_LOOP = loop ? '1' : '0';
  const client = await RawNbdClient.connect(target, c.structured, c.meta);
  try {
    // The loop takes a connection over after its first READ or WRITE, served by the event loop.
    await client.batch([warmUp(c)]);
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

/** A case's file: its layout's data blocks patterned, the rest holes or unwritten extents, the tail a hole. Returns its bytes. */
function laidOut(file: string, c: Case): Buffer {
  const bytes = Buffer.alloc(c.size);
  writeFileSync(file, '');
  const fd = openSync(file, 'r+');
  try {
    let at = 0;
    for (const run of c.layout) {
      const end = Math.min(c.size, at + run.blocks * 4096);
      if (run.kind === 'data') {
        for (let b = at; b + 4 <= end; b += 4096) bytes.writeUInt32BE(b / 4096 + 1, b);
        writeSync(fd, bytes, at, end - at, at);
      } else if (run.kind === 'unwritten' && end > at) {
        // Where the file system has no unwritten extents this is data that reads as zero.
        nativeIo()!.fallocate(fd, 0, at, end - at);
      }
      at = end;
    }
  } finally {
    closeSync(fd);
  }
  truncateSync(file, c.size);
  return bytes;
}

/** The descriptors of a structured BLOCK_STATUS reply; null for any other reply. */
function statusDescriptors(reply: Buffer): { length: number; flags: number }[] | null {
  if (reply.readUInt32BE(0) === SIMPLE_REPLY_MAGIC || reply.readUInt16BE(6) !== REPLY_TYPE.BLOCK_STATUS) return null;
  const out = [];
  for (let at = 24; at + 8 <= 20 + reply.readUInt32BE(16); at += 8) out.push({ length: reply.readUInt32BE(at), flags: reply.readUInt32BE(at + 4) });
  return out;
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

/**
 * A case's batch on a fresh server and file with the loop off, then on: same replies, same
 * file (the model's bytes), same request events; READs give the file's bytes and extents said
 * to read as zero do.
 */
async function loopMatchesJavaScript(c: Case): Promise<void> {
  const batch = wireRequests(c);
  const result = async (loop: boolean) => {
    const file = path.join(tmp.dir, loop ? 'on.img' : 'off.img');
    laidOut(file, c);
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
  const model = laidOut(path.join(tmp.dir, 'model.img'), c);
  for (const r of batch) if (r.type === CMD.WRITE && r.offset + r.length <= c.size) r.payload!.copy(model, r.offset);
  const differing = batch.filter((_, i) => !on.replies.get(i + 1)!.equals(off.replies.get(i + 1)!));
  expect(differing).toEqual([]);
  for (const [i, r] of batch.entries()) {
    const reply = on.replies.get(i + 1)!;
    const failed = reply.readUInt32BE(0) === SIMPLE_REPLY_MAGIC ? reply.readUInt32BE(4) !== 0 : reply.readUInt16BE(6) >= 0x8000;
    if (r.type === CMD.READ && !failed) expect(readReplyData(reply, r.offset, r.length).equals(off.bytes.subarray(r.offset, r.offset + r.length))).toBe(true);
    const extents = r.type === CMD.BLOCK_STATUS ? statusDescriptors(reply) : null;
    if (!extents) continue;
    if (r.flags & CMD_FLAG.REQ_ONE) expect(extents.length).toBe(1);
    // What is said to read as zero does (the batch's WRITEs share no block with it).
    let at = r.offset;
    for (const e of extents) {
      expect(e.length).toBeGreaterThan(0);
      if (e.flags & 2) expect(model.subarray(at, Math.min(c.size, at + e.length)).every((x) => x === 0)).toBe(true);
      at += e.length;
    }
    expect(at).toBeLessThanOrEqual(r.offset + r.length);
  }
  expect(on.bytes.equals(off.bytes)).toBe(true);
  expect(on.bytes.equals(model)).toBe(true);
  expect(on.events).toEqual(off.events);
}

describe.skipIf(!hasLoop)('the connection loop', () => {
  it('answers byte for byte as the JavaScript path does, and leaves the file the same', async () => {
    const before = { ...counted };
    await fc.assert(fc.asyncProperty(caseArb(MIXED, fc.boolean(), ['data', 'hole']), loopMatchesJavaScript), propertyParams(40));
    // The loop served most of it: the property would pass with the loop never running.
    expect(counted.starts - before.starts).toBeGreaterThan(0);
    expect(counted.served - before.served).toBeGreaterThan(40);
  }, propertyTimeout(240_000));

  it('answers block status as the JavaScript path does, over files of data, holes and unwritten extents', async () => {
    const before = counted.status;
    await fc.assert(fc.asyncProperty(caseArb(MAPPING, fc.constant(true), ['data', 'hole', 'unwritten']), loopMatchesJavaScript), propertyParams(40));
    // Most REQ_ONE requests were the loop's: the property would pass with the loop never answering one.
    expect(counted.status - before).toBeGreaterThan(40);
  }, propertyTimeout(240_000));

  it('serves block status one extent at a time, as qemu asks, from the second request on, and is not started by whole-range maps', async () => {
    await withClient('status.img', MiB, true, true, async (client) => {
      const before = { ...counted };
      // nbdinfo --map asks for whole ranges: the JavaScript path answers, the loop is not started.
      for (let i = 0; i < 20; i++) expect((await client.batch([{ type: CMD.BLOCK_STATUS, flags: 0, offset: 0, length: MiB }])).size).toBe(1);
      expect(counted.starts).toBe(before.starts);
      // One request at a time, as qemu asks: the first is served here, the loop the rest.
      for (let i = 0; i < 100; i++) {
        const replies = await client.batch([{ type: CMD.BLOCK_STATUS, flags: CMD_FLAG.REQ_ONE, offset: (i * 4096) % MiB, length: 4096 }]);
        expect(statusDescriptors(replies.get(1)!)).toEqual([{ length: 4096, flags: 0 }]);
      }
      expect(counted.starts).toBe(before.starts + 1);
      await expect.poll(() => counted.status).toBe(before.status + 99);
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
