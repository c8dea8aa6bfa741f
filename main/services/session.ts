// The engine behind the UI: the open images (each with its chain, a read-only connection for
// the map and hex view, and its allocation tracker), the NBD server serving them, and the
// events the UI listens to. Plain Node, no Electron: both hosts sit on one Session, and
// tests make as many as they like.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { DEPTH_TOP, flagsOfBinClass } from '../../shared/bins.ts';
import type { ChainConfig } from '../../shared/chain-config.ts';
import { extentKind, type Extent } from '../../shared/extents.ts';
import {
  DEFAULT_NBD_PORT, type ChainState, type ClientInfo, type ComponentInfo, type DemoLayoutInfo, type ExportState, type ExtentAt, type HexBytes,
  type ImageSummary, type IpcEventName, type IpcEvents, type MapBins, type MapExport, type MapExportFormat, type RecentImage,
  type ServerStatus,
} from '../../shared/ipc.ts';
import type { Chain, OpenChain } from '../backend/chain.ts';
import type { Registry } from '../backend/registry.ts';
import { isNbdUri } from '../nbd/uri.ts';
import { AllocationTracker } from './allocation.ts';
import { ServiceError } from './errors.ts';
import { ImageChain } from './image-chain.ts';
import { partitionAt, probeLayout, type FilesystemReader, type ImageLayout, type PartitionReader } from './image-probe.ts';
import { mapExportFormats } from './map-export.ts';
import { RecentImages } from './recent.ts';
import { StatsSampler, type ConnectionCounters, type RequestEvent } from './stats.ts';

/** The part of main/nbd/server.ts NbdServer the session uses. */
export interface NbdServerLike {
  addExport(def: { name: string; description?: string; chain: Chain; writable: boolean; chainLabel?: string }): void;
  updateExport(name: string, patch: { chain?: Chain; writable?: boolean; description?: string; chainLabel?: string }): void;
  removeExport(name: string): void;
  listen(target: { host: string; port: number } | { path: string }): Promise<{ uri: string; port?: number; path?: string }>;
  close(): Promise<void>;
  readonly connections: (ConnectionCounters & { exportName: string; chainLabel: string; since: number })[];
  on(event: 'request', listener: (ev: RequestEvent) => void): unknown;
  on(event: 'connect' | 'disconnect', listener: (info: unknown) => void): unknown;
}

export interface SessionDeps {
  registry: Registry;
  /** Which plugin serves an image file (main/formats/detect.ts). */
  detectImage(path: string): Promise<{ format: string; plugin: string }>;
  readPartitions?: PartitionReader;
  readFilesystem?: FilesystemReader;
  /** Makes (or finds) the built-in demo image. */
  demoImage?(): Promise<{ path: string; layout: DemoLayoutInfo }>;
  createServer(options: { log: (line: string) => void }): NbdServerLike;
  /** Where the recent list lives; null keeps it in memory. */
  stateDir: string | null;
  /** Re-query granularity and event throttling of the allocation trackers (tests shorten them). */
  allocation?: { throttleMs?: number; dirtyAlign?: number };
  statsIntervalMs?: number;
}

export type SessionListener = <E extends IpcEventName>(event: E, payload: IpcEvents[E]) => void;

interface ServeOptions {
  host?: string;
  port?: number;
  exportName?: string;
  writable?: boolean;
  socketPath?: string;
}

class OpenImage {
  exportName: string | null = null;
  writable = false;
  constructor(
    readonly id: string,
    readonly title: string,
    readonly source: { path: string } | { uri: string },
    readonly format: string,
    readonly demo: boolean,
    readonly chain: ImageChain,
    public mapConnection: OpenChain,
    public tracker: AllocationTracker,
    public layout: ImageLayout,
    public onDiskSize: number | null,
  ) {}
}

interface Listening {
  host: string;
  port: number;
  socketPath?: string;
}

const DIRTY_OPS = new Set(['write', 'trim', 'zero']);

