// The READ fast path: when every layer down to a file passes reads through unchanged (the
// chain's fileRange), a READ reply's payload goes from the page cache to the socket inside
// the kernel (sendfile, in the native addon) and never becomes a JavaScript buffer. The reply
// writer keeps the order of replies on the connection; this module decides which READs may
// go that way and on which sockets. Everything else (TLS, sparse reads, filters that change
// data, no addon, BLOCKSCOPE_FAST_READ=0) takes the ordinary path through pread.
import type { Socket } from 'node:net';
import { nativeIo } from '../native-io.ts';
import type { Negotiated } from './handshake.ts';
import { CMD_FLAG } from './protocol.ts';
import { OFFSET_DATA_HEADER_LENGTH, SIMPLE_HEADER_LENGTH, writeOffsetDataHeader, writeSimpleHeader } from './replies.ts';
import type { NbdRequest } from './request-parser.ts';
import { onSocketFd } from './socket-send.ts';
import { shouldLookForHoles } from './sparse-read.ts';

/** A READ reply whose payload lies in a file: its header, then `length` bytes of `fd` at `offset`. */
export interface FileReply {
  header: Buffer;
  fd: number;
  offset: number;
  length: number;
  /** Fill `into` with the payload from byte `skip` on, the ordinary way (what the socket did not take). */
  readRest(into: Buffer, skip: number): Promise<void>;
}

/** Sends header then payload; returns the bytes the socket took (fewer when it filled), or -errno if none. */
export type KernelSend = (header: Buffer, fd: number, offset: number, length: number) => number;

/**
 * Shorter reads go the ordinary way: there the copy costs less than the two extra syscalls,
 * and the reply writer batches many small replies into one writev.
 */
export const FILE_REPLY_MIN = 64 * 1024;

interface SendFileAddon {
  sendFileReply?(socketFd: number, header: Buffer, fd: number, offset: number, length: number): number;
  /** 1: all of the range is in the page cache; 0: not; -errno: the kernel cannot tell. */
  allCached?(fd: number, offset: number, length: number): number;
}

/** Is the fast path switched on? BLOCKSCOPE_FAST_READ=0 turns it off (checked per connection). */
export function fastReadEnabled(): boolean {
  return process.env.BLOCKSCOPE_FAST_READ !== '0';
}

/**
 * The kernel send for `socket`, or null where it cannot be used: a TLS socket (the bytes must
 * be encrypted in JavaScript), a socket without an fd of its own, or no addon.
 */
export function kernelSendFor(socket: Socket): KernelSend | null {
  return fastReadEnabled() ? onSocketFd(socket, (nativeIo() as SendFileAddon | null)?.sendFileReply) : null;
}

/** The READ as a FileReply, or null when its payload must be read (sparse replies, filters that change data, short reads). */
export function fileReadReply(req: NbdRequest, session: Negotiated): FileReply | null {
  const top = session.open.top;
  const { cookie, offset, length } = req;
  if (length < FILE_REPLY_MIN) return null;
  const structured = session.structuredReplies;
  if (structured && shouldLookForHoles(top, length, (req.flags & CMD_FLAG.DF) !== 0, session.contexts.size)) return null;
  const range = top.fileRange(length, offset);
  // sendfile reads on the event loop: data still on the disk is read on a pool thread instead.
  if (!range || (nativeIo() as SendFileAddon | null)?.allCached?.(range.fd, range.offset, length) === 0) return null;
  let header: Buffer;
  if (structured) {
    header = Buffer.allocUnsafe(OFFSET_DATA_HEADER_LENGTH);
    writeOffsetDataHeader(header, cookie, offset, length, true);
  } else {
    header = Buffer.allocUnsafe(SIMPLE_HEADER_LENGTH);
    writeSimpleHeader(header, 0, cookie, 0);
  }
  return {
    header, fd: range.fd, offset: range.offset, length,
    readRest: (into, skip) => top.pread(into, offset + skip),
  };
}
