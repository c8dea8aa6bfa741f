// node e2e/fuzz/hostile-load.mjs options|trickle|reads [--cli FILE]
// Measures what one hostile client costs the CLI server: it starts `blockscope serve`, runs
// the attack, samples the server's RSS and CPU from /proc, and times a well-behaved client
// (connect, GO, one 4 KiB READ) every 250 ms meanwhile. Not a test: the figures behind the
// hostile-client fixes, reproducible against any build (`--cli` takes an older bundle).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLIENT_FLAGS, encodeOptionHeader, goDefault, rawConnect } from './raw-client.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const scenario = args[0];
const cliAt = args.indexOf('--cli');
const cli = cliAt >= 0 ? args[cliAt + 1] : path.join(ROOT, 'bin', 'blockscope.mjs');
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

const INFO_EMPTY = encodeOptionHeader(6, Buffer.alloc(6));

function request(type, cookie, offset, length) {
  const h = Buffer.alloc(28);
  h.writeUInt32BE(0x25609513, 0);
  h.writeUInt16BE(type, 6);
  h.writeBigUInt64BE(BigInt(cookie), 8);
  h.writeBigUInt64BE(BigInt(offset), 16);
  h.writeUInt32BE(length, 24);
  return h;
}

/** Milliseconds for a clean client: handshake with GO, one 4 KiB READ, disconnect. */
async function cleanClient(port) {
  const t0 = performance.now();
  const conn = await rawConnect(port);
  await goDefault(conn);
  const { sock, until } = conn;
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
    const { sock } = await rawConnect(port);
    let closed = false;
    sock.on('close', () => (closed = true));
    sock.on('error', () => {});
    sock.pause();
    await writeAll(sock, CLIENT_FLAGS);
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
    const { sock, until } = await rawConnect(port);
    const piece = 32;
    await writeAll(sock, Buffer.concat([CLIENT_FLAGS, encodeOptionHeader(99, MiB)]));
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
      const conn = await rawConnect(port);
      await goDefault(conn);
      const { sock } = conn;
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