export class Session {
  private readonly deps: SessionDeps;
  private readonly images = new Map<string, OpenImage>();
  private readonly listeners = new Set<SessionListener>();
  private readonly recent: RecentImages;
  private readonly stats = new StatsSampler();
  private server: NbdServerLike | null = null;
  private listening: Listening | null = null;
  private statsTimer: NodeJS.Timeout | null = null;
  private nextId = 1;
  private demoLayout: DemoLayoutInfo | null = null;

  constructor(deps: SessionDeps) {
    this.deps = deps;
    this.recent = new RecentImages(deps.stateDir);
  }

  subscribe(listener: SessionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit<E extends IpcEventName>(event: E, payload: IpcEvents[E]): void {
    for (const l of this.listeners) {
      try {
        l(event, payload);
      } catch {
        // A host that fails to deliver must not stop the others.
      }
    }
  }

  private image(id: string): OpenImage {
    const img = this.images.get(id);
    if (!img) throw new ServiceError('not-found', `no open image with id '${id}' (it was closed, or never opened)`);
    return img;
  }

  /** Every plugin and filter with its parameter specs (the sidebar forms). */
  components(): ComponentInfo[] {
    return this.deps.registry.describe().map((c) => ({ ...c, params: [...c.params] }));
  }

  // ------------------------------------------------------------ images

  /** An image path or an nbd:// / nbd+unix:// URI, as typed on a command line. */
  open(target: string): Promise<ImageSummary> {
    return isNbdUri(target) ? this.openUri(target) : this.openPath(target);
  }

  async openPath(file: string, demo = false): Promise<ImageSummary> {
    const abs = path.resolve(file);
    const existing = [...this.images.values()].find((i) => 'path' in i.source && i.source.path === abs);
    if (existing) return this.summary(existing);
    let detected;
    try {
      detected = await this.deps.detectImage(abs);
    } catch (err) {
      throw new ServiceError('failed', `cannot open ${abs}: ${(err as Error).message}`);
    }
    const config: ChainConfig = { plugin: { name: detected.plugin, params: { file: abs } }, filters: [] };
    const st = await stat(abs).catch(() => null);
    const onDisk = st ? st.blocks * 512 : null;
    return this.openConfig(path.basename(abs), { path: abs }, detected.format, config, demo, onDisk);
  }

  async openUri(uri: string): Promise<ImageSummary> {
    const existing = [...this.images.values()].find((i) => 'uri' in i.source && i.source.uri === uri);
    if (existing) return this.summary(existing);
    const config: ChainConfig = { plugin: { name: 'nbd', params: { uri } }, filters: [] };
    return this.openConfig(titleOfUri(uri), { uri }, 'nbd', config, false, null);
  }

  async openDemo(): Promise<ImageSummary> {
    if (!this.deps.demoImage) throw new ServiceError('unsupported', 'this build has no demo image');
    const demo = await this.deps.demoImage();
    this.demoLayout = demo.layout;
    return this.openPath(demo.path, true);
  }

  getDemoLayout(): DemoLayoutInfo | null {
    return this.demoLayout;
  }

  private async openConfig(title: string, source: OpenImage['source'], format: string, config: ChainConfig, demo: boolean, onDiskSize: number | null): Promise<ImageSummary> {
    let chain: ImageChain;
    let conn: OpenChain;
    try {
      chain = await ImageChain.create(this.deps.registry, config);
      conn = await chain.chain.open({ readonly: true, exportName: '' });
    } catch (err) {
      if (err instanceof ServiceError) throw err;
      throw new ServiceError('failed', `cannot open ${'path' in source ? source.path : source.uri}: ${(err as Error).message}`);
    }
    const id = `img-${this.nextId++}`;
    const layout = await this.probe(conn);
    const tracker = this.track(id, conn);
    const img = new OpenImage(id, title, source, format, demo, chain, conn, tracker, layout, onDiskSize);
    this.images.set(id, img);
    void tracker.start().then(() => this.imagesChanged());
    if (!demo) await this.recent.add({ ...source, title, openedAt: Date.now() }).catch(() => {});
    this.imagesChanged();
    return this.summary(img);
  }

  private probe(conn: OpenChain): Promise<ImageLayout> {
    const top = conn.top;
    const read = async (offset: number, length: number) => {
      const buf = Buffer.alloc(length);
      await top.pread(buf, offset);
      return buf;
    };
    return probeLayout(read, top.getSize(), this.deps.readPartitions, this.deps.readFilesystem);
  }

  private track(id: string, conn: OpenChain): AllocationTracker {
    return new AllocationTracker(conn.top, {
      progress: (p) => this.emit('map.scanProgress', { imageId: id, ...p }),
      changed: (ranges, version) => this.emit('map.changed', { imageId: id, ranges, version }),
    }, this.deps.allocation);
  }

  async close(id: string): Promise<void> {
    const img = this.image(id);
    if (img.exportName !== null) await this.stopServing(id);
    this.images.delete(id);
    img.tracker.dispose();
    await img.mapConnection.close().catch(() => {});
    this.imagesChanged();
  }

  list(): ImageSummary[] {
    return [...this.images.values()].map((i) => this.summary(i));
  }

  get(id: string): ImageSummary {
    return this.summary(this.image(id));
  }

  recentImages(): Promise<RecentImage[]> {
    return this.recent.list();
  }

  private imagesChanged(): void {
    this.emit('images.changed', this.list());
  }

  private summary(img: OpenImage): ImageSummary {
    const totals = img.tracker.current.layeredTotals();
    const [data, zero, hole, holeUndefined, unknown] = totals.counts as [number, number, number, number, number];
    const layers = img.chain.imageLayers?.map((l, i) => ({ depth: i + DEPTH_TOP, path: l.path, format: l.format, size: l.size, summary: l.summary }));
    const p = img.tracker.progress;
    return {
      id: img.id,
      title: img.title,
      ...img.source,
      demo: img.demo,
      format: img.format,
      size: img.mapConnection.top.getSize(),
      onDiskSize: img.onDiskSize,
      chain: img.chain.config,
      chainLabel: img.chain.label,
      partitionScheme: img.layout.scheme,
      partitions: img.layout.partitions,
      filesystem: img.layout.filesystem,
      layers,
      warnings: img.layout.warnings,
      totals: { data, zero, hole, holeUndefined, unknown, ...(totals.backingLayers > 0 ? { backing: totals.backing } : {}) },
      scan: { done: p.done, total: p.total, complete: p.complete, error: p.error },
      export: this.exportState(img),
    };
  }

  // ------------------------------------------------------------ map and hex

  bins(id: string, start: number, end: number, bins: number): MapBins {
    const img = this.image(id);
    const size = img.tracker.current.size;
    if (start >= size) throw new ServiceError('invalid-input', `start ${start} is past the end of the disk (${size} bytes)`);
    const { counts, backingLayers, backing } = img.tracker.current.layeredBins(start, Math.min(end, size), bins);
    const reply: MapBins = { imageId: id, start, end: Math.min(end, size), bins, counts, version: img.tracker.version };
    if (backingLayers > 0) Object.assign(reply, { backingLayers, backing });
    return reply;
  }

  extentAt(id: string, offset: number): ExtentAt {
    const img = this.image(id);
    const model = img.tracker.current;
    if (offset >= model.size) throw new ServiceError('invalid-input', `offset ${offset} is past the end of the disk (${model.size} bytes)`);
    const run = model.runAt(offset);
    const flags = flagsOfBinClass(run.cls);
    return {
      offset: run.offset,
      length: run.length,
      flags,
      kind: flags < 0 ? 'unknown' : extentKind(flags),
      ...(run.depth === undefined ? {} : { depth: run.depth }),
      partition: partitionAt(img.layout.partitions, offset),
    };
  }

  async exportMap(id: string, format: MapExportFormat): Promise<MapExport> {
    const img = this.image(id);
    await img.tracker.whenScanned();
    const { error } = img.tracker.progress;
    if (error) throw new ServiceError('failed', `the map is incomplete: ${error}`);
    const spec = mapExportFormats[format];
    const extents: Extent[] = [...img.tracker.current.runs()].map((r) => ({ offset: r.offset, length: r.length, flags: flagsOfBinClass(r.cls) }));
    return { format, mimeType: spec.mimeType, fileName: `${img.title}${spec.extension}`, text: spec.format(extents) };
  }

  async readBytes(id: string, offset: number, length: number): Promise<HexBytes> {
    const img = this.image(id);
    const top = img.mapConnection.top;
    const size = top.getSize();
    if (offset >= size) throw new ServiceError('invalid-input', `offset ${offset} is past the end of the disk (${size} bytes)`);
    const buf = Buffer.alloc(Math.min(length, size - offset));
    await top.pread(buf, offset);
    return { offset, base64: buf.toString('base64') };
  }

  // ------------------------------------------------------------ chain

  chainState(id: string): ChainState {
    const img = this.image(id);
    return { imageId: id, config: img.chain.config, label: img.chain.label, unsavedFilters: img.chain.unsavedFilters() };
  }

  /** New connections (and the map) get the new chain; open connections keep theirs. */
  async setChain(id: string, config: ChainConfig, force = false): Promise<ChainState> {
    const img = this.image(id);
    const chain = await img.chain.set(config, force);
    const conn = await chain.open({ readonly: true, exportName: '' });
    const old = img.mapConnection;
    img.mapConnection = conn;
    img.layout = await this.probe(conn);
    img.tracker.dispose();
    img.tracker = this.track(id, conn);
    void img.tracker.start().then(() => this.imagesChanged());
    await old.close().catch(() => {});
    if (img.exportName !== null) this.server?.updateExport(img.exportName, { chain, chainLabel: img.chain.label });
    this.imagesChanged();
    return this.chainState(id);
  }

  // ------------------------------------------------------------ serving

  async startServing(id: string, options: ServeOptions = {}): Promise<ServerStatus> {
    const img = this.image(id);
    const wanted: Listening = {
      host: options.host ?? this.listening?.host ?? '127.0.0.1',
      port: options.port ?? this.listening?.port ?? DEFAULT_NBD_PORT,
      socketPath: options.socketPath ?? this.listening?.socketPath,
    };
    const moved = this.listening && (wanted.host !== this.listening.host || wanted.socketPath !== this.listening.socketPath ||
      (options.port !== undefined && options.port !== 0 && options.port !== this.listening.port));
    if (moved) await this.closeServer();
    if (!this.server) await this.openServer(wanted, options.port === undefined);

    const name = options.exportName ?? img.exportName ?? this.freeExportName(img);
    const taken = [...this.images.values()].find((i) => i !== img && i.exportName === name);
    if (taken) throw new ServiceError('invalid-input', `the export name '${name}' is already used by ${taken.title}`);
    const writable = options.writable ?? false;
    const server = this.server!;
    if (img.exportName !== null && img.exportName !== name) server.removeExport(img.exportName);
    if (img.exportName === name) server.updateExport(name, { writable, chain: img.chain.chain, chainLabel: img.chain.label });
    else server.addExport({ name, description: img.title, chain: img.chain.chain, writable, chainLabel: img.chain.label });
    img.exportName = name;
    img.writable = writable;
    this.emit('server.log', { t: Date.now(), line: `serving ${img.title} as '${name}' (${writable ? 'writable' : 'read-only'}): ${this.exportState(img)!.uri}` });
    return this.serverChanged();
  }

  private freeExportName(img: OpenImage): string {
    const used = new Set([...this.images.values()].map((i) => i.exportName));
    return used.has('') ? img.title : '';
  }

  async stopServing(id?: string): Promise<ServerStatus> {
    const targets = id === undefined ? [...this.images.values()] : [this.image(id)];
    for (const img of targets) {
      if (img.exportName === null) continue;
      this.server?.removeExport(img.exportName);
      this.stats.forget(img.id);
      img.exportName = null;
    }
    if (![...this.images.values()].some((i) => i.exportName !== null)) await this.closeServer();
    return this.serverChanged();
  }

  private async openServer(at: Listening, portWasDefault: boolean): Promise<void> {
    const server = this.deps.createServer({ log: (line) => this.emit('server.log', { t: Date.now(), line }) });
    server.on('request', (ev) => this.onRequest(ev));
    server.on('connect', () => this.emit('server.clients', this.clients()));
    server.on('disconnect', () => this.emit('server.clients', this.clients()));
    let port = at.port;
    try {
      port = (await server.listen({ host: at.host, port })).port ?? port;
    } catch (err) {
      // The standard port is often taken (another server, another test): any free port will do.
      if (!portWasDefault) throw new ServiceError('failed', (err as Error).message);
      port = (await server.listen({ host: at.host, port: 0 })).port!;
      this.emit('server.log', { t: Date.now(), line: `port ${at.port} is in use; listening on ${port} instead` });
    }
    if (at.socketPath) {
      try {
        await server.listen({ path: at.socketPath });
      } catch (err) {
        await server.close();
        throw new ServiceError('failed', (err as Error).message);
      }
    }
    this.server = server;
    this.listening = { host: at.host, port, socketPath: at.socketPath };
    this.statsTimer = setInterval(() => this.sampleStats(), this.deps.statsIntervalMs ?? 250);
    this.statsTimer.unref();
  }

  private async closeServer(): Promise<void> {
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.statsTimer = null;
    const server = this.server;
    this.server = null;
    this.listening = null;
    for (const img of this.images.values()) img.exportName = null;
    await server?.close();
  }

  private onRequest(ev: RequestEvent): void {
    const img = [...this.images.values()].find((i) => i.exportName === ev.exportName);
    if (!img) return;
    this.stats.record(img.id, ev);
    if (!ev.error && DIRTY_OPS.has(ev.op)) img.tracker.markDirty(ev.offset, ev.length);
  }

  private sampleStats(): void {
    const connections = this.server?.connections ?? [];
    for (const img of this.images.values()) {
      if (img.exportName === null) continue;
      const mine = connections.filter((c) => c.exportName === img.exportName);
      this.emit('stats.sample', this.stats.sample(img.id, mine));
    }
  }

  private exportState(img: OpenImage): ExportState | undefined {
    if (img.exportName === null || !this.listening) return undefined;
    const name = encodeURIComponent(img.exportName).replace(/%2F/g, '/');
    const host = this.listening.host.includes(':') ? `[${this.listening.host}]` : this.listening.host;
    return {
      exportName: img.exportName,
      writable: img.writable,
      uri: `nbd://${host}:${this.listening.port}/${name}`,
      unixUri: this.listening.socketPath ? `nbd+unix:///${name}?socket=${this.listening.socketPath}` : undefined,
    };
  }

  serverStatus(): ServerStatus {
    const l = this.listening;
    const exports = [...this.images.values()].flatMap((img) => {
      const e = this.exportState(img);
      return e ? [{ ...e, imageId: img.id }] : [];
    });
    if (!l) return { running: false, exports };
    const host = l.host.includes(':') ? `[${l.host}]` : l.host;
    return { running: true, host: l.host, port: l.port, socketPath: l.socketPath, baseUri: `nbd://${host}:${l.port}`, exports };
  }

  private serverChanged(): ServerStatus {
    const status = this.serverStatus();
    this.emit('server.status', status);
    this.imagesChanged();
    return status;
  }

  clients(): ClientInfo[] {
    return (this.server?.connections ?? []).map((c) => ({
      id: c.id,
      remote: c.remote,
      exportName: c.exportName,
      imageId: [...this.images.values()].find((i) => i.exportName === c.exportName)?.id ?? null,
      chainLabel: c.chainLabel,
      since: c.since,
      requests: c.requests,
      bytesRead: c.bytesRead,
      bytesWritten: c.bytesWritten,
    }));
  }

  /** Stop serving and close every image. */
  async dispose(): Promise<void> {
    await this.closeServer();
    for (const id of [...this.images.keys()]) await this.close(id);
    this.listeners.clear();
  }
}

function titleOfUri(uri: string): string {
  try {
    const u = new URL(uri);
    const name = decodeURIComponent(u.pathname.replace(/^\//, ''));
    return name ? `${name} @ ${u.host || u.searchParams.get('socket') || 'nbd'}` : uri;
  } catch {
    return uri;
  }
}
