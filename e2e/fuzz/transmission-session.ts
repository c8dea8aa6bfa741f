// Plays a session's transmission phase: batches of requests (pipelined or one at a time),
// every reply read and checked (request-checks), READ bytes and promised zeroes checked
// against the export's oracle, then the plan's ending, clean or abrupt.
import { CMD, REPLY_FLAG_DONE, REPLY_TYPE, SIMPLE_REPLY_MAGIC, STRUCTURED_REPLY_MAGIC } from '../../main/nbd/protocol.ts';
import { Violation } from './handshake-session.ts';
import { resolvePlace, type RequestPlan, type TransmissionPlan } from './plans.ts';
import { expectation, ReplyState } from './request-checks.ts';
import { HANG_MS, type Session, type Transmission } from './session.ts';
import { requestBytes } from './wire.ts';

interface Pending {
  state: ReplyState;
  /** The bytes a READ must return (read-only exports), read from the oracle. */
  expected: Promise<Buffer> | null;
}

let nextCookie = 1n;

export async function runTransmission(s: Session, t: Transmission, plan: TransmissionPlan): Promise<void> {
  const pending = new Map<bigint, Pending>();
  let discSent = false;
  for (const [i, batch] of plan.batches.entries()) {
    const sent = batch.requests.map((r) => prepare(s, t, r, pending));
    if (batch.pipelined) {
      // DISC right behind the last burst: the server must still answer all of it first.
      discSent = plan.end === 'disc' && i === plan.batches.length - 1;
      const disc = discSent ? [requestBytes({ flags: 0, type: CMD.DISC, cookie: nextCookie++, offset: 0n, length: 0 })] : [];
      await s.send(Buffer.concat([...sent.map((x) => x.bytes), ...disc]));
      for (const x of sent) await completion(s, t, pending, x.cookie);
    } else {
      for (const x of sent) {
        await s.send(x.bytes);
        await completion(s, t, pending, x.cookie);
      }
    }
  }
  if (discSent) await s.expectClose('after DISC');
  else await endTransmission(s, t, plan);
}

function prepare(s: Session, t: Transmission, r: RequestPlan, pending: Map<bigint, Pending>): { cookie: bigint; bytes: Buffer } {
  const cookie = nextCookie++;
  const offset = resolvePlace(r.offset, t.export.size);
  const state = new ReplyState(r.type, r.flags, offset, r.length, expectation(r.type, r.flags, offset, r.length, t));
  const oracle = t.export.oracle;
  const checkContent = oracle && state.expect.outcome === 'ok' && (r.type === CMD.READ || r.type === CMD.BLOCK_STATUS);
  const target = checkContent ? Buffer.alloc(r.length) : null;
  pending.set(cookie, { state, expected: target ? oracle!.top.pread(target, Number(offset)).then(() => target) : null });
  s.requests++;
  const header = requestBytes({ flags: r.flags, type: r.type, cookie, offset, length: r.length });
  return { cookie, bytes: r.type === CMD.WRITE ? Buffer.concat([header, Buffer.alloc(r.length, 0x5a)]) : header };
}

/** Read replies (to any outstanding request) until `cookie`'s is complete. */
async function completion(s: Session, t: Transmission, pending: Map<bigint, Pending>, cookie: bigint): Promise<void> {
  while (pending.has(cookie)) {
    const done = await readReply(s, t, pending);
    if (done) {
      const p = pending.get(done)!;
      pending.delete(done);
      await verifyContent(p);
      for (const problem of p.state.problems) s.violate(`${t.export.name || 'default'}: request ${done} (cmd ${p.state.type} ${p.state.offset}+${p.state.length} flags 0x${p.state.flags.toString(16)}): ${problem}`);
    }
  }
}

/** One simple reply or structured chunk; returns the cookie of a request it completed. */
async function readReply(s: Session, t: Transmission, pending: Map<bigint, Pending>): Promise<bigint | null> {
  const magic = (await s.reader.read(4, HANG_MS)).readUInt32BE(0);
  if (magic === SIMPLE_REPLY_MAGIC) {
    const h = await s.reader.read(12, HANG_MS);
    const cookie = h.readBigUInt64BE(4);
    const p = pending.get(cookie);
    if (!p) throw new Violation(`simple reply for cookie ${cookie}, which is not outstanding`);
    const st = p.state;
    st.error = h.readUInt32BE(0) || null;
    if (st.type === CMD.READ && st.error === null) {
      if (t.structured) throw new Violation('a successful READ answered with a simple reply after structured replies were negotiated');
      st.data.push({ at: st.offset, bytes: await s.reader.read(st.length, HANG_MS) });
    } else if (st.type === CMD.BLOCK_STATUS && st.error === null) {
      st.problems.push('a successful BLOCK_STATUS answered with a simple reply');
    }
    st.finish(t);
    return cookie;
  }
  if (magic !== STRUCTURED_REPLY_MAGIC) throw new Violation(`reply magic 0x${magic.toString(16)}`);
  if (!t.structured) throw new Violation('structured reply chunk without structured replies negotiated');
  const h = await s.reader.read(16, HANG_MS);
  const [flags, type, cookie, length] = [h.readUInt16BE(0), h.readUInt16BE(2), h.readBigUInt64BE(4), h.readUInt32BE(12)];
  const p = pending.get(cookie);
  if (!p) throw new Violation(`chunk for cookie ${cookie}, which is not outstanding`);
  if (length > (64 << 20)) throw new Violation(`chunk of ${length} bytes`);
  const payload = await s.reader.read(length, HANG_MS);
  const st = p.state;
  if (flags & ~REPLY_FLAG_DONE) st.problems.push(`chunk flags 0x${flags.toString(16)}`);
  chunk(st, type, payload, t);
  if (!(flags & REPLY_FLAG_DONE)) return null;
  if (type === REPLY_TYPE.NONE && length !== 0) st.problems.push('NONE chunk with a payload');
  st.finish(t);
  return cookie;
}

