// The oracle for option haggling: what the server must answer to each option (from the
// option and the data the client sent, however mangled), whether each reply is well formed,
// and what the client has then negotiated.
import { CONTEXT_ALLOCATION_DEPTH, CONTEXT_BASE_ALLOCATION, INFO, OPT, REP, TFLAG } from '../../main/nbd/protocol.ts';
import { isUtf8, type Session } from './session.ts';

export interface OptionReply {
  type: number;
  data: Buffer;
}

export interface HandshakeState {
  structured: boolean;
  contexts: Map<number, string>;
  /** The export named by the last SET_META_CONTEXT. */
  contextsExport: string | null;
  /** INFO_EXPORT of the last successful INFO/GO: size and transmission flags. */
  info: { size: number; flags: number } | null;
}

export type Expectation = 'ack' | 'error' | 'unsup' | 'either';

const KNOWN_CONTEXTS = [CONTEXT_BASE_ALLOCATION, CONTEXT_ALLOCATION_DEPTH];
const MAX_STRING = 4096;
const ERR = 2 ** 31;
const isError = (type: number) => type >= ERR;

/** INFO/GO data: u32 name length, name, u16 count, count x u16. 'odd' = legal-looking but over the spec's string limit. */
export function parseInfoData(data: Buffer): { name: string } | null | 'odd' {
  if (data.length < 6) return null;
  const n = data.readUInt32BE(0);
  if (4 + n + 2 > data.length) return null;
  if (data.length !== 4 + n + 2 + 2 * data.readUInt16BE(4 + n)) return null;
  return n > MAX_STRING ? 'odd' : { name: data.toString('utf8', 4, 4 + n) };
}

/** LIST/SET_META_CONTEXT data: u32 name length, name, u32 count, count x (u32 length, query). */
export function parseMetaData(data: Buffer): { name: string; queries: string[] } | null | 'odd' {
  if (data.length < 8) return null;
  const n = data.readUInt32BE(0);
  if (4 + n + 4 > data.length) return null;
  let odd = n > MAX_STRING;
  const count = data.readUInt32BE(4 + n);
  let at = 8 + n;
  const queries: string[] = [];
  for (let i = 0; i < count; i++) {
    if (at + 4 > data.length) return null;
    const len = data.readUInt32BE(at);
    if (at + 4 + len > data.length) return null;
    odd ||= len > MAX_STRING;
    queries.push(data.toString('utf8', at + 4, at + 4 + len));
    at += 4 + len;
  }
  if (at !== data.length) return null;
  return odd ? 'odd' : { name: data.toString('utf8', 4, 4 + n), queries };
}

export function expectedOutcome(option: number, data: Buffer, st: HandshakeState, s: Session): Expectation {
  switch (option) {
    case OPT.ABORT:
      return 'ack';
    case OPT.LIST:
    case OPT.STRUCTURED_REPLY:
      return data.length === 0 ? 'ack' : 'error';
    case OPT.STARTTLS:
    case OPT.PEEK_EXPORT:
    case OPT.EXTENDED_HEADERS:
      return 'error';
    case OPT.INFO:
    case OPT.GO: {
      const p = parseInfoData(data);
      if (p === 'odd') return 'either';
      return p && s.findExport(p.name) ? 'ack' : 'error';
    }
    case OPT.LIST_META_CONTEXT:
    case OPT.SET_META_CONTEXT: {
      const p = parseMetaData(data);
      if (p === 'odd') return 'either';
      if (!p || !s.findExport(p.name)) return 'error';
      return option === OPT.SET_META_CONTEXT && !st.structured ? 'error' : 'ack';
    }
    default:
      return 'unsup';
  }
}

