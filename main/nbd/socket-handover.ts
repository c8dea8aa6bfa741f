// After STARTTLS's ACK a connection can move from the accepted socket to a descriptor of its
// own: a TLS worker's (tls-offload.ts) or our record layer's socket (tls-records.ts).
import type { Socket } from 'node:net';
import { nativeIo, socketFd } from '../native-io.ts';

interface DupIo {
  dupFd?(fd: number): number;
}

/** Whether `plain`'s connection could move to a descriptor of its own here (the addon duplicates it). */
export function canHandOver(plain: Socket): boolean {
  return typeof (nativeIo() as DupIo | null)?.dupFd === 'function' && socketFd(plain) >= 0;
}

/**
 * A second descriptor for `plain`'s connection, once `plain` has stopped reading and what it
 * wrote (the ACK) has reached the kernel; -1 when none can be had. The client waits for the
 * ACK before its ClientHello, so nothing more is `plain`'s to read: the ClientHello stays in
 * the kernel for the new owner.
 */
export async function handOverDescriptor(plain: Socket): Promise<number> {
  if (!canHandOver(plain)) return -1;
  const copy = (nativeIo() as DupIo).dupFd!(socketFd(plain));
  if (copy < 0) return -1;
  (plain as unknown as { _handle: { readStop(): void } })._handle.readStop();
  if (plain.writableLength > 0) await new Promise<void>((resolve) => plain.write(Buffer.alloc(0), () => resolve()));
  return copy;
}
