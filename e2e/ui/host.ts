// Starts the real browser UI host (`blockscope ui --port 0 --demo`) for a spec and talks to it
// the way the renderer does, for facts the page does not show (the demo layout).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import type { IpcChannel, IpcEventName, IpcEvents, IpcRequest, IpcResponse, IpcResult, WsServerMessage } from '../../shared/ipc.ts';

export const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface Host {
  url: string;
  process: ChildProcess;
  output(): string;
  invoke<C extends IpcChannel>(channel: C, request: IpcRequest<C>): Promise<IpcResponse<C>>;
  /** Contract events as the renderer receives them; returns an unsubscribe function. */
  on<E extends IpcEventName>(event: E, listener: (payload: IpcEvents[E]) => void): () => void;
  stop(): Promise<void>;
}

const URL_PATTERN = /http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9._~%-]+/;

export async function startHost(extraArgs: string[] = []): Promise<Host> {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'blockscope-e2e-state-'));
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'blockscope.mjs'), 'ui', '--port', '0', '--demo', ...extraArgs], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    // A fresh state folder: the specs' recent images must not land in the user's list.
    env: { ...process.env, BROWSER: 'none', XDG_STATE_HOME: stateDir },
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the UI host printed no URL within 30 s:\n${output}`)), 30_000);
    const look = (chunk: Buffer) => {
      output += chunk.toString();
      const m = URL_PATTERN.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[0]);
      }
    };
    child.stdout!.on('data', look);
    child.stderr!.on('data', look);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the UI host exited with ${code} before printing its URL:\n${output}`));
    });
  });

  const u = new URL(url);
  const socket = new WebSocket(`ws://${u.host}/ipc?token=${u.searchParams.get('token')}`, { origin: u.origin });
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  let nextId = 1;
  const waiting = new Map<number, (r: IpcResult<unknown>) => void>();
  const listeners = new Set<(event: IpcEventName, payload: unknown) => void>();
  socket.on('message', (data) => {
    const m = JSON.parse(String(data)) as WsServerMessage;
    if (m.kind === 'result') waiting.get(m.id)?.(m.result);
    else for (const l of listeners) l(m.event, m.payload);
  });

  return {
    url,
    process: child,
    output: () => output,
    invoke: (channel, request) =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        waiting.set(id, (r) => (r.ok ? resolve(r.value as never) : reject(new Error(r.error.message))));
        socket.send(JSON.stringify({ kind: 'invoke', id, channel, request }));
      }),
    on: (event, listener) => {
      const l = (name: IpcEventName, payload: unknown) => {
        if (name === event) listener(payload as never);
      };
      listeners.add(l);
      return () => listeners.delete(l);
    },
    stop: async () => {
      socket.close();
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      }
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** Runs a libnbd tool with Debian's Python first on PATH (nbdsh is a Python program). */
export function nbdTool(command: string, args: string[], timeoutMs = 20_000): string {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, PATH: `/usr/bin:${process.env.PATH ?? ''}` } });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** Starts a libnbd tool in the background (a client that stays connected for a while). */
export function nbdToolInBackground(command: string, args: string[]): ChildProcess {
  return spawn(command, args, { stdio: 'ignore', env: { ...process.env, PATH: `/usr/bin:${process.env.PATH ?? ''}` } });
}
