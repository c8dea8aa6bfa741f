// One writer thread per file being written (the addon's SerialWriter), shared by every
// connection that has the file open for writing. The kernel serializes buffered writes to a
// file on its inode lock anyway; writing them from the libuv pool instead made several pool
// threads queue (and spin) on that lock and woke a thread for every write, which on this VM
// cost as much CPU as nbdkit's whole process spent serving the same writes
// (native/serial_writer.cc says how; the README's performance section what it measured).
// Keyed by device and inode, so two paths to one file share a writer and two files do not.
import type { Stats } from 'node:fs';
import type { NativeIo, SerialWriter } from '../../native-io.ts';

interface Shared {
  writer: SerialWriter;
  users: number;
}

const writers = new Map<string, Shared>();

/** A connection's use of its file's writer. */
export interface FileWriter {
  /** 0 or -errno, once the bytes are in the file (page cache). */
  write(fd: number, buf: Buffer, offset: number): Promise<number>;
  /** Resolves when this connection's writes are done; the writer ends with its last user. */
  release(): Promise<void>;
}

/** The file's writer, or null where the addon has none (the caller writes through the pool). */
export function fileWriter(io: NativeIo | null, stats: Stats): FileWriter | null {
  if (!io?.SerialWriter) return null;
  const key = `${stats.dev}:${stats.ino}`;
  let shared = writers.get(key);
  if (!shared) {
    shared = { writer: new io.SerialWriter(), users: 0 };
    writers.set(key, shared);
  }
  shared.users++;
  const { writer } = shared;
  // Writes complete in the order they were queued: the last one ending means all have.
  let last: Promise<unknown> = Promise.resolve();
  let released = false;
  return {
    write(fd, buf, offset) {
      const done = writer.write(fd, buf, offset);
      last = done;
      return done;
    },
    async release() {
      if (released) return;
      released = true;
      await last;
      if (--shared.users === 0) {
        writers.delete(key);
        writer.close();
      }
    },
  };
}