/** Check the replies to one option against the spec and update what the client negotiated. */
export function checkReplies(s: Session, option: number, data: Buffer, replies: OptionReply[], st: HandshakeState): void {
  const where = `option ${option}`;
  const final = replies[replies.length - 1]!.type;
  const expected = expectedOutcome(option, data, st, s);
  if (expected === 'ack' && final !== REP.ACK) s.violate(`${where}: expected ACK, got reply type 0x${final.toString(16)}`);
  if (expected === 'error' && !isError(final)) s.violate(`${where}: expected an error, got reply type ${final}`);
  if (expected === 'unsup' && final !== REP.ERR_UNSUP) s.violate(`${where}: an unknown option must get ERR_UNSUP, got 0x${final.toString(16)}`);
  const ids = new Set<number>();
  const contexts = new Map<number, string>();
  let exportInfo: { size: number; flags: number } | null = null;
  for (const [i, r] of replies.entries()) {
    const last = i === replies.length - 1;
    if (!last && (r.type === REP.ACK || isError(r.type))) s.violate(`${where}: reply type 0x${r.type.toString(16)} before the last reply`);
    if (isError(r.type)) {
      if (r.type > ERR + 10) s.violate(`${where}: unknown error reply 0x${r.type.toString(16)}`);
      if (r.data.length > MAX_STRING || !isUtf8(r.data)) s.violate(`${where}: error message is not a UTF-8 string of at most 4096 bytes`);
    } else if (r.type === REP.ACK) {
      if (r.data.length !== 0) s.violate(`${where}: ACK with ${r.data.length} bytes of data`);
    } else if (r.type === REP.SERVER) {
      if (option !== OPT.LIST) s.violate(`${where}: SERVER reply to an option other than LIST`);
      else checkServerReply(s, r.data);
    } else if (r.type === REP.INFO) {
      if (option !== OPT.INFO && option !== OPT.GO) s.violate(`${where}: INFO reply to an option other than INFO/GO`);
      else exportInfo = checkInfoReply(s, where, r.data, data, st) ?? exportInfo;
    } else if (r.type === REP.META_CONTEXT) {
      if (option !== OPT.LIST_META_CONTEXT && option !== OPT.SET_META_CONTEXT) s.violate(`${where}: META_CONTEXT reply to another option`);
      else checkMetaReply(s, where, r.data, option, data, ids, contexts);
    } else {
      s.violate(`${where}: unknown reply type ${r.type}`);
    }
  }
  if (final === REP.ACK) afterAck(s, where, option, data, st, contexts, exportInfo);
  // SET_META_CONTEXT replaces the selection even when it fails.
  if (option === OPT.SET_META_CONTEXT) {
    st.contexts = final === REP.ACK ? contexts : new Map();
    const p = parseMetaData(data);
    st.contextsExport = p && p !== 'odd' ? p.name : null;
  }
}

function afterAck(s: Session, where: string, option: number, data: Buffer, st: HandshakeState, contexts: Map<number, string>, info: { size: number; flags: number } | null): void {
  if (option === OPT.STRUCTURED_REPLY) st.structured = true;
  if (option === OPT.INFO || option === OPT.GO) {
    if (!info) s.violate(`${where}: ACK without INFO_EXPORT`);
    st.info = info;
  }
  const p = option === OPT.SET_META_CONTEXT ? parseMetaData(data) : null;
  if (p && p !== 'odd' && p.queries.includes(CONTEXT_BASE_ALLOCATION) && ![...contexts.values()].includes(CONTEXT_BASE_ALLOCATION)) {
    s.violate(`${where}: base:allocation was asked for and not selected`);
  }
}

function checkServerReply(s: Session, b: Buffer): void {
  if (b.length < 4 || b.readUInt32BE(0) > b.length - 4) return s.violate(`LIST: SERVER reply with a name length beyond its data`);
  const name = b.toString('utf8', 4, 4 + b.readUInt32BE(0));
  if (!s.findExport(name)) s.violate(`LIST: names an export '${name}' that does not exist`);
}

