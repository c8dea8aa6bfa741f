// The client's reply reader fed as NbdClient feeds it over a plain socket: reads land where
// readTarget() says (the shared read buffer, or straight into a READ's buffer or a large
// chunk's body), shared-buffer chunks are overwritten after each delivery (queue.own()), and
// replies of several requests interleave chunk by chunk. Whatever the read sizes, every
// request settles as it would with the whole stream in hand: READ data byte for byte, block
// status descriptors as sent, errors with their errno.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { descriptorsToExtents } from '../backend/extent-descriptors.ts';
import { propertyParams } from '../testing/property-params.ts';
import { ByteQueue } from './byte-queue.ts';
import { DIRECT_MIN, ReplyProtocolError, ReplyReader, type Pending } from './client-replies.ts';
import { CMD, NBD_ERRNO, REPLY_TYPE } from './protocol.ts';
import { CHUNK_HEADER_LENGTH, blockStatusChunk, errorChunk, offsetDataChunk, offsetHoleChunk, simpleReply, writeChunkHeader } from './replies.ts';

/** One request and the reply units the server sends for it, in order. */
interface Exchange {
  kind: 'read' | 'status' | 'failed-read';
  length: number;
  /** What the READ buffer must hold, or the descriptors the status must yield. */
  expected: Buffer | { length: number; flags: number }[] | null;
  units: Buffer[];
  wire?: boolean;
}

/** Lengths around the direct-read threshold as well as small ones. */
const payloadLength = fc.oneof(fc.integer({ min: 1, max: 600 }), fc.integer({ min: DIRECT_MIN - 40, max: DIRECT_MIN + 5000 }));

const bytesOf = (length: number, seed: number): Buffer => {
  const b = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) b[i] = (seed * 131 + i * 7 + (i >> 8)) & 0xff;
  return b;
};

const noneChunk = (cookie: bigint): Buffer => {
  const b = Buffer.allocUnsafe(CHUNK_HEADER_LENGTH);
  writeChunkHeader(b, 0, cookie, REPLY_TYPE.NONE, true, 0);
  return b;
};

function exchangeArb(cookie: bigint): fc.Arbitrary<Exchange> {
  const simpleRead = payloadLength.map((length): Exchange => {
    const data = bytesOf(length, Number(cookie));
    return { kind: 'read', length, expected: data, units: [Buffer.concat([simpleReply(cookie, 0), data])] };
  });
  // A structured READ: data and hole pieces of random sizes, then a NONE chunk that ends it.
  const structuredRead = fc.array(fc.record({ length: payloadLength, hole: fc.boolean() }), { minLength: 1, maxLength: 3 }).map((pieces): Exchange => {
    const length = pieces.reduce((n, p) => n + p.length, 0);
    const expected = Buffer.alloc(length);
    const units: Buffer[] = [];
    let at = 0;
    for (const [i, p] of pieces.entries()) {
      if (p.hole) {
        units.push(offsetHoleChunk(cookie, 4096 + at, p.length, false));
      } else {
        const { chunk, data } = offsetDataChunk(cookie, 4096 + at, p.length, false);
        bytesOf(p.length, Number(cookie) + i).copy(data);
        data.copy(expected, at);
        units.push(chunk);
      }
      at += p.length;
    }
    units.push(noneChunk(cookie));
    return { kind: 'read', length, expected, units };
  });
  const status = fc.tuple(fc.integer({ min: 1, max: 9000 }), fc.boolean()).map(([n, wire]): Exchange => {
    const descriptors = Array.from({ length: n }, (_, i) => ({ length: 512 * (1 + ((i * 37) % 9)), flags: i % 2 ? 3 : 0 }));
    return { kind: 'status', length: 0, expected: descriptors, wire, units: [blockStatusChunk(cookie, 1, descriptors, true)] };
  });
  const failedRead = payloadLength.map((length): Exchange => ({ kind: 'failed-read', length, expected: null, units: [errorChunk(cookie, NBD_ERRNO.EIO, 'bad sector')] }));
  return fc.oneof(simpleRead, structuredRead, status, failedRead);
}

/** The units of every exchange, merged in an order that keeps each exchange's own order. */
function interleave(exchanges: Exchange[], picks: number[]): Buffer {
  const next = exchanges.map(() => 0);
  const out: Buffer[] = [];
  for (let k = 0; out.length < exchanges.reduce((n, e) => n + e.units.length, 0); k++) {
    const open = exchanges.map((_e, i) => i).filter((i) => next[i]! < exchanges[i]!.units.length);
    const i = open[picks[k % picks.length]! % open.length]!;
    out.push(exchanges[i]!.units[next[i]!++]!);
  }
  return Buffer.concat(out);
}

