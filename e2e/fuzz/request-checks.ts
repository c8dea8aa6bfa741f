// The oracle for transmission: what the server must answer to a request (success, an error,
// or either, from the request and what was negotiated), and the per-request bookkeeping that
// checks a structured reply chunk by chunk: a READ covered exactly once by data and hole
// chunks, one BLOCK_STATUS chunk per selected context with extents inside the request, a
// DONE flag on the last chunk and nothing after it, error codes from the spec's list.
import { CMD, CMD_FLAG, CONTEXT_BASE_ALLOCATION, MAX_PAYLOAD, NBD_ERRNO, TFLAG } from '../../main/nbd/protocol.ts';
import type { Transmission } from './session.ts';

export const VALID_ERRORS = new Set<number>(Object.values(NBD_ERRNO));

export interface Expect {
  outcome: 'ok' | 'error' | 'either';
  /** Errors a request expected to succeed may still legitimately get. */
  tolerated: number[];
}

const KNOWN_FLAGS = CMD_FLAG.FUA | CMD_FLAG.NO_HOLE | CMD_FLAG.DF | CMD_FLAG.REQ_ONE | CMD_FLAG.FAST_ZERO;

function applicableFlags(type: number, t: Transmission): number {
  // FUA is valid on every command once SEND_FUA is advertised: the server MUST accept it.
  const fua = t.flags & TFLAG.SEND_FUA ? CMD_FLAG.FUA : 0;
  switch (type) {
    case CMD.READ:
      return fua | (t.structured && t.flags & TFLAG.SEND_DF ? CMD_FLAG.DF : 0);
    case CMD.WRITE_ZEROES:
      return fua | CMD_FLAG.NO_HOLE | (t.flags & TFLAG.SEND_FAST_ZERO ? CMD_FLAG.FAST_ZERO : 0);
    case CMD.BLOCK_STATUS:
      return fua | CMD_FLAG.REQ_ONE;
    default:
      return fua;
  }
}

const NEEDS: Record<number, number> = {
  [CMD.FLUSH]: TFLAG.SEND_FLUSH, [CMD.TRIM]: TFLAG.SEND_TRIM, [CMD.WRITE_ZEROES]: TFLAG.SEND_WRITE_ZEROES, [CMD.CACHE]: TFLAG.SEND_CACHE,
};
const WRITES = new Set<number>([CMD.WRITE, CMD.TRIM, CMD.WRITE_ZEROES]);
const RANGED = new Set<number>([CMD.READ, CMD.WRITE, CMD.TRIM, CMD.WRITE_ZEROES, CMD.CACHE, CMD.BLOCK_STATUS]);

export function expectation(type: number, flags: number, offset: bigint, length: number, t: Transmission): Expect {
  const tolerated: number[] = [];
  if (type > CMD.BLOCK_STATUS) return { outcome: 'error', tolerated };
  if (WRITES.has(type) && t.flags & TFLAG.READ_ONLY) return { outcome: 'error', tolerated };
  if (RANGED.has(type) && offset + BigInt(length) > BigInt(t.export.size)) return { outcome: 'error', tolerated };
  if (type === CMD.BLOCK_STATUS && (!t.structured || t.contexts.size === 0)) return { outcome: t.contextsUsable || t.contexts.size === 0 ? 'error' : 'either', tolerated };
  if (flags & ~KNOWN_FLAGS) return { outcome: 'either', tolerated };
  if (flags & ~applicableFlags(type, t)) return { outcome: 'either', tolerated };
  if (NEEDS[type] && !(t.flags & NEEDS[type]!)) return { outcome: 'either', tolerated };
  if (RANGED.has(type) && length === 0) return { outcome: 'either', tolerated };
  if ((type === CMD.READ || type === CMD.WRITE) && length > MAX_PAYLOAD) return { outcome: 'either', tolerated };
  if (type === CMD.FLUSH && (offset !== 0n || length !== 0)) return { outcome: 'either', tolerated };
  if (type === CMD.BLOCK_STATUS && !t.contextsUsable) return { outcome: 'either', tolerated };
  if (flags & CMD_FLAG.FAST_ZERO) tolerated.push(NBD_ERRNO.ENOTSUP);
  if (flags & CMD_FLAG.DF && length > 65536) tolerated.push(NBD_ERRNO.EOVERFLOW);
  return { outcome: 'ok', tolerated };
}

