// The READ fast path against the ordinary one, on a real server over real sockets: every reply
// must be the same bytes with sendfile on and off (simple or structured, with or without
// base:allocation, DF, BLOCK_STATUS with REQ_ONE between the reads, several in flight, a
// client that reads its replies late so sends come back partial), the fast path must run
// exactly for the READs it is meant for, many connections at once must all get their data,
// and clients that hang up mid-reply must not disturb the others.
import fc from 'fast-check';
import { closeSync, fdatasyncSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registry } from '../catalog.ts';
import { nativeIo } from '../native-io.ts';
import { tempDir } from '../temp-dir.ts';
import { propertyParams, propertyTimeout } from '../testing/property-params.ts';
import { writeSparseFile, type DataRun } from '../testing/sparse-file.ts';
import { FILE_REPLY_MIN } from './fast-read.ts';
import { countKernelSends, RawNbdClient, readReplyData, type KernelSendCall, type WireRequest } from './fast-read.testing.ts';
import { CMD, CMD_FLAG } from './protocol.ts';
import { encodeRequest } from './request-header.ts';
import { NbdServer } from './server.ts';

const KiB = 1024;
/** posix_fadvise's DONTNEED (the addon exports only the advice the plugin uses). */
const POSIX_FADV_DONTNEED = 4;
const MiB = 1024 * KiB;
const tmp = tempDir('blockscope-fast-read-');
const calls: KernelSendCall[] = [];
const uncached = { count: 0 };
let restore = () => {};
/** Without the addon (or with BLOCKSCOPE_NO_NATIVE=1) there is no fast path to compare. */
const hasSendfile = (nativeIo() as { sendFileReply?: unknown } | null)?.sendFileReply !== undefined;
// A skip says why in the output: the pure-JS path these replies are compared with is tested everywhere else.
if (!hasSendfile) console.warn('fast-read.test: skipped: the native addon with sendFileReply is not loaded here (npm run build:native; BLOCKSCOPE_NO_NATIVE unset)');
beforeAll(() => {
  // The JavaScript path's sendfile is what these tests are about: the connection loop
  // (connection-loop.test.ts) would serve these plain file connections itself.
  process.env.BLOCKSCOPE_CONNECTION_LOOP = '0';
  if (hasSendfile) restore = countKernelSends(calls, uncached);
});
afterAll(() => {
  delete process.env.BLOCKSCOPE_CONNECTION_LOOP;
  restore();
  tmp.cleanup();
});

let served = 0;
/** A server for `file` through `filters`, on a Unix socket or loopback TCP. */
async function serveFile(file: string, tcp: boolean, filters: string[] = []): Promise<{ server: NbdServer; target: { path: string } | { port: number } }> {
  const server = new NbdServer({ log: () => {} });
  const chain = await registry.build({ plugin: { name: 'file', params: { file } }, filters: filters.map((name) => ({ name, params: {}, enabled: true })) });
  server.addExport({ name: '', chain, writable: false });
  const listening = await server.listen(tcp ? { host: '127.0.0.1', port: 0 } : { path: path.join(tmp.dir, `s${served++}.sock`) });
  return { server, target: tcp ? { port: listening.port! } : { path: listening.path! } };
}

/**
 * Replies to one batch on a fresh connection, with the fast path on or off. Off, small replies
 * also go through Node's stream rather than straight to the socket (reply-writer.ts's
 * sendNow), so the comparison is with the wholly ordinary path.
 */
async function repliesWith(fast: boolean | null, target: { path: string } | { port: number }, structured: boolean, meta: boolean, batch: WireRequest[], stallMs: number) {
  const knobs = ['BLOCKSCOPE_FAST_READ', 'BLOCKSCOPE_DIRECT_REPLIES'];
  if (fast !== null) for (const knob of knobs) process.env[knob] = fast ? '1' : '0';
  const client = await RawNbdClient.connect(target, structured, meta);
  try {
    return await client.batch(batch, stallMs);
  } finally {
    client.close();
    if (fast !== null) for (const knob of knobs) delete process.env[knob];
  }
}

interface Case {
  size: number;
  runs: DataRun[];
  tcp: boolean;
  structured: boolean;
  meta: boolean;
  stallMs: number;
  requests: { read: boolean; at: number; length: number; flag: boolean }[];
}