function checkInfoReply(s: Session, where: string, b: Buffer, request: Buffer, st: HandshakeState): { size: number; flags: number } | null {
  if (b.length < 2) return s.violate(`${where}: INFO reply shorter than its type`), null;
  const type = b.readUInt16BE(0);
  if (type === INFO.EXPORT) {
    if (b.length !== 12) return s.violate(`${where}: INFO_EXPORT of length ${b.length}, not 12`), null;
    const size = Number(b.readBigUInt64BE(2));
    const flags = b.readUInt16BE(10);
    const p = parseInfoData(request);
    const exp = p && p !== 'odd' ? s.findExport(p.name) : undefined;
    if (exp) checkExportFlags(s, where, exp, size, flags, st.structured);
    return { size, flags };
  }
  if (type === INFO.BLOCK_SIZE) {
    if (b.length !== 14) return s.violate(`${where}: INFO_BLOCK_SIZE of length ${b.length}, not 14`), null;
    const [min, pref, max] = [b.readUInt32BE(2), b.readUInt32BE(6), b.readUInt32BE(10)];
    const pow2 = (n: number) => n > 0 && (n & (n - 1)) === 0;
    if (!pow2(min) || min > 65536 || !pow2(pref) || pref < Math.max(min, 512) || (max !== 0xffffffff && max < pref)) {
      s.violate(`${where}: block sizes min ${min} preferred ${pref} max ${max} break the spec's constraints`);
    }
  } else if ((type === INFO.NAME || type === INFO.DESCRIPTION) && !isUtf8(b.subarray(2))) {
    s.violate(`${where}: INFO ${type} is not UTF-8`);
  }
  return null;
}

export function checkExportFlags(s: Session, where: string, exp: { size: number; writable: boolean }, size: number, flags: number, structured: boolean): void {
  if (size !== exp.size) s.violate(`${where}: export size ${size}, expected ${exp.size}`);
  if (!(flags & TFLAG.HAS_FLAGS)) s.violate(`${where}: transmission flags without HAS_FLAGS`);
  if (Boolean(flags & TFLAG.READ_ONLY) === exp.writable) s.violate(`${where}: READ_ONLY flag ${flags & TFLAG.READ_ONLY ? 'set on a writable' : 'missing on a read-only'} export`);
  if (flags & TFLAG.SEND_DF && !structured) s.violate(`${where}: SEND_DF without structured replies`);
  if (flags & TFLAG.SEND_FAST_ZERO && !(flags & TFLAG.SEND_WRITE_ZEROES)) s.violate(`${where}: SEND_FAST_ZERO without SEND_WRITE_ZEROES`);
  if (flags >> 12) s.violate(`${where}: reserved transmission flags 0x${flags.toString(16)}`);
}

function checkMetaReply(s: Session, where: string, b: Buffer, option: number, request: Buffer, ids: Set<number>, out: Map<number, string>): void {
  if (b.length < 5) return s.violate(`${where}: META_CONTEXT reply of ${b.length} bytes`);
  const id = b.readUInt32BE(0);
  const nameBytes = b.subarray(4);
  const name = nameBytes.toString('utf8');
  if (!isUtf8(nameBytes) || !KNOWN_CONTEXTS.includes(name)) return s.violate(`${where}: unknown context '${name}'`);
  const p = parseMetaData(request);
  const queries = p && p !== 'odd' ? p.queries : [];
  const listing = option === OPT.LIST_META_CONTEXT;
  const matches = queries.length === 0 ? listing : queries.some((q) => q === name || (listing && q.endsWith(':') && name.startsWith(q)));
  if (!matches) s.violate(`${where}: context '${name}' answers none of the queries ${JSON.stringify(queries)}`);
  if (listing) {
    if (id !== 0) s.violate(`${where}: LIST_META_CONTEXT with context id ${id}, not 0`);
    return;
  }
  if (ids.has(id)) s.violate(`${where}: context id ${id} given twice`);
  ids.add(id);
  out.set(id, name);
}
