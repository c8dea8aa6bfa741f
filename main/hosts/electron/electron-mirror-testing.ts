// Test helpers for fetching Electron without the internet: a stand-in Electron zip, a local
// HTTP mirror laid out as @electron/get expects, and a private copy of the electron package
// so the installer writes into a temp folder, never into the project's node_modules.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { afterEach } from 'vitest';
import { electronPackageDir, electronVersion } from './fetch-electron.ts';

export interface ZipEntry {
  name: string;
  data: Buffer;
  /** Unix permission bits, kept in the external attributes so the executable bit survives. */
  mode: number;
}

/** A zip archive (deflate, Unix attributes): local headers, then the central directory. */
export function zip(entries: ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const packed = deflateRawSync(e.data);
    const crc = crc32(e.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed: 2.0 (deflate)
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(e.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix: extractors honour the mode below
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(e.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(((0o100000 | e.mode) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, packed);
    centrals.push(central, name);
    offset += local.length + name.length + packed.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** A stand-in `electron` that writes its arguments (one a line) and environment beside `record`. */
export function standInElectronZip(version: string, record: string): Buffer {
  const script = `#!/bin/sh\nprintf '%s\\n' "$@" > '${record}.args'\nenv > '${record}.env'\nexit 0\n`;
  return zip([
    { name: 'electron', data: Buffer.from(script), mode: 0o755 },
    { name: 'version', data: Buffer.from(version), mode: 0o644 },
  ]);
}

/** The files a mirror holds for one release: the zip and a SHASUMS256.txt beside it. */
export function mirrorFiles(version: string, archive: Buffer, checksumOf: Buffer = archive): Map<string, Buffer> {
  const file = `electron-v${version}-${process.platform}-${process.arch}.zip`;
  const sum = createHash('sha256').update(checksumOf).digest('hex');
  return new Map([
    [`/v${version}/${file}`, archive],
    [`/v${version}/SHASUMS256.txt`, Buffer.from(`${sum} *${file}\n`)],
  ]);
}

export interface Mirror {
  /** Ends in '/', as ELECTRON_MIRROR wants. */
  url: string;
  /** Paths asked for, in order. */
  requests: string[];
  close(): Promise<void>;
}

/** Serves `files` (404 for anything else); 'hang' accepts requests and never answers them. */
export async function startMirror(files: Map<string, Buffer> | 'hang'): Promise<Mirror> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    if (files === 'hang') return;
    const body = files.get(req.url ?? '');
    if (body) res.writeHead(200, { 'Content-Length': body.length }).end(body);
    else res.writeHead(404).end('not found\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

// What install.js loads from its own folder; the rest of the package is types and docs.
const PACKAGE_FILES = ['package.json', 'install.js', 'index.js', 'checksums.json', 'cli.js'];

/** Where a package `name` is visible from `dir`, walking up node_modules folders as Node does. */
function packageFolder(name: string, dir: string): string {
  for (let at = dir; ; at = path.dirname(at)) {
    const candidate = path.join(at, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.dirname(at) === at) throw new Error(`${name} is not installed`);
  }
}

/**
 * Makes `appRoot` an app folder with its own copy of the project's electron package (no
 * binary) whose dependencies link to the project's; returns the package folder and version.
 */
export function stageElectronPackage(projectRoot: string, appRoot: string): { dir: string; version: string } {
  const real = electronPackageDir(projectRoot);
  if ('error' in real) throw new Error(real.error);
  const dir = path.join(appRoot, 'node_modules', 'electron');
  mkdirSync(dir, { recursive: true });
  for (const f of PACKAGE_FILES) copyFileSync(path.join(real.dir, f), path.join(dir, f));
  const manifest = JSON.parse(readFileSync(path.join(real.dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  for (const dep of Object.keys(manifest.dependencies ?? {})) {
    const link = path.join(appRoot, 'node_modules', dep);
    mkdirSync(path.dirname(link), { recursive: true });
    if (!existsSync(link)) symlinkSync(packageFolder(dep, real.dir), link, 'dir');
  }
  if (!existsSync(path.join(appRoot, 'package.json'))) writeFileSync(path.join(appRoot, 'package.json'), '{"name":"blockscope-staged","private":true}\n');
  return { dir, version: electronVersion(dir) };
}

export interface Scratch {
  tempDir(): string;
  mirror(files: Map<string, Buffer> | 'hang'): Promise<Mirror>;
}

/** Temp folders and mirrors for one test file, removed and closed after each test. */
export function useScratch(prefix: string): Scratch {
  let dirs: string[] = [];
  let mirrors: Mirror[] = [];
  afterEach(async () => {
    await Promise.all(mirrors.map((m) => m.close()));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    dirs = [];
    mirrors = [];
  });
  return {
    tempDir() {
      const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
      dirs.push(dir);
      return dir;
    },
    async mirror(files) {
      const m = await startMirror(files);
      mirrors.push(m);
      return m;
    },
  };
}
