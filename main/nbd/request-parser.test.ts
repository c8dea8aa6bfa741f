import { describe, expect, it } from 'vitest';
import { encodeRequest } from './request-header.ts';
import { CMD } from './protocol.ts';
import { ProtocolError, RequestParser, type NbdRequest } from './request-parser.ts';

function request(type: number, cookie: bigint, offset: number, length: number, flags = 0, payload?: Buffer): Buffer {
  const h = encodeRequest({ type, flags, cookie, offset, length });
  return payload ? Buffer.concat([h, payload]) : h;
}

function drain(p: RequestParser): NbdRequest[] {
  const out: NbdRequest[] = [];
  for (let r = p.next(); r; r = p.next()) out.push(r);
  return out;
}

const payload = Buffer.from('0123456789abcdefXYZ');
const stream = Buffer.concat([
  request(CMD.READ, 1n, 4096, 512),
  request(CMD.WRITE, 2n, 2 ** 40 + 3, payload.length, 1, payload),
  request(CMD.BLOCK_STATUS, 0xffffffffffffffffn, 0, 2 ** 32 - 1, 8),
  request(CMD.WRITE, 4n, 0, 0),
  request(CMD.DISC, 5n, 0, 0),
]);

function summary(reqs: NbdRequest[]) {
  return reqs.map((r) => ({ type: r.type, cookie: r.cookie, offset: r.offset, length: r.length, flags: r.flags, payload: r.payload?.toString() ?? null, oversized: r.oversized }));
}

const expected = [
  { type: CMD.READ, cookie: 1n, offset: 4096, length: 512, flags: 0, payload: null, oversized: false },
  { type: CMD.WRITE, cookie: 2n, offset: 2 ** 40 + 3, length: payload.length, flags: 1, payload: payload.toString(), oversized: false },
  { type: CMD.BLOCK_STATUS, cookie: 0xffffffffffffffffn, offset: 0, length: 2 ** 32 - 1, flags: 8, payload: null, oversized: false },
  { type: CMD.WRITE, cookie: 4n, offset: 0, length: 0, flags: 0, payload: null, oversized: false },
  { type: CMD.DISC, cookie: 5n, offset: 0, length: 0, flags: 0, payload: null, oversized: false },
];

describe('RequestParser', () => {
  it('parses a stream delivered in one piece', () => {
    const p = new RequestParser(1 << 20);
    p.push(stream);
    expect(summary(drain(p))).toEqual(expected);
  });

  it('parses the same stream split at every byte boundary', () => {
    for (let cut = 1; cut < stream.length; cut++) {
      const p = new RequestParser(1 << 20);
      const got: NbdRequest[] = [];
      p.push(stream.subarray(0, cut));
      got.push(...drain(p));
      p.push(stream.subarray(cut));
      got.push(...drain(p));
      expect(summary(got), `cut at ${cut}`).toEqual(expected);
    }
  });

  it('parses the stream fed one byte at a time', () => {
    const p = new RequestParser(1 << 20);
    const got: NbdRequest[] = [];
    for (let i = 0; i < stream.length; i++) {
      p.push(stream.subarray(i, i + 1));
      got.push(...drain(p));
    }
    expect(summary(got)).toEqual(expected);
  });

  it('counts off an oversized WRITE payload without keeping it', () => {
    const p = new RequestParser(8);
    const big = Buffer.alloc(100, 7);
    p.push(request(CMD.WRITE, 9n, 0, big.length, 0, big.subarray(0, 50)));
    expect(drain(p)).toEqual([]);
    expect(p.buffered).toBe(0);
    p.push(Buffer.concat([big.subarray(50), request(CMD.FLUSH, 10n, 0, 0)]));
    const reqs = drain(p);
    expect(reqs.map((r) => [r.cookie, r.oversized, r.payload])).toEqual([[9n, true, null], [10n, false, null]]);
  });

  it('rejects a bad magic', () => {
    const p = new RequestParser(8);
    const bad = request(CMD.READ, 1n, 0, 1);
    bad.writeUInt32BE(0xdeadbeef, 0);
    p.push(bad);
    expect(() => p.next()).toThrow(ProtocolError);
    expect(() => { const q = new RequestParser(8); q.push(bad); q.next(); }).toThrow(/bad request magic 0xdeadbeef/);
  });

  it('maps offsets beyond 2^53 to values no range check accepts', () => {
    const p = new RequestParser(8);
    const h = request(CMD.READ, 1n, 0, 1);
    h.writeBigUInt64BE(0xffffffffffffffffn, 16);
    p.push(h);
    expect(p.next()!.offset).toBeGreaterThanOrEqual(2 ** 53);
  });
});
