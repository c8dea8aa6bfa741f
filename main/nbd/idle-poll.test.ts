// Idle polling: the adaptive budget against a model client whose next request comes after a
// random wait, the addon's poll on a real socket, and the server polling between the requests
// of a real client (nbdsh, one request at a time) only while that client is its only one.
import { execFile } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTlsFixtures } from '../../e2e/interop/tls-fixtures.ts';
import { registry } from '../catalog.ts';
import { nativeIo, socketFd } from '../native-io.ts';
import { tempDir } from '../temp-dir.ts';
import { propertyParams } from '../testing/property-params.ts';
import { writeSparseFile } from '../testing/sparse-file.ts';
import { awaitReadableFor, IdlePoll, MAX_POLL_NS, type AwaitReadable } from './idle-poll.ts';
import { NbdServer } from './server.ts';
import { loadCertificates } from './tls-credentials.ts';

/** One idle moment after another: the client's next request comes `waits[i]` ns after our reply. */
function simulate(waits: number[]): { budgets: number[]; caught: boolean[]; spunNs: number[] } {
  let clockNs = 0;
  let next = 0;
  const budgets: number[] = [];
  const caught: boolean[] = [];
  const spunNs: number[] = [];
  const poll = new IdlePoll((_fd, ns) => {
    budgets.push(ns);
    const wait = waits[next]!;
    const hit = wait <= ns;
    caught.push(hit);
    spunNs.push(hit ? wait : ns);
    clockNs += hit ? wait : ns;
    return hit ? 1 : 0;
  }, () => clockNs / 1e6);
  for (next = 0; next < waits.length; next++) {
    const start = clockNs;
    const before = budgets.length;
    poll.idle(7);
    if (budgets.length === before) {
      budgets.push(0);
      caught.push(false);
      spunNs.push(0);
    }
    clockNs = start + waits[next]!;
    poll.arrived();
  }
  return { budgets, caught, spunNs };
}

const waitArb = fc.oneof(fc.integer({ min: 0, max: MAX_POLL_NS }), fc.integer({ min: MAX_POLL_NS + 1, max: 10_000_000 }));

describe('IdlePoll', () => {
  it('polls for a quick client, stops for a slow one after bounded spinning, and starts again when the client is quick', () => {
    fc.assert(fc.property(fc.array(waitArb, { minLength: 1, maxLength: 200 }), (waits) => {
      const { budgets, caught, spunNs } = simulate(waits);
      for (let i = 0; i < waits.length; i++) {
        expect(budgets[i]).toBeGreaterThanOrEqual(0);
        expect(budgets[i]).toBeLessThanOrEqual(MAX_POLL_NS);
        // A request that came within the limit means full polling next time.
        if (i > 0 && waits[i - 1]! <= MAX_POLL_NS) expect(budgets[i]).toBe(MAX_POLL_NS);
        if (caught[i]) expect(waits[i]).toBeLessThanOrEqual(budgets[i]!);
      }
      // However long a run of slow requests, the spinning it costs stays under 2 x the limit.
      let run = 0;
      for (let i = 0; i < waits.length; i++) {
        run = waits[i]! > MAX_POLL_NS ? run + spunNs[i]! : 0;
        expect(run).toBeLessThan(2 * MAX_POLL_NS);
      }
    }), propertyParams(500));
  });

  it('stops polling for good once the poll fails (the socket is going away)', () => {
    let calls = 0;
    const poll = new IdlePoll(() => {
      calls++;
      return -9;
    });
    poll.idle(3);
    poll.arrived();
    poll.idle(3);
    expect(calls).toBe(1);
    expect(poll.budgetNs).toBe(0);
  });
});

const awaitReadable = awaitReadableFor();
if (!awaitReadable) console.warn('idle-poll.test: the addon poll is skipped: the native addon with awaitReadable is not loaded here (npm run build:native), or BLOCKSCOPE_IDLE_POLL=0');

describe.skipIf(!awaitReadable)('the addon poll on a socket', () => {
  it('returns 0 after the budget when nothing comes, 1 as soon as bytes wait, -errno for a bad fd', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const accepted = new Promise<net.Socket>((r) => server.once('connection', (s) => r(s)));
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    const sock = await accepted;
    sock.pause();
    try {
      const fd = socketFd(sock);
      const t0 = process.hrtime.bigint();
      expect(awaitReadable!(fd, 2_000_000)).toBe(0);
      expect(Number(process.hrtime.bigint() - t0)).toBeGreaterThanOrEqual(2_000_000);
      await new Promise<void>((r) => client.write('x', () => r()));
      const t1 = process.hrtime.bigint();
      for (let i = 0; i < 100 && awaitReadable!(fd, 10_000_000) !== 1; i++);
      expect(awaitReadable!(fd, 10_000_000)).toBe(1);
      expect(Number(process.hrtime.bigint() - t1)).toBeLessThan(1_000_000_000);
      expect(awaitReadable!(-1, 1000)).toBeLessThan(0);
      expect(awaitReadable!(1 << 20, 1000)).toBeLessThan(0); // beyond any open fd: POLLNVAL
    } finally {
      client.destroy();
      sock.destroy();
      server.close();
    }
  });
});

