// `blockscope serve`: nbdkit's command line, our engine. Read-only and loopback unless asked.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeChain } from '../../../shared/chain-config.ts';
import type { Chain } from '../../backend/chain.ts';
import { registry } from '../../catalog.ts';
import { NbdServer, exportUri, type ListenTarget } from '../../nbd/server.ts';
import { exposureWarning } from '../../nbd/tls-credentials.ts';
import { recordServerActivity } from '../../services/activity-server.ts';
import { UsageError, resolveChain, type ResolvedChain } from './chain-args.ts';
import { TLS_OPTIONS, oneValue, parseOptions, type OptionSpec, type ParsedOptions } from './options.ts';
import { tlsFromOptions } from './tls-options.ts';

export const SERVE_OPTIONS: OptionSpec[] = [
  { long: 'port', short: 'p', value: true },
  { long: 'unix', short: 'U', value: true },
  { long: 'ip', short: 'i', value: true },
  { long: 'export', short: 'e', value: true },
  { long: 'description', short: 'D', value: true },
  { long: 'filter', value: true, repeat: true },
  { long: 'writable', short: 'w' },
  { long: 'readonly', short: 'r' },
  { long: 'foreground', short: 'f' },
  { long: 'pidfile', short: 'P', value: true },
  { long: 'run', value: true },
  { long: 'verbose', short: 'v' },
  { long: 'demo' },
  { long: 'activity', value: true },
  { long: 'help', short: 'h' },
  ...TLS_OPTIONS,
];

/** What a background server tells the launching process once it listens. */
const READY_PREFIX = 'BLOCKSCOPE_READY ';

interface ServeSettings {
  target: ListenTarget;
  /** A folder made for `-U -`, removed when the server stops. */
  tmpDir: string | null;
  exportName: string;
  writable: boolean;
  run: string | undefined;
  pidfile: string | undefined;
}

