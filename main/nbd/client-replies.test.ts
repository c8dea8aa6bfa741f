import { expect, it } from 'vitest';
import type { Extent } from '../../shared/extents.ts';
import { ByteQueue } from './byte-queue.ts';
import { ReplyProtocolError, ReplyReader, type Pending } from './client-replies.ts';
import { CMD, NBD_ERRNO, SIMPLE_REPLY_MAGIC } from './protocol.ts';
import { blockStatusChunk, errorChunk, offsetDataChunk, offsetHoleChunk, simpleReply } from './replies.ts';

type Outcome = 'pending' | 'resolved' | Error;

/** The requests of one exchange, each recording how it settled. */
function requests() {
  const outcomes = new Map<bigint, Outcome>();
  const pending = new Map<bigint, Pending>();
  const add = (cookie: bigint, p: Omit<Pending, 'resolve' | 'reject'>) => {
    outcomes.set(cookie, 'pending');
    // As the client does: the request's own object is the entry, and the replies fill it.
    pending.set(cookie, Object.assign(p, { resolve: () => outcomes.set(cookie, 'resolved'), reject: (e: Error) => outcomes.set(cookie, e) }));
  };
  const read = { type: CMD.READ, offset: 4096, buf: Buffer.alloc(12288, 0xff) };
  const simpleRead = { type: CMD.READ, offset: 0, buf: Buffer.alloc(100) };
  const status = { type: CMD.BLOCK_STATUS, offset: 0, extents: [] as Extent[], context: 'base:allocation' };
  add(1n, read);
  add(2n, status);
  add(3n, { type: CMD.TRIM, offset: 0 });
  add(4n, simpleRead);
  add(5n, { type: CMD.WRITE, offset: 0 });
  return { outcomes, pending, read, simpleRead, status };
}

/** Replies to requests(), interleaved as a server answering out of order sends them. */
function stream(): Buffer {
  const first = offsetDataChunk(1n, 4096, 4096, false);
  first.data.fill(0xab);
  const last = offsetDataChunk(1n, 12288, 4096, true);
  last.data.fill(0xcd);
  return Buffer.concat([
    first.chunk,
    blockStatusChunk(2n, 7, [{ length: 512, flags: 1 }], false),
    offsetHoleChunk(1n, 8192, 4096, false),
    simpleReply(4n, 0),
    Buffer.alloc(100, 0x11),
    errorChunk(3n, NBD_ERRNO.EIO, 'disk on fire'),
    blockStatusChunk(2n, 1, [{ length: 4096, flags: 3 }, { length: 8192, flags: 0 }], true),
    last.chunk,
    simpleReply(5n, NBD_ERRNO.ENOSPC),
  ]);
}

it('settles every request from a reply stream split at any byte', () => {
  const bytes = stream();
  for (let cut = 0; cut <= bytes.length; cut += cut < 64 || bytes.length - cut < 64 ? 1 : 97) {
    const r = requests();
    const queue = new ByteQueue();
    const reader = new ReplyReader(queue, r.pending, new Map([[1, 'base:allocation'], [7, 'qemu:allocation-depth']]));
    queue.push(bytes.subarray(0, cut));
    reader.drain();
    queue.push(bytes.subarray(cut));
    reader.drain();

    expect(r.pending.size).toBe(0);
    expect(queue.length).toBe(0);
    expect([1n, 2n, 4n].map((c) => r.outcomes.get(c))).toEqual(['resolved', 'resolved', 'resolved']);
    expect(r.read.buf.equals(Buffer.concat([Buffer.alloc(4096, 0xab), Buffer.alloc(4096), Buffer.alloc(4096, 0xcd)]))).toBe(true);
    expect(r.simpleRead.buf.equals(Buffer.alloc(100, 0x11))).toBe(true);
    expect(r.status.extents).toEqual([{ offset: 0, length: 4096, flags: 3 }, { offset: 4096, length: 8192, flags: 0 }]);
    expect(String(r.outcomes.get(3n))).toBe('BlockError: server error EIO: disk on fire');
    expect(String(r.outcomes.get(5n))).toBe('BlockError: server error ENOSPC');
  }
});

it('fails a block status request the server answers with two chunks for one context', () => {
  for (const wire of [false, true]) {
    const r = requests();
    if (wire) Object.assign(r.status, { wire: true });
    const queue = new ByteQueue();
    const reader = new ReplyReader(queue, r.pending, new Map([[1, 'base:allocation']]));
    queue.push(Buffer.concat([
      blockStatusChunk(2n, 1, [{ length: 4096, flags: 3 }], false),
      blockStatusChunk(2n, 1, [{ length: 4096, flags: 0 }], true),
    ]));
    reader.drain();
    expect(String(r.outcomes.get(2n))).toMatch(/the server sent two block status chunks for one meta context/);
  }
});

it('refuses a reply whose cookie no request has, or a bad magic', () => {
  const r = requests();
  const queue = new ByteQueue();
  const reader = new ReplyReader(queue, r.pending, new Map());
  queue.push(simpleReply(99n, 0));
  expect(() => reader.drain()).toThrow(new ReplyProtocolError('reply for unknown cookie 99'));
  const bad = simpleReply(1n, 0);
  bad.writeUInt32BE(SIMPLE_REPLY_MAGIC + 1, 0);
  const other = new ByteQueue();
  other.push(bad);
  expect(() => new ReplyReader(other, r.pending, new Map()).drain()).toThrow(/bad reply magic 0x67446699/);
});
