// The Linux kernel as an NBD client of `blockscope serve`. This machine's kernel has no NBD driver
// (no CONFIG_BLK_DEV_NBD), so the kernel reaches the export through nbdfuse (a FUSE file backed by
// libnbd) and a loop device on that file: every block ext4 reads or writes becomes an NBD request
// to our server. Needs root, /dev/fuse and loop devices; a machine without them fails, not skips.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ok, run, serve, tempDir, TOOL_ENV } from './harness.ts';

const KERNEL_TIMEOUT = 120_000;
const tmp = tempDir();

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Deterministic bytes: the same name always gives the same content. */
function contentFor(name: string, length: number): Buffer {
  return createHash('shake256', { outputLength: length }).update(name).digest();
}

/** losetup, mount and mkfs live in sbin, which a CI user's PATH may lack. */
function findTool(name: string): string | undefined {
  const dirs = [...(TOOL_ENV.PATH ?? '').split(':'), '/usr/sbin', '/sbin'].filter(Boolean);
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

const TOOLS: Record<string, string> = {
  nbdfuse: 'libnbd-bin',
  nbdcopy: 'libnbd-bin',
  fusermount3: 'fuse3',
  losetup: 'mount',
  mount: 'mount',
  umount: 'mount',
  'mkfs.ext4': 'e2fsprogs',
  debugfs: 'e2fsprogs',
  e2fsck: 'e2fsprogs',
  sgdisk: 'gdisk',
  dd: 'coreutils',
  sync: 'coreutils',
};

const tool = (name: string): string => findTool(name) ?? name;

/** Everything the kernel path needs, so a bare machine fails with one readable list. */
function missingPrerequisites(): string[] {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root privileges (mount and losetup need them)');
  if (!existsSync('/dev/fuse')) missing.push('/dev/fuse (Debian package fuse3; in a container also pass --device /dev/fuse)');
  if (!existsSync('/dev/loop-control') && !existsSync('/dev/loop0')) {
    missing.push('/dev/loop-control or /dev/loop* (kernel loop support; in a container run --privileged)');
  }
  for (const [name, pkg] of Object.entries(TOOLS)) {
    if (!findTool(name)) missing.push(`${name} (Debian package ${pkg})`);
  }
  return missing;
}

/** Runs cleanup steps in reverse order even when the body or an earlier step fails. */
async function withCleanup<T>(body: (defer: (undo: () => Promise<unknown>) => void) => Promise<T>): Promise<T> {
  const undos: (() => Promise<unknown>)[] = [];
  let failure: unknown;
  let result: T | undefined;
  try {
    result = await body((undo) => undos.push(undo));
  } catch (err) {
    failure = err;
  }
  const cleanupErrors: string[] = [];
  for (const undo of undos.reverse()) {
    try {
      await undo();
    } catch (err) {
      cleanupErrors.push(err instanceof Error ? err.message : String(err));
    }
  }
  if (failure !== undefined) {
    if (cleanupErrors.length > 0 && failure instanceof Error) failure.message += `\n(cleanup also failed: ${cleanupErrors.join('; ')})`;
    throw failure;
  }
  if (cleanupErrors.length > 0) throw new Error(`cleanup failed: ${cleanupErrors.join('; ')}`);
  return result as T;
}

/** A busy device or mount often frees itself a moment later (udev, lazy loop release): retry briefly. */
async function retrying(cmd: string, args: string[], attempts = 30): Promise<{ code: number; stderr: string }> {
  let last = { code: 1, stderr: '' };
  for (let i = 0; i < attempts; i++) {
    last = await run(cmd, args);
    if (last.code === 0) return last;
    await sleep(100);
  }
  return last;
}

interface FuseFile {
  /** The file nbdfuse serves: the whole export as one regular file. */
  file: string;
  unmount(): Promise<void>;
}

/** `nbdfuse [-r] DIR URI` in the foreground; resolves once DIR/nbd exists. */
async function nbdfuse(uri: string, dir: string, readOnly: boolean): Promise<FuseFile> {
  mkdirSync(dir, { recursive: true });
  const child: ChildProcess = spawn(tool('nbdfuse'), [...(readOnly ? ['-r'] : []), dir, uri], { env: TOOL_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const file = path.join(dir, 'nbd');

  const unmount = async () => {
    const r = await retrying(tool('fusermount3'), ['-u', dir]);
    if (r.code !== 0) {
      await run(tool('fusermount3'), ['-u', '-z', dir]);
      child.kill('SIGTERM');
      throw new Error(`fusermount3 -u ${dir} failed (lazily unmounted instead): ${r.stderr}`);
    }
    // nbdfuse flushes and disconnects after the unmount; the server must see that before we read it back.
    const timedOut = await Promise.race([exited.then(() => false), sleep(20_000).then(() => true)]);
    if (timedOut) {
      child.kill('SIGTERM');
      throw new Error(`nbdfuse did not exit after fusermount3 -u ${dir}:\n${output}`);
    }
  };

  for (let waited = 0; !existsSync(file); waited += 100) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`nbdfuse ${uri} exited before mounting:\n${output}`);
    if (waited >= 30_000) {
      await unmount().catch(() => {});
      throw new Error(`nbdfuse ${uri}: ${file} did not appear within 30 s:\n${output}`);
    }
    await sleep(100);
  }
  return { file, unmount };
}

/** A loop device over FILE (optionally a window of it); returns the device and how to detach it. */
async function attachLoop(file: string, options: { readOnly: boolean; offset?: number; sizeLimit?: number }): Promise<{ device: string; detach(): Promise<void> }> {
  const args = ['-f', '--show'];
  if (options.readOnly) args.push('-r');
  if (options.offset !== undefined) args.push('-o', String(options.offset));
  if (options.sizeLimit !== undefined) args.push('--sizelimit', String(options.sizeLimit));
  const device = (await ok(tool('losetup'), [...args, file])).trim();
  return {
    device,
    detach: async () => {
      const r = await retrying(tool('losetup'), ['-d', device]);
      if (r.code !== 0) throw new Error(`losetup -d ${device} failed: ${r.stderr}`);
    },
  };
}

/** Mounts DEVICE as ext4 on DIR; returns how to unmount it. */
async function mountExt4(device: string, dir: string, readOnly: boolean): Promise<() => Promise<void>> {
  mkdirSync(dir, { recursive: true });
  await ok(tool('mount'), ['-t', 'ext4', '-o', readOnly ? 'ro' : 'rw', device, dir]);
  return async () => {
    const r = await retrying(tool('umount'), [dir]);
    if (r.code !== 0) {
      await run(tool('umount'), ['-l', dir]);
      throw new Error(`umount ${dir} failed (lazily unmounted instead): ${r.stderr}`);
    }
  };
}

/** Mount points (kernel or FUSE) still under the temp dir: a test that leaves one behind fails. */
function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .map((field) => field.replace(/\\040/g, ' '))
    .filter((mountPoint) => mountPoint === dir || mountPoint.startsWith(dir + '/'));
}

