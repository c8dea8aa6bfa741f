// The connection loop (native/connection_loop.cc): a thread of the addon that serves a
// connection's READs, WRITEs and FLUSHes itself, nbdkit's way, when every layer of
// the chain passes them to one file unchanged (LayerContext.passThroughFile), and its
// BLOCK_STATUS requests with REQ_ONE (qemu's) when the extents are that file's too
// (LayerContext.passThroughExtents) and base:allocation is the one meta context. The connection
// hands it the socket whenever nothing else is going on (connection.ts) and takes the socket
// back when the loop meets a request it leaves to the JavaScript path. What the loop served
// arrives in batches, for the stats, the activity map and the allocation map.
// Over TLS 1.3 it can seal and open the records itself, with the connection's record layer
// (tls-records.ts), where Node's TLS socket, bound to the event loop, could never be served;
// it does so only with BLOCKSCOPE_TLS_LOOP=1 for now: it used 30% less CPU than nbdkit per
// byte, yet nbdcopy read more slowly from it over one connection (w1c1tls 0.77-0.80 of nbdkit
// against 0.94 through the event loop, npm run bench, 5 rounds, runs interleaved), its own CPU
// going up (README, Performance).
// BLOCKSCOPE_CONNECTION_LOOP=0 turns the loop off (checked per connection).
import type { Socket } from 'node:net';
import { nativeIo, socketFd } from '../native-io.ts';
import type { Negotiated } from './handshake.ts';
import { idlePollEnabled } from './idle-poll.ts';
import { CMD, CMD_FLAG, CONTEXT_BASE_ALLOCATION } from './protocol.ts';
import type { NbdRequest } from './request-parser.ts';
import { SPARSE_READ_MIN } from './sparse-read.ts';
import { TlsRecordSocket, type TlsRecords } from './tls-records.ts';

/** Why a loop ended (native/connection_loop.cc has the same list). */
export const LOOP_END = {
  /** It met a request it does not serve: `leftover` is that request's header and what followed it. */
  HANDED_BACK: 0,
  /** The client closed the connection (`leftover`: part of a request it left). */
  END_OF_FILE: 1,
  /** The socket failed, or a long READ's file failed after its header had gone (`error`): the connection must end. */
  FAILED: 2,
  /** stop() was called. */
  STOPPED: 3,
  /** The file refused a request (`error`, an errno) before any of its reply went: `leftover` is its header, then what followed it. */
  REQUEST_FAILED: 4,
} as const;

export interface LoopEnd {
  reason: (typeof LOOP_END)[keyof typeof LOOP_END];
  /** errno, or 0 */
  error: number;
  /** What failed, where the errno does not say it (a TLS failure). */
  message?: string;
  leftover: Buffer;
}

/** Numbers per served request in an events array: command, offset, length, latency in ms. */
export const EVENT_FIELDS = 4;

interface LoopSettings {
  size: number;
  writable: boolean;
  structured: boolean;
  /** FUA is valid on every command. */
  fua: boolean;
  flush: boolean;
  /** READs of this many bytes or more without DF are left to the JavaScript path, which looks for holes; 0: none. */
  holeLookupMin: number;
  /** base:allocation's context id where the loop answers BLOCK_STATUS with REQ_ONE; -1: it does not. */
  blockStatusContext: number;
  /** Spin for the client's next request before sleeping, as idle-poll.ts does (BLOCKSCOPE_IDLE_POLL=0: no). */
  spin: boolean;
  /** The connection's TLS record layer; absent on plaintext. */
  tls?: TlsRecords;
  /** Over TLS: plaintext already opened and not yet read, the loop's first bytes. */
  received?: Buffer;
}

/** `end` is null but in the last call. */
export type LoopMessage = (events: Float64Array, end: LoopEnd | null) => void;

interface LoopAddon {
  startLoop?(socketFd: number, fileFd: number, settings: LoopSettings, onMessage: LoopMessage): () => void;
}

/** A connection's way into the loop. */
export interface ConnectionLoop {
  /** Starts a loop on the connection's socket and returns its stop(), which must not be called after the last message. */
  start(onMessage: LoopMessage): () => void;
  /** Whether the loop could serve a request like `req` (the commands and flags it takes): such requests served by the event loop count towards the next start. */
  takes(req: NbdRequest): boolean;
}

export function connectionLoopEnabled(): boolean {
  return process.env.BLOCKSCOPE_CONNECTION_LOOP !== '0';
}

/** The loop for `socket` and `session`, or null where none can serve them. */
export function connectionLoop(socket: Socket, session: Negotiated): ConnectionLoop | null {
  if (!connectionLoopEnabled()) return null;
  const start = (nativeIo() as LoopAddon | null)?.startLoop;
  const top = session.open.top;
  const file = top.passThroughFile();
  const tls = socket instanceof TlsRecordSocket ? socket : null;
  if (tls && process.env.BLOCKSCOPE_TLS_LOOP !== '1') return null;
  // The descriptor as it is now: the socket may have closed since (the caller checks it has not).
  const fd = () => (tls ? tls.fd : socketFd(socket));
  if (!start || file === null || fd() < 0) return null;
  const settings: LoopSettings = {
    size: top.getSize(),
    writable: top.canWrite(),
    structured: session.structuredReplies,
    fua: top.canFua() !== 'none',
    flush: top.canFlush(),
    // As sparse-read.ts's shouldLookForHoles decides for the READs the loop would serve.
    holeLookupMin: session.structuredReplies && session.contexts.size === 0 && top.canExtents() ? SPARSE_READ_MIN : 0,
    blockStatusContext: -1,
    spin: idlePollEnabled(),
    ...(tls ? { tls: tls.records } : {}),
  };
  const [only] = session.contexts;
  if (session.structuredReplies && session.contexts.size === 1 && only![1] === CONTEXT_BASE_ALLOCATION && top.passThroughExtents()) {
    settings.blockStatusContext = only![0];
  }
  return {
    start: (onMessage) => start(fd(), file, tls ? { ...settings, received: tls.takeHeld() } : settings, onMessage),
    takes: (req) => req.type === CMD.READ || req.type === CMD.WRITE || req.type === CMD.FLUSH
      || (req.type === CMD.BLOCK_STATUS && settings.blockStatusContext >= 0 && (req.flags & CMD_FLAG.REQ_ONE) !== 0),
  };
}
