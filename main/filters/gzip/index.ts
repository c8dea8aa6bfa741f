// gzip: serve the uncompressed contents of a gzip-compressed layer (nbdkit-gzip-filter).
// gzip cannot seek, so the whole stream is inflated once, by the first connection, into a
// hidden temporary file in $TMPDIR (else /var/tmp) that later connections share; reads come
// from there. Read-only, and no extents of its own (the map is all data, as nbdkit's).
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { BlockError, messageOf } from '../../backend/errors.ts';
import { defineFilter, type Next } from '../../backend/types.ts';
import { readFully, writeFully } from '../../plugins/file/fd-io.ts';

const READ_CHUNK = 1 << 20;

export interface Inflated {
  fd: number;
  size: number;
}

/** An fd on a fresh temporary file that is already unlinked: it vanishes when closed. */
export function anonymousTempFile(prefix: string): number {
  const dir = mkdtempSync(path.join(process.env.TMPDIR || '/var/tmp', prefix));
  try {
    return openSync(path.join(dir, 'data'), 'w+');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function* compressedBytes(next: Next): AsyncGenerator<Buffer> {
  const size = next.getSize();
  for (let pos = 0; pos < size; pos += READ_CHUNK) {
    const buf = Buffer.alloc(Math.min(READ_CHUNK, size - pos));
    await next.pread(buf, pos);
    yield buf;
  }
}

/** Writes a stream at increasing offsets of `fd`, leaving all-zero chunks as holes. */
function sparseWriter(fd: number, out: { size: number }): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      const at = out.size;
      out.size += chunk.length;
      if (chunk.every((b) => b === 0)) return done();
      writeFully(fd, chunk, at).then(() => done(), done);
    },
  });
}

async function inflate(next: Next): Promise<Inflated> {
  const fd = anonymousTempFile('blockscope-gzip-');
  const out = { size: 0 };
  try {
    await pipeline(Readable.from(compressedBytes(next)), createGunzip(), sparseWriter(fd, out));
    // Zero chunks at the end were skipped: set the length so they read back as holes.
    ftruncateSync(fd, out.size);
  } catch (err) {
    closeSync(fd);
    throw new BlockError('EIO', `gzip: the layer below is not a valid gzip stream: ${messageOf(err)}`);
  }
  return { fd, size: out.size };
}

export const gzipFilter = defineFilter({
  name: 'gzip',
  summary: 'serve the uncompressed contents of a .gz image (read-only)',
  params: [],
  create() {
    let inflated: Promise<Inflated> | null = null;
    return {
      readonlyBelow: true,
      async open(next) {
        // A failed attempt is not kept, so a later connection may try again.
        inflated ??= inflate(next).catch((err: unknown) => {
          inflated = null;
          throw err;
        });
        const { fd, size } = await inflated;
        return {
          getSize: () => size,
          canWrite: () => false,
          canExtents: () => false,
          canCache: () => 'emulate',
          pread: (buf, offset) => readFully(fd, buf, offset),
        };
      },
      async unload() {
        const done = await inflated?.catch(() => null);
        if (done) closeSync(done.fd);
      },
    };
  },
});
