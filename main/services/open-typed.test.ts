// Opening what the open field types, through the real engine: ~/… is the engine's home,
// file:// URIs open the file they name, and only a file nothing was recognised in says it
// opened as raw by default.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSession } from './engine.ts';
import type { Session } from './session.ts';

const run = promisify(execFile);
const MiB = 2 ** 20;

let dir: string;
let session: Session;
const realHome = process.env.HOME;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bs-open-typed-'));
  session = createSession({ stateDir: null });
});

afterEach(async () => {
  process.env.HOME = realHome;
  await session.dispose();
  await rm(dir, { recursive: true, force: true });
});

/** `size` bytes of a repeating non-zero pattern: no magic, no table, no filesystem. */
async function garbage(name: string, size = MiB): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, Buffer.alloc(size, 'blockscope garbage '));
  return file;
}

/** A 4 MiB raw disk whose MBR holds one Linux partition from sector 2048. */
async function mbrDisk(name: string): Promise<string> {
  const disk = Buffer.alloc(4 * MiB, 0x5a);
  disk.fill(0, 0, 512);
  const entry = 446;
  disk[entry + 4] = 0x83;
  disk.writeUInt32LE(2048, entry + 8);
  disk.writeUInt32LE(4096, entry + 12);
  disk.writeUInt16LE(0xaa55, 510);
  const file = path.join(dir, name);
  await writeFile(file, disk);
  return file;
}

describe('typed paths', () => {
  it('opens ~/… under the engine home', async () => {
    process.env.HOME = dir;
    const file = await garbage('in home.img');
    const opened = await session.openPath('~/in home.img');
    expect([opened.path, opened.title]).toEqual([file, 'in home.img']);
  });

  it('opens a percent-encoded file:// URI as the same image as its path', async () => {
    const file = await garbage('a b%é.img');
    const byUri = await session.openPath(`file://localhost${dir}/a%20b%25%C3%A9.img`);
    expect(byUri.path).toBe(file);
    expect((await session.openPath(file)).id).toBe(byUri.id);
  });

  it('refuses a file:// URI on another host, naming it', async () => {
    await expect(session.openPath('file://fileserver/x.img')).rejects.toMatchObject({
      code: 'invalid-input',
      message: expect.stringContaining("names the host 'fileserver'") as string,
    });
    expect(session.list()).toEqual([]);
  });
});

describe('raw by default', () => {
  it('marks a file with no format, table or filesystem', async () => {
    const opened = await session.openPath(await garbage('junk.bin'));
    expect([opened.format, opened.rawFallback]).toEqual(['raw', true]);
  });

  it('does not mark a raw disk with an MBR', async () => {
    const opened = await session.openPath(await mbrDisk('mbr.img'));
    expect([opened.format, opened.partitionScheme, opened.rawFallback]).toEqual(['raw', 'mbr', undefined]);
  });

  it('does not mark a raw filesystem image', async () => {
    const file = path.join(dir, 'fs.img');
    await run('mkfs.vfat', ['-C', '-n', 'BSTEST', file, '2048']);
    const opened = await session.openPath(file);
    expect([opened.format, opened.filesystem?.label, opened.rawFallback]).toEqual(['raw', 'BSTEST', undefined]);
  });

  it('does not mark a recognised format', async () => {
    const file = path.join(dir, 'x.qcow2');
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', file, '1M']);
    const opened = await session.openPath(file);
    expect([opened.format, opened.rawFallback]).toEqual(['qcow2', undefined]);
  });

  it('keeps the mark when a filter changes the chain', async () => {
    const opened = await session.openPath(await garbage('junk.bin'));
    await session.setChain(opened.id, { ...opened.chain, filters: [{ name: 'noextents', enabled: true, params: {} }] });
    expect(session.get(opened.id).rawFallback).toBe(true);
  });
});