/** What one request has received so far. */
export class ReplyState {
  readonly covered: { at: number; end: number }[] = [];
  /** READ content to check against the oracle: data chunks, and ranges promised to read as zero. */
  readonly data: { at: number; bytes: Buffer }[] = [];
  readonly zeroes: { at: number; end: number }[] = [];
  readonly contextsSeen = new Set<number>();
  dataChunks = 0;
  holeChunks = 0;
  error: number | null = null;
  done = false;
  readonly problems: string[] = [];

  readonly type: number;
  readonly flags: number;
  readonly offset: number;
  readonly length: number;
  readonly expect: Expect;

  constructor(type: number, flags: number, offset: bigint, length: number, expect: Expect) {
    this.type = type;
    this.flags = flags;
    this.offset = Number(offset);
    this.length = length;
    this.expect = expect;
  }

  /** A content chunk of a READ: [at, at+len) must lie inside the request and overlap nothing so far. */
  content(at: number, len: number, hole: boolean): void {
    if (this.type !== CMD.READ) return void this.problems.push(`${hole ? 'OFFSET_HOLE' : 'OFFSET_DATA'} chunk in reply to command ${this.type}`);
    if (len === 0) return void this.problems.push('content chunk of length 0');
    if (at < this.offset || at + len > this.offset + this.length) {
      return void this.problems.push(`chunk ${at}+${len} outside the request ${this.offset}+${this.length}`);
    }
    if (this.covered.some((c) => at < c.end && c.at < at + len)) this.problems.push(`chunk ${at}+${len} overlaps an earlier chunk`);
    this.covered.push({ at, end: at + len });
    if (hole) this.holeChunks++;
    else this.dataChunks++;
  }

  blockStatus(id: number, descriptors: { length: number; flags: number }[], t: Transmission): void {
    if (this.type !== CMD.BLOCK_STATUS) return void this.problems.push(`BLOCK_STATUS chunk in reply to command ${this.type}`);
    const name = t.contexts.get(id);
    if (name === undefined) this.problems.push(`BLOCK_STATUS chunk for context id ${id}, which was not selected`);
    if (this.contextsSeen.has(id)) this.problems.push(`two BLOCK_STATUS chunks for context id ${id}`);
    this.contextsSeen.add(id);
    if (descriptors.length === 0) return void this.problems.push('BLOCK_STATUS chunk without descriptors');
    if (this.flags & CMD_FLAG.REQ_ONE && descriptors.length !== 1) this.problems.push(`REQ_ONE answered with ${descriptors.length} extents`);
    let at = this.offset;
    for (const d of descriptors) {
      if (d.length === 0) this.problems.push('extent of length 0');
      if (name === CONTEXT_BASE_ALLOCATION) {
        if (d.flags & ~3) this.problems.push(`base:allocation flags 0x${d.flags.toString(16)}`);
        if (d.flags & 2) this.zeroes.push({ at, end: at + d.length });
      }
      at += d.length;
    }
    if (at > this.offset + this.length) this.problems.push(`extents reach ${at}, past the request's end ${this.offset + this.length}`);
  }

  /** Checks once the DONE chunk (or the simple reply) is in. */
  finish(t: Transmission): void {
    this.done = true;
    const e = this.error;
    if (e !== null) {
      if (!VALID_ERRORS.has(e) || e === 0) this.problems.push(`error ${e} is not an NBD error value`);
      if (e === NBD_ERRNO.ENOTSUP && !(this.flags & CMD_FLAG.FAST_ZERO)) this.problems.push('ENOTSUP without FAST_ZERO');
      if (this.expect.outcome === 'ok' && !this.expect.tolerated.includes(e)) this.problems.push(`failed with error ${e} though valid`);
      return;
    }
    if (this.expect.outcome === 'error') this.problems.push('succeeded though the server must refuse it');
    if (this.type === CMD.READ && t.structured) {
      const sorted = [...this.covered].sort((a, b) => a.at - b.at);
      let at = this.offset;
      for (const c of sorted) at = c.at === at ? c.end : NaN;
      if (at !== this.offset + this.length) this.problems.push(`READ ${this.offset}+${this.length} not covered exactly once by its chunks`);
      if (this.flags & CMD_FLAG.DF && (this.dataChunks > 1 || this.holeChunks > 0)) this.problems.push('DF read answered in fragments');
    }
    if (this.type === CMD.BLOCK_STATUS && this.contextsSeen.size !== t.contexts.size) {
      this.problems.push(`BLOCK_STATUS answered for ${this.contextsSeen.size} of ${t.contexts.size} contexts`);
    }
  }
}
