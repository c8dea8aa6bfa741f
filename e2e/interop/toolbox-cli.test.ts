// The toolbox's server-level behaviour through the real CLI: block sizes a filter sets reach
// the wire (nbdinfo, compared with nbdkit's), a write answered ESHUTDOWN drops the client,
// repeated keys accumulate, and exitlast/exitwhen end the server as nbdkit's filters do.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, TOOL_ENV, nbdsh, ok, run, serve, tempDir } from './harness.ts';
import { PY_HELPERS, underBoth } from './parity.ts';

const MAX_PAYLOAD = 32 * 1024 * 1024;
const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

function scratch(): string {
  const { dir, cleanup } = tempDir('toolbox-cli-');
  cleanups.push(cleanup);
  return dir;
}

type Sizes = { block_size_minimum: number; block_size_preferred: number; block_size_maximum: number };

/** nbdinfo --json's block sizes for `args` served by nbdkit or by us (`-U - --run`). */
async function blockSizes(server: 'nbdkit' | 'ours', args: string[]): Promise<Sizes> {
  const cmd = server === 'nbdkit' ? ['nbdkit'] : [process.execPath, CLI, 'serve'];
  const out = await ok(cmd[0]!, [...cmd.slice(1), '-U', '-', ...args, '--run', 'nbdinfo --json "$uri"']);
  const exp = (JSON.parse(out) as { exports: Sizes[] }).exports[0]!;
  return { block_size_minimum: exp.block_size_minimum, block_size_preferred: exp.block_size_preferred, block_size_maximum: exp.block_size_maximum };
}

