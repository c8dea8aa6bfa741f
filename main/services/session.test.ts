// The session against the real engine and the real NBD server, with libnbd's tools as the
// independent client: what nbdinfo sees over the wire is what the map must say.
import { execFile } from 'node:child_process';
import { mkdtemp, open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN_CLASSES } from '../../shared/bins.ts';
import type { IpcEventName, IpcEvents } from '../../shared/ipc.ts';
import { createSession } from './engine.ts';
import { ServiceError } from './errors.ts';
import type { Session } from './session.ts';

const run = promisify(execFile);
/** nbdsh is Python: Debian's interpreter has the nbd module, a pyenv one first on PATH does not. */
const nbdsh = (uri: string, code: string) =>
  run('nbdsh', ['-u', uri, '-c', code], { env: { ...process.env, PATH: `/usr/bin:${process.env.PATH}` } });
const MiB = 2 ** 20;

let dir: string;
let session: Session;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bs-session-'));
  session = createSession({ stateDir: null });
});

afterEach(async () => {
  await session.dispose();
  await rm(dir, { recursive: true, force: true });
});

/** A sparse raw image: `size` bytes with 64 KiB of data at each offset given. */
async function sparseImage(name: string, size: number, dataAt: number[]): Promise<string> {
  const file = path.join(dir, name);
  const fh = await open(file, 'w');
  await fh.truncate(size);
  for (const at of dataAt) await fh.write(Buffer.alloc(64 * 1024, 0xab), 0, 64 * 1024, at);
  await fh.close();
  return file;
}

function nextEvent<E extends IpcEventName>(s: Session, event: E, match: (p: IpcEvents[E]) => boolean = () => true): Promise<IpcEvents[E]> {
  return new Promise((resolve) => {
    const off = s.subscribe((name, payload) => {
      if ((name as string) === event && match(payload as IpcEvents[E])) {
        off();
        resolve(payload as IpcEvents[E]);
      }
    });
  });
}

async function scanned(s: Session, id: string) {
  while (!s.get(id).scan.complete) await new Promise((r) => setTimeout(r, 10));
  return s.get(id);
}

describe('opening', () => {
  it('opens a raw file through the file plugin and scans it', async () => {
    const file = await sparseImage('disk.img', 4 * MiB, [MiB]);
    const opened = await session.openPath(file);
    expect([opened.format, opened.size, opened.chainLabel, opened.title]).toEqual(['raw', 4 * MiB, 'file', 'disk.img']);
    const img = await scanned(session, opened.id);
    expect(img.totals).toEqual({ data: 64 * 1024, zero: 0, hole: 4 * MiB - 64 * 1024, holeUndefined: 0, unknown: 0 });
  });

  it('answers bins with exact bytes per class', async () => {
    const file = await sparseImage('disk.img', 4 * MiB, [MiB]);
    const { id } = await session.openPath(file);
    await scanned(session, id);
    expect(session.bins(id, 0, 4 * MiB, 4).counts).toEqual([
      0, 0, MiB, 0, 0,
      64 * 1024, 0, MiB - 64 * 1024, 0, 0,
      0, 0, MiB, 0, 0,
      0, 0, MiB, 0, 0,
    ]);
  });

  it('finds the exact extent around an offset', async () => {
    const file = await sparseImage('disk.img', 4 * MiB, [MiB]);
    const { id } = await session.openPath(file);
    await scanned(session, id);
    expect(session.extentAt(id, MiB + 5)).toEqual({ offset: MiB, length: 64 * 1024, flags: 0, kind: 'data', partition: null });
  });

  it('reads bytes through the chain for the hex view', async () => {
    const file = await sparseImage('disk.img', 4 * MiB, [MiB]);
    const { id } = await session.openPath(file);
    const hex = await session.readBytes(id, MiB - 2, 4);
    expect(Buffer.from(hex.base64, 'base64')).toEqual(Buffer.from([0, 0, 0xab, 0xab]));
  });

  it('refuses an unknown image id with not-found', () => {
    expect(() => session.get('img-99')).toThrow(ServiceError);
  });
});

