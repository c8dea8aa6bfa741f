// Committing and discarding a cow overlay against real files: random writes, trims and zeroes
// through a cow chain over a sparse raw image, then the committed file must hold exactly the
// chain's bytes (and stay sparse), qemu-img must call its qcow2 the same disk, and a discarded
// overlay must read as the image below again.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { Chain } from '../backend/chain.ts';
import { registry } from '../catalog.ts';
import { tempDir } from '../temp-dir.ts';
import { propertyParams, propertyTimeout } from '../testing/property-params.ts';
import { writeSparseFile } from '../testing/sparse-file.ts';
import { ServiceError } from './errors.ts';
import { commitChain, discardOverlay, overlayStatus } from './overlay-commit.ts';

const KiB = 1024;
const SIZE = 1024 * KiB;
const { dir, cleanup } = tempDir('blockscope-commit-');
afterAll(cleanup);
let nextName = 1;
const fresh = (ext: string) => path.join(dir, `f${nextName++}.${ext}`);

async function cowOver(image: string): Promise<Chain> {
  return registry.build({ plugin: { name: 'file', params: { file: image } }, filters: [{ name: 'cow', params: { 'cow-block-size': '4K' }, enabled: true }] });
}

async function chainBytes(chain: Chain): Promise<Buffer> {
  const conn = await chain.open({ readonly: true, exportName: '' });
  const buf = Buffer.alloc(conn.top.getSize());
  await conn.top.pread(buf, 0);
  await conn.close();
  return buf;
}

type Op = { kind: 'write' | 'trim' | 'zero'; offset: number; length: number; byte: number };
const opArb = fc.record({
  kind: fc.constantFrom('write' as const, 'trim' as const, 'zero' as const),
  offset: fc.integer({ min: 0, max: SIZE - 1 }),
  length: fc.integer({ min: 1, max: 96 * KiB }),
  byte: fc.integer({ min: 1, max: 255 }),
}).map((op) => ({ ...op, length: Math.min(op.length, SIZE - op.offset) }));

async function apply(chain: Chain, ops: readonly Op[]): Promise<void> {
  const conn = await chain.open({ readonly: false, exportName: '' });
  for (const op of ops) {
    if (op.kind === 'write') await conn.top.pwrite(Buffer.alloc(op.length, op.byte), op.offset);
    else if (op.kind === 'trim') await conn.top.trim(op.length, op.offset);
    else await conn.top.zero(op.length, op.offset);
  }
  await conn.close();
}

/** A sparse image with two data runs, and a cow chain over it holding `ops`. */
async function written(ops: readonly Op[]): Promise<{ image: string; chain: Chain }> {
  const image = fresh('img');
  writeSparseFile(image, SIZE, [{ offset: 64 * KiB, length: 128 * KiB }, { offset: 700 * KiB, length: 40 * KiB }]);
  const chain = await cowOver(image);
  await apply(chain, ops);
  return { image, chain };
}

describe('commit as raw', () => {
  it('writes exactly the bytes the chain shows, whatever was written, trimmed or zeroed', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 12 }), async (ops) => {
        const { image, chain } = await written(ops);
        const out = fresh('raw');
        const result = await commitChain(chain, { path: out, format: 'raw', overwrite: false }, { protectedPaths: [image] });
        expect(result).toMatchObject({ path: out, format: 'raw', size: SIZE });
        expect(readFileSync(out).equals(await chainBytes(chain))).toBe(true);
        await chain.unload();
      }),
      propertyParams(15),
    );
  }, propertyTimeout(60_000));

  it('leaves holes and zeroes unwritten, so the file stays sparse', async () => {
    const { image, chain } = await written([{ kind: 'write', offset: 512 * KiB, length: 8 * KiB, byte: 7 }, { kind: 'zero', offset: 64 * KiB, length: 128 * KiB, byte: 0 }]);
    const out = fresh('raw');
    const result = await commitChain(chain, { path: out, format: 'raw', overwrite: false }, { protectedPaths: [image] });
    // Data left: the 40 KiB run of the image and the 8 KiB write; the zeroed run is gone.
    expect(result.bytesWritten).toBe(48 * KiB);
    expect(statSync(out).size).toBe(SIZE);
    expect(statSync(out).blocks * 512).toBeLessThanOrEqual(64 * KiB);
    await chain.unload();
  });

  it('reports progress up to the whole disk', async () => {
    const { image, chain } = await written([]);
    const seen: [number, number][] = [];
    await commitChain(chain, { path: fresh('raw'), format: 'raw', overwrite: false }, { protectedPaths: [image], progress: (d, t) => seen.push([d, t]) });
    expect(seen.at(-1)).toEqual([SIZE, SIZE]);
    await chain.unload();
  });
});

