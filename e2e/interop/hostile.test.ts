// Malformed and hostile traffic: each bad client loses only its own connection, with a
// clear log line, and the server goes on serving everyone else.
import { encodeRequest } from '../../main/nbd/request-header.ts';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CMD, OPT } from '../../main/nbd/protocol.ts';
import { CLIENT_FLAGS as clientFlags, encodeOptionHeader as option, goDefault, rawConnect, type RawConnection } from '../fuzz/raw-client.mjs';
import { ok, serve, type Served } from './harness.ts';

let s: Served;
beforeAll(async () => {
  s = await serve(['--writable', 'memory', 'size=1M']);
});
afterAll(async () => s.stop());

function port(): number {
  return Number(new URL(s.uri).port);
}

/** Connect, send `bytes` (after reading the 18-byte greeting), and collect what comes back until close. */
function exchange(build: (sock: net.Socket) => void): Promise<{ received: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    const sock = net.connect(port(), '127.0.0.1');
    const got: Buffer[] = [];
    let greeted = false;
    const timer = setTimeout(() => {
      sock.destroy();
      resolve({ received: Buffer.concat(got), closed: false });
    }, 3000);
    sock.on('data', (d) => {
      got.push(d);
      if (!greeted && Buffer.concat(got).length >= 18) {
        greeted = true;
        build(sock);
      }
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve({ received: Buffer.concat(got), closed: true });
    });
    sock.on('error', () => {});
  });
}

async function stillServes(): Promise<void> {
  expect(await ok('nbdinfo', ['--size', s.uri])).toBe('1048576\n');
}

describe('hostile clients', () => {
  it('bad option magic closes that connection', async () => {
    const r = await exchange((c) => c.write(Buffer.concat([clientFlags, Buffer.alloc(16, 0x41)])));
    expect(r.closed).toBe(true);
    expect(s.stderr()).toMatch(/protocol error: bad option magic; closing this connection/);
    await stillServes();
  });

  it('unknown client flags close the connection', async () => {
    const r = await exchange((c) => c.write(Buffer.from([0xff, 0, 0, 3])));
    expect(r.closed).toBe(true);
    expect(s.stderr()).toMatch(/client flags 0xff000003 include bits the server did not offer/);
    await stillServes();
  });

  it('an absurd option length is refused without reading it', async () => {
    const r = await exchange((c) => c.write(Buffer.concat([clientFlags, option(OPT.GO, 0xfffffff0)])));
    expect(r.closed).toBe(true);
    expect(s.stderr()).toMatch(/option of 4294967280 bytes is too long/);
    await stillServes();
  });

  it('an unknown option gets ERR_UNSUP and the session continues to a successful ABORT', async () => {
    const r = await exchange((c) => c.write(Buffer.concat([clientFlags, option(99, Buffer.alloc(3)), option(OPT.ABORT, Buffer.alloc(0))])));
    const replies = r.received.subarray(18);
    expect(replies.readUInt32BE(8)).toBe(99);
    expect(replies.readUInt32BE(12)).toBe(2 ** 31 + 1);
    const second = replies.subarray(20 + replies.readUInt32BE(16));
    expect([second.readUInt32BE(8), second.readUInt32BE(12)]).toEqual([OPT.ABORT, 1]);
    expect(r.closed).toBe(true);
  });

  it('options out of order (SET_META_CONTEXT before STRUCTURED_REPLY) get ERR_INVALID and the session goes on', async () => {
    const query = Buffer.from('base:allocation');
    const meta = Buffer.alloc(4 + 4 + 4 + query.length);
    meta.writeUInt32BE(0, 0); // export name length 0
    meta.writeUInt32BE(1, 4); // one query
    meta.writeUInt32BE(query.length, 8);
    query.copy(meta, 12);
    const r = await exchange((c) => c.write(Buffer.concat([clientFlags, option(OPT.SET_META_CONTEXT, meta), option(OPT.ABORT, Buffer.alloc(0))])));
    const replies = r.received.subarray(18);
    expect([replies.readUInt32BE(8), replies.readUInt32BE(12)]).toEqual([OPT.SET_META_CONTEXT, 2 ** 31 + 3]);
    expect(replies.subarray(20, 20 + replies.readUInt32BE(16)).toString()).toMatch(/needs structured replies/);
    const second = replies.subarray(20 + replies.readUInt32BE(16));
    expect([second.readUInt32BE(8), second.readUInt32BE(12)]).toEqual([OPT.ABORT, 1]);
  });

  it('malformed GO data gets ERR_INVALID, not a crash', async () => {
    const bad = Buffer.alloc(6);
    bad.writeUInt32BE(1000, 0); // name length longer than the data
    const r = await exchange((c) => c.write(Buffer.concat([clientFlags, option(OPT.GO, bad), option(OPT.ABORT, Buffer.alloc(0))])));
    expect(r.received.subarray(18).readUInt32BE(12)).toBe(2 ** 31 + 3);
    await stillServes();
  });

  it('a truncated handshake (client hangs up mid-option) is just a closed connection', async () => {
    const r = await exchange((c) => c.end(Buffer.concat([clientFlags, option(OPT.GO, 100).subarray(0, 10)])));
    expect(r.closed).toBe(true);
    await stillServes();
  });

  it('a bad request magic in transmission closes the connection', async () => {
    const go = Buffer.alloc(6); // empty name, no info requests
    const r = await exchange((c) => {
      c.write(Buffer.concat([clientFlags, option(OPT.GO, go)]));
      setTimeout(() => c.write(Buffer.alloc(28, 0x42)), 100);
    });
    expect(r.closed).toBe(true);
    expect(s.stderr()).toMatch(/bad request magic 0x42424242/);
    await stillServes();
  });

  it('an oversized WRITE is answered EINVAL after its payload is skipped, and the connection goes on', async () => {
    const go = Buffer.alloc(6);
    const size = 33 * 1024 * 1024;
    const req = (type: number, cookie: number, length: number) => {
      return encodeRequest({ type, cookie, length });
    };
    const r = await exchange((c) => {
      c.write(Buffer.concat([clientFlags, option(OPT.GO, go)]));
      setTimeout(() => {
        c.write(req(CMD.WRITE, 7, size));
        c.write(Buffer.alloc(size));
        c.write(req(CMD.FLUSH, 8, 0));
        setTimeout(() => c.end(req(CMD.DISC, 9, 0)), 300);
      }, 100);
    });
    // Find the two simple replies at the end: cookie 7 -> EINVAL (22), cookie 8 -> 0.
    const tail = r.received.subarray(r.received.length - 32);
    expect([tail.readUInt32BE(4), Number(tail.readBigUInt64BE(8)), tail.readUInt32BE(20), Number(tail.readBigUInt64BE(24))]).toEqual([22, 7, 0, 8]);
    await stillServes();
  });

  it('many garbage connections at once leave the server serving', async () => {
    await Promise.all(Array.from({ length: 20 }, (_, i) => exchange((c) => c.write(Buffer.alloc(64 + i, i)))));
    await stillServes();
  });

  it('a client that sends option after option without choosing an export is dropped', async () => {
    const info = option(OPT.INFO, Buffer.alloc(6));
    const r = await exchange((c) => c.write(Buffer.concat([clientFlags, ...Array.from({ length: 1000 }, () => info)])));
    expect(r.closed).toBe(true);
    expect(s.stderr()).toMatch(/protocol error: client sent 68 options without choosing an export; closing this connection/);
    await stillServes();
  });
});