function chunk(st: ReplyState, type: number, b: Buffer, t: Transmission): void {
  switch (type) {
    case REPLY_TYPE.NONE:
      return;
    case REPLY_TYPE.OFFSET_DATA: {
      if (b.length < 9) return void st.problems.push(`OFFSET_DATA chunk of ${b.length} bytes`);
      const at = Number(b.readBigUInt64BE(0));
      st.content(at, b.length - 8, false);
      st.data.push({ at, bytes: b.subarray(8) });
      return;
    }
    case REPLY_TYPE.OFFSET_HOLE: {
      if (b.length !== 12) return void st.problems.push(`OFFSET_HOLE chunk of ${b.length} bytes`);
      const at = Number(b.readBigUInt64BE(0));
      const len = b.readUInt32BE(8);
      st.content(at, len, true);
      st.zeroes.push({ at, end: at + len });
      return;
    }
    case REPLY_TYPE.BLOCK_STATUS: {
      if (b.length < 4 || (b.length - 4) % 8 !== 0) return void st.problems.push(`BLOCK_STATUS chunk of ${b.length} bytes`);
      const descriptors = [];
      for (let at = 4; at < b.length; at += 8) descriptors.push({ length: b.readUInt32BE(at), flags: b.readUInt32BE(at + 4) });
      st.blockStatus(b.readUInt32BE(0), descriptors, t);
      return;
    }
    case REPLY_TYPE.ERROR:
    case REPLY_TYPE.ERROR_OFFSET: {
      const extra = type === REPLY_TYPE.ERROR_OFFSET ? 8 : 0;
      if (b.length < 6 + extra || b.readUInt16BE(4) !== b.length - 6 - extra) return void st.problems.push(`error chunk of ${b.length} bytes with a message length that does not fit`);
      if (b.readUInt16BE(4) > 4096) st.problems.push('error message longer than 4096 bytes');
      st.error = b.readUInt32BE(0);
      return;
    }
    default:
      st.problems.push(`unknown chunk type ${type}`);
  }
}

/** Data chunks must equal the export's bytes; holes and ZERO extents must read as zero. */
async function verifyContent(p: Pending): Promise<void> {
  if (!p.expected) return;
  const want = await p.expected;
  const st = p.state;
  const base = st.offset;
  for (const d of st.data) {
    if (!d.bytes.equals(want.subarray(d.at - base, d.at - base + d.bytes.length))) st.problems.push(`data at ${d.at}+${d.bytes.length} differs from the export`);
  }
  for (const z of st.zeroes) {
    const end = Math.min(z.end, base + want.length);
    if (want.subarray(z.at - base, end - base).some((x) => x !== 0)) st.problems.push(`${z.at}..${z.end} claimed to read as zero, but holds data`);
  }
}

async function endTransmission(s: Session, t: Transmission, plan: TransmissionPlan): Promise<void> {
  const size = t.export.size;
  const read = (cookie: bigint, offset: number, length: number) => requestBytes({ flags: 0, type: CMD.READ, cookie, offset: BigInt(offset), length });
  switch (plan.end) {
    case 'disc':
      await s.send(requestBytes({ flags: 0, type: CMD.DISC, cookie: nextCookie++, offset: 0n, length: 0 }));
      return s.expectClose('after DISC');
    case 'hangup':
      await s.send(Buffer.concat([0, 1, 2, 3].map((i) => read(nextCookie++, 0, Math.min(size, 65536 << i)))));
      s.socket.destroy();
      return;
    case 'cut-request':
      s.socket.end(read(nextCookie++, 0, 512).subarray(0, 1 + Number(nextCookie % 27n)));
      return s.expectClose('half a request, then EOF');
    case 'short-write':
      s.socket.end(Buffer.concat([requestBytes({ flags: 0, type: CMD.WRITE, cookie: nextCookie++, offset: 0n, length: 4096 }), Buffer.alloc(100)]));
      return s.expectClose('a WRITE whose payload stops short, then EOF');
    case 'bad-magic':
      await s.send(Buffer.alloc(28, 0x42));
      return s.expectClose('a request with a bad magic');
    case 'mutated': {
      // Anything may follow (a flipped type can turn the junk into a WRITE payload): the server
      // owes this client nothing, only its own health, checked after the batch.
      const h = read(nextCookie++, 0, 4096);
      for (const [at, value] of plan.mutation.flips) h[at] = value;
      await s.send(Buffer.concat([h, plan.mutation.tail]));
      await new Promise((r) => setTimeout(r, 2));
      s.socket.destroy();
      return;
    }
    case 'never-read':
      s.socket.pause();
      await s.send(Buffer.concat(Array.from({ length: 8 }, () => read(nextCookie++, 0, Math.min(size, 256 << 10)))));
      await new Promise((r) => setTimeout(r, 5));
      s.socket.destroy();
  }
}
