// Test support: a real sparse file from a list of data runs (the rest stays a filesystem
// hole), and the bytes a reader must see in it.
import { randomBytes } from 'node:crypto';
import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';

export interface DataRun {
  offset: number;
  length: number;
}

/** Write random bytes at each run of a `size`-byte file; returns its whole contents. */
export function writeSparseFile(path: string, size: number, runs: readonly DataRun[], seedBytes: (n: number) => Buffer = randomBytes): Buffer {
  const model = Buffer.alloc(size);
  const fd = openSync(path, 'w');
  try {
    ftruncateSync(fd, size);
    for (const r of runs) {
      const data = seedBytes(r.length);
      // A random run may start with zero bytes by chance; keep its ends non-zero so the
      // layout the test meant is the layout the bytes show.
      data[0] = 0xa5;
      data[data.length - 1] = 0x5a;
      writeSync(fd, data, 0, data.length, r.offset);
      data.copy(model, r.offset);
    }
  } finally {
    closeSync(fd);
  }
  return model;
}
