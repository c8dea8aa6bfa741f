// What one transmission request does once validateRequest accepted it: the chain call and
// the reply. READ and BLOCK_STATUS replies carry what the chain produces (READ as hole chunks
// where the sparse-read policy says so); the rest answer with a bare success. The connection
// around it owns flow control and errors.
import { EXTENT_ZERO } from '../../shared/extents.ts';
import { FLAG_FAST_ZERO, FLAG_FUA, FLAG_MAY_TRIM, FLAG_REQ_ONE } from '../backend/flags.ts';
import type { Next } from '../backend/types.ts';
import type { BufferPool } from './buffer-pool.ts';
import { fileReadReply } from './fast-read.ts';
import type { Negotiated } from './handshake.ts';
import { CMD, CMD_FLAG, CONTEXT_BASE_ALLOCATION } from './protocol.ts';
import {
  OFFSET_DATA_HEADER_LENGTH, SIMPLE_HEADER_LENGTH, blockStatusChunk, blockStatusChunkOf, offsetDataChunk, offsetHoleChunk,
  simpleReply, writeOffsetDataHeader, writeSimpleHeader,
} from './replies.ts';
import type { Ticket } from './reply-writer.ts';
import type { NbdRequest } from './request-parser.ts';
import { readSegments, shouldLookForHoles } from './sparse-read.ts';
import { validateRequest } from './validate-request.ts';

/** What running a request needs of its connection. */
export interface RequestContext {
  readonly pool: BufferPool;
  readonly stats: { bytesRead: number; bytesWritten: number };
  send(bytes: Buffer, pooled?: boolean, ticket?: Ticket): void;
}

/** Check a request, run it on the chain and send its reply; throws what the chain threw. */
export async function runRequest(req: NbdRequest, session: Negotiated, ticket: Ticket, conn: RequestContext): Promise<void> {
  validateRequest(req, session);
  const top = session.open.top;
  const { flags, offset, length } = req;
  const fua = flags & CMD_FLAG.FUA ? FLAG_FUA : 0;
  switch (req.type) {
    case CMD.READ: {
      // Straight from the file where the socket and every layer allow it (fast-read.ts).
      const fromFile = ticket.fileReplies && fileReadReply(req, session);
      if (fromFile) {
        await ticket.fileReplies!.sendFile(fromFile, ticket);
      } else {
        const reply = await readReply(req, session, conn.pool);
        conn.send(reply.bytes, reply.pooled, ticket);
      }
      conn.stats.bytesRead += length;
      return;
    }
    case CMD.WRITE:
      await top.pwrite(req.payload!, offset, fua);
      conn.pool.release(req.payload!);
      req.payload = null;
      conn.stats.bytesWritten += length;
      break;
    case CMD.FLUSH:
      await top.flush();
      break;
    case CMD.TRIM:
      await top.trim(length, offset, fua);
      break;
    case CMD.WRITE_ZEROES: {
      const may = flags & CMD_FLAG.NO_HOLE ? 0 : FLAG_MAY_TRIM;
      const fast = flags & CMD_FLAG.FAST_ZERO ? FLAG_FAST_ZERO : 0;
      await top.zero(length, offset, fua | may | fast);
      break;
    }
    case CMD.CACHE:
      await top.cache(length, offset);
      break;
    case CMD.BLOCK_STATUS:
      conn.send(await blockStatusReply(req, session));
      return;
  }
  conn.send(simpleReply(req.cookie, 0));
}

interface DataReply {
  bytes: Buffer;
  /** The bytes came from the connection's pool and go back to it once sent. */
  pooled: boolean;
}

/**
 * A pooled buffer holding `headerLength` bytes of room and then the data at
 * [offset, offset+length): the reply goes out in one write without copying the data.
 */
async function preadBehindHeader(top: Next, pool: BufferPool, headerLength: number, offset: number, length: number): Promise<Buffer> {
  const b = pool.acquire(headerLength + length);
  try {
    await top.pread(b.subarray(headerLength), offset);
  } catch (err) {
    pool.release(b);
    throw err;
  }
  return b;
}

/** READ: one buffer with its header in front, or OFFSET_HOLE and OFFSET_DATA chunks (sparse-read.ts). */
async function readReply(req: NbdRequest, session: Negotiated, pool: BufferPool): Promise<DataReply> {
  const top = session.open.top;
  const { cookie, offset, length } = req;
  if (!session.structuredReplies) {
    const b = await preadBehindHeader(top, pool, SIMPLE_HEADER_LENGTH, offset, length);
    writeSimpleHeader(b, 0, cookie, 0);
    return { bytes: b, pooled: true };
  }
  const df = (req.flags & CMD_FLAG.DF) !== 0;
  if (!shouldLookForHoles(top, length, df, session.contexts.size)) {
    const b = await preadBehindHeader(top, pool, OFFSET_DATA_HEADER_LENGTH, offset, length);
    writeOffsetDataHeader(b, cookie, offset, length, true);
    return { bytes: b, pooled: true };
  }
  const segments = readSegments(await top.extents(length, offset, 0), offset + length);
  const chunks: Buffer[] = [];
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    const last = i === segments.length - 1;
    if (s.flags === EXTENT_ZERO) {
      chunks.push(offsetHoleChunk(cookie, s.offset, s.length, last));
    } else {
      const { chunk, data } = offsetDataChunk(cookie, s.offset, s.length, last);
      await top.pread(data, s.offset);
      chunks.push(chunk);
    }
  }
  return { bytes: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), pooled: false };
}

/** BLOCK_STATUS: one chunk per negotiated meta context, the last one flagged DONE. */
async function blockStatusReply(req: NbdRequest, session: Negotiated): Promise<Buffer> {
  const top = session.open.top;
  const { offset, length } = req;
  const reqOne = req.flags & CMD_FLAG.REQ_ONE ? FLAG_REQ_ONE : 0;
  const chunks: Buffer[] = [];
  let n = 0;
  for (const [id, name] of session.contexts) {
    n++;
    const last = n === session.contexts.size;
    if (name === CONTEXT_BASE_ALLOCATION) {
      // In descriptor form where the chain has it so (a large map then makes no object per extent).
      const wire = reqOne ? null : await top.extentDescriptors(length, offset);
      chunks.push(wire ? blockStatusChunkOf(req.cookie, id, wire.bytes, last) : blockStatusChunk(req.cookie, id, await top.extents(length, offset, reqOne), last));
    } else {
      let depths = await top.allocationDepth(length, offset);
      if (reqOne) depths = depths.slice(0, 1);
      chunks.push(blockStatusChunk(req.cookie, id, depths.map((d) => ({ length: d.length, flags: d.depth })), last));
    }
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}
