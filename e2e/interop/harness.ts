// Starts the real CLI server (`blockscope serve -f ...`) and runs the real Debian clients
// against it. Everything here is a child process: nothing is mocked.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = path.join(ROOT, 'bin', 'blockscope.mjs');
/** Debian's python3 has the libnbd bindings nbdsh needs; put /usr/bin first for every tool. */
export const TOOL_ENV = { ...process.env, PATH: `/usr/bin:/bin:${process.env.PATH ?? ''}`, LIBNBD_DEBUG: '0' };

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], options: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { env: { ...TOOL_ENV, ...options.env }, maxBuffer: 256 << 20, timeout: options.timeoutMs ?? 60_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    if (options.input !== undefined) child.stdin!.end(options.input);
  });
}

/** Run and insist on success, with the tool's own words in the failure message. */
export async function ok(cmd: string, args: string[], options?: { input?: string; env?: NodeJS.ProcessEnv }): Promise<string> {
  const r = await run(cmd, args, options);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

export function nbdsh(uri: string, script: string, extra: string[] = []): Promise<string> {
  return ok('nbdsh', [...extra, '-u', uri, '-c', script]);
}

export interface Served {
  uri: string;
  child: ChildProcess;
  stderr: () => string;
  stop(): Promise<void>;
}

export interface ServeOptions {
  /** Added to the server's environment. */
  env?: Record<string, string>;
  /** `ulimit -f`, in KiB, with SIGXFSZ ignored: writes past it fail with EFBIG. */
  fileSizeLimitKiB?: number;
}

/** `blockscope serve -f ARGS` on a free TCP port (or `-U SOCKET` if args have one); resolves with its URI. */
export function serve(args: string[], options: ServeOptions = {}): Promise<Served> {
  const hasUnix = args.includes('-U') || args.includes('--unix');
  const command = [process.execPath, CLI, 'serve', '-f', ...(hasUnix ? [] : ['-p', '0']), ...args];
  const limited = options.fileSizeLimitKiB === undefined ? command
    : ['bash', '-c', `trap '' XFSZ; ulimit -f ${options.fileSizeLimitKiB}; exec "$@"`, 'bash', ...command];
  const child = spawn(limited[0]!, limited.slice(1), { env: { ...TOOL_ENV, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) {
        resolve({
          uri: line.trim(),
          child,
          stderr: () => err,
          stop: () => new Promise((r) => {
            if (child.exitCode !== null) return r();
            child.once('exit', () => r());
            child.kill('SIGTERM');
          }),
        });
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code} before listening:\n${err}`)));
  });
}

export { tempDir } from '../../main/temp-dir.ts';