describe('ReplyReader reading where it asks', () => {
  it('settles every request as sent, whatever the read sizes and the interleaving', () => {
    let directBytesSeen = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => exchangeArb(BigInt(i + 1))))),
        fc.array(fc.nat(), { minLength: 1, maxLength: 8 }),
        fc.array(fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 3 * DIRECT_MIN })), { minLength: 1, maxLength: 12 }),
        (exchanges, picks, cuts) => {
          const pending = new Map<bigint, Pending>();
          const settled = new Map<bigint, 'ok' | Error>();
          const entries = exchanges.map((e, i) => {
            const cookie = BigInt(i + 1);
            const p: Pending = e.kind === 'status'
              ? { type: CMD.BLOCK_STATUS, offset: 0, context: 'base:allocation', wire: e.wire, extents: [], resolve: () => {}, reject: () => {} }
              : { type: CMD.READ, offset: 4096, buf: Buffer.alloc(e.length, 0xee), resolve: () => {}, reject: () => {} };
            p.resolve = () => settled.set(cookie, 'ok');
            p.reject = (err) => settled.set(cookie, err);
            pending.set(cookie, p);
            return p;
          });
          const queue = new ByteQueue();
          const reader = new ReplyReader(queue, pending, new Map([[1, 'base:allocation']]));
          const wire = interleave(exchanges, picks);
          const shared = Buffer.alloc(2 * DIRECT_MIN);
          let at = 0;
          for (let i = 0; at < wire.length; i++) {
            const target = reader.readTarget(shared);
            const n = Math.min(cuts[i % cuts.length]!, wire.length - at, target.length);
            wire.copy(target, 0, at, at + n);
            at += n;
            if (target.buffer === shared.buffer) {
              queue.push(target.subarray(0, n));
              reader.drain();
              queue.own();
              shared.fill(0xa5); // the socket's next read lands here
            } else {
              directBytesSeen += n;
              reader.filledDirect(n);
              reader.drain();
            }
          }
          expect(pending.size).toBe(0);
          expect(queue.length).toBe(0);
          exchanges.forEach((e, i) => {
            const result = settled.get(BigInt(i + 1));
            const p = entries[i]!;
            if (e.kind === 'failed-read') {
              expect(result).toBeInstanceOf(Error);
              expect((result as Error).message).toContain('bad sector');
            } else if (e.kind === 'read') {
              expect(result).toBe('ok');
              expect(p.buf!.equals(e.expected as Buffer)).toBe(true);
            } else {
              expect(result).toBe('ok');
              const extents = e.wire ? descriptorsToExtents({ offset: 0, bytes: p.descriptors! }) : p.extents!;
              expect(extents.map(({ length, flags }) => ({ length, flags }))).toEqual(e.expected);
            }
          });
        },
      ),
      propertyParams(120),
    );
    // The generators reach the direct path, or the property proves nothing about it.
    expect(directBytesSeen).toBeGreaterThan(0);
  });

  it('meets any chunk a hostile server sends with a protocol error or an answer, never a crash', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(CMD.READ, CMD.BLOCK_STATUS, CMD.WRITE),
        fc.constantFrom(REPLY_TYPE.NONE, REPLY_TYPE.OFFSET_DATA, REPLY_TYPE.OFFSET_HOLE, REPLY_TYPE.BLOCK_STATUS, REPLY_TYPE.ERROR, 0x8005, 77),
        fc.uint8Array({ maxLength: 40 }),
        fc.oneof(fc.bigInt({ min: 0n, max: 8192n }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
        (requestType, type, body, offset) => {
          const b = Buffer.from(body);
          if (b.length >= 8) b.writeBigUInt64BE(offset, 0);
          const pending = new Map<bigint, Pending>([[1n, { type: requestType, offset: 4096, buf: Buffer.alloc(16), context: 'base:allocation', extents: [], resolve: () => {}, reject: () => {} }]]);
          const queue = new ByteQueue();
          const reader = new ReplyReader(queue, pending, new Map([[1, 'base:allocation']]));
          const header = Buffer.allocUnsafe(CHUNK_HEADER_LENGTH);
          writeChunkHeader(header, 0, 1n, type, true, b.length);
          queue.push(Buffer.concat([header, b]));
          try {
            reader.drain();
          } catch (err) {
            expect(err).toBeInstanceOf(ReplyProtocolError);
          }
        },
      ),
      propertyParams(3000),
    );
  });

  it('refuses a chunk longer than any request needs before holding it', () => {
    const pending = new Map<bigint, Pending>([[1n, { type: CMD.READ, offset: 0, buf: Buffer.alloc(4096), resolve: () => {}, reject: () => {} }]]);
    const queue = new ByteQueue();
    const reader = new ReplyReader(queue, pending, new Map());
    const header = Buffer.allocUnsafe(CHUNK_HEADER_LENGTH);
    writeChunkHeader(header, 0, 1n, REPLY_TYPE.OFFSET_DATA, true, 0xfffffff0);
    queue.push(header);
    expect(() => reader.drain()).toThrow(ReplyProtocolError);
    expect(() => reader.drain()).toThrow(/reply chunk of 4294967280 bytes/);
  });
});
