// Sending on a plain socket's fd from the addon, past Node's stream: the caller must know that
// nothing Node still holds for the socket has to leave first (the reply writer checks).
import type { Socket } from 'node:net';
import { constants } from 'node:os';
import { socketFd } from '../native-io.ts';

const EBADF = constants.errno.EBADF;

/**
 * May small replies go to the socket directly (the reply writer's sendNow)? Off with
 * BLOCKSCOPE_DIRECT_REPLIES=0, checked per connection: the tests compare the two ways.
 */
export function directRepliesEnabled(): boolean {
  return process.env.BLOCKSCOPE_DIRECT_REPLIES !== '0';
}

/**
 * `send` bound to `socket`'s fd, or null where it cannot be used: no such addon call, a TLS
 * socket (its bytes must be encrypted in JavaScript), or a socket without an fd of its own.
 * The bound call answers what `send` answers: bytes taken, or -errno.
 */
export function onSocketFd<A extends unknown[]>(socket: Socket, send: ((fd: number, ...args: A) => number) | undefined): ((...args: A) => number) | null {
  if (!send || (socket as { encrypted?: boolean }).encrypted || socketFd(socket) < 0) return null;
  return (...args) => {
    // Asked at every send: a destroyed socket's number may already belong to another file.
    const fd = socket.destroyed ? -1 : socketFd(socket);
    return fd < 0 ? -EBADF : send(fd, ...args);
  };
}