describe('backing chains', () => {
  const KiB = 1024;

  /** base (data at 0..1M) <- mid (1M..2M) <- top (512K..640K and 3M..3.5M), made by qemu-img and qemu-io. */
  async function qcow2Chain(): Promise<string> {
    const at = (name: string) => path.join(dir, name);
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', at('base.qcow2'), '4M']);
    await run('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0xaa 0 1M', at('base.qcow2')]);
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', 'base.qcow2', '-F', 'qcow2', at('mid.qcow2')]);
    await run('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0xbb 1M 1M', at('mid.qcow2')]);
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', 'mid.qcow2', '-F', 'qcow2', at('top.qcow2')]);
    await run('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0xcc 3M 512k', '-c', 'write -P 0xdd 512k 128k', at('top.qcow2')]);
    return at('top.qcow2');
  }

  it('lists the files of the chain, top first', async () => {
    const { id } = await session.openPath(await qcow2Chain());
    const layers = session.get(id).layers!.map((l) => [l.depth, path.basename(l.path), l.format, l.size]);
    expect(layers).toEqual([[1, 'top.qcow2', 'qcow2', 4 * MiB], [2, 'mid.qcow2', 'qcow2', 4 * MiB], [3, 'base.qcow2', 'qcow2', 4 * MiB]]);
  });

  it('gives each extent the layer qemu-img map says holds it', async () => {
    const top = await qcow2Chain();
    const { id } = await session.openPath(top);
    await scanned(session, id);
    // qemu-img counts the top image as depth 0 and gives absent ranges the deepest layer's depth.
    const map = JSON.parse((await run('qemu-img', ['map', '--output=json', top])).stdout) as { start: number; length: number; depth: number; present: boolean }[];
    expect(map.length).toBe(7);
    for (const e of map) {
      const at = session.extentAt(id, e.start);
      expect([at.offset, at.length, at.depth]).toEqual([e.start, e.length, e.present ? e.depth + 1 : 0]);
    }
  });

  it('counts the data each backing file holds per bin and in the totals', async () => {
    const { id } = await session.openPath(await qcow2Chain());
    const img = await scanned(session, id);
    const bins = session.bins(id, 0, 4 * MiB, 4);
    expect(bins.backingLayers).toBe(2);
    // Per 1 MiB bin: [mid, base]. base's first MiB less the 128 KiB top.qcow2 covers.
    expect(bins.backing).toEqual([0, 896 * KiB, MiB, 0, 0, 0, 0, 0]);
    expect(bins.counts.filter((_, i) => i % 5 === 0)).toEqual([MiB, MiB, 0, 512 * KiB]);
    expect(img.totals.backing).toEqual([MiB, 896 * KiB]);
  });

  it('reports no layers and no depth for a raw file', async () => {
    const { id } = await session.openPath(await sparseImage('disk.img', 4 * MiB, [MiB]));
    await scanned(session, id);
    expect(session.get(id).layers).toBeUndefined();
    expect(session.extentAt(id, MiB).depth).toBeUndefined();
    expect(session.bins(id, 0, 4 * MiB, 4).backing).toBeUndefined();
  });
});

