// `npm start` / `blockscope app`: the Electron window. The binary is fetched on first use
// (the install skips it so that `npm ci` works offline); only where that cannot be done
// (offline, a timeout, an unsupported platform, an explicit opt-out) does the browser UI host
// open on the same images instead, after one line saying why.
import { spawn } from 'node:child_process';
import { startUiHost, type UiHost } from '../web/index.ts';
import { electronPackageDir, electronVersion, fetchBlocked, fetchTimeoutMs, findElectronIn, mirrorHost, runElectronInstaller } from './fetch-electron.ts';

export type ElectronChoice = { path: string } | { reason: string };

export interface ChooseOptions {
  /** The app folder: its node_modules holds the electron package. */
  appDir: string;
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
  /** Overrides BLOCKSCOPE_ELECTRON_FETCH_TIMEOUT. */
  fetchTimeoutMs?: number;
}

/** The Electron binary to run, fetching it first if need be, or why the browser UI it is. */
export async function chooseElectron(options: ChooseOptions): Promise<ElectronChoice> {
  const pkg = electronPackageDir(options.appDir);
  if ('error' in pkg) return { reason: pkg.error };
  const present = findElectronIn(pkg.dir);
  if ('path' in present) return present;
  const blocked = fetchBlocked(options.env);
  if (blocked) return { reason: blocked };

  const version = electronVersion(pkg.dir);
  const from = mirrorHost(options.env);
  options.log(`blockscope: fetching Electron ${version} (one time, ~100 MB) from ${from} ...`);
  const started = Date.now();
  const timeoutMs = options.fetchTimeoutMs ?? fetchTimeoutMs(options.env);
  const failed = await runElectronInstaller(pkg.dir, { env: options.env, timeoutMs });
  if (failed) return { reason: `could not fetch Electron ${version} from ${from}: ${failed}` };
  const fetched = findElectronIn(pkg.dir);
  if ('error' in fetched) return { reason: `the Electron installer left no binary: ${fetched.error}` };
  options.log(`blockscope: Electron ${version} is ready (${Math.round((Date.now() - started) / 1000)} s)`);
  return fetched;
}

export interface LaunchOptions {
  /** Image paths or nbd:// URIs; none opens the demo image. */
  images: string[];
  /** The folder whose package.json names out/main/index.cjs. */
  appDir: string;
  log?: (line: string) => void;
  uiPort?: number;
  /** The environment for the installer and the app; process.env by default. */
  env?: NodeJS.ProcessEnv;
  fetchTimeoutMs?: number;
}

export type Launched = { kind: 'electron'; exitCode: Promise<number> } | { kind: 'browser'; host: UiHost; reason: string };

function runElectron(binary: string, options: LaunchOptions, env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<number> {
  // Inherited from an Electron-based terminal (VS Code), it would start a bare Node, not the app.
  const { ELECTRON_RUN_AS_NODE: _asNode, ...appEnv } = env;
  const child = spawn(binary, [options.appDir, '--', ...options.images], { stdio: 'inherit', env: appEnv });
  return new Promise<number>((resolve) => {
    child.on('error', (err) => {
      log(`blockscope: cannot start Electron: ${err.message}`);
      resolve(1);
    });
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

export async function launch(options: LaunchOptions): Promise<Launched> {
  const log = options.log ?? ((line: string) => console.error(line));
  const env = options.env ?? process.env;
  const choice = await chooseElectron({ appDir: options.appDir, env, log, fetchTimeoutMs: options.fetchTimeoutMs });
  if ('path' in choice) return { kind: 'electron', exitCode: runElectron(choice.path, options, env, log) };
  log(`blockscope: no Electron binary on this machine (${choice.reason}); opening the browser UI instead`);
  const host = await startUiHost({ port: options.uiPort, demo: options.images.length === 0, open: options.images, log });
  log(`blockscope: browser UI at ${host.url}`);
  return { kind: 'browser', host, reason: choice.reason };
}
