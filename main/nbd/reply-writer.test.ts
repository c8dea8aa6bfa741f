// The reply writer over a real socket whose peer reads late: small replies that go to the
// socket directly (sendNow), ones the kernel takes only in part, corked batches and large
// replies through Node's stream must all leave whole and in order, a direct send must never
// jump ahead of bytes Node still holds nor a READ reply sent from its file (sendfile) ahead of
// the replies before it, and a pooled reply buffer must not go back to the pool (to be filled
// again) before it has left.
import fc from 'fast-check';
import { closeSync, openSync, readSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeIo } from '../native-io.ts';
import { tempDir } from '../temp-dir.ts';
import { propertyParams, propertyTimeout } from '../testing/property-params.ts';
import { BufferPool } from './buffer-pool.ts';
import { ReplyBudget } from './reply-budget.ts';
import type { FileReply } from './fast-read.ts';
import { ReplyWriter } from './reply-writer.ts';

const io = nativeIo();
const hasDirect = io?.sendReply !== undefined;
if (!hasDirect) console.warn('reply-writer.test: direct sends not tested: the native addon with sendReply is not loaded here (npm run build:native; BLOCKSCOPE_NO_NATIVE unset)');

const tmp = tempDir('blockscope-reply-writer-');
/** What the addon's sendReply was asked and took, for every call while the tests run. */
const sends: { asked: number; took: number }[] = [];
let restore = () => {};
beforeAll(() => {
  if (!hasDirect) return;
  const real = io!.sendReply!;
  io!.sendReply = (fd, bytes) => {
    const took = real(fd, bytes);
    sends.push({ asked: bytes.length, took });
    return took;
  };
  restore = () => { io!.sendReply = real; };
});
afterAll(() => {
  restore();
  tmp.cleanup();
});

let sockets = 0;
/** Both ends of a fresh Unix or loopback TCP connection: [server side, client side]. */
async function socketPair(unix: boolean): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer();
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const where = unix ? path.join(tmp.dir, `s${sockets++}.sock`) : 0;
  await new Promise<void>((resolve) => server.listen(where, '127.0.0.1' as never, resolve));
  const address = server.address();
  const client = typeof address === 'string' ? net.connect(address) : net.connect(address!.port, '127.0.0.1');
  const serverSide = await accepted;
  server.close();
  return [serverSide, client];
}

/** Every byte `client` receives until `total` have come (or 20 s pass). */
function receiveAll(client: net.Socket, total: number, stallMs: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let have = 0;
  if (stallMs > 0) {
    client.pause();
    setTimeout(() => client.resume(), stallMs);
  }
  return new Promise((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`only ${have} of ${total} bytes arrived`)), 20_000);
    client.on('data', (c: Buffer) => {
      chunks.push(c);
      have += c.length;
      if (have >= total) {
        clearTimeout(deadline);
        resolve(Buffer.concat(chunks));
      }
    });
  });
}

/** The file READ replies come from: bytes that differ from every reply's fill. */
const FILE_BYTES = 256 * 1024;
const fileBytes = Buffer.from(Array.from({ length: FILE_BYTES }, (_, i) => (i * 7 + (i >> 9)) & 255));
let fileFd = -1;
beforeAll(() => {
  const file = path.join(tmp.dir, 'payload');
  writeFileSync(file, fileBytes);
  fileFd = openSync(file, 'r');
});
afterAll(() => closeSync(fileFd));

interface Reply {
  size: number;
  /** Other requests in flight: the writer corks and sends the turn's replies together. */
  others: boolean;
  /** Let the event loop turn after this reply (uncorks; Node's writes make progress). */
  yieldAfter: boolean;
  /** The reply's buffer comes from the connection's pool and goes back to it once sent. */
  pooled: boolean;
  /** A READ reply whose payload is sent from a file (sendFile): `size` bytes at this offset. */
  fileAt: number | null;
}