describe('serving', () => {
  it('exports the same map nbdinfo reads over the wire', async () => {
    const file = await sparseImage('disk.img', 8 * MiB, [0, 3 * MiB, 7 * MiB]);
    const { id } = await session.openPath(file);
    const status = await session.startServing(id, { port: 0 });
    const uri = status.exports[0]!.uri;
    const { stdout } = await run('nbdinfo', ['--map', '--json', uri]);
    expect((await session.exportMap(id, 'nbdinfo-json')).text).toBe(stdout);
  });

  it('lists a connected client with the chain it runs', async () => {
    const file = await sparseImage('disk.img', 4 * MiB, []);
    const { id } = await session.openPath(file);
    await session.startServing(id, { port: 0 });
    const connected = nextEvent(session, 'server.clients', (list) => list.length > 0);
    const client = nbdsh(session.serverStatus().exports[0]!.uri, 'import time; time.sleep(0.5)');
    const list = await connected;
    expect(list[0]).toMatchObject({ imageId: id, exportName: '', chainLabel: 'file' });
    await client;
  });

  it('updates the map within a second of a client write', async () => {
    const file = await sparseImage('disk.img', 4 * MiB, []);
    const { id } = await session.openPath(file);
    await scanned(session, id);
    const { exports } = await session.startServing(id, { port: 0, writable: true });
    // The scan's own notice may still be on its way: wait for the one that shows the write.
    const changed = nextEvent(session, 'map.changed', (e) =>
      e.ranges.some(([s, end]) => s <= 2 * MiB && end > 2 * MiB) && session.extentAt(id, 2 * MiB).kind === 'data');
    const t0 = Date.now();
    await nbdsh(exports[0]!.uri, `h.pwrite(b"x" * 65536, ${2 * MiB})`);
    await changed;
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(session.extentAt(id, 2 * MiB)).toMatchObject({ offset: 2 * MiB, length: 65536, kind: 'data' });
  });

  it('sends stats samples that count the requests of a client', async () => {
    const file = await sparseImage('disk.img', 4 * MiB, []);
    const { id } = await session.openPath(file);
    const { exports } = await session.startServing(id, { port: 0 });
    const busy = nextEvent(session, 'stats.sample', (s) => s.perOp.read.ops > 0);
    await nbdsh(exports[0]!.uri, 'for i in range(20): h.pread(4096, i * 4096)');
    const sample = await busy;
    expect(sample.imageId).toBe(id);
    expect(sample.perOp.read.bytes).toBeGreaterThan(0);
  });
});

describe('what the summary says while served', () => {
  it('gives the bytes on disk again after a client writes into a hole', async () => {
    const file = await sparseImage('disk.img', 16 * MiB, []);
    const { id, onDiskSize } = await session.openPath(file);
    expect(onDiskSize).toBe(0);
    await scanned(session, id);
    const { exports } = await session.startServing(id, { port: 0, writable: true });
    const grown = nextEvent(session, 'images.changed', (list) => (list.find((i) => i.id === id)?.onDiskSize ?? 0) >= 4 * MiB);
    await nbdsh(exports[0]!.uri, `h.pwrite(b"w" * ${4 * MiB}, ${8 * MiB})`);
    await grown;
    expect(session.get(id).onDiskSize).toBe(4 * MiB);
  });
});

describe('serving a read-only format', () => {
  it('says the export is read-only when writes are asked for, and writable once cow is on', async () => {
    const file = path.join(dir, 'ro.qcow2');
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', file, '4M']);
    const { id } = await session.openPath(file);
    const status = await session.startServing(id, { port: 0, writable: true });
    expect(status.exports[0]).toMatchObject({ writable: false, readOnlyReason: 'qcow2 is read-only; add the cow filter for writes', offerCow: true });
    const uri = status.exports[0]!.uri;
    const info = JSON.parse((await run('nbdinfo', ['--json', uri])).stdout) as { exports: { is_read_only: boolean }[] };
    expect(info.exports[0]!.is_read_only).toBe(true);
    const announced = nextEvent(session, 'server.status', (st) => st.exports[0]?.writable === true);
    const { config } = session.chainState(id);
    await session.setChain(id, { ...config, filters: [{ name: 'cow', params: {}, enabled: true }] });
    expect((await announced).exports[0]).not.toHaveProperty('readOnlyReason');
    await nbdsh(uri, 'h.pwrite(b"w" * 4096, 0)');
  });
});

describe('nbd URIs', () => {
  it('opens an export over NBD and maps what the server reports', async () => {
    const file = await sparseImage('disk.img', 4 * MiB, [MiB]);
    const local = await session.openPath(file);
    const { exports } = await session.startServing(local.id, { port: 0 });
    const remote = await session.openUri(exports[0]!.uri);
    expect([remote.format, remote.size, remote.chainLabel]).toEqual(['nbd', 4 * MiB, 'nbd']);
    await scanned(session, remote.id);
    expect(session.extentAt(remote.id, MiB)).toMatchObject({ offset: MiB, length: 64 * 1024, kind: 'data' });
  });
});

