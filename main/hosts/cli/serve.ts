// `blockscope serve`: nbdkit's command line, our engine. Read-only and loopback unless asked.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeChain } from '../../../shared/chain-config.ts';
import { registry } from '../../catalog.ts';
import { NbdServer, exportUri, type ListenTarget } from '../../nbd/server.ts';
import { UsageError, resolveChain } from './chain-args.ts';
import { oneValue, parseOptions, type OptionSpec } from './options.ts';

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
  { long: 'help', short: 'h' },
];

/** What a background server tells the launching process once it listens. */
const READY_PREFIX = 'BLOCKSCOPE_READY ';

export async function serveCommand(argv: string[], demoImage: () => Promise<string>): Promise<number> {
  const opts = parseOptions(argv, SERVE_OPTIONS);
  if (opts.flags.has('writable') && opts.flags.has('readonly')) throw new UsageError('--writable and --readonly contradict each other');
  const words = opts.flags.has('demo') ? [await demoImage(), ...opts.positional] : opts.positional;
  const resolved = await resolveChain({ filters: opts.values.get('filter') ?? [], words });
  const portText = oneValue(opts, 'port');
  const port = portText === undefined ? 10809 : Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port ${portText}: not a port number`);
  const host = oneValue(opts, 'ip') ?? '127.0.0.1';
  let unixPath = oneValue(opts, 'unix');
  const run = oneValue(opts, 'run');
  const foreground = opts.flags.has('foreground') || run !== undefined || process.env.BLOCKSCOPE_BACKGROUND_CHILD === '1';

  if (!foreground) return launchInBackground(argv);

  let tmpDir: string | null = null;
  if (unixPath === '-') {
    tmpDir = mkdtempSync(path.join(os.tmpdir(), 'blockscope-'));
    unixPath = path.join(tmpDir, 'nbd.sock');
  }
  const chain = await registry.build(resolved.config);
  const server = new NbdServer({ verbose: opts.flags.has('verbose'), log: (l) => console.error(`blockscope: ${l}`) });
  const exportName = oneValue(opts, 'export') ?? '';
  const writable = opts.flags.has('writable');
  if (writable) {
    // Opening the chain once also reports a broken image or filter before anyone connects.
    const probe = await chain.open({ readonly: false, exportName });
    const canWrite = probe.top.canWrite();
    await probe.close();
    if (!canWrite) {
      console.error(`blockscope: ${describeChain(resolved.config)} cannot be written (read-only ${resolved.format ?? 'plugin'}); serving it read-only. Add --filter=cow for a writable overlay.`);
    }
  }
  server.addExport({
    name: exportName,
    description: oneValue(opts, 'description') ?? `${resolved.target}${resolved.format ? ` (${resolved.format})` : ''}`,
    chain,
    writable,
    chainLabel: describeChain(resolved.config),
  });
  const target: ListenTarget = unixPath ? { path: unixPath } : { host, port };
  const listening = await server.listen(target);
  const uri = 'path' in target ? exportUri(target, exportName) : exportUri({ host, port: listening.port! }, exportName);
  const pidfile = oneValue(opts, 'pidfile');
  if (pidfile) writeFileSync(pidfile, `${process.pid}\n`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await server.close();
    await chain.unload();
    if (pidfile) rmSync(pidfile, { force: true });
    if (tmpDir) rmSync(tmpDir, { recursive: true, force: true });
  };

  console.error(`blockscope: serving ${describeChain(resolved.config)} ${writable ? 'read-write' : 'read-only'} at ${uri}`);
  if (run !== undefined) {
    const env = { ...process.env, uri, nbd: uri, exportname: exportName, ...(unixPath ? { unixsocket: unixPath } : { port: String(listening.port) }) };
    const child = spawn('/bin/sh', ['-c', run], { stdio: 'inherit', env });
    const status = await new Promise<number>((resolve) => {
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1)));
      child.on('error', () => resolve(127));
    });
    await stop();
    return status;
  }
  if (process.env.BLOCKSCOPE_BACKGROUND_CHILD === '1') {
    process.stdout.on('error', () => {});
    process.stderr.on('error', () => {});
    process.stdout.write(`${READY_PREFIX}${uri}\n`);
  }
  else console.log(uri);
  await new Promise<void>((resolve) => {
    const onSignal = () => resolve();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  await stop();
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
