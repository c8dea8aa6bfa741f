// Serving against a stand-in NBD server that records exports and can refuse a port: the
// choices serving makes (where to listen, which name an export gets, what its URIs are, when
// the server closes) without sockets. session.test.ts serves through the real server.
import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IpcEventName, IpcEvents } from '../../shared/ipc.ts';
import type { Chain } from '../backend/chain.ts';
import { registry } from '../catalog.ts';
import type { ConnectionInfo, ExportDefinition, ListenTarget } from '../nbd/server.ts';
import { ServiceError } from './errors.ts';
import { Serving, type Servable } from './serving.ts';

class FakeServer extends EventEmitter {
  readonly exports = new Map<string, Omit<ExportDefinition, 'name'>>();
  readonly listening: ListenTarget[] = [];
  connections: ConnectionInfo[] = [];
  closed = false;
  private nextPort = 40000;

  constructor(private readonly busyPorts: Set<number>) {
    super();
  }

  addExport(def: ExportDefinition): void {
    if (this.exports.has(def.name)) throw new Error(`an export named '${def.name}' already exists`);
    const { name, ...rest } = def;
    this.exports.set(name, rest);
  }

  updateExport(name: string, patch: Partial<Omit<ExportDefinition, 'name'>>): void {
    this.exports.set(name, { ...this.exports.get(name)!, ...patch });
  }

  removeExport(name: string): void {
    this.exports.delete(name);
  }

