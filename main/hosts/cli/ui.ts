// `blockscope ui`: the browser UI host (the same renderer and contract as the desktop app),
// and `blockscope app`: the desktop app, or the browser UI where no Electron binary exists.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch } from '../electron/launch.ts';
import { startUiHost } from '../web/index.ts';
import { UsageError } from './chain-args.ts';
import { oneValue, parseOptions } from './options.ts';

const UI_OPTIONS = [{ long: 'port', short: 'p', value: true }, { long: 'ip', short: 'i', value: true }, { long: 'demo' }, { long: 'help', short: 'h' }];

function portOption(text: string | undefined): number {
  const port = Number(text ?? 0);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port ${text}: not a port number`);
  return port;
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

export async function uiCommand(argv: string[]): Promise<number> {
  const opts = parseOptions(argv, UI_OPTIONS);
  const host = await startUiHost({
    host: oneValue(opts, 'ip') ?? '127.0.0.1',
    port: portOption(oneValue(opts, 'port')),
    open: opts.positional,
    demo: opts.flags.has('demo') || opts.positional.length === 0,
    log: (l) => console.error(`blockscope: ${l}`),
  });
  console.log(`Blockscope UI: ${host.url}`);
  await untilSignal();
  await host.close();
  return 0;
}

export async function appCommand(argv: string[]): Promise<number> {
  const opts = parseOptions(argv, UI_OPTIONS);
  // The bundle lives in out/cli/: the app folder (package.json, out/main) is two levels up.
  const appDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const launched = await launch({ images: opts.positional, appDir, uiPort: portOption(oneValue(opts, 'port')) });
  if (launched.kind === 'electron') return launched.exitCode;
  await untilSignal();
  await launched.host.close();
  return 0;
}