// The files the ext4 partition holds: odd sizes so the last block of each is partial.
const FILES: Record<string, number> = {
  'readme.txt': 100,
  'b.bin': (1 << 20) + 4097,
  'dir/a.bin': (3 << 20) + 513,
};
const PART_START = 2048 * 512;
const PART_LENGTH = 40 << 20;
const srcDir = path.join(tmp.dir, 'src');
const gptImage = path.join(tmp.dir, 'gpt.img');

/** 64 MiB GPT disk: partition 1 (sectors 2048.., 40 MiB) is ext4 made from srcDir. */
async function makeGptImage(): Promise<void> {
  for (const [name, length] of Object.entries(FILES)) {
    mkdirSync(path.dirname(path.join(srcDir, name)), { recursive: true });
    writeFileSync(path.join(srcDir, name), contentFor(name, length));
  }
  writeFileSync(gptImage, '');
  truncateSync(gptImage, 64 << 20);
  await ok(tool('sgdisk'), ['-n', '1:2048:+40M', '-t', '1:8300', '-c', '1:kernel-test', gptImage]);
  const partition = path.join(tmp.dir, 'p1.img');
  writeFileSync(partition, '');
  truncateSync(partition, PART_LENGTH);
  await ok(tool('mkfs.ext4'), ['-q', '-F', '-L', 'blk-kernel', '-E', 'lazy_itable_init=0,nodiscard', '-d', srcDir, partition]);
  await ok(tool('dd'), [`if=${partition}`, `of=${gptImage}`, 'bs=512', `seek=${PART_START / 512}`, 'conv=notrunc,sparse', 'status=none']);
}

/** Every source file, as read back from the mounted filesystem. */
function expectSourceFilesUnder(mountDir: string): void {
  for (const name of Object.keys(FILES)) {
    expect(sha(path.join(mountDir, name)), name).toBe(sha(path.join(srcDir, name)));
  }
  expect(readdirSync(mountDir).sort()).toEqual(['b.bin', 'dir', 'lost+found', 'readme.txt']);
}