const replyArb: fc.Arbitrary<Reply> = fc.record({
  // Small replies (direct when nothing waits), some past the direct limit, and sizes that
  // repeat, so a pooled buffer is taken again (a simple reply; a 4 KiB and a 64 KiB READ's).
  size: fc.oneof(fc.integer({ min: 1, max: 600 }), fc.integer({ min: 1, max: 70 * 1024 }), fc.constantFrom(16, 4096 + 16, 65536 + 16, 70 * 1024)),
  others: fc.nat(3).map((n) => n === 0),
  yieldAfter: fc.nat(3).map((n) => n === 0),
  pooled: fc.boolean(),
  fileAt: fc.option(fc.nat(FILE_BYTES - 70 * 1024), { freq: 4 }),
});

/** Reply `i` as a file reply: an 8-byte header naming it, then `size` bytes of the file. */
function fileReply(i: number, size: number, offset: number): { reply: FileReply; bytes: Buffer } {
  const header = Buffer.alloc(8, 0xfe);
  header.writeUInt32BE(i, 0);
  const reply: FileReply = {
    header, fd: fileFd, offset, length: size,
    async readRest(into, skip) { readSync(fileFd, into, 0, into.length, offset + skip); },
  };
  return { reply, bytes: Buffer.concat([header, fileBytes.subarray(offset, offset + size)]) };
}

/** Reply `i` of `size` bytes (in `into` if given): its index up front, then a byte that depends on it. */
function replyBytes(i: number, size: number, into?: Buffer): Buffer {
  const b = into ?? Buffer.alloc(size);
  b.fill((i * 37) & 255);
  if (size >= 4) b.writeUInt32BE(i, 0);
  return b;
}

describe.runIf(hasDirect)('ReplyWriter with direct sends', () => {
  it('delivers every reply whole and in order, however the socket takes them', async () => {
    let partial = 0;
    await fc.assert(fc.asyncProperty(fc.array(replyArb, { minLength: 1, maxLength: 150, size: 'large' }), fc.boolean(), fc.constantFrom(0, 0, 25), async (replies, unix, stallMs) => {
      const [serverSide, client] = await socketPair(unix);
      try {
        const pool = new BufferPool(1024 * 1024);
        const writer = new ReplyWriter(serverSide, new ReplyBudget(), pool, () => {});
        const fromFile = replies.map((r, i) => (r.fileAt === null ? null : fileReply(i, r.size, r.fileAt)));
        const expected = Buffer.concat(replies.map((r, i) => fromFile[i]?.bytes ?? replyBytes(i, r.size)));
        const received = receiveAll(client, expected.length, stallMs);
        const before = sends.length;
        for (let i = 0; i < replies.length; i++) {
          const { size, others, pooled, yieldAfter } = replies[i]!;
          const file = fromFile[i];
          if (file) void writer.sendFile(file.reply, { bytes: 0, fileReplies: writer });
          // A pooled buffer is filled in place: one released too early is overwritten here.
          else writer.write(replyBytes(i, size, pooled ? pool.acquire(size) : undefined), others, pooled);
          if (yieldAfter) await new Promise((r) => setImmediate(r));
        }
        const got = await received;
        expect(got.length).toBe(expected.length);
        expect(got.equals(expected)).toBe(true);
        partial += sends.slice(before).filter((s) => s.took >= 0 && s.took < s.asked).length;
        await writer.whenEmpty();
      } finally {
        serverSide.destroy();
        client.destroy();
      }
    }), propertyParams(60));
    expect(sends.filter((s) => s.took === s.asked).length).toBeGreaterThan(0);
    // The socket filled under a direct send at least once, so the rest-of-reply path ran.
    expect(partial).toBeGreaterThan(0);
  }, propertyTimeout(120_000));

  it('leaves every reply to Node with BLOCKSCOPE_DIRECT_REPLIES=0', async () => {
    const [serverSide, client] = await socketPair(false);
    process.env.BLOCKSCOPE_DIRECT_REPLIES = '0';
    try {
      const writer = new ReplyWriter(serverSide, new ReplyBudget(), new BufferPool(1024 * 1024), () => {});
      const received = receiveAll(client, 100, 0);
      const before = sends.length;
      writer.write(replyBytes(0, 100), false);
      expect((await received).equals(replyBytes(0, 100))).toBe(true);
      expect(sends.length).toBe(before);
    } finally {
      delete process.env.BLOCKSCOPE_DIRECT_REPLIES;
      serverSide.destroy();
      client.destroy();
    }
  });
});