function listenTarget(opts: ParsedOptions): { target: ListenTarget; tmpDir: string | null } {
  const portText = oneValue(opts, 'port');
  const port = portText === undefined ? 10809 : Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port ${portText}: not a port number`);
  const unixPath = oneValue(opts, 'unix');
  if (unixPath === undefined) return { target: { host: oneValue(opts, 'ip') ?? '127.0.0.1', port }, tmpDir: null };
  if (unixPath !== '-') return { target: { path: unixPath }, tmpDir: null };
  const tmpDir = mkdtempSync(path.join(os.tmpdir(), 'blockscope-'));
  return { target: { path: path.join(tmpDir, 'nbd.sock') }, tmpDir };
}

export async function serveCommand(argv: string[], demoImage: () => Promise<string>): Promise<number> {
  const opts = parseOptions(argv, SERVE_OPTIONS);
  if (opts.flags.has('writable') && opts.flags.has('readonly')) throw new UsageError('--writable and --readonly contradict each other');
  const words = opts.flags.has('demo') ? [await demoImage(), ...opts.positional] : opts.positional;
  const resolved = await resolveChain({ filters: opts.values.get('filter') ?? [], words });
  const tls = tlsFromOptions(opts);
  const run = oneValue(opts, 'run');
  const foreground = opts.flags.has('foreground') || run !== undefined || process.env.BLOCKSCOPE_BACKGROUND_CHILD === '1';
  if (!foreground) return launchInBackground(argv);

  const settings: ServeSettings = {
    ...listenTarget(opts), exportName: oneValue(opts, 'export') ?? '', writable: opts.flags.has('writable'), run, pidfile: oneValue(opts, 'pidfile'),
  };
  const exposed = 'path' in settings.target ? null : exposureWarning(settings.target.host, tls?.mode ?? 'off');
  if (exposed) console.error(`blockscope: warning: ${exposed}`);
  const chain = await registry.build(resolved.config);
  const server = new NbdServer({ verbose: opts.flags.has('verbose'), log: (l) => console.error(`blockscope: ${l}`), tls });
  // What the log says is what clients get: a chain that cannot write is served read-only.
  const writable = settings.writable && (await writableOrWarn(chain, resolved, settings.exportName));
  server.addExport({
    name: settings.exportName,
    description: oneValue(opts, 'description') ?? `${resolved.target}${resolved.format ? ` (${resolved.format})` : ''}`,
    chain,
    writable,
    chainLabel: describeChain(resolved.config),
  });
  // --activity FILE: what clients read and wrote, written out when the server stops.
  const activity = await recordServerActivity(server, chain, { exportName: settings.exportName, title: resolved.target, file: oneValue(opts, 'activity') });
  const listening = await server.listen(settings.target);
  const uri = exportUri('path' in settings.target ? settings.target : { host: settings.target.host, port: listening.port! }, settings.exportName);
  if (settings.pidfile) writeFileSync(settings.pidfile, `${process.pid}\n`);
  const stop = once(async () => {
    await server.close();
    await activity?.save();
    await chain.unload();
    if (settings.pidfile) rmSync(settings.pidfile, { force: true });
    if (settings.tmpDir) rmSync(settings.tmpDir, { recursive: true, force: true });
  });
  console.error(`blockscope: serving ${describeChain(resolved.config)} ${writable ? 'read-write' : 'read-only'}${tls ? ` (TLS ${tls.mode})` : ''} at ${uri}`);
  // exitlast, exitwhen: a filter may end the server before the command or a signal does.
  let stopWatching = () => {};
  const told = new Promise<number>((resolve) => {
    stopWatching = chain.watchServer((reason) => {
      console.error(`blockscope: exiting: ${reason}`);
      resolve(0);
    });
  });
  const status = await Promise.race([run !== undefined ? runCommand(run, uri, settings, listening.port) : announceAndWait(uri), told]);
  stopWatching();
  await stop();
  return status;
}

function once(f: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | null = null;
  return () => (done ??= f());
}

/** Whether the chain can be written, saying so when it cannot; opening it once also reports a broken image or filter before anyone connects. */
async function writableOrWarn(chain: Chain, resolved: ResolvedChain, exportName: string): Promise<boolean> {
  const probe = await chain.open({ readonly: false, exportName });
  const canWrite = probe.top.canWrite();
  await probe.close();
  if (!canWrite) {
    console.error(`blockscope: ${describeChain(resolved.config)} cannot be written (read-only ${resolved.format ?? 'plugin'}); serving it read-only. Add --filter=cow for a writable overlay.`);
  }
  return canWrite;
}

/** --run: the command's exit status is ours. */
async function runCommand(run: string, uri: string, settings: ServeSettings, port: number | undefined): Promise<number> {
  const where = 'path' in settings.target ? { unixsocket: settings.target.path } : { port: String(port) };
  const env = { ...process.env, uri, nbd: uri, exportname: settings.exportName, ...where };
  const child = spawn('/bin/sh', ['-c', run], { stdio: 'inherit', env });
  return new Promise<number>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1)));
    child.on('error', () => resolve(127));
  });
}

/** Print the URI (to the launching process when in the background) and serve until a signal. */
async function announceAndWait(uri: string): Promise<number> {
  if (process.env.BLOCKSCOPE_BACKGROUND_CHILD === '1') {
    process.stdout.on('error', () => {});
    process.stderr.on('error', () => {});
    process.stdout.write(`${READY_PREFIX}${uri}\n`);
  } else {
    console.log(uri);
  }
  await new Promise<void>((resolve) => {
    const onSignal = () => resolve();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  return 0;
}

/** Like nbdkit without -f: start a detached server, wait until it listens, print its URI. */
async function launchInBackground(argv: string[]): Promise<number> {
  const child = spawn(process.execPath, [process.argv[1]!, 'serve', ...argv, '--foreground'], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, BLOCKSCOPE_BACKGROUND_CHILD: '1' },
  });
  // Until it listens, the server's messages are ours; after that it is on its own (its
  // later log lines are dropped, as a daemon's are), and nothing of ours keeps it attached.
  child.stderr!.on('data', (d: Buffer) => process.stderr.write(d));
  return new Promise<number>((resolve) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith(READY_PREFIX));
      if (line) {
        console.log(line.slice(READY_PREFIX.length));
        child.stdout!.destroy();
        child.stderr!.destroy();
        child.unref();
        resolve(0);
      }
    });
    child.on('exit', (code) => resolve(code ?? 1));
  });
}
