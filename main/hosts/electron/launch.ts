// `npm start`: the Electron app when an Electron binary exists, else the browser UI host on
// the same images (the demo by default) with one line saying why. No Electron binary can
// be downloaded on the project's own machines, so the fallback is the common path there.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { startUiHost, type UiHost } from '../web/index.ts';

/** The Electron binary's path, or why there is none. */
export function findElectron(): { path: string } | { error: string } {
  try {
    // The electron package's main export is the path of the binary it downloaded.
    const found: unknown = createRequire(path.join(process.cwd(), 'package.json'))('electron');
    if (typeof found !== 'string') return { error: 'the electron package did not return a binary path' };
    if (!existsSync(found)) return { error: `${found} does not exist` };
    return { path: found };
  } catch (err) {
    return { error: (err as Error).message.split('\n')[0]! };
  }
}

export interface LaunchOptions {
  /** Image paths or nbd:// URIs; none opens the demo image. */
  images: string[];
  /** The folder whose package.json names out/main/index.cjs. */
  appDir: string;
  log?: (line: string) => void;
  uiPort?: number;
}

export type Launched = { kind: 'electron'; exitCode: Promise<number> } | { kind: 'browser'; host: UiHost; reason: string };

export async function launch(options: LaunchOptions): Promise<Launched> {
  const log = options.log ?? ((line: string) => console.log(line));
  const electron = findElectron();
  if ('path' in electron) {
    const child = spawn(electron.path, [options.appDir, '--', ...options.images], { stdio: 'inherit' });
    const exitCode = new Promise<number>((resolve) => {
      child.on('error', (err) => {
        log(`blockscope: cannot start Electron: ${err.message}`);
        resolve(1);
      });
      child.on('exit', (code) => resolve(code ?? 1));
    });
    return { kind: 'electron', exitCode };
  }
  log(`blockscope: no Electron binary on this machine (${electron.error}); opening the browser UI instead`);
  const host = await startUiHost({ port: options.uiPort, demo: options.images.length === 0, open: options.images, log });
  log(`blockscope: browser UI at ${host.url}`);
  return { kind: 'browser', host, reason: electron.error };
}
