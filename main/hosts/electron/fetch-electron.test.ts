import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fetchBlocked, fetchTimeoutMs, findElectronIn, installerReason, mirrorHost, runElectronInstaller } from './fetch-electron.ts';
import { mirrorFiles, stageElectronPackage, standInElectronZip, useScratch, type Mirror } from './electron-mirror-testing.ts';

const PROJECT = process.cwd();
const { tempDir, mirror: mirrorOf } = useScratch('bs-fetch-electron-');

/** The installer's environment: the local mirror, checksums fetched from it, a private cache. */
function installEnv(root: string, mirror: Mirror, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: root, ELECTRON_MIRROR: mirror.url, electron_use_remote_checksums: '1', electron_config_cache: path.join(root, 'cache'), ...extra };
}

describe('installerReason', () => {
  it('keeps the message of the stack the installer prints', () => {
    const out = 'HTTPError: Response code 404 (Not Found) for http://127.0.0.1:1/v1.0.0/electron-v1.0.0-linux-x64.zip\n    at FetchDownloader.download (x.js:1:1)\n';
    expect(installerReason(out, 'status 1')).toBe('Response code 404 (Not Found) for http://127.0.0.1:1/v1.0.0/electron-v1.0.0-linux-x64.zip');
  });

  it('finds the error line below the source excerpt Node prints for an uncaught throw', () => {
    const out = '/x/install.js:126\n      throw new Error(x);\n      ^\n\nError: Electron builds are not available on platform: aix\n    at getPlatformPath (/x/install.js:126:13)\n';
    expect(installerReason(out, 'status 1')).toBe('Electron builds are not available on platform: aix');
  });

  it("names the likely cause fetch() leaves out of its stack", () => {
    expect(installerReason('TypeError: fetch failed\n    at node:internal/deps/undici/undici:1:1\n', 'status 1')).toBe('fetch failed (offline, or the server is unreachable)');
  });

  it('falls back to the last line, then to the exit status', () => {
    expect(installerReason('something odd\nEACCES somewhere\n\n', 'status 1')).toBe('EACCES somewhere');
    expect(installerReason('', 'the installer exited with status 7')).toBe('the installer exited with status 7');
  });
});

describe('settings from the environment', () => {
  it('reads the timeout in seconds, five minutes by default', () => {
    expect(fetchTimeoutMs({})).toBe(300_000);
    expect(fetchTimeoutMs({ BLOCKSCOPE_ELECTRON_FETCH_TIMEOUT: '2.5' })).toBe(2500);
    expect(fetchTimeoutMs({ BLOCKSCOPE_ELECTRON_FETCH_TIMEOUT: 'soon' })).toBe(300_000);
    expect(fetchTimeoutMs({ BLOCKSCOPE_ELECTRON_FETCH_TIMEOUT: '0' })).toBe(300_000);
  });

  it('names the mirror host the installer will use', () => {
    expect(mirrorHost({})).toBe('github.com');
    expect(mirrorHost({ ELECTRON_MIRROR: 'https://npmmirror.com/mirrors/electron/' })).toBe('npmmirror.com');
    expect(mirrorHost({ ELECTRON_MIRROR: 'https://a.example/', npm_config_electron_mirror: 'http://b.example:8080/e/' })).toBe('b.example:8080');
  });

  it("respects Electron's own opt-outs", () => {
    expect(fetchBlocked({})).toBeUndefined();
    expect(fetchBlocked({ ELECTRON_SKIP_BINARY_DOWNLOAD: '1' })).toBe('ELECTRON_SKIP_BINARY_DOWNLOAD is set');
    expect(fetchBlocked({ ELECTRON_OVERRIDE_DIST_PATH: '/opt/e' })).toBe('ELECTRON_OVERRIDE_DIST_PATH (/opt/e) holds no Electron binary');
  });
});

describe("runElectronInstaller (Electron's install.js against a local mirror)", () => {
  it('downloads, checks against the mirror SHASUMS256.txt, unpacks and points the package at the binary', async () => {
    const root = tempDir();
    const pkg = stageElectronPackage(PROJECT, root);
    expect(findElectronIn(pkg.dir)).toEqual({ error: expect.stringMatching(/^Electron failed to install correctly/) });
    const mirror = await mirrorOf(mirrorFiles(pkg.version, standInElectronZip(pkg.version, path.join(root, 'record'))));

    expect(await runElectronInstaller(pkg.dir, { env: installEnv(root, mirror), timeoutMs: 60_000 })).toBeUndefined();

    const file = `electron-v${pkg.version}-${process.platform}-${process.arch}.zip`;
    expect(mirror.requests).toEqual([`/v${pkg.version}/${file}`, `/v${pkg.version}/SHASUMS256.txt`]);
    const binary = path.join(pkg.dir, 'dist', 'electron');
    expect(findElectronIn(pkg.dir)).toEqual({ path: binary });
    expect(statSync(binary).mode & 0o111).not.toBe(0);
    expect(readFileSync(path.join(pkg.dir, 'dist', 'version'), 'utf8')).toBe(pkg.version);
  });

  it('refuses an archive whose checksum does not match, leaving no binary', async () => {
    const root = tempDir();
    const pkg = stageElectronPackage(PROJECT, root);
    const archive = standInElectronZip(pkg.version, path.join(root, 'record'));
    const mirror = await mirrorOf(mirrorFiles(pkg.version, archive, Buffer.from('something else')));

    const reason = await runElectronInstaller(pkg.dir, { env: installEnv(root, mirror), timeoutMs: 60_000 });

    expect(reason).toMatch(/checksum/i);
    expect(reason).not.toContain('\n');
    expect(existsSync(path.join(pkg.dir, 'path.txt'))).toBe(false);
  });

  it('says an unsupported platform is one, in one line', async () => {
    const root = tempDir();
    const pkg = stageElectronPackage(PROJECT, root);
    const mirror = await mirrorOf(new Map());

    const reason = await runElectronInstaller(pkg.dir, { env: installEnv(root, mirror, { npm_config_platform: 'aix' }), timeoutMs: 60_000 });

    expect(reason).toBe('Electron builds are not available on platform: aix');
    expect(mirror.requests).toEqual([]);
  });

  it('stops the installer at the timeout', async () => {
    const root = tempDir();
    const pkg = stageElectronPackage(PROJECT, root);
    const mirror = await mirrorOf('hang');
    const started = Date.now();

    // Long enough for the installer to start and ask the mirror on a loaded machine.
    const reason = await runElectronInstaller(pkg.dir, { env: installEnv(root, mirror), timeoutMs: 6000 });

    expect(reason).toBe('timed out after 6 s (BLOCKSCOPE_ELECTRON_FETCH_TIMEOUT sets the limit in seconds)');
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(mirror.requests).toHaveLength(1);
  });
});