describe('what commit refuses', () => {
  it('asks before replacing an existing file, and replaces it once told to', async () => {
    const { image, chain } = await written([{ kind: 'write', offset: 0, length: 4 * KiB, byte: 9 }]);
    const out = fresh('raw');
    writeFileSync(out, 'keep me');
    const asked = commitChain(chain, { path: out, format: 'raw', overwrite: false }, { protectedPaths: [image] });
    await expect(asked).rejects.toMatchObject({ code: 'needs-confirmation' });
    expect(readFileSync(out, 'utf8')).toBe('keep me');
    await commitChain(chain, { path: out, format: 'raw', overwrite: true }, { protectedPaths: [image] });
    expect(readFileSync(out).equals(await chainBytes(chain))).toBe(true);
    await chain.unload();
  });

  it('never writes onto an image in use, even by another name, and leaves no temp file', async () => {
    const { image, chain } = await written([{ kind: 'write', offset: 0, length: 4 * KiB, byte: 9 }]);
    const before = readFileSync(image);
    const alias = fresh('link');
    symlinkSync(image, alias);
    for (const target of [image, alias]) {
      const refused = commitChain(chain, { path: target, format: 'raw', overwrite: true }, { protectedPaths: [image] });
      await expect(refused).rejects.toBeInstanceOf(ServiceError);
      await expect(refused).rejects.toMatchObject({ code: 'invalid-input' });
    }
    expect(readFileSync(image).equals(before)).toBe(true);
    expect(readdirSync(dir).filter((n) => n.includes('.blockscope-'))).toEqual([]);
    await chain.unload();
  });

  it('says qcow2 needs qemu-img when there is none, and writes nothing', async () => {
    const { image, chain } = await written([]);
    const out = fresh('qcow2');
    const refused = commitChain(chain, { path: out, format: 'qcow2', overwrite: false }, { protectedPaths: [image], qemuImg: 'qemu-img-not-here' });
    await expect(refused).rejects.toMatchObject({ code: 'unsupported', message: expect.stringMatching(/qemu-img.*not installed/) });
    expect(existsSync(out)).toBe(false);
    await chain.unload();
  });
});

describe('commit as qcow2', () => {
  it('is the same disk to qemu-img as the raw commit', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 8 }), async (ops) => {
        const { image, chain } = await written(ops);
        const raw = fresh('raw');
        const qcow = fresh('qcow2');
        await commitChain(chain, { path: raw, format: 'raw', overwrite: false }, { protectedPaths: [image] });
        await commitChain(chain, { path: qcow, format: 'qcow2', overwrite: false }, { protectedPaths: [image] });
        const info = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', qcow], { encoding: 'utf8' })) as { format: string; 'virtual-size': number };
        expect(info).toMatchObject({ format: 'qcow2', 'virtual-size': SIZE });
        // Exit status 0: identical contents; 1 would name the first differing offset.
        execFileSync('qemu-img', ['compare', '-q', '-f', 'raw', '-F', 'qcow2', raw, qcow]);
        await chain.unload();
      }),
      propertyParams(4),
    );
  }, propertyTimeout(60_000));
});

describe('discard', () => {
  it('empties the overlay: the chain reads the image below again and holds nothing', async () => {
    const { image, chain } = await written([{ kind: 'write', offset: 8 * KiB, length: 10 * KiB, byte: 3 }, { kind: 'trim', offset: 64 * KiB, length: 8 * KiB, byte: 0 }]);
    expect(overlayStatus('img-1', chain)).toEqual({ imageId: 'img-1', present: true, heldBytes: 20 * KiB, blockSize: 4 * KiB });
    const ranges = await discardOverlay(chain);
    expect(ranges).toEqual([[8 * KiB, 20 * KiB], [64 * KiB, 72 * KiB]]);
    expect(overlayStatus('img-1', chain).heldBytes).toBe(0);
    expect((await chainBytes(chain)).equals(readFileSync(image))).toBe(true);
    const cow = chain.filters[0]!.instance;
    expect(cow.hasUnsavedData?.()).toBe(false);
    await chain.unload();
  });

  it('refuses a chain without cow', async () => {
    const image = fresh('img');
    writeSparseFile(image, SIZE, []);
    const chain = await registry.build({ plugin: { name: 'file', params: { file: image } }, filters: [] });
    expect(overlayStatus('img-1', chain)).toEqual({ imageId: 'img-1', present: false, heldBytes: 0, blockSize: 0 });
    await expect(discardOverlay(chain)).rejects.toMatchObject({ code: 'invalid-input' });
    await chain.unload();
  });
});
