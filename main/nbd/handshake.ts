// Fixed newstyle negotiation: greeting, client flags, then options until EXPORT_NAME or GO
// enters transmission (or the client aborts). Every reply to one option is sent in a single
// write, and the next option is read only once the replies have drained. Malformed options
// get ERR_INVALID and the session goes on; only traffic that cannot be resynchronised (bad
// magic, absurd lengths) or a client that haggles without end ends the connection.
// STARTTLS follows nbdkit's --tls: off refuses it, on offers it, require refuses every
// other option (but ABORT) until the client is on TLS.
import type { OpenChain } from '../backend/chain.ts';
import { messageOf } from '../backend/errors.ts';
import { availableContexts, transmissionFlags, type ExportLookup, type ServedExport } from './export.ts';
import {
  CONTEXT_ALLOCATION_DEPTH, CONTEXT_BASE_ALLOCATION, FLAG_FIXED_NEWSTYLE, FLAG_NO_ZEROES, IHAVEOPT, INFO,
  MAX_OPTION_LENGTH, NBDMAGIC, OPT, optionName, REP,
} from './protocol.ts';
import { advertisedBlockSize, matchContexts, parseInfoOption, parseMetaContextOption } from './option-data.ts';
import { optionReply, writeU64 } from './replies.ts';
import { ProtocolError } from './request-parser.ts';
import type { TlsMode } from './tls-credentials.ts';

/** How the handshake reads from and writes to the socket. */
export interface HandshakeIO {
  /** The next `n` bytes from the client, in memory the caller may keep. */
  read(n: number): Promise<Buffer>;
  write(b: Buffer): void;
  /** Resolves once the replies written so far no longer fill the socket's send queue. */
  drained(): Promise<void>;
  log(line: string): void;
  /** After STARTTLS's ACK: the TLS handshake; rejects (and the connection ends) if it fails. Absent without TLS credentials. */
  startTls?(): Promise<void>;
}

export interface Negotiated {
  export: ServedExport;
  open: OpenChain;
  structuredReplies: boolean;
  /** Selected meta contexts: id -> name. */
  contexts: Map<number, string>;
}

/**
 * Options a client may send before it chooses an export. Real clients send a handful (qemu
 * about four; `nbdinfo --list` a few plus two or three per export), so a client still
 * haggling after this many is looping or hostile (nbdkit drops such clients too).
 */
const MAX_OPTIONS = 64;
const MAX_OPTIONS_PER_EXPORT = 4;

/** Meta contexts we can serve, with the ids we hand out for them. */
const CONTEXT_IDS = new Map([[CONTEXT_BASE_ALLOCATION, 1], [CONTEXT_ALLOCATION_DEPTH, 2]]);

/** Returns null when the client ended negotiation without choosing an export (ABORT). */
export async function negotiate(io: HandshakeIO, exports: ExportLookup, tls: TlsMode = 'off'): Promise<Negotiated | null> {
  const greeting = Buffer.allocUnsafe(18);
  greeting.writeBigUInt64BE(NBDMAGIC, 0);
  greeting.writeBigUInt64BE(IHAVEOPT, 8);
  greeting.writeUInt16BE(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES, 16);
  io.write(greeting);

  const clientFlags = (await io.read(4)).readUInt32BE(0);
  if (clientFlags & ~(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES)) {
    throw new ProtocolError(`client flags 0x${clientFlags.toString(16)} include bits the server did not offer`);
  }
  const options = new OptionHaggling(io, exports, (clientFlags & FLAG_NO_ZEROES) !== 0, tls);
  const maxOptions = MAX_OPTIONS + MAX_OPTIONS_PER_EXPORT * exports.listExports().length;
  for (let count = 1; ; count++) {
    // A client that pipelines options and never reads the replies would otherwise make us
    // queue replies without bound.
    await io.drained();
    const h = await io.read(16);
    if (h.readBigUInt64BE(0) !== IHAVEOPT) throw new ProtocolError('bad option magic');
    const option = h.readUInt32BE(8);
    const length = h.readUInt32BE(12);
    if (count > maxOptions) throw new ProtocolError(`client sent ${maxOptions} options without choosing an export`);
    if (length > MAX_OPTION_LENGTH) throw new ProtocolError(`${optionName(option)} option of ${length} bytes is too long`);
    const data = length > 0 ? await io.read(length) : Buffer.alloc(0);
    const outcome = await options.handle(option, data);
    if (outcome !== CONTINUE) return outcome;
  }
}