  async listen(target: ListenTarget) {
    if ('path' in target) {
      this.listening.push(target);
      return { uri: '', path: target.path };
    }
    if (this.busyPorts.has(target.port)) throw new Error(`cannot listen on ${target.host}:${target.port}: EADDRINUSE`);
    const port = target.port === 0 ? this.nextPort++ : target.port;
    this.listening.push({ host: target.host, port });
    return { uri: '', port };
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  async disconnect(id: number): Promise<boolean> {
    const before = this.connections.length;
    this.connections = this.connections.filter((c) => c.id !== id);
    return this.connections.length < before;
  }
}

let chain: Chain;
let busyPorts: Set<number>;
let servers: FakeServer[];
let images: Servable[];
let events: { event: IpcEventName; payload: unknown }[];
let serving: Serving;

function image(id: string, title: string, format = 'raw'): Servable & { dirty: [number, number][]; chain: { chain: Chain; label: string } } {
  const dirty: [number, number][] = [];
  const img = { id, title, format, chain: { chain, label: 'file' }, dirty, markDirty: (o: number, l: number) => void dirty.push([o, l]) };
  images.push(img);
  return img;
}

const server = () => servers.at(-1)!;
const logs = () => events.filter((e) => e.event === 'server.log').map((e) => (e.payload as IpcEvents['server.log']).line);

beforeEach(async () => {
  chain = await registry.build({ plugin: { name: 'memory', params: { size: '1M' } }, filters: [] });
  busyPorts = new Set();
  servers = [];
  images = [];
  events = [];
  serving = new Serving({
    createServer: () => {
      const s = new FakeServer(busyPorts);
      servers.push(s);
      return s;
    },
    images: () => images,
    emit: (event, payload) => void events.push({ event, payload }),
    statsIntervalMs: 10,
  });
});

afterEach(() => serving.close());

describe('what the export can do', () => {
  it('gives the capabilities a client is told, read-only unless writes were asked for', async () => {
    const a = image('img-1', 'a.img');
    await serving.serve(a, {});
    expect(serving.exportState('img-1')?.capabilities).toEqual({
      flags: {
        is_read_only: true, can_flush: true, can_fua: false, is_rotational: false, can_trim: false, can_zero: false,
        can_fast_zero: false, can_multi_conn: true, can_cache: true, can_extents: true,
      },
      blockSize: { minimum: 1, preferred: 4096, maximum: 32 * 2 ** 20 },
    });
    await serving.serve(a, { writable: true });
    expect(serving.exportState('img-1')?.capabilities?.flags).toMatchObject({ is_read_only: false, can_trim: true, can_zero: true });
  });
});

describe('where the server listens', () => {
  it('serves the first image under the empty name on loopback at the NBD port', async () => {
    const a = image('img-1', 'a.img');
    await serving.serve(a, {});
    expect(server().listening).toEqual([{ host: '127.0.0.1', port: 10809 }]);
    expect(serving.exportState('img-1')).toEqual({ exportName: '', writable: false, uri: 'nbd://127.0.0.1:10809/', unixUri: undefined, capabilities: expect.any(Object) });
    expect(serving.status()).toMatchObject({ running: true, host: '127.0.0.1', port: 10809, baseUri: 'nbd://127.0.0.1:10809' });
    expect(logs()).toEqual(["serving a.img as '' (read-only): nbd://127.0.0.1:10809/"]);
  });

  it('takes any free port when the default one is in use, and says so', async () => {
    busyPorts.add(10809);
    await serving.serve(image('img-1', 'a.img'), {});
    expect(serving.status().port).toBe(40000);
    expect(logs()[0]).toBe('port 10809 is in use; listening on 40000 instead');
  });

  it('fails when a port asked for is in use', async () => {
    busyPorts.add(7000);
    await expect(serving.serve(image('img-1', 'a.img'), { port: 7000 })).rejects.toMatchObject({ code: 'failed' });
    expect(serving.status()).toEqual({ running: false, exports: [] });
  });

  it('writes URIs of an IPv6 host and a Unix socket with the export name encoded', async () => {
    await serving.serve(image('img-1', 'a.img'), { host: '::1', port: 0, socketPath: '/tmp/bs.sock', exportName: 'disk one/a' });
    expect(serving.exportState('img-1')).toMatchObject({
      uri: 'nbd://[::1]:40000/disk%20one/a',
      unixUri: 'nbd+unix:///disk%20one/a?socket=/tmp/bs.sock',
    });
    expect(serving.status().baseUri).toBe('nbd://[::1]:40000');
  });

  it('moves to another host, dropping the exports served on the old one', async () => {
    const a = image('img-1', 'a.img');
    const b = image('img-2', 'b.img');
    await serving.serve(a, { port: 0 });
    const first = server();
    await serving.serve(b, { host: '127.0.0.2' });
    expect(first.closed).toBe(true);
    expect([serving.isServed('img-1'), serving.isServed('img-2')]).toEqual([false, true]);
    expect(server().listening).toEqual([{ host: '127.0.0.2', port: 40000 }]);
  });
});

describe('export names', () => {
  it('gives the next image its title once the empty name is taken', async () => {
    await serving.serve(image('img-1', 'a.img'), { port: 0 });
    await serving.serve(image('img-2', 'b.img'), {});
    expect([...server().exports.keys()]).toEqual(['', 'b.img']);
  });

  it('refuses a name another image is served under', async () => {
    await serving.serve(image('img-1', 'a.img'), { port: 0, exportName: 'x' });
    const err = await serving.serve(image('img-2', 'b.img'), { exportName: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceError);
    expect(err).toMatchObject({ code: 'invalid-input', message: "the export name 'x' is already used by a.img" });
  });

  it('serves an image again under a new name or mode in place of the old export', async () => {
    const a = image('img-1', 'a.img');
    await serving.serve(a, { port: 0 });
    await serving.serve(a, { writable: true });
    expect(server().exports.get('')).toMatchObject({ writable: true, chainLabel: 'file' });
    await serving.serve(a, { exportName: 'renamed' });
    expect([...server().exports.keys()]).toEqual(['renamed']);
  });

  it('lists exports in the order the images were opened', async () => {
    const a = image('img-1', 'a.img');
    const b = image('img-2', 'b.img');
    await serving.serve(b, { port: 0 });
    await serving.serve(a, {});
    expect(serving.status().exports.map((e) => [e.imageId, e.exportName])).toEqual([['img-1', 'a.img'], ['img-2', '']]);
  });
});

describe('stopping', () => {
  it('closes the server with the last export', async () => {
    const a = image('img-1', 'a.img');
    const b = image('img-2', 'b.img');
    await serving.serve(a, { port: 0 });
    await serving.serve(b, {});
    await serving.stop([a]);
    expect(server().closed).toBe(false);
    expect([...server().exports.keys()]).toEqual(['b.img']);
    await serving.stop([b]);
    expect(server().closed).toBe(true);
    expect(serving.status()).toEqual({ running: false, exports: [] });
  });
});

describe('what clients do', () => {
  const request = { connection: 1, offset: 4096, length: 512, latencyMs: 1 };

  it('marks what a client writes, trims or zeroes as dirty, but not a failed write', async () => {
    const a = image('img-1', 'a.img');
    await serving.serve(a, { port: 0 });
    server().emit('request', { ...request, exportName: '', op: 'write' });
    server().emit('request', { ...request, exportName: '', op: 'read' });
    server().emit('request', { ...request, exportName: '', op: 'zero', error: 'EIO' });
    server().emit('request', { ...request, exportName: 'elsewhere', op: 'write' });
    expect(a.dirty).toEqual([[4096, 512]]);
  });

  it('samples stats per served image and names each client\'s image', async () => {
    await serving.serve(image('img-1', 'a.img'), { port: 0 });
    const client: ConnectionInfo = { id: 7, remote: '127.0.0.1:5000', exportName: '', chainLabel: 'file', since: 1, requests: 3, bytesRead: 512, bytesWritten: 0 };
    server().connections = [client];
    server().emit('request', { ...request, exportName: '', op: 'read' });
    server().emit('connect', client);
    await new Promise((r) => setTimeout(r, 30));
    const sample = events.find((e) => e.event === 'stats.sample')!.payload as IpcEvents['stats.sample'];
    expect([sample.imageId, sample.clients.map((c) => c.id)]).toEqual(['img-1', [7]]);
    expect(events.find((e) => e.event === 'server.clients')!.payload).toEqual([{ ...client, imageId: 'img-1' }]);
  });
});

describe('what serving promises', () => {
  it('serves a chain that cannot write read-only when asked for writes, says why, and turns writable with cow', async () => {
    const img = image('img-1', 'ro.qcow2', 'qcow2');
    img.chain = { chain: await registry.build({ plugin: { name: 'pattern', params: { size: '1M' } }, filters: [] }), label: 'pattern' };
    await serving.serve(img, { port: 0, writable: true });
    expect(serving.exportState('img-1')).toMatchObject({ writable: false, readOnlyReason: 'qcow2 is read-only; add the cow filter for writes', offerCow: true });
    expect(logs()[0]).toMatch(/\(read-only: qcow2 is read-only; add the cow filter for writes\)/);
    const cow = { name: 'cow', params: {}, enabled: true };
    img.chain = { chain: await registry.build({ plugin: { name: 'pattern', params: { size: '1M' } }, filters: [cow] }), label: 'cow -> pattern' };
    await serving.chainChanged(img);
    expect(serving.exportState('img-1')).toMatchObject({ writable: true });
    expect(serving.exportState('img-1')).not.toHaveProperty('readOnlyReason');
  });

  it('names the readonly filter when it is what refuses writes', async () => {
    const img = image('img-1', 'a.img');
    img.chain = { chain: await registry.build({ plugin: { name: 'memory', params: { size: '1M' } }, filters: [{ name: 'readonly', params: {}, enabled: true }] }), label: 'readonly -> memory' };
    await serving.serve(img, { port: 0, writable: true });
    expect(serving.exportState('img-1')).toMatchObject({ writable: false, readOnlyReason: 'the readonly filter is on', offerCow: false });
  });

  it('sends the client list again whenever a client\'s counters move, and only then', async () => {
    await serving.serve(image('img-1', 'a.img'), { port: 0 });
    const client: ConnectionInfo = { id: 7, remote: '127.0.0.1:5000', exportName: '', chainLabel: 'file', since: 1, requests: 0, bytesRead: 0, bytesWritten: 0 };
    server().connections = [client];
    server().emit('connect', client);
    await new Promise((r) => setTimeout(r, 40));
    client.requests = 48;
    client.bytesRead = 48 * 2 ** 20;
    await new Promise((r) => setTimeout(r, 40));
    const lists = events.filter((e) => e.event === 'server.clients').map((e) => (e.payload as IpcEvents['server.clients'])[0]!);
    expect(lists.map((c) => [c.requests, c.bytesRead])).toEqual([[0, 0], [48, 48 * 2 ** 20]]);
  });
});