const caseArb: fc.Arbitrary<Case> = fc.integer({ min: 64 * KiB, max: 3 * MiB }).chain((size) => fc.record({
  size: fc.constant(size),
  runs: fc.array(fc.record({ offset: fc.nat(size - 1), length: fc.integer({ min: 1, max: 512 * KiB }) }), { maxLength: 6 })
    .map((runs) => runs.map((r) => ({ offset: r.offset, length: Math.min(r.length, size - r.offset) }))),
  tcp: fc.boolean(),
  structured: fc.boolean(),
  meta: fc.boolean(),
  // A client that reads late fills the socket, so some sends come back partial.
  stallMs: fc.constantFrom(0, 0, 30),
  requests: fc.array(fc.record({
    read: fc.nat(3).map((n) => n > 0),
    at: fc.nat(size - 1),
    // Short reads (the ordinary path) and long ones (sendfile) in the same batch.
    length: fc.oneof(fc.integer({ min: 1, max: 70 * KiB }), fc.integer({ min: FILE_REPLY_MIN, max: 2 * MiB })),
    flag: fc.boolean(),
  }), { minLength: 1, maxLength: 12 }),
}));

/** The wire requests of a case: lengths clipped to the disk, DF only where structured replies allow it. */
function wireRequests(c: Case): WireRequest[] {
  return c.requests.map((r) => {
    const length = Math.min(r.length, c.size - r.at);
    if (r.read || !(c.structured && c.meta)) {
      return { type: CMD.READ, flags: r.flag && c.structured ? CMD_FLAG.DF : 0, offset: r.at, length };
    }
    return { type: CMD.BLOCK_STATUS, flags: r.flag ? CMD_FLAG.REQ_ONE : 0, offset: r.at, length };
  });
}

/** The READs meant for the fast path: long enough, and not ones the sparse-read policy answers with holes. */
function fastEligible(c: Case, batch: WireRequest[]): number {
  return batch.filter((r) => r.type === CMD.READ && r.length >= FILE_REPLY_MIN &&
    (!c.structured || c.meta || (r.flags & CMD_FLAG.DF) !== 0)).length;
}

