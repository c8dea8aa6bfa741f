// Who may connect: the ip and limit filters against real clients (nbdinfo, nbdsh), each
// scenario run the same way against `blockscope serve` and `nbdkit` with the same filter
// arguments, which must admit and refuse the same clients. Every scenario also checks that
// a good client is still served after a refusal.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, run, serve, tempDir } from './harness.ts';

const HAVE_NBDKIT = spawnSync('nbdkit', ['--version']).status === 0;
const AS_NOBODY = process.getuid?.() === 0 && existsSync('/usr/bin/setpriv') ? 'setpriv --reuid=65534 --regid=65534 --clear-groups' : null;
const dir = tempDir('access-');
afterAll(() => dir.cleanup());

type Server = 'blockscope' | 'nbdkit';
let sockets = 0;

interface Outcome {
  /** "name" -> exit code, from the script's `echo name=$?` lines. */
  codes: Record<string, number>;
  stderr: string;
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '::', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/**
 * Serves a 1M memory disk through `filter` with `params` and runs `script` (the server's
 * --run: $port or $unixsocket and $uri are set). Both servers listen on every address, so
 * 127.0.0.1 and ::1 reach the same server.
 */
async function outcome(server: Server, listen: 'tcp' | 'unix', filter: string, params: string[], script: string, env: string[] = []): Promise<Outcome> {
  const sock = path.join(dir.dir, `${server}-${filter}-${++sockets}.sock`);
  const where = listen === 'unix' ? ['-U', sock] : server === 'blockscope' ? ['-p', '0', '-i', '::'] : ['-p', String(await freePort())];
  const argv = server === 'blockscope'
    ? [process.execPath, CLI, 'serve', ...where, `--filter=${filter}`, '--run', script, 'memory', 'size=1M', ...params]
    : ['nbdkit', ...where, `--filter=${filter}`, '--run', script, 'memory', 'size=1M', ...params];
  const r = await run('env', [...env, ...argv]);
  const codes: Record<string, number> = {};
  for (const m of r.stdout.matchAll(/^(\w+)=(\d+)$/gm)) codes[m[1]!] = Number(m[2]);
  return { codes, stderr: r.stderr };
}

const SERVERS: Server[] = HAVE_NBDKIT ? ['blockscope', 'nbdkit'] : ['blockscope'];
const V4 = 'nbdinfo --size "nbd://127.0.0.1:$port/" >/dev/null; echo v4=$?';
const V6 = 'nbdinfo --size "nbd://[::1]:$port/" >/dev/null; echo v6=$?';

// [params, script, expected codes]. nbdkit 1.32 as Debian ships it cannot parse address
// rules ("don't know how to parse rule: deny=127.0.0.1"), so only its keywords are compared.
const KEYWORD_RULES: [string[], string, Record<string, number>][] = [
  [['deny=anyipv4'], `${V4}; ${V6}`, { v4: 1, v6: 0 }],
  [['allow=anyipv6', 'deny=all'], `${V4}; ${V6}`, { v4: 1, v6: 0 }],
  [['allow=anyipv4', 'deny=all'], `${V6}; ${V4}`, { v6: 1, v4: 0 }],
];
const ADDRESS_RULES: [string[], string, Record<string, number>][] = [
  [['deny=127.0.0.1'], `${V4}; ${V6}`, { v4: 1, v6: 0 }],
  [['allow=127.0.0.0/8', 'deny=all'], `${V6}; ${V4}`, { v6: 1, v4: 0 }],
  [['allow=::1', 'deny=anyipv4'], `${V4}; ${V6}`, { v4: 1, v6: 0 }],
  [['deny=::ffff:127.0.0.0/104'], `${V4}; ${V6}`, { v4: 1, v6: 0 }],
];

describe.each(SERVERS)('ip filter keywords on TCP (%s)', (server) => {
  it.each(KEYWORD_RULES)('%j', async (params, script, expected) => {
    expect((await outcome(server, 'tcp', 'ip', params, script)).codes).toEqual(expected);
  });
});

describe('ip filter addresses on TCP (blockscope)', () => {
  it.each(ADDRESS_RULES)('%j', async (params, script, expected) => {
    expect((await outcome('blockscope', 'tcp', 'ip', params, script)).codes).toEqual(expected);
  });

  it('logs one line naming the filter and the rule', async () => {
    const r = await outcome('blockscope', 'tcp', 'ip', ['deny=127.0.0.1'], V4);
    const lines = r.stderr.split('\n').filter((l) => l.includes('refused'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^blockscope: connection from 127\.0\.0\.1:\d+ refused by the ip filter: matches deny=127\.0\.0\.1; closed before the handshake$/);
  });
});

describe.each(SERVERS)('ip filter on a Unix socket (%s)', (server) => {
  const me = process.getuid?.() ?? 0;
  // The socket must be writable by the other user the scenario connects as.
  const ME = 'chmod 0777 "$unixsocket"; nbdinfo --size "$uri" >/dev/null; echo me=$?';
  const NOBODY = AS_NOBODY ? `; ${AS_NOBODY} nbdinfo --size "$uri" >/dev/null; echo nobody=$?` : '';
  chmodSync(dir.dir, 0o777);

  it(`allow=uid:${me} deny=all admits this user${AS_NOBODY ? ' and refuses nobody' : ''}`, async () => {
    const r = await outcome(server, 'unix', 'ip', [`allow=uid:${me}`, 'deny=all'], `${ME}${NOBODY}; ${ME}`);
    expect(r.codes).toEqual({ me: 0, ...(AS_NOBODY ? { nobody: 1 } : {}) });
  });

  it(`deny=uid:${me} refuses this user${AS_NOBODY ? ' and still serves nobody' : ''}`, async () => {
    const r = await outcome(server, 'unix', 'ip', [`deny=uid:${me}`], `${ME}${NOBODY}`);
    expect(r.codes).toEqual({ me: 1, ...(AS_NOBODY ? { nobody: 0 } : {}) });
    if (server === 'blockscope') expect(r.stderr).toMatch(new RegExp(`connection from unix socket \\(pid \\d+, uid ${me}, gid \\d+\\) refused by the ip filter: matches deny=uid:${me}`));
  });
});

describe('ip filter without the native addon (blockscope)', () => {
  it('refuses a uid rule it cannot check, naming why, and still serves the next rule set', async () => {
    const me = process.getuid?.() ?? 0;
    const r = await outcome('blockscope', 'unix', 'ip', [`allow=uid:${me}`, 'deny=all'], 'nbdinfo --size "$uri" >/dev/null; echo me=$?', ['BLOCKSCOPE_NO_NATIVE=1']);
    expect(r.codes).toEqual({ me: 1 });
    expect(r.stderr).toMatch(new RegExp(`connection from unix socket \\(peer unknown\\) refused by the ip filter: cannot check uid:${me}: the peer's credentials are unknown`));
    const open = await outcome('blockscope', 'unix', 'ip', ['allow=anyunix', 'deny=all'], 'nbdinfo --size "$uri" >/dev/null; echo me=$?', ['BLOCKSCOPE_NO_NATIVE=1']);
    expect(open.codes).toEqual({ me: 0 });
  });
});

describe.each(SERVERS)('limit filter (%s)', (server) => {
  it('limit=1 refuses a second client while nbdsh holds the first, and admits it after', async () => {
    const held = path.join(dir.dir, `${server}-held`);
    const fifo = path.join(dir.dir, `${server}-fifo`);
    // nbdsh connects (handshake done), writes `held`, then waits for its stdin to close.
    const script = [
      `rm -f ${fifo} ${held}; mkfifo ${fifo}`,
      `nbdsh -u "nbd://127.0.0.1:$port/" -c 'import pathlib, sys; pathlib.Path("${held}").touch(); sys.stdin.read()' < ${fifo} &`,
      `exec 3>${fifo}`,
      `i=0; while [ ! -e ${held} ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done`,
      `${V4.replace('v4', 'second')}`,
      'exec 3>&-; wait',
      // The server notices the close a moment after nbdsh exits.
      'i=0; until nbdinfo --size "nbd://127.0.0.1:$port/" >/dev/null 2>&1 || [ $i -ge 50 ]; do sleep 0.1; i=$((i+1)); done',
      `${V4.replace('v4', 'after')}`,
    ].join('\n');
    const r = await outcome(server, 'tcp', 'limit', ['limit=1'], script);
    expect(r.codes).toEqual({ second: 1, after: 0 });
  });
});

describe('limit filter (blockscope, a raw socket)', () => {
  it('counts a connection that has not negotiated, and frees the slot when it closes', async () => {
    const s = await serve(['--filter=limit', 'memory', 'size=1M', 'limit=1']);
    try {
      const port = new URL(s.uri).port;
      const raw = net.connect(Number(port), '127.0.0.1');
      // The greeting (NBDMAGIC) arrives only once the connection is admitted.
      await new Promise<void>((resolve) => raw.once('data', () => resolve()));
      const refused = await run('nbdinfo', ['--size', s.uri]);
      expect(refused.code).not.toBe(0);
      expect(s.stderr()).toMatch(/refused by the limit filter: 1 of at most 1 client already connected/);
      raw.destroy();
      let admitted = await run('nbdinfo', ['--size', s.uri]);
      for (let i = 0; i < 20 && admitted.code !== 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        admitted = await run('nbdinfo', ['--size', s.uri]);
      }
      expect(admitted.stdout.trim()).toBe('1048576');
    } finally {
      await s.stop();
    }
  });
});
