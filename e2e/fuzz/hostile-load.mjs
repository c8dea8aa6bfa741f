// node e2e/fuzz/hostile-load.mjs options|trickle|reads [--cli FILE]
// Measures what one hostile client costs the CLI server: it starts `blockscope serve`, runs
// the attack, samples the server's RSS and CPU from /proc, and times a well-behaved client
// (connect, GO, one 4 KiB READ) every 250 ms meanwhile. Not a test: the figures behind the
// hostile-client fixes, reproducible against any build (`--cli` takes an older bundle).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const scenario = args[0];
const cliAt = args.indexOf('--cli');
const cli = cliAt >= 0 ? args[cliAt + 1] : path.join(ROOT, 'bin', 'blockscope.mjs');
const IHAVEOPT = 0x49484156454f5054n;
const MiB = 1024 * 1024;

function startServer(words) {
  const child = spawn(process.execPath, [cli, 'serve', '-f', '-p', '0', ...words], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d) => (log += d));
  return new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => resolve({ child, port: Number(new URL(String(d).trim()).port), log: () => log }));
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${log}`)));
  });
}

/** Peak RSS and CPU seconds of `pid`, sampled from /proc. */
function sampler(pid) {
  const tick = 100;
  const cpu = () => {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / tick;
  };
  const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
  const cpu0 = cpu();
  let peak = rss();
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rss());
    } catch { /* exited */ }
  }, 20);
  return { stop: () => (clearInterval(timer), { peakRss: peak, cpuSeconds: cpu() - cpu0, rss: rss() }) };
}

function option(opt, data) {
  const h = Buffer.alloc(16);
  h.writeBigUInt64BE(IHAVEOPT, 0);
  h.writeUInt32BE(opt, 8);
  h.writeUInt32BE(data.length, 12);
  return Buffer.concat([h, data]);
}
const GO_EMPTY = option(7, Buffer.alloc(6));
const INFO_EMPTY = option(6, Buffer.alloc(6));
const FLAGS = Buffer.from([0, 0, 0, 3]);

function request(type, cookie, offset, length) {
  const h = Buffer.alloc(28);
  h.writeUInt32BE(0x25609513, 0);
  h.writeUInt16BE(type, 6);
  h.writeBigUInt64BE(BigInt(cookie), 8);
  h.writeBigUInt64BE(BigInt(offset), 16);
  h.writeUInt32BE(length, 24);
  return h;
}

/** A raw connection that has read the greeting; `until(n)` waits for n more bytes. */
function connect(port) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    sock.setNoDelay(true);
    let got = Buffer.alloc(0);
    let want = null;
    sock.on('error', reject);
    sock.on('data', (d) => {
      got = Buffer.concat([got, d]);
      if (want && got.length >= want.n) {
        const w = want;
        want = null;
        const out = got.subarray(0, w.n);
        got = got.subarray(w.n);
        w.resolve(out);
      }
    });
    const until = (n) => new Promise((r) => {
      if (got.length >= n) {
        const out = got.subarray(0, n);
        got = got.subarray(n);
        r(out);
      } else want = { n, resolve: r };
    });
    until(18).then(() => resolve({ sock, until }));
  });
}

/** Milliseconds for a clean client: handshake with GO, one 4 KiB READ, disconnect. */
async function cleanClient(port) {
  const t0 = performance.now();
  const { sock, until } = await connect(port);
  sock.write(Buffer.concat([FLAGS, GO_EMPTY]));
  for (;;) {
    const h = await until(20);
    const body = await until(h.readUInt32BE(16));
    void body;
    if (h.readUInt32BE(12) === 1) break;
  }
  sock.write(request(0, 1, 0, 4096));
  await until(16 + 4096);
  sock.end(request(2, 2, 0, 0));
  return performance.now() - t0;
}

/** Time clean clients every 250 ms while `attack` runs; the slowest and the count. */
async function whileProbing(port, attack) {
  const times = [];
  let running = true;
  const probe = (async () => {
    while (running) {
      const t = await Promise.race([cleanClient(port), new Promise((r) => setTimeout(() => r(10_000), 10_000))]);
      times.push(t);
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  const t0 = performance.now();
  await attack();
  const attackMs = performance.now() - t0;
  running = false;
  await probe;
  if (process.env.SHOW_PROBES) console.log(times.map(Math.round).join(" "));
  return { attackMs, probes: times.length, slowestCleanMs: Math.max(...times) };
}

const writeAll = (sock, b) => new Promise((r) => (sock.write(b) ? r() : sock.once('drain', r)));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const scenarios = {
  /** 100 MiB of pipelined NBD_OPT_INFO, replies never read. */
  async options(port) {
    const { sock } = await connect(port);
    let closed = false;
    sock.on('close', () => (closed = true));
    sock.on('error', () => {});
    sock.pause();
    await writeAll(sock, FLAGS);
    const batch = Buffer.concat(Array.from({ length: 4096 }, () => INFO_EMPTY));
    let sent = 0;
    const deadline = performance.now() + 60_000;
    while (sent < 100 * MiB && !closed && performance.now() < deadline) {
      await Promise.race([writeAll(sock, batch), sleep(2000)]);
      sent += batch.length;
    }
    await sleep(2000);
    sock.destroy();
    return { sentMiB: +(sent / MiB).toFixed(1), serverClosedIt: closed };
  },
  /** One 1 MiB option (unknown type) sent in 32-byte pieces, one write per turn. */
  async trickle(port) {
    const { sock, until } = await connect(port);
    const piece = 32;
    await writeAll(sock, Buffer.concat([FLAGS, option(99, Buffer.alloc(0)).subarray(0, 12), Buffer.from([0, 16, 0, 0])]));
    const t0 = performance.now();
    for (let sent = 0; sent < MiB; sent += piece) {
      await writeAll(sock, Buffer.alloc(piece, 1));
      // A timer turn, not setImmediate: loopback would otherwise merge the pieces into a few
      // large reads on the server side.
      await sleep(0);
    }
    const h = await until(20);
    const replyMs = performance.now() - t0;
    sock.destroy();
    return { replyType: h.readUInt32BE(12) >>> 0, trickleMs: Math.round(replyMs) };
  },
  /** 4 connections, each 32 pipelined 32 MiB READs (simple replies), never read. */
  async reads(port) {
    const socks = [];
    for (let c = 0; c < 4; c++) {
      const { sock, until } = await connect(port);
      sock.write(Buffer.concat([FLAGS, GO_EMPTY]));
      for (;;) {
        const h = await until(20);
        await until(h.readUInt32BE(16));
        if (h.readUInt32BE(12) === 1) break;
      }
      sock.pause();
      for (let i = 0; i < 32; i++) sock.write(request(0, i + 1, i * 32 * MiB, 32 * MiB));
      socks.push(sock);
    }
    await sleep(12_000);
    for (const s of socks) s.destroy();
    return {};
  },
};

const words = scenario === 'reads' ? ['pattern', 'size=2G'] : ['memory', 'size=64M'];
if (!scenarios[scenario]) {
  console.error('usage: node e2e/fuzz/hostile-load.mjs options|trickle|reads [--cli FILE]');
  process.exit(2);
}
const server = await startServer(words);
await sleep(300);
const s = sampler(server.child.pid);
let result;
const probing = await whileProbing(server.port, async () => (result = await scenarios[scenario](server.port)));
const usage = s.stop();
server.child.kill('SIGTERM');
const mb = (n) => `${(n / MiB).toFixed(0)} MiB`;
console.log(JSON.stringify({
  scenario, ...result, ...probing, attackMs: Math.round(probing.attackMs), slowestCleanMs: Math.round(probing.slowestCleanMs),
  serverPeakRss: mb(usage.peakRss), serverCpuSeconds: +usage.cpuSeconds.toFixed(2),
  serverLog: server.log().split('\n').filter((l) => /closing|error/i.test(l)).slice(0, 3),
}, null, 1));