describe.skipIf(!hasSendfile)('READ replies straight from the file (sendfile)', () => {
  it('are byte for byte the replies of the ordinary path', async () => {
    let partial = 0;
    let evicted = 0;
    await fc.assert(fc.asyncProperty(caseArb, async (c) => {
      const file = path.join(tmp.dir, 'disk.img');
      const model = writeSparseFile(file, c.size, c.runs);
      const { server, target } = await serveFile(file, c.tcp);
      try {
        const batch = wireRequests(c);
        calls.length = 0;
        const off = await repliesWith(false, target, c.structured, c.meta, batch, c.stallMs);
        expect(calls).toEqual([]);
        // The same reads just went the ordinary way, so every page is cached: all eligible READs
        // go by sendfile, but for any whose pages the kernel evicted in between (this VM runs
        // DAMON reclaim), which the fast path must decline and the ordinary path answer.
        uncached.count = 0;
        const on = await repliesWith(true, target, c.structured, c.meta, batch, c.stallMs);
        expect(calls.length + uncached.count).toBe(fastEligible(c, batch));
        evicted += uncached.count;
        partial += calls.filter((k) => k.took < k.asked).length;
        // Buffer.equals, not toEqual: a deep compare of megabytes costs seconds.
        const differing = batch.filter((r, i) => !on.get(i + 1)!.equals(off.get(i + 1)!) ||
          (r.type === CMD.READ && !readReplyData(on.get(i + 1)!, r.offset, r.length).equals(model.subarray(r.offset, r.offset + r.length))));
        expect(differing).toEqual([]);
      } finally {
        await server.close();
      }
    }), propertyParams(40));
    // The socket filled at least once, so the rest-of-reply path ran too.
    expect(partial).toBeGreaterThan(0);
    if (evicted > 0) console.warn(`fast-read.test: ${evicted} READs found their pages evicted after the warm-up and went the ordinary way`);
  }, propertyTimeout(180_000));

  it('serve 24 connections at once, each with reads in flight', async () => {
    const size = 8 * MiB;
    const file = path.join(tmp.dir, 'many.img');
    const model = writeSparseFile(file, size, [{ offset: 0, length: 3 * MiB }, { offset: 5 * MiB, length: 3 * MiB }]);
    // Holes are in the page cache only once read; the fast path takes cached data only.
    readFileSync(file);
    const { server, target } = await serveFile(file, true);
    calls.length = 0;
    process.env.BLOCKSCOPE_FAST_READ = '1';
    try {
      const results = await Promise.all(Array.from({ length: 24 }, async (_, n) => {
        const batch = Array.from({ length: 8 }, (_, i) => ({ type: CMD.READ, flags: 0, offset: ((n * 8 + i) * 331 * KiB + n) % (size - MiB), length: 256 * KiB + n * 7 }));
        const replies = await repliesWith(null, target, n % 2 === 0, true, batch, n % 3 === 0 ? 20 : 0);
        return batch.map((r, i) => readReplyData(replies.get(i + 1)!, r.offset, r.length).equals(model.subarray(r.offset, r.offset + r.length)));
      }));
      expect(results.flat().filter((same) => !same)).toEqual([]);
      expect(calls.length).toBe(24 * 8);
    } finally {
      delete process.env.BLOCKSCOPE_FAST_READ;
      await server.close();
    }
  }, 60_000);

  it('survive clients that hang up with replies half sent, and keep serving the others', async () => {
    const file = path.join(tmp.dir, 'hangup.img');
    const model = writeSparseFile(file, 4 * MiB, [{ offset: 0, length: 4 * MiB }]);
    const { server, target } = await serveFile(file, true);
    try {
      const reads = Array.from({ length: 8 }, (_, i) => ({ type: CMD.READ, flags: 0, offset: i * 256 * KiB, length: 2 * MiB }));
      for (let i = 0; i < 6; i++) {
        const quitter = await RawNbdClient.connect(target, i % 2 === 0, false);
        quitter.sock.write(Buffer.concat(reads.map((r, n) => encodeRequest({ ...r, cookie: n + 1 }))));
        await new Promise((r) => setTimeout(r, i * 3));
        quitter.close();
      }
      const replies = await repliesWith(true, target, true, true, reads, 0);
      expect(reads.filter((r, i) => !readReplyData(replies.get(i + 1)!, r.offset, r.length).equals(model.subarray(r.offset, r.offset + r.length)))).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('leaves data not yet in the page cache to the ordinary path', async () => {
    const file = path.join(tmp.dir, 'cold.img');
    const model = writeSparseFile(file, 2 * MiB, [{ offset: 0, length: 2 * MiB }]);
    const io = nativeIo()!;
    const fd = openSync(file, 'r');
    fdatasyncSync(fd);
    io.fadvise!(fd, 0, 0, POSIX_FADV_DONTNEED);
    closeSync(fd);
    const { server, target } = await serveFile(file, false);
    calls.length = 0;
    try {
      const read = { type: CMD.READ, flags: 0, offset: MiB, length: 512 * KiB };
      const cold = await repliesWith(true, target, true, true, [read], 0);
      // The ordinary read brought it into the cache: now it goes by sendfile.
      const warm = await repliesWith(true, target, true, true, [read], 0);
      expect(calls.length).toBe(1);
      expect(cold.get(1)!.equals(warm.get(1)!)).toBe(true);
      expect(readReplyData(warm.get(1)!, MiB, 512 * KiB).equals(model.subarray(MiB, MiB + 512 * KiB))).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('is taken through filters that leave reads alone, and not through ones that change them', async () => {
    const file = path.join(tmp.dir, 'filtered.img');
    const model = writeSparseFile(file, MiB, [{ offset: 0, length: MiB }]);
    for (const [filters, fast] of [[['noextents', 'nozero'], true], [['swab'], false]] as const) {
      const { server, target } = await serveFile(file, false, [...filters]);
      calls.length = 0;
      try {
        const replies = await repliesWith(true, target, true, true, [{ type: CMD.READ, flags: 0, offset: 4096, length: 512 * KiB }], 0);
        expect(calls.length).toBe(fast ? 1 : 0);
        const expected = Buffer.from(model.subarray(4096, 4096 + 512 * KiB));
        if (!fast) expected.swap16();
        expect(readReplyData(replies.get(1)!, 4096, 512 * KiB).equals(expected)).toBe(true);
      } finally {
        await server.close();
      }
    }
  });
});
