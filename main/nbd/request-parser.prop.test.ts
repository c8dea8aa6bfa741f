// The parser fed as the server feeds it: chunks that are views of one reused read buffer,
// overwritten after each delivery (ownBuffered), with the connection taking a random number
// of requests between deliveries. Whatever the split and the pace, the requests that come
// out are the ones sent, payload bytes included, and a bad magic surfaces only after every
// request sent before it. The same holds when the socket reads where the parser asks
// (readTarget: straight into a WRITE payload, or into part of the read buffer), with random
// thresholds for when it asks, and requests taken between the asking and the read.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { propertyParams } from '../testing/property-params.ts';
import { CMD } from './protocol.ts';
import { encodeRequest } from './request-header.ts';
import { ProtocolError, RequestParser, type DirectReads, type NbdRequest } from './request-parser.ts';

const MAX_PAYLOAD = 4096;

interface Sent {
  type: number;
  cookie: bigint;
  offset: number;
  length: number;
  payload: string | null;
}

const sentRequest = fc.oneof(
  fc.record({ type: fc.constantFrom(CMD.READ, CMD.FLUSH, CMD.BLOCK_STATUS, CMD.TRIM), offset: fc.nat(2 ** 40), length: fc.nat(2 ** 20) }).map((r) => ({ ...r, payload: null })),
  fc.uint8Array({ minLength: 1, maxLength: MAX_PAYLOAD }).chain((bytes) =>
    fc.nat(2 ** 40).map((offset) => ({ type: CMD.WRITE, offset, length: bytes.length, payload: Buffer.from(bytes).toString('hex') })),
  ),
);

const seen = (r: NbdRequest): Sent => ({ type: r.type, cookie: r.cookie, offset: r.offset, length: r.length, payload: r.payload ? r.payload.toString('hex') : null });

const directArb: fc.Arbitrary<DirectReads | null> = fc.option(
  fc.record({ min: fc.integer({ min: 1, max: 2 * MAX_PAYLOAD }), window: fc.integer({ min: 1, max: 3 * MAX_PAYLOAD }) }),
  { nil: null },
);

describe('RequestParser with a reused read buffer', () => {
  it('yields exactly the requests sent, whatever the chunking, the pace of the consumer and where the socket reads', () => {
    let casesWithDirectReads = 0;
    fc.assert(
      fc.property(
        fc.array(sentRequest, { minLength: 1, maxLength: 40 }),
        fc.boolean(),
        // Read sizes: many small ones, so a payload arrives over several reads.
        fc.array(fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 3 * MAX_PAYLOAD })), { minLength: 1, maxLength: 20 }),
        fc.array(fc.nat(6), { minLength: 1, maxLength: 20 }),
        directArb,
        (requests, badMagicAtEnd, cuts, takes, direct) => {
          const sent: Sent[] = requests.map((r, i) => ({ ...r, cookie: BigInt(i + 1) }));
          const wire = Buffer.concat([
            ...sent.map((r) => Buffer.concat([encodeRequest({ type: r.type, flags: 0, cookie: r.cookie, offset: r.offset, length: r.length }), r.payload ? Buffer.from(r.payload, 'hex') : Buffer.alloc(0)])),
            badMagicAtEnd ? Buffer.alloc(28, 0xee) : Buffer.alloc(0),
          ]);
          const parser = direct ? new RequestParser(MAX_PAYLOAD, Buffer.allocUnsafe, direct) : new RequestParser(MAX_PAYLOAD);
          const readBuffer = Buffer.alloc(3 * MAX_PAYLOAD);
          const got: Sent[] = [];
          let failure: unknown = null;
          const take = (n: number): void => {
            for (let k = 0; k < n && !failure; k++) {
              try {
                const r = parser.next();
                if (!r) return;
                got.push(seen(r));
              } catch (err) {
                failure = err;
              }
            }
          };
          let at = 0;
          let directBytes = 0;
          for (let i = 0; at < wire.length; i++) {
            // net asks for the next read's buffer right after delivering the last read.
            const target = direct ? parser.readTarget(readBuffer) : readBuffer;
            take(takes[(i + 1) % takes.length]! % 2); // a request finishing in between
            const n = Math.min(cuts[i % cuts.length]!, wire.length - at, target.length);
            wire.copy(target, 0, at, at + n);
            at += n;
            if (target.buffer === readBuffer.buffer) {
              parser.push(target.subarray(0, n));
              take(takes[i % takes.length]!);
              parser.ownBuffered();
              readBuffer.fill(0xa5); // the socket's next read lands here
            } else {
              directBytes += n;
              parser.filledDirect(n);
              take(takes[i % takes.length]!);
            }
          }
          take(Infinity);
          expect(got).toEqual(sent);
          if (badMagicAtEnd) expect(failure).toBeInstanceOf(ProtocolError);
          else expect(failure).toBeNull();
          // Without a threshold the parser never names a payload to read into.
          if (!direct) expect(directBytes).toBe(0);
          if (directBytes > 0) casesWithDirectReads++;
        },
      ),
      propertyParams(300),
    );
    // The generators reach the direct path, or the property proves nothing about it.
    expect(casesWithDirectReads).toBeGreaterThan(0);
  });

  it('names a payload to read into once a large WRITE is under way, and only a window of the read buffer after it', () => {
    const parser = new RequestParser(1 << 20, Buffer.allocUnsafe, { min: 1000, window: 64 });
    const readBuffer = Buffer.alloc(1 << 16);
    const payload = Buffer.alloc(5000, 7);
    const header = encodeRequest({ type: CMD.WRITE, flags: 0, cookie: 1n, offset: 0, length: payload.length });
    expect(parser.readTarget(readBuffer)).toBe(readBuffer);
    parser.push(Buffer.concat([header, payload.subarray(0, 100)]));
    expect(parser.next()).toBeNull();
    const target = parser.readTarget(readBuffer);
    expect(target.buffer).not.toBe(readBuffer.buffer);
    expect(target.length).toBe(4900);
    payload.copy(target, 0, 100);
    parser.filledDirect(4900);
    expect(parser.next()?.payload).toEqual(payload);
    const next = parser.readTarget(readBuffer);
    expect(next.buffer).toBe(readBuffer.buffer);
    expect(next.length).toBe(64);
  });
});