/** A QD1 loop in nbdsh: each request's answer, one line each, for the test to check. */
const CLIENT_LOOP = `
import random
random.seed(5)
size = h.get_size()
for i in range(300):
    off = random.randrange(0, size // 512) * 512
    if i % 2:
        got = []
        h.block_status(512, off, lambda ctx, o, e, err: got.extend(e), nbd.CMD_FLAG_REQ_ONE)
        print("S", off, got[1] & 1)
    else:
        print("R", off, h.pread(512, off).hex())
`;

const tmp = tempDir('blockscope-idle-poll-');
// Polling between requests is the JavaScript path's; the connection loop (connection-loop.test.ts)
// would serve these plain file connections itself.
beforeAll(() => {
  process.env.BLOCKSCOPE_CONNECTION_LOOP = '0';
});
afterAll(() => {
  delete process.env.BLOCKSCOPE_CONNECTION_LOOP;
  tmp.cleanup();
});

describe.skipIf(!awaitReadable)('the server polling for a client\'s next request', () => {
  it('polls between the requests of its only client, answering each right, and not while another client is connected, nor over TLS', async () => {
    const file = path.join(tmp.dir, 'disk.img');
    const size = 1 << 20;
    const model = writeSparseFile(file, size, [{ offset: 0, length: 64 << 10 }, { offset: 512 << 10, length: 64 << 10 }]);
    const tls = await makeTlsFixtures();
    const server = new NbdServer({ log: () => {}, tls: { mode: 'on', credentials: loadCertificates(tls.server, false) } });
    server.addExport({ name: '', chain: await registry.build({ plugin: { name: 'file', params: { file } }, filters: [] }), writable: false });
    const port = (await server.listen({ host: '127.0.0.1', port: 0 })).port!;
    let uri = `nbd://127.0.0.1:${port}/`;
    const io = nativeIo() as unknown as { awaitReadable: AwaitReadable };
    const real = io.awaitReadable;
    const polls: number[] = [];
    io.awaitReadable = (fd, ns) => {
      const r = real(fd, ns);
      polls.push(r);
      return r;
    };
    const runClient = async () => {
      // The URI may name local files (tls-certificates=), which libnbd refuses unless asked.
      const connect = ['-c', 'h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION)', '-c', 'h.set_uri_allow_local_file(True)', '-c', `h.connect_uri(${JSON.stringify(uri)})`];
      const { stdout } = await promisify(execFile)('nbdsh', [...connect, '-c', CLIENT_LOOP], { env: { ...process.env, PATH: `/usr/bin:${process.env.PATH}` } });
      const lines = stdout.trim().split('\n');
      expect(lines).toHaveLength(300);
      for (const line of lines) {
        const [kind, at, value] = line.split(' ');
        const off = Number(at);
        if (kind === 'R') expect(value).toBe(model.subarray(off, off + 512).toString('hex'));
        else expect(Number(value)).toBe(model.subarray(off, off + 512).some((b) => b !== 0) ? 0 : 1);
      }
    };
    try {
      await runClient();
      // Every request left the connection idle: it polled, and the budget stayed within bounds.
      expect(polls.length).toBeGreaterThan(0);
      expect(polls.every((r) => r === 0 || r === 1)).toBe(true);
      console.log(`idle-poll.test: ${polls.length} polls, ${polls.filter((r) => r === 1).length} caught the next request`);
      // With a second client connected (even one still in its handshake), no polling: it would
      // keep that client waiting.
      polls.length = 0;
      const other = net.connect(port, '127.0.0.1');
      await new Promise((r) => other.once('connect', r));
      try {
        await runClient();
      } finally {
        other.destroy();
      }
      expect(polls).toEqual([]);
      // The same client over TLS: answered right, never polled.
      uri = `nbds://localhost:${port}/?tls-certificates=${tls.client}`;
      await runClient();
      expect(polls).toEqual([]);
    } finally {
      io.awaitReadable = real;
      await server.close();
      tls.cleanup();
    }
  }, 120_000);
});