beforeAll(async () => {
  const missing = missingPrerequisites();
  if (missing.length > 0) throw new Error(`the kernel end-to-end test needs:\n  ${missing.join('\n  ')}`);
  await makeGptImage();
}, KERNEL_TIMEOUT);

afterAll(() => {
  const left = mountsUnder(tmp.dir);
  // Deleting the temp dir through a live mount would delete inside the mounted filesystem.
  if (left.length > 0) throw new Error(`mounts left behind, temp dir kept: ${left.join(', ')}`);
  tmp.cleanup();
});

describe('the kernel reads an export through nbdfuse and a loop device', () => {
  it('mounts the ext4 partition of a served GPT image read-only and reads every file intact', async () => {
    await withCleanup(async (defer) => {
      const s = await serve([gptImage]);
      defer(() => s.stop());
      const fuse = await nbdfuse(s.uri, path.join(tmp.dir, 'ro-fuse'), true);
      defer(() => fuse.unmount());
      expect(statSync(fuse.file).size).toBe(64 << 20);
      const loop = await attachLoop(fuse.file, { readOnly: true, offset: PART_START, sizeLimit: PART_LENGTH });
      defer(() => loop.detach());
      const mountDir = path.join(tmp.dir, 'ro-mnt');
      defer(await mountExt4(loop.device, mountDir, true));
      expectSourceFilesUnder(mountDir);
    });
  }, KERNEL_TIMEOUT);

  it('blockscope info of the served URI shows the partition the kernel mounted', async () => {
    await withCleanup(async (defer) => {
      const s = await serve([gptImage]);
      defer(() => s.stop());
      const info = JSON.parse(await ok(process.execPath, [CLI, 'info', '--json', s.uri]));
      expect(info.size).toBe(64 << 20);
      expect(info.partitions.scheme).toBe('gpt');
      expect(info.partitions.entries.map((e: Record<string, unknown>) => [e.number, e.start, e.length, e.typeName, e.name])).toEqual([
        [1, PART_START, PART_LENGTH, 'Linux filesystem', 'kernel-test'],
      ]);
    });
  }, KERNEL_TIMEOUT);

  it('mounts a partition served through --filter=partition with no offset', async () => {
    await withCleanup(async (defer) => {
      const s = await serve(['--filter=partition', gptImage, 'partition=1']);
      defer(() => s.stop());
      const fuse = await nbdfuse(s.uri, path.join(tmp.dir, 'part-fuse'), true);
      defer(() => fuse.unmount());
      expect(statSync(fuse.file).size).toBe(PART_LENGTH);
      const loop = await attachLoop(fuse.file, { readOnly: true });
      defer(() => loop.detach());
      const mountDir = path.join(tmp.dir, 'part-mnt');
      defer(await mountExt4(loop.device, mountDir, true));
      expectSourceFilesUnder(mountDir);
    });
  }, KERNEL_TIMEOUT);
});

describe('the kernel writes an export through nbdfuse and a loop device', () => {
  it('mkfs.ext4, a file written and synced by the kernel, all land in the server', async () => {
    const written = contentFor('kernel-wrote.bin', (2 << 20) + 1234);
    const copy = path.join(tmp.dir, 'rw-copy.img');
    const dumped = path.join(tmp.dir, 'rw-dumped.bin');
    await withCleanup(async (defer) => {
      const s = await serve(['--writable', 'memory', 'size=64M']);
      defer(() => s.stop());
      await withCleanup(async (deferKernel) => {
        const fuse = await nbdfuse(s.uri, path.join(tmp.dir, 'rw-fuse'), false);
        deferKernel(() => fuse.unmount());
        const loop = await attachLoop(fuse.file, { readOnly: false });
        deferKernel(() => loop.detach());
        await ok(tool('mkfs.ext4'), ['-q', '-F', '-L', 'blk-written', '-E', 'lazy_itable_init=0', loop.device]);
        const mountDir = path.join(tmp.dir, 'rw-mnt');
        deferKernel(await mountExt4(loop.device, mountDir, false));
        writeFileSync(path.join(mountDir, 'kernel-wrote.bin'), written);
        await ok(tool('sync'), []);
      });
      // Kernel, loop and FUSE are gone: what follows reads only what the server kept.
      await ok(tool('nbdcopy'), [s.uri, copy]);
    });
    await ok(tool('e2fsck'), ['-f', '-n', copy]);
    await ok(tool('debugfs'), ['-R', `dump /kernel-wrote.bin ${dumped}`, copy]);
    expect(readFileSync(dumped).equals(written)).toBe(true);
  }, KERNEL_TIMEOUT);
});
