// Getting the Electron binary on demand. `npm ci` skips the electron package's install script
// (package.json allowScripts) so that installing works offline; the first `npm start` then
// runs that same script, Electron's own installer, which downloads through @electron/get and
// so honours ELECTRON_MIRROR, ELECTRON_CUSTOM_DIR, electron_config_cache,
// electron_use_remote_checksums and the download cache exactly as an install would.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

export type Found = { path: string } | { error: string };

const DEFAULT_TIMEOUT_S = 300;

function firstLine(text: string): string {
  return text.trim().split('\n')[0]!.trim();
}

/** The folder of the electron package the app at `appDir` resolves, or why there is none. */
export function electronPackageDir(appDir: string): { dir: string } | { error: string } {
  try {
    const manifest = createRequire(path.join(appDir, 'package.json')).resolve('electron/package.json');
    return { dir: path.dirname(manifest) };
  } catch {
    return { error: 'the electron package is not installed' };
  }
}

export function electronVersion(packageDir: string): string {
  const manifest = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as { version?: unknown };
  return typeof manifest.version === 'string' ? manifest.version : 'unknown';
}

/** The binary the electron package points at, asked of the package itself (its index.js). */
export function findElectronIn(packageDir: string): Found {
  const index = path.join(packageDir, 'index.js');
  const load = createRequire(index);
  // A fetch may have just written path.txt: read the package afresh, not from require's cache.
  delete load.cache[index];
  try {
    const found: unknown = load(index);
    if (typeof found !== 'string') return { error: 'the electron package did not return a binary path' };
    if (!existsSync(found)) return { error: `${found} does not exist` };
    return { path: found };
  } catch (err) {
    return { error: firstLine((err as Error).message) };
  }
}

/** BLOCKSCOPE_ELECTRON_FETCH_TIMEOUT in seconds; anything but a positive number means the default. */
export function fetchTimeoutMs(env: NodeJS.ProcessEnv): number {
  const seconds = Number(env.BLOCKSCOPE_ELECTRON_FETCH_TIMEOUT);
  return (Number.isFinite(seconds) && seconds > 0 ? seconds : DEFAULT_TIMEOUT_S) * 1000;
}

/** Why fetching cannot help here, or undefined when it is worth a try. */
export function fetchBlocked(env: NodeJS.ProcessEnv): string | undefined {
  // The installer exits 0 at once with this set: it is the user's (or CI's) explicit opt-out.
  if (env.ELECTRON_SKIP_BINARY_DOWNLOAD) return 'ELECTRON_SKIP_BINARY_DOWNLOAD is set';
  // The package then looks only there, and the installer would unpack somewhere else.
  if (env.ELECTRON_OVERRIDE_DIST_PATH) return `ELECTRON_OVERRIDE_DIST_PATH (${env.ELECTRON_OVERRIDE_DIST_PATH}) holds no Electron binary`;
  return undefined;
}

/** Where the download comes from, for the progress line: the same variables @electron/get reads. */
export function mirrorHost(env: NodeJS.ProcessEnv): string {
  const mirror = env.npm_config_electron_mirror || env.NPM_CONFIG_ELECTRON_MIRROR || env.npm_package_config_electron_mirror || env.ELECTRON_MIRROR;
  if (!mirror) return 'github.com';
  try {
    return new URL(mirror).host || mirror;
  } catch {
    return mirror;
  }
}

/** The installer prints an error's stack (or Node prints an uncaught one): its message line is the reason. */
export function installerReason(output: string, status: string): string {
  const lines = output.split('\n').map((l) => l.trim());
  const error = lines.find((l) => /^[A-Za-z]*Error: /.test(l));
  if (!error) return lines.filter(Boolean).at(-1) ?? status;
  // fetch() hides the network cause (ENOTFOUND, ECONNREFUSED) from the stack it prints.
  return /^TypeError: fetch failed$/.test(error) ? 'fetch failed (offline, or the server is unreachable)' : error.replace(/^(HTTP)?Error: /, '');
}

export interface FetchOptions {
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
}

interface InstallerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  output: string;
  spawnError?: Error;
}

function spawnInstaller(installer: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<InstallerExit> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [installer], { cwd: path.dirname(installer), env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer): void => {
      // A stack trace is all we read; a runaway writer must not grow this without bound.
      if (output.length < 64 * 1024) output += chunk.toString('utf8');
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
    }, timeoutMs);
    child.on('error', (spawnError) => {
      clearTimeout(timer);
      resolve({ code: null, signal: null, timedOut, output, spawnError });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, timedOut, output });
    });
  });
}

/** Runs the electron package's install.js; resolves with why it failed, or undefined on success. */
export async function runElectronInstaller(packageDir: string, options: FetchOptions): Promise<string | undefined> {
  const installer = path.join(packageDir, 'install.js');
  if (!existsSync(installer)) return `${installer} is missing`;
  // @electron/get downloads into a temp folder it abandons when the process is stopped: give it
  // one of ours, so a timed-out download leaves no partial 100 MB file in the system's temp.
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'blockscope-electron-'));
  try {
    const exit = await spawnInstaller(installer, { ...options.env, TMPDIR: tmp, TMP: tmp, TEMP: tmp }, options.timeoutMs);
    if (exit.spawnError) return `cannot run the installer: ${exit.spawnError.message}`;
    if (exit.timedOut) return `timed out after ${Number((options.timeoutMs / 1000).toFixed(1))} s (BLOCKSCOPE_ELECTRON_FETCH_TIMEOUT sets the limit in seconds)`;
    if (exit.code === 0) return undefined;
    return installerReason(exit.output, exit.signal ? `the installer was killed by ${exit.signal}` : `the installer exited with status ${exit.code}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