/** Options go on (CONTINUE), end in transmission (Negotiated) or end the session (null). */
const CONTINUE = Symbol('continue');
type Outcome = Negotiated | null | typeof CONTINUE;

/** The state options build up before transmission, and one method per option. */
class OptionHaggling {
  private structuredReplies = false;
  private contexts = new Map<number, string>();
  /** Contexts belong to the export SET_META_CONTEXT named; choosing another one drops them. */
  private contextsExport: string | null = null;
  private onTls = false;
  private toldTlsRequired = false;

  constructor(
    private readonly io: HandshakeIO, private readonly exports: ExportLookup, private readonly noZeroes: boolean,
    private readonly tls: TlsMode,
  ) {}

  async handle(option: number, data: Buffer): Promise<Outcome> {
    if (this.tls === 'require' && !this.onTls && option !== OPT.STARTTLS && option !== OPT.ABORT) return this.tlsRequired(option);
    switch (option) {
      case OPT.EXPORT_NAME:
        return this.exportName(data);
      case OPT.ABORT:
        this.reply(option, REP.ACK);
        return null;
      case OPT.LIST:
        return this.list(option, data);
      case OPT.STARTTLS:
        return this.startTls(option, data);
      case OPT.STRUCTURED_REPLY:
        if (data.length !== 0) return this.fail(option, REP.ERR_INVALID, 'STRUCTURED_REPLY takes no data');
        this.structuredReplies = true;
        this.reply(option, REP.ACK);
        return CONTINUE;
      case OPT.LIST_META_CONTEXT:
      case OPT.SET_META_CONTEXT:
        return this.metaContext(option, data);
      case OPT.INFO:
      case OPT.GO:
        return this.infoOrGo(option, data);
      default:
        return this.fail(option, REP.ERR_UNSUP, `option ${optionName(option)} is not supported`);
    }
  }

  private reply(option: number, type: number, payload?: Buffer): void {
    this.io.write(optionReply(option, type, payload));
  }

  private fail(option: number, type: number, message: string): Outcome {
    this.io.log(`${optionName(option)}: ${message}`);
    this.reply(option, type, Buffer.from(message, 'utf8'));
    return CONTINUE;
  }

  /** --tls=require before STARTTLS. One log line per client, however many options it tries. */
  private tlsRequired(option: number): Outcome {
    const message = 'this server requires TLS (--tls=require): send STARTTLS first';
    // The spec: EXPORT_NAME has no error reply, so the only refusal is to hang up.
    if (option === OPT.EXPORT_NAME) throw new ProtocolError(`EXPORT_NAME without TLS: ${message}`);
    if (!this.toldTlsRequired) this.io.log(`${optionName(option)} without TLS: ${message}`);
    this.toldTlsRequired = true;
    this.reply(option, REP.ERR_TLS_REQD, Buffer.from(message, 'utf8'));
    return CONTINUE;
  }

  private async startTls(option: number, data: Buffer): Promise<Outcome> {
    if (data.length !== 0) return this.fail(option, REP.ERR_INVALID, 'STARTTLS takes no data');
    if (this.tls === 'off' || !this.io.startTls) return this.fail(option, REP.ERR_POLICY, 'TLS is not enabled on this server (--tls=off)');
    if (this.onTls) return this.fail(option, REP.ERR_INVALID, 'TLS is already active on this connection');
    this.reply(option, REP.ACK);
    await this.io.drained();
    await this.io.startTls();
    this.onTls = true;
    // The spec: what was negotiated in the clear does not carry over into TLS.
    this.structuredReplies = false;
    this.contexts = new Map();
    this.contextsExport = null;
    return CONTINUE;
  }

  private negotiated(exp: ServedExport, open: OpenChain): Negotiated {
    const contexts = this.contextsExport === exp.name ? this.contexts : new Map<number, string>();
    return { export: exp, open, structuredReplies: this.structuredReplies, contexts };
  }

  private async exportName(data: Buffer): Promise<Outcome> {
    const name = data.toString('utf8');
    const exp = this.exports.findExport(name);
    if (!exp) throw new ProtocolError(`EXPORT_NAME: no export named '${name}'`);
    const open = await openExport(exp);
    const b = Buffer.alloc(this.noZeroes ? 10 : 134);
    writeU64(b, 0, open.top.getSize());
    b.writeUInt16BE(transmissionFlags(open.top, this.structuredReplies), 8);
    this.io.write(b);
    return this.negotiated(exp, open);
  }

