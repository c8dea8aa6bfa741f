// The parser fed as the server feeds it: chunks that are views of one reused read buffer,
// overwritten after each delivery (ownBuffered), with the connection taking a random number
// of requests between deliveries. Whatever the split and the pace, the requests that come
// out are the ones sent, payload bytes included, and a bad magic surfaces only after every
// request sent before it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { propertyParams } from '../testing/property-params.ts';
import { CMD } from './protocol.ts';
import { encodeRequest } from './request-header.ts';
import { ProtocolError, RequestParser, type NbdRequest } from './request-parser.ts';

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

describe('RequestParser with a reused read buffer', () => {
  it('yields exactly the requests sent, whatever the chunking and the pace of the consumer', () => {
    fc.assert(
      fc.property(
        fc.array(sentRequest, { minLength: 1, maxLength: 40 }),
        fc.boolean(),
        fc.array(fc.integer({ min: 1, max: 3 * MAX_PAYLOAD }), { minLength: 1, maxLength: 20 }),
        fc.array(fc.nat(6), { minLength: 1, maxLength: 20 }),
        (requests, badMagicAtEnd, cuts, takes) => {
          const sent: Sent[] = requests.map((r, i) => ({ ...r, cookie: BigInt(i + 1) }));
          const wire = Buffer.concat([
            ...sent.map((r) => Buffer.concat([encodeRequest({ type: r.type, flags: 0, cookie: r.cookie, offset: r.offset, length: r.length }), r.payload ? Buffer.from(r.payload, 'hex') : Buffer.alloc(0)])),
            badMagicAtEnd ? Buffer.alloc(28, 0xee) : Buffer.alloc(0),
          ]);
          const parser = new RequestParser(MAX_PAYLOAD);
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
          for (let i = 0; at < wire.length; i++) {
            const n = Math.min(cuts[i % cuts.length]!, wire.length - at);
            wire.copy(readBuffer, 0, at, at + n);
            parser.push(readBuffer.subarray(0, n));
            take(takes[i % takes.length]!);
            parser.ownBuffered();
            readBuffer.fill(0xa5); // the socket's next read lands here
            at += n;
          }
          take(Infinity);
          expect(got).toEqual(sent);
          if (badMagicAtEnd) expect(failure).toBeInstanceOf(ProtocolError);
          else expect(failure).toBeNull();
        },
      ),
      propertyParams(300),
    );
  });
});
