// Development only (vite dev with ?fake): a stand-in engine holding one 64 MiB image with a
// literal extent list, so the UI can be looked at without the browser host. Never bundled
// into the production build (index.ts imports it only under import.meta.env.DEV).
import { BIN_STRIDE, binClassOfFlags, binEdge } from '../../../shared/bins.ts';
import type { ImageSummary, IpcChannel, IpcRequest, IpcResponse, MapBins, StatsSample } from '../../../shared/ipc.ts';
import { STATS_OPS } from '../../../shared/ipc.ts';
import { EventHub, type ConnectionState, type Transport } from './transport.ts';

const MiB = 2 ** 20;
const extents: [number, number, number][] = [
  [0, 1 * MiB, 0],
  [1 * MiB, 3 * MiB, 3],
  [4 * MiB, 2 * MiB, 0],
  [6 * MiB, 6 * MiB, 2],
  [12 * MiB, 20 * MiB, 3],
  [32 * MiB, 4 * MiB, 0],
  [36 * MiB, 4 * MiB, 1],
  [40 * MiB, 24 * MiB, 3],
];

const image: ImageSummary = {
  id: 'fake', title: 'fake.img', path: '/tmp/fake.img', demo: true, format: 'raw', size: 64 * MiB, onDiskSize: 7 * MiB,
  chain: { plugin: { name: 'file', params: { file: '/tmp/fake.img' } }, filters: [] }, chainLabel: 'file',
  partitionScheme: 'gpt',
  partitions: [
    { number: 1, start: 1 * MiB, length: 31 * MiB, type: 'C12A7328', typeName: 'EFI System', name: 'efi', filesystem: { type: 'vfat', label: 'EFI' } },
    { number: 2, start: 32 * MiB, length: 31 * MiB, type: '0FC63DAF', typeName: 'Linux filesystem', name: 'root', filesystem: { type: 'ext4', label: 'root' } },
  ],
  warnings: [],
  totals: { data: 7 * MiB, zero: 6 * MiB, hole: 47 * MiB, holeUndefined: 4 * MiB, unknown: 0 },
  scan: { done: 64 * MiB, total: 64 * MiB, complete: true },
};

function bins(start: number, end: number, n: number): MapBins {
  const counts = new Array<number>(n * BIN_STRIDE).fill(0);
  for (let i = 0; i < n; i++) {
    const a = binEdge(start, end, n, i);
    const b = binEdge(start, end, n, i + 1);
    for (const [o, l, f] of extents) {
      const overlap = Math.min(b, o + l) - Math.max(a, o);
      if (overlap > 0) counts[i * BIN_STRIDE + binClassOfFlags(f)]! += overlap;
    }
  }
  return { imageId: image.id, start, end, bins: n, counts, version: 1 };
}

export class DevFakeTransport implements Transport {
  readonly host = 'web' as const;
  private events = new EventHub();

  constructor() {
    setInterval(() => {
      const perOp = Object.fromEntries(STATS_OPS.map((op) => [op, { ops: 0, bytes: 0, errors: 0, p50: null, p99: null }])) as StatsSample['perOp'];
      const r = Math.random();
      perOp.read = { ops: 200 + 100 * r, bytes: 3e7 * r, errors: 0, p50: 0.2 + r * 0.1, p99: 1 + r };
      perOp.write = { ops: 50 * r, bytes: 1e7 * r, errors: 0, p50: 0.4, p99: 2 * r + 1 };
      const client = { id: 1, remote: '127.0.0.1:50312', requests: Math.round(Date.now() / 100) % 10000, bytesRead: 1e8, bytesWritten: 2e6 };
      this.events.emit('stats.sample', { imageId: image.id, t: Date.now(), intervalMs: 250, perOp, clients: [{ ...client, ops: 250 }] });
      // As the engine does: the client list comes again with the samples while its counters move.
      this.events.emit('server.clients', [{ ...client, exportName: '', imageId: image.id, chainLabel: 'file', since: 0 }]);
    }, 250);
  }

  async invoke<C extends IpcChannel>(channel: C, request: IpcRequest<C>): Promise<IpcResponse<C>> {
    const r = request as Record<string, number>;
    const answers: Partial<Record<IpcChannel, () => unknown>> = {
      'app.info': () => ({ version: 'dev', host: 'web', platform: 'linux', nativeDialogs: false }),
      'components.list': () => [
        { kind: 'plugin', name: 'file', summary: 'a local file', params: [] },
        { kind: 'filter', name: 'cow', summary: 'copy-on-write overlay in memory', params: [] },
        { kind: 'filter', name: 'noextents', summary: 'hide extents: everything is data', params: [] },
        { kind: 'filter', name: 'delay', summary: 'add latency', params: [{ key: 'rdelay', kind: 'duration', description: 'read delay' }] },
        // As the engine's catalogue describes them (main/filters/ip, main/filters/limit).
        {
          kind: 'filter', name: 'ip', summary: 'admit or refuse clients by address, or by uid/gid on a Unix socket', params: [
            { key: 'allow', kind: 'string', description: 'clients to admit, checked first' },
            { key: 'deny', kind: 'string', description: 'clients to refuse unless allowed (same syntax; e.g. all)' },
          ],
        },
        { kind: 'filter', name: 'limit', summary: 'serve at most N clients at once', params: [{ key: 'limit', kind: 'int', min: 0, default: '1', noop: '0 = no limit', description: 'most clients connected at once' }] },
      ],
      'tls.credentials': () => ({}),
      'images.list': () => [image],
      'images.demo': () => image,
      'images.get': () => image,
      'images.recent': () => [{ path: '/tmp/fake.img', title: 'fake.img', openedAt: 0 }],
      'server.status': () => ({ running: false, exports: [] }),
      'clients.list': () => [],
      'chain.get': () => ({ imageId: image.id, config: image.chain, label: 'file', unsavedFilters: [] }),
      'map.bins': () => bins(r.start!, r.end!, r.bins!),
      'map.extentAt': () => {
        const e = extents.find(([o, l]) => r.offset! >= o && r.offset! < o + l)!;
        return { offset: e[0], length: e[1], flags: e[2], kind: 'data', partition: null };
      },
      'hex.read': () => ({ offset: r.offset, base64: btoa('Blockscope dev fake '.repeat(200).slice(0, r.length)) }),
    };
    const f = answers[channel];
    if (!f) throw new Error(`the dev fake does not answer ${channel}`);
    return f() as IpcResponse<C>;
  }

  on: Transport['on'] = (event, listener) => this.events.on(event, listener);

  onConnection(listener: (state: ConnectionState) => void): () => void {
    listener('open');
    return () => {};
  }
}