/** A foreground server on a Unix socket, resolved once the socket exists. */
async function startOnSocket(cmd: string[], sock: string): Promise<{ child: ChildProcess; exited: Promise<number | null> }> {
  const child = spawn(cmd[0]!, cmd.slice(1), { env: TOOL_ENV, stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  cleanups.push(() => child.exitCode === null && child.kill('SIGKILL'));
  for (let i = 0; i < 200 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
  expect(existsSync(sock), `${cmd.join(' ')} did not listen`).toBe(true);
  return { child, exited };
}

function serverCommand(server: 'nbdkit' | 'ours', sock: string, args: string[]): string[] {
  return server === 'nbdkit' ? ['nbdkit', '-f', '-U', sock, ...args] : [process.execPath, CLI, 'serve', '-f', '-w', '-U', sock, ...args];
}

/** Resolves to the exit code, or 'running' if the server is still up after `ms`. */
function exitWithin(exited: Promise<number | null>, ms: number): Promise<number | null | 'running'> {
  return Promise.race([exited, new Promise<'running'>((r) => setTimeout(() => r('running'), ms))]);
}

describe('toolbox on the wire', { timeout: 120_000 }, () => {
  it('advertises blocksize-policy sizes as nbdkit does (the maximum capped at our largest request)', async () => {
    for (const params of [['blocksize-minimum=4096'], ['blocksize-minimum=512', 'blocksize-preferred=64K', 'blocksize-maximum=1M']]) {
      const args = ['--filter=blocksize-policy', 'memory', 'size=1M', ...params];
      const [theirs, ours] = await Promise.all([blockSizes('nbdkit', args), blockSizes('ours', args)]);
      expect(ours).toEqual({ ...theirs, block_size_maximum: Math.min(theirs.block_size_maximum, MAX_PAYLOAD) });
    }
    expect(await blockSizes('ours', ['memory', 'size=1M'])).toEqual({ block_size_minimum: 1, block_size_preferred: 4096, block_size_maximum: MAX_PAYLOAD });
    const info = JSON.parse(await ok(process.execPath, [CLI, 'info', '--json', '--filter=blocksize-policy', 'memory', 'size=1M', 'blocksize-minimum=4096'])) as { block_size: unknown };
    expect(info.block_size).toEqual({ minimum: 4096, preferred: 4096, maximum: MAX_PAYLOAD });
  });

  it('drops a client whose write was refused with ESHUTDOWN; a new client is served', async () => {
    const served = await serve(['-w', '--filter=blocksize-policy', 'memory', 'size=1M', 'blocksize-write-disconnect=4096']);
    try {
      const out = await nbdsh(served.uri, `${PY_HELPERS}
show("small write", attempt(lambda: h.pwrite(b"a" * 4096, 0)))
show("large write", attempt(lambda: h.pwrite(b"b" * 8192, 0)))
# The server closed after that reply: the next request cannot be answered (libnbd names the
# broken connection ENOTCONN or EPIPE depending on when it notices).
show("then read fails", attempt(lambda: h.pread(512, 0)) in ("ENOTCONN", "EPIPE", "ECONNRESET", "error"))
h2 = nbd.NBD()
h2.connect_uri("${served.uri}")
show("new client", bytes(h2.pread(4, 0)))
`);
      expect(out.trim().split('\n')).toEqual(['small write: ok', 'large write: ESHUTDOWN', 'then read fails: True', "new client: b'aaaa'"]);
    } finally {
      await served.stop();
    }
  });

  it('collects repeated protect= keys as nbdkit does', async () => {
    const { ours, nbdkit } = await underBoth(['--filter=protect', 'memory', 'size=64K', 'protect=0-511', 'protect=4096-8191'], `${PY_HELPERS}
for off in [0, 511, 512, 4000, 4096, 8191, 8192]:
    show(off, attempt(lambda: h.pwrite(b"x", off)))
`);
    expect(nbdkit.ok, nbdkit.output).toBe(true);
    expect(ours.output).toBe(nbdkit.output);
    expect(ours.output).toBe(['0: EPERM', '511: EPERM', '512: ok', '4000: ok', '4096: EPERM', '8191: EPERM', '8192: ok'].join('\n'));
  });

  for (const server of ['nbdkit', 'ours'] as const) {
    it(`exitlast: ${server} exits after its last client, not before the first`, async () => {
      const sock = path.join(scratch(), 'nbd.sock');
      const { exited } = await startOnSocket(serverCommand(server, sock, ['--filter=exitlast', 'memory', 'size=1M']), sock);
      expect(await exitWithin(exited, 1500)).toBe('running');
      await ok('nbdinfo', [`nbd+unix:///?socket=${sock}`]);
      expect(await exitWithin(exited, 10_000)).toBe(0);
    });

    it(`exitwhen-file-created: ${server} refuses new clients once the file appears and exits when the last leaves`, async () => {
      const dir = scratch();
      const sock = path.join(dir, 'nbd.sock');
      const stop = path.join(dir, 'stop');
      const { exited } = await startOnSocket(serverCommand(server, sock, ['--filter=exitwhen', 'memory', 'size=1M', `exit-when-file-created=${stop}`, 'exit-when-poll=1']), sock);
      const uri = `nbd+unix:///?socket=${sock}`;
      const out = await nbdsh(uri, `${PY_HELPERS}
import time
open("${stop}", "w").close()
time.sleep(2.5)  # longer than exit-when-poll=1: both servers have seen the file
def second():
    h2 = nbd.NBD()
    h2.connect_uri("${uri}")
# How libnbd words a server that hangs up in the handshake varies (EINVAL, no errno): refused is refused.
show("second client", "ok" if attempt(second) == "ok" else "refused")
show("first client reads", len(h.pread(512, 0)))
`);
      expect(out.trim().split('\n')).toEqual(['second client: refused', 'first client reads: 512']);
      expect(await exitWithin(exited, 10_000)).toBe(0);
    });
  }

  it('exitwhen: a file that exists at start ends the server at once', async () => {
    const dir = scratch();
    const stop = path.join(dir, 'stop');
    writeFileSync(stop, '');
    const r = await run(process.execPath, [CLI, 'serve', '-f', '-U', path.join(dir, 'nbd.sock'), '--filter=exitwhen', 'memory', 'size=1M', `exit-when-file-created=${stop}`], { timeoutMs: 20_000 });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`exiting: exitwhen: ${stop} was created`);
  });
});
