// Who is at the other end of an accepted socket, for the filters' preconnect hooks. Node
// reports TCP addresses but has no API for a Unix socket's peer credentials: those come from
// the native addon (SO_PEERCRED, SO_PEERSEC). Without it they are null and every rule that
// needs them refuses (fail closed); nothing in /proc links an accepted socket to its peer
// process soundly, so there is no pure-JS guess.
import type { Socket } from 'node:net';
import { nativeIo, socketFd, type NativeIo } from '../native-io.ts';
import { ConnectionRefused, type Chain } from './chain.ts';
import { messageOf } from './errors.ts';
import type { PeerInfo, Release } from './types.ts';

/** The addon calls peer.ts uses (absent from builds older than them). */
interface PeerIo extends NativeIo {
  peerCredentials?(fd: number): number[];
  peerSecurity?(fd: number): string | number;
}

const MAPPED_IPV4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/** The peer of a freshly accepted socket (before any handle moves off it). */
export function peerOf(socket: Socket): PeerInfo {
  const address = socket.remoteAddress;
  if (address) {
    const port = socket.remotePort ?? 0;
    const mapped = MAPPED_IPV4.exec(address);
    if (mapped) return { family: 'ipv4', address: mapped[1]!, port };
    return { family: socket.remoteFamily === 'IPv6' ? 'ipv6' : 'ipv4', address, port };
  }
  const fd = socketFd(socket);
  const io = fd >= 0 ? (nativeIo() as PeerIo | null) : null;
  return { family: 'unix', credentials: credentialsOf(io, fd), security: securityOf(io, fd) };
}

function credentialsOf(io: PeerIo | null, fd: number): { pid: number; uid: number; gid: number } | null {
  const r = io?.peerCredentials?.(fd);
  if (!r || r.length !== 3) return null;
  const [pid, uid, gid] = r as [number, number, number];
  return { pid, uid, gid };
}

function securityOf(io: PeerIo | null, fd: number): string | null {
  const r = io?.peerSecurity?.(fd);
  return typeof r === 'string' && r !== '' ? r : null;
}

/** "127.0.0.1:5432", "[::1]:5432", "unix socket (pid 12, uid 1000, gid 1000)": for log lines. */
export function describePeer(peer: PeerInfo): string {
  if (peer.family !== 'unix') return peer.family === 'ipv4' ? `${peer.address}:${peer.port}` : `[${peer.address}]:${peer.port}`;
  const c = peer.credentials;
  return c ? `unix socket (pid ${c.pid}, uid ${c.uid}, gid ${c.gid})` : 'unix socket (peer unknown)';
}

/**
 * Runs the preconnect hooks of every served chain for a freshly accepted (paused) socket.
 * The export a client wants is named only in the handshake, so it must pass the filters of
 * every export (fail closed). `true`, synchronously, when no filter screens peers; otherwise
 * resolves true when admitted (what the hooks took is released when the socket closes), or
 * false after one log line naming the filter and the reason, with the socket destroyed.
 */
export function admitPeer(socket: Socket, chains: readonly Chain[], log: (line: string) => void): true | Promise<boolean> {
  const screening = [...new Set(chains)].filter((c) => c.screensPeers);
  if (screening.length === 0) return true;
  return screen(socket, screening, log);
}

async function screen(socket: Socket, chains: readonly Chain[], log: (line: string) => void): Promise<boolean> {
  const peer = peerOf(socket);
  const held: Release[] = [];
  const releaseAll = () => held.splice(0).forEach((r) => r());
  try {
    for (const chain of chains) held.push(await chain.preconnect(peer));
  } catch (err) {
    releaseAll();
    const why = err instanceof ConnectionRefused ? err.message : `refused: ${messageOf(err)}`;
    log(`connection from ${describePeer(peer)} ${why}; closed before the handshake`);
    socket.destroy();
    return false;
  }
  if (socket.destroyed) {
    releaseAll();
    return false;
  }
  socket.once('close', releaseAll);
  return true;
}
