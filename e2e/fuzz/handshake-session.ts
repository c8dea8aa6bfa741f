// Plays a session's handshake: greeting, client flags, STARTTLS on a server that requires
// TLS, options (pipelined up to the next option that may end haggling, or one at a time),
// then the plan's ending if no export was chosen. Every reply goes through option-checks;
// the result is what transmission may use.
import type tls from 'node:tls';
import { CMD, FLAG_FIXED_NEWSTYLE, FLAG_NO_ZEROES, IHAVEOPT, NBDMAGIC, OPT, OPTION_REPLY_MAGIC, REP } from '../../main/nbd/protocol.ts';
import { checkExportFlags, checkReplies, parseInfoData, type HandshakeState, type OptionReply } from './option-checks.ts';
import type { HandshakePlan, OptionPlan, TlsStart } from './plans.ts';
import { HANG_MS, type Session, type Transmission } from './session.ts';
import { lengthPrefixed, optionBytes, requestBytes } from './wire.ts';

export function encodeOption(o: OptionPlan): { option: number; data: Buffer } {
  switch (o.op) {
    case 'structured':
      return { option: OPT.STRUCTURED_REPLY, data: o.junk ?? Buffer.alloc(0) };
    case 'list':
      return { option: OPT.LIST, data: o.junk ?? Buffer.alloc(0) };
    case 'info':
    case 'go': {
      const reqs = Buffer.alloc(2 + 2 * o.requests.length);
      reqs.writeUInt16BE(o.requests.length, 0);
      o.requests.forEach((r, i) => reqs.writeUInt16BE(r, 2 + 2 * i));
      return { option: o.op === 'go' ? OPT.GO : OPT.INFO, data: Buffer.concat([lengthPrefixed(o.name), reqs]) };
    }
    case 'list-meta':
    case 'set-meta': {
      const count = Buffer.alloc(4);
      count.writeUInt32BE(o.queries.length, 0);
      const data = Buffer.concat([lengthPrefixed(o.name), count, ...o.queries.map((q) => lengthPrefixed(q))]);
      return { option: o.op === 'set-meta' ? OPT.SET_META_CONTEXT : OPT.LIST_META_CONTEXT, data };
    }
    case 'starttls':
      return { option: OPT.STARTTLS, data: Buffer.alloc(0) };
    case 'abort':
      return { option: OPT.ABORT, data: Buffer.alloc(0) };
    case 'export-name':
      return { option: OPT.EXPORT_NAME, data: Buffer.from(o.name, 'utf8') };
    case 'raw':
      return { option: o.option, data: o.data };
  }
}

/** Options after which the server may stop haggling: nothing may be pipelined behind them. */
const mayEnd = (option: number) => option === OPT.EXPORT_NAME || option === OPT.ABORT || option === OPT.GO;

/** A session against a server that requires TLS: the client's TLS options and how it starts. */
export interface SessionTls {
  options: tls.ConnectionOptions;
  start: TlsStart;
}

/** Returns the negotiated transmission, or null when the session ended in the handshake. */
export async function runHandshake(s: Session, plan: HandshakePlan, tls: SessionTls | null = null): Promise<Transmission | null> {
  const greeting = await s.reader.read(18, HANG_MS);
  if (greeting.readBigUInt64BE(0) !== NBDMAGIC || greeting.readBigUInt64BE(8) !== IHAVEOPT) s.violate('bad greeting magic');
  if (greeting.readUInt16BE(16) !== (FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES)) s.violate(`greeting flags 0x${greeting.readUInt16BE(16).toString(16)}`);
  const flags = Buffer.alloc(4);
  flags.writeUInt32BE(plan.clientFlags >>> 0, 0);
  await s.send(flags);
  if (plan.clientFlags & ~(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES)) {
    await s.expectClose('client flags the server did not offer');
    return null;
  }
  if (tls && !(await startTls(s, tls))) return null;
  const st: HandshakeState = { structured: false, contexts: new Map(), contextsExport: null, info: null };
  const options = plan.options.map(encodeOption);
  for (let i = 0; i < options.length;) {
    let j = i;
    if (plan.pipelined) while (j < options.length - 1 && !mayEnd(options[j]!.option)) j++;
    await s.send(Buffer.concat(options.slice(i, j + 1).map((o) => optionBytes(o.option, o.data))));
    for (; i <= j; i++) {
      const o = options[i]!;
      const outcome = o.option === OPT.EXPORT_NAME ? await exportName(s, o.data, plan, st) : await oneOption(s, o.option, o.data, st);
      if (outcome !== 'continue') return outcome === 'ended' ? null : outcome;
    }
  }
  await endHandshake(s, plan);
  return null;
}

