// Positional I/O on a raw fd for the file plugin's hot path: one fs.read/fs.write per request
// straight into the caller's buffer, looping only on a short transfer. The callback API is
// used because it allocates less per call than FileHandle's promise machinery.
import { close, fdatasync, open, read, write } from 'node:fs';
import { BlockError } from '../../backend/errors.ts';

/** Fill `buf` from `position`. End of file inside the range is an error (EIO): the size was fixed at open. */
export function readFully(fd: number, buf: Buffer, position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (done: number): void => {
      read(fd, buf, done, buf.length - done, position + done, (err, n) => {
        if (err) return reject(err);
        if (n === 0) return reject(new BlockError('EIO', `pread: unexpected end of file at ${position + done} (the file shrank?)`));
        if (done + n < buf.length) step(done + n);
        else resolve();
      });
    };
    step(0);
  });
}

export function writeFully(fd: number, buf: Buffer, position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (done: number): void => {
      write(fd, buf, done, buf.length - done, position + done, (err, n) => {
        if (err) return reject(err);
        if (done + n < buf.length) step(done + n);
        else resolve();
      });
    };
    step(0);
  });
}

export function openFd(file: string, flags: 'r' | 'r+'): Promise<number> {
  return new Promise((resolve, reject) => open(file, flags, (err, fd) => (err ? reject(err) : resolve(fd))));
}

export function closeFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => close(fd, (err) => (err ? reject(err) : resolve())));
}

export function syncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}