describe('chain edits', () => {
  it('shows all data once noextents is switched on', async () => {
    const file = await sparseImage('disk.img', 4 * MiB, [MiB]);
    const { id } = await session.openPath(file);
    await scanned(session, id);
    const config = session.chainState(id).config;
    await session.setChain(id, { ...config, filters: [{ name: 'noextents', params: {}, enabled: true }] });
    const img = await scanned(session, id);
    expect(img.chainLabel).toBe('noextents -> file');
    expect(img.totals.data).toBe(4 * MiB);
  });

  it('asks before switching off a cow filter that holds writes', async () => {
    const file = await sparseImage('disk.img', 4 * MiB, []);
    const { id } = await session.openPath(file);
    const plugin = session.chainState(id).config.plugin;
    await session.setChain(id, { plugin, filters: [{ name: 'cow', params: {}, enabled: true }] });
    const { exports } = await session.startServing(id, { port: 0, writable: true });
    await nbdsh(exports[0]!.uri, 'h.pwrite(b"y" * 4096, 0)');
    const off = { plugin, filters: [{ name: 'cow', params: {}, enabled: false }] };
    await expect(session.setChain(id, off)).rejects.toMatchObject({ code: 'needs-confirmation', filters: ['cow'] });
    await expect(session.setChain(id, off, true)).resolves.toMatchObject({ label: 'file' });
  });

  it('refuses a chain that does not open, and keeps the one it had', async () => {
    const file = await sparseImage('disk.img', 4 * MiB, [MiB]);
    const { id } = await session.openPath(file);
    await scanned(session, id);
    const before = session.chainState(id);
    const bad = { ...before.config, filters: [{ name: 'partition', params: { partition: '9' }, enabled: true }] };
    await expect(session.setChain(id, bad)).rejects.toMatchObject({ code: 'invalid-input' });
    expect(session.chainState(id)).toEqual(before);
    expect(session.get(id)).toMatchObject({ chainLabel: 'file', size: 4 * MiB });
  });

  it('keeps the cow overlay when another filter is toggled', async () => {
    const file = await sparseImage('disk.img', 4 * MiB, []);
    const { id } = await session.openPath(file);
    const plugin = session.chainState(id).config.plugin;
    const cow = { name: 'cow', params: {}, enabled: true };
    await session.setChain(id, { plugin, filters: [cow] });
    const { exports } = await session.startServing(id, { port: 0, writable: true });
    await nbdsh(exports[0]!.uri, 'h.pwrite(b"z" * 4096, 0)');
    await session.setChain(id, { plugin, filters: [cow, { name: 'noextents', params: {}, enabled: true }] });
    const hex = await session.readBytes(id, 0, 1);
    expect(Buffer.from(hex.base64, 'base64').toString()).toBe('z');
  });
});

describe('the demo image', () => {
  it('opens with its partitions and filesystem labels', async () => {
    const demo = await session.openDemo();
    expect(demo.demo).toBe(true);
    expect(demo.partitionScheme).toBe('gpt');
    const labels = demo.partitions.map((p) => p.filesystem?.label);
    expect(labels).toEqual(session.getDemoLayout()!.partitions.map((p) => p.label));
  });

  it('maps every zero range of its layout as zero', async () => {
    const { id } = await session.openDemo();
    await scanned(session, id);
    for (const [start, length] of session.getDemoLayout()!.zeroRanges) {
      const counts = [...session.bins(id, start, start + length, 1).counts.slice(0, BIN_CLASSES.length)];
      expect(counts[BIN_CLASSES.indexOf('zero')], `zero range ${start}+${length}: ${counts}`).toBe(length);
    }
  });

  it('maps every data range of its layout as data', async () => {
    const { id } = await session.openDemo();
    await scanned(session, id);
    const [start, length] = session.getDemoLayout()!.dataRanges[0]!;
    expect(session.bins(id, start, start + length, 1).counts[0]).toBe(length);
  });
});