  private list(option: number, data: Buffer): Outcome {
    if (data.length !== 0) return this.fail(option, REP.ERR_INVALID, 'LIST takes no data');
    const parts = this.exports.listExports().map((e) => {
      const name = Buffer.from(e.name, 'utf8');
      const body = Buffer.concat([Buffer.alloc(4), name, Buffer.from(e.description ?? '', 'utf8')]);
      body.writeUInt32BE(name.length, 0);
      return optionReply(option, REP.SERVER, body);
    });
    this.io.write(Buffer.concat([...parts, optionReply(option, REP.ACK)]));
    return CONTINUE;
  }

  private async metaContext(option: number, data: Buffer): Promise<Outcome> {
    const isSet = option === OPT.SET_META_CONTEXT;
    // SET replaces the selection even when it fails (the spec says so).
    if (isSet) {
      this.contexts = new Map();
      this.contextsExport = null;
    }
    const parsed = parseMetaContextOption(data);
    if (typeof parsed === 'string') return this.fail(option, REP.ERR_INVALID, parsed);
    if (isSet && !this.structuredReplies) return this.fail(option, REP.ERR_INVALID, 'SET_META_CONTEXT needs structured replies to be negotiated first');
    const target = this.exports.findExport(parsed.exportName);
    if (!target) return this.fail(option, REP.ERR_UNKNOWN, `no export named '${parsed.exportName}'`);
    const matched = matchContexts(parsed.queries, !isSet, await availableContexts(target));
    if (isSet) {
      this.contexts = new Map(matched.map((name) => [CONTEXT_IDS.get(name)!, name]));
      this.contextsExport = target.name;
    }
    const parts = matched.map((name) => {
      const b = Buffer.alloc(4 + Buffer.byteLength(name));
      b.writeUInt32BE(isSet ? CONTEXT_IDS.get(name)! : 0, 0);
      b.write(name, 4, 'utf8');
      return optionReply(option, REP.META_CONTEXT, b);
    });
    this.io.write(Buffer.concat([...parts, optionReply(option, REP.ACK)]));
    return CONTINUE;
  }

  private async infoOrGo(option: number, data: Buffer): Promise<Outcome> {
    const parsed = parseInfoOption(data);
    if (typeof parsed === 'string') return this.fail(option, REP.ERR_INVALID, parsed);
    const exp = this.exports.findExport(parsed.name);
    if (!exp) return this.fail(option, REP.ERR_UNKNOWN, `no export named '${parsed.name}'`);
    let open: OpenChain;
    try {
      open = await openExport(exp);
    } catch (err) {
      return this.fail(option, REP.ERR_UNKNOWN, `export '${exp.name}' cannot be opened: ${messageOf(err)}`);
    }
    this.io.write(Buffer.concat([...infoReplies(option, exp, open, parsed.requests, this.structuredReplies), optionReply(option, REP.ACK)]));
    if (option === OPT.GO) return this.negotiated(exp, open);
    await open.close();
    return CONTINUE;
  }
}

function openExport(exp: ServedExport): Promise<OpenChain> {
  return exp.chain.open({ readonly: !exp.writable, exportName: exp.name });
}

function infoReplies(option: number, exp: ServedExport, open: OpenChain, requests: number[], structuredReplies: boolean): Buffer[] {
  const out: Buffer[] = [];
  const info = (type: number, body: Buffer) => {
    const b = Buffer.allocUnsafe(2 + body.length);
    b.writeUInt16BE(type, 0);
    body.copy(b, 2);
    out.push(optionReply(option, REP.INFO, b));
  };
  const exportInfo = Buffer.allocUnsafe(10);
  writeU64(exportInfo, 0, open.top.getSize());
  exportInfo.writeUInt16BE(transmissionFlags(open.top, structuredReplies), 8);
  info(INFO.EXPORT, exportInfo);
  if (requests.includes(INFO.NAME)) info(INFO.NAME, Buffer.from(exp.name, 'utf8'));
  if (requests.includes(INFO.DESCRIPTION) && exp.description) info(INFO.DESCRIPTION, Buffer.from(exp.description, 'utf8'));
  // Always sent, as qemu-nbd does.
  const advertised = advertisedBlockSize(open.top);
  const sizes = Buffer.allocUnsafe(12);
  sizes.writeUInt32BE(advertised.minimum, 0);
  sizes.writeUInt32BE(advertised.preferred, 4);
  sizes.writeUInt32BE(advertised.maximum, 8);
  info(INFO.BLOCK_SIZE, sizes);
  return out;
}