/** Resident memory of a process, from /proc. */
function rss(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}

/** A raw client past GO (simple replies); `until(n)` resolves with the next n bytes. */
async function transmission(at: number): Promise<RawConnection> {
  const conn = await rawConnect(at);
  await goDefault(conn);
  return conn;
}

function readRequest(cookie: number, offset: number, length: number): Buffer {
  return encodeRequest({ type: CMD.READ, cookie, offset, length });
}

describe('clients that never read their READ replies', () => {
  let big: Served;
  beforeAll(async () => {
    big = await serve(['memory', 'size=2G']);
  });
  afterAll(async () => big.stop());

  it('hold a bounded number of reply bytes, and a clean client is still served at once', async () => {
    const at = Number(new URL(big.uri).port);
    const MiB = 1024 * 1024;
    const hostile = await Promise.all(Array.from({ length: 6 }, () => transmission(at)));
    const baseline = rss(big.child.pid!);
    for (const { sock } of hostile) {
      sock.pause();
      sock.write(Buffer.concat(Array.from({ length: 32 }, (_, i) => readRequest(i + 1, i * 32 * MiB, 32 * MiB))));
    }
    // Until the server has filled all it will fill (first-touch memory is slow in this VM).
    let peak = 0;
    let grew = Date.now();
    for (const started = Date.now(); Date.now() - grew < 1000 && Date.now() - started < 20_000;) {
      const now = rss(big.child.pid!);
      if (now > peak + MiB) grew = Date.now();
      peak = Math.max(peak, now);
      await new Promise((r) => setTimeout(r, 50));
    }
    // 6 x 32 x 32 MiB = 6 GiB asked for; the caps allow 256 MiB server-wide, plus one
    // reply for each connection that holds nothing.
    expect(peak - baseline).toBeLessThan(450 * MiB);
    const t0 = performance.now();
    const clean = await transmission(at);
    clean.sock.write(readRequest(1, 0, 4096));
    const reply = await clean.until(16 + 4096);
    expect(reply.readUInt32BE(4)).toBe(0);
    expect(performance.now() - t0).toBeLessThan(1000);
    clean.sock.destroy();
    for (const { sock } of hostile) sock.destroy();
  });
});