async function oneOption(s: Session, option: number, data: Buffer, st: HandshakeState): Promise<Transmission | 'continue' | 'ended'> {
  const replies: OptionReply[] = [];
  for (;;) {
    const h = await s.reader.read(20, HANG_MS);
    if (h.readBigUInt64BE(0) !== OPTION_REPLY_MAGIC) throw new Violation(`option ${option}: reply magic 0x${h.readBigUInt64BE(0).toString(16)}`);
    if (h.readUInt32BE(8) !== option >>> 0) throw new Violation(`option ${option}: reply names option ${h.readUInt32BE(8)}`);
    const length = h.readUInt32BE(16);
    if (length > 1 << 20) throw new Violation(`option ${option}: reply of ${length} bytes`);
    replies.push({ type: h.readUInt32BE(12), data: await s.reader.read(length, HANG_MS) });
    const type = replies[replies.length - 1]!.type;
    if (type === REP.ACK || type >= 2 ** 31) break;
    if (replies.length > 64) throw new Violation(`option ${option}: more than 64 replies`);
  }
  checkReplies(s, option, data, replies, st);
  const acked = replies[replies.length - 1]!.type === REP.ACK;
  if (option === OPT.ABORT) {
    await s.expectClose('after ABORT');
    return 'ended';
  }
  if (option !== OPT.GO || !acked || !st.info) return 'continue';
  const p = parseInfoData(data);
  const exp = p && p !== 'odd' ? s.findExport(p.name) : undefined;
  if (!exp) throw new Violation(`GO for an export we cannot name succeeded`);
  return transmission(exp, st.info.flags, st, exp.name);
}

async function exportName(s: Session, data: Buffer, plan: HandshakePlan, st: HandshakeState): Promise<Transmission | 'ended'> {
  const exp = s.findExport(data.toString('utf8'));
  if (!exp) {
    await s.expectClose('EXPORT_NAME of an unknown export');
    return 'ended';
  }
  const b = await s.reader.read(plan.clientFlags & FLAG_NO_ZEROES ? 10 : 134, HANG_MS);
  const flags = b.readUInt16BE(8);
  checkExportFlags(s, 'EXPORT_NAME', exp, Number(b.readBigUInt64BE(0)), flags, st.structured);
  if (b.length > 10 && b.subarray(10).some((x) => x !== 0)) s.violate('EXPORT_NAME: the 124 reserved bytes are not zero');
  return transmission(exp, flags, st, exp.name);
}

function transmission(exp: Transmission['export'], flags: number, st: HandshakeState, name: string): Transmission {
  return { export: exp, flags, structured: st.structured, contexts: st.contexts, contextsUsable: st.contextsExport === name };
}

/** STARTTLS, which a server requiring TLS must ACK, then what the plan does instead of options in the clear; false when the session ends there. */
async function startTls(s: Session, tls: SessionTls): Promise<boolean> {
  await s.send(optionBytes(OPT.STARTTLS, Buffer.alloc(0)));
  const h = await s.reader.read(20, HANG_MS);
  const [magic, option, type, length] = [h.readBigUInt64BE(0), h.readUInt32BE(8), h.readUInt32BE(12), h.readUInt32BE(16)];
  if (magic !== OPTION_REPLY_MAGIC || option !== OPT.STARTTLS || type !== REP.ACK || length !== 0) {
    throw new Violation(`STARTTLS on a server requiring TLS: reply magic 0x${magic.toString(16)}, option ${option}, type 0x${type.toString(16)}, ${length} bytes`);
  }
  switch (tls.start.kind) {
    case 'tls':
      await s.startTls(tls.options);
      return true;
    case 'garbage':
      // The server may wait for the rest of what looks like a record: it owes this client
      // nothing but its own health, checked after the batch.
      await s.send(tls.start.bytes);
      await new Promise((r) => setTimeout(r, 2));
      s.socket.destroy();
      return false;
    case 'hangup':
      s.socket.destroy();
      return false;
  }
}

/** The options ran out without an export chosen: end the way the plan says. */
async function endHandshake(s: Session, plan: HandshakePlan): Promise<void> {
  switch (plan.end) {
    case 'abort': {
      await s.send(optionBytes(OPT.ABORT, Buffer.alloc(0)));
      const st: HandshakeState = { structured: false, contexts: new Map(), contextsExport: null, info: null };
      await oneOption(s, OPT.ABORT, Buffer.alloc(0), st);
      return;
    }
    case 'hangup':
      s.socket.destroy();
      return;
    case 'cut':
      s.socket.end(optionBytes(OPT.GO, Buffer.alloc(6)).subarray(0, 19));
      await s.expectClose('half an option, then EOF');
      return;
    case 'bad-magic':
      await s.send(requestBytes({ flags: 0, type: CMD.READ, cookie: 1n, offset: 0n, length: 512 }));
      await s.expectClose('a request where an option belongs');
      return;
    case 'too-long':
      await s.send(optionBytes(OPT.INFO, Buffer.alloc(0), 0xfffffff0));
      await s.expectClose('an option longer than any server accepts');
      return;
  }
}

/** A reply so broken that the client cannot go on reading the stream. */
export class Violation extends Error {}
