import { execFileSync } from 'node:child_process';
import { closeSync, fstatSync, linkSync, mkdtempSync, openSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeIo } from '../../native-io.ts';
import { propertyParams, propertyTimeout } from '../../testing/property-params.ts';
import { fileWriter } from './file-writers.ts';

const io = nativeIo();
const hasWriter = io?.SerialWriter !== undefined;
// A skip says why in the output: without the addon the file plugin writes through the pool, which file.test.ts covers.
if (!hasWriter) console.warn('file-writers.test: skipped: the native addon with SerialWriter is not loaded here (npm run build:native; BLOCKSCOPE_NO_NATIVE unset)');
const SIZE = 256 * 1024;
let dir: string;
let counter = 0;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'blockscope-writers-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function freshFile(size = SIZE): string {
  const file = path.join(dir, `w${counter++}.img`);
  writeFileSync(file, '');
  truncateSync(file, size);
  return file;
}

const writeArb = fc.record({
  handle: fc.nat(2),
  offset: fc.nat(SIZE - 1),
  length: fc.integer({ min: 1, max: 64 * 1024 }),
  fill: fc.integer({ min: 1, max: 255 }),
});

describe('file writers', () => {
  it.runIf(hasWriter)('applies writes from several fds of one file in the order they were asked for', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(writeArb, { minLength: 1, maxLength: 40 }), async (writes) => {
        const file = freshFile();
        const fds = [openSync(file, 'r+'), openSync(file, 'r+'), openSync(file, 'r+')];
        const users = fds.map((fd) => fileWriter(io, fstatSync(fd))!);
        const model = Buffer.alloc(SIZE);
        // All queued before any is awaited: overlapping writes must land in call order.
        const results = writes.map(({ handle, offset, length, fill }) => {
          const n = Math.min(length, SIZE - offset);
          model.fill(fill, offset, offset + n);
          return users[handle]!.write(fds[handle]!, Buffer.alloc(n, fill), offset);
        });
        expect(await Promise.all(results)).toEqual(writes.map(() => 0));
        await Promise.all(users.map((u) => u.release()));
        for (const fd of fds) closeSync(fd);
        expect(readFileSync(file).equals(model)).toBe(true);
      }),
      propertyParams(30),
    );
  }, propertyTimeout(60_000));

  it.runIf(hasWriter)('release resolves only after the writes queued before it are in the file', async () => {
    const file = freshFile(8 << 20);
    const fd = openSync(file, 'r+');
    const user = fileWriter(io, fstatSync(fd))!;
    for (let i = 0; i < 32; i++) void user.write(fd, Buffer.alloc(256 * 1024, i + 1), i * 256 * 1024);
    await user.release();
    closeSync(fd);
    const data = readFileSync(file);
    for (let i = 0; i < 32; i++) expect(data[i * 256 * 1024 + 1000]).toBe(i + 1);
  });

  it.runIf(hasWriter)('reports a failed write as -errno and keeps working for other writes', async () => {
    const file = freshFile();
    const fd = openSync(file, 'r+');
    const user = fileWriter(io, fstatSync(fd))!;
    const readOnly = openSync(file, 'r');
    expect(await user.write(readOnly, Buffer.alloc(10, 1), 0)).toBe(-9); // EBADF: not open for writing
    expect(await user.write(fd, Buffer.alloc(10, 2), 0)).toBe(0);
    await user.release();
    closeSync(readOnly);
    closeSync(fd);
    expect(readFileSync(file)[5]).toBe(2);
  });

  it.runIf(hasWriter)('serves two paths to one file, and the writer ends with its last user', async () => {
    const file = freshFile();
    const link = path.join(dir, `link${counter++}.img`);
    linkSync(file, link);
    const fdA = openSync(file, 'r+');
    const fdB = openSync(link, 'r+');
    const a = fileWriter(io, fstatSync(fdA))!;
    const b = fileWriter(io, fstatSync(fdB))!;
    await a.write(fdA, Buffer.alloc(4, 7), 0);
    await a.release();
    await a.release(); // a second release changes nothing
    expect(await b.write(fdB, Buffer.alloc(4, 8), 4)).toBe(0);
    await b.release();
    // Both released: the next user gets a new writer, which works.
    const c = fileWriter(io, fstatSync(fdA))!;
    expect(await c.write(fdA, Buffer.alloc(4, 9), 8)).toBe(0);
    await c.release();
    closeSync(fdA);
    closeSync(fdB);
    expect([...readFileSync(file).subarray(0, 12)]).toEqual([7, 7, 7, 7, 8, 8, 8, 8, 9, 9, 9, 9]);
  });

  it.runIf(hasWriter)('refuses arguments that are not (fd, buffer, offset)', () => {
    const writer = new io!.SerialWriter!();
    expect(() => (writer.write as (...a: unknown[]) => unknown)(1, 'not a buffer', 0)).toThrow(TypeError);
    writer.close();
    expect(() => writer.write(1, Buffer.alloc(1), 0)).toThrow(/closed/);
  });

  it.runIf(hasWriter)('lets a worker thread end with writes still queued', () => {
    // The worker's environment goes away (and the addon with it) while its writer is busy:
    // the thread must be done with the addon's code by then, or the process crashes. And
    // while it goes away, the worker's code still calls write() and the thread still
    // reports writes done: neither may abort the process (a throw cannot be thrown then,
    // nor a Promise resolved). Each worker is ended while it queues more writes; forty of
    // them, because the moment is a race: with the addon before quiet_deferred.h, ten runs
    // of this loop aborted ten times (40 workers each), and the earlier form of this test
    // (3 workers, none writing at the end) aborted once in a fresh clone's CI.
    const file = freshFile(4 << 20);
    const addon = path.resolve('native/build/Release/blockscope_io.node');
    const worker = `
      const io = require(${JSON.stringify(addon)});
      const fd = require('node:fs').openSync(${JSON.stringify(file)}, 'r+');
      const writer = new io.SerialWriter();
      for (let i = 0; i < 64; i++) writer.write(fd, Buffer.alloc(65536, 1 + (i % 200)), i * 65536);
      writer.write(fd, Buffer.alloc(1, 7), 0).then(() => {
        require('node:worker_threads').parentPort.postMessage('written');
        for (let i = 0; i < 256; i++) writer.write(fd, Buffer.alloc(4096, 3), 2 << 20);
      });
      new io.SerialWriter().write(fd, Buffer.alloc(1, 9), 1); // left open, write pending
    `;
    const main = `
      const { Worker } = require('node:worker_threads');
      (async () => {
        for (let k = 0; k < 40; k++) {
          const w = new Worker(${JSON.stringify(worker)}, { eval: true });
          w.on('message', () => w.terminate());
          await new Promise((resolve) => w.on('exit', resolve));
        }
        console.log('ok');
      })();
    `;
    expect(execFileSync(process.execPath, ['-e', main], { encoding: 'utf8', timeout: 30_000 }).trim()).toBe('ok');
    expect(readFileSync(file)[0]).toBe(7);
  });

  it('falls back to the pool when the addon has no writer', () => {
    const stats = fstatSync(0);
    expect(fileWriter(null, stats)).toBeNull();
    expect(fileWriter({ ...io!, SerialWriter: undefined }, stats)).toBeNull();
  });
});
