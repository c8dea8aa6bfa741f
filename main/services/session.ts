// The engine behind the UI, as both hosts see it: the open images in the order they were
// opened, the events the UI listens to, and one method per call of the contract, each handed
// to the image it names (open-image.ts) or to the NBD server (serving.ts). Plain Node, no
// Electron: both hosts sit on one Session, and tests make as many as they like.
// It is a little over 300 lines because it is the contract's one facade: a few lines per
// channel, each handing the work to the module that does it.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChainConfig } from '../../shared/chain-config.ts';
import type {
  ByteSearchResult, ChainState, ClientInfo, CompareRun, ComponentInfo, DemoLayoutInfo, ExtentAt, HexBytes, ImageSummary, IpcEventSink, MapBins, MapExport, MapExportFormat,
  OverlayCommitResult, OverlayStatus, RecentImage, ServerStatus,
} from '../../shared/ipc.ts';
import type { Registry } from '../backend/registry.ts';
import { isNbdUri } from '../nbd/uri.ts';
import { isHttpUrl } from '../plugins/http/client.ts';
import { searchChain } from './byte-search.ts';
import { ServiceError } from './errors.ts';
import type { FilesystemReader, PartitionReader } from './image-probe.ts';
import { compareChains } from './compare.ts';
import { LiveCompares, type Window } from './compare-live.ts';
import { absolutePath, describeFile, describeNbdUri, describeUrl, sameSource } from './image-targets.ts';
import { OpenImage, type ImageDescription, type ImageEnv, type ImageSource } from './open-image.ts';
import { commitChain, discardOverlay, overlayStatus, type CommitRequest } from './overlay-commit.ts';
import { RecentImages } from './recent.ts';
import { Serving, type ServeOptions, type ServingDeps } from './serving.ts';
import { ActivityRecorder, activityEnabled } from './activity-recorder.ts';

export interface SessionDeps {
  registry: Registry;
  /** Which plugin serves an image file (main/formats/detect.ts). */
  detectImage(path: string): Promise<{ format: string; plugin: string }>;
  readPartitions?: PartitionReader;
  readFilesystem?: FilesystemReader;
  /** Makes (or finds) the built-in demo image. */
  demoImage?(): Promise<{ path: string; layout: DemoLayoutInfo }>;
  createServer: ServingDeps['createServer'];
  /** Where the recent list and the TLS credentials the app makes (tls/) live; null keeps the list in memory. */
  stateDir: string | null;
  /** Re-query granularity and event throttling of the allocation trackers (tests shorten them). */
  allocation?: { throttleMs?: number; dirtyAlign?: number };
  statsIntervalMs?: number;
}

export type SessionListener = IpcEventSink;

export class Session {
  private readonly deps: SessionDeps;
  private readonly images = new Map<string, OpenImage>();
  private readonly listeners = new Set<SessionListener>();
  private readonly recent: RecentImages;
  private readonly serving: Serving;
  /** What clients read and write where (the heat overlay); the handlers call it directly. */
  readonly activity: ActivityRecorder;
  private readonly imageEnv: ImageEnv;
  /** Each image's last comparison, kept for compare.refresh. */
  private readonly compares = new LiveCompares();
  private nextId = 1;
  private demoLayout: DemoLayoutInfo | null = null;
  private tlsFolder: string | null = null;

  private readonly emit: IpcEventSink = (event, payload) => {
    for (const l of this.listeners) {
      try {
        l(event, payload);
      } catch {
        // A host that fails to deliver must not stop the others.
      }
    }
  };

  constructor(deps: SessionDeps) {
    this.deps = deps;
    this.recent = new RecentImages(deps.stateDir);
    this.activity = new ActivityRecorder({
      geometry: (id) => {
        const { size, title, partitions } = this.get(id);
        return { size, title, partitions };
      },
      changed: (imageId) => this.emit('activity.changed', { imageId }),
    });
    this.serving = new Serving({
      activity: activityEnabled() ? this.activity : undefined,
      createServer: (options) => deps.createServer(options),
      images: () => this.images.values(),
      emit: this.emit,
      statsIntervalMs: deps.statsIntervalMs,
    });
    this.imageEnv = {
      registry: deps.registry,
      readPartitions: deps.readPartitions,
      readFilesystem: deps.readFilesystem,
      allocation: deps.allocation,
      trackerEvents: (imageId) => ({
        progress: (p) => this.emit('map.scanProgress', { imageId, ...p }),
        changed: (ranges, version) => {
          this.emit('map.changed', { imageId, ranges, version });
          void this.images.get(imageId)?.refreshOnDisk().then((moved) => moved && this.imagesChanged());
        },
      }),
      scanned: () => this.imagesChanged(),
    };
  }

  subscribe(listener: SessionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private image(id: string): OpenImage {
    const img = this.images.get(id);
    if (!img) throw new ServiceError('not-found', `no open image with id '${id}' (it was closed, or never opened)`);
    return img;
  }

  /** Every plugin and filter with its parameter specs (the sidebar forms). */
  components(): ComponentInfo[] {
    // CLI-only filters (exitlast) act when a server starts, which the app never asks of them.
    const offered = this.deps.registry.describe().filter((c) => c.kind !== 'filter' || !this.deps.registry.filter(c.name).cliOnly);
    return offered.map((c) => ({ ...c, params: [...c.params] }));
  }

  // ------------------------------------------------------------ images

  /** An image path or an nbd:// / nbd+unix:// URI, as typed on a command line. */
  open(target: string): Promise<ImageSummary> {
    return isNbdUri(target) ? this.openUri(target) : this.openPath(target);
  }

  /** A path as typed: relative, ~/…, or a file:// URI (typed-path.ts); an http(s):// URL opens as one. */
  async openPath(file: string, demo = false): Promise<ImageSummary> {
    if (isHttpUrl(file)) return this.openUrl(file);
    const abs = absolutePath(file);
    return this.openedAlready({ path: abs }) ?? this.openImage(await describeFile(abs, demo, this.deps));
  }

  async openUri(uri: string): Promise<ImageSummary> {
    return this.openedAlready({ uri }) ?? this.openImage(describeNbdUri(uri));
  }

  async openUrl(url: string): Promise<ImageSummary> {
    return this.openedAlready({ uri: url }) ?? this.openImage(await describeUrl(url, this.deps));
  }

  private openedAlready(source: ImageSource): ImageSummary | null {
    const img = [...this.images.values()].find((i) => sameSource(i.description.source, source));
    return img ? this.summary(img) : null;
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

  private async openImage(description: ImageDescription): Promise<ImageSummary> {
    const img = await OpenImage.open(description, this.imageEnv, () => `img-${this.nextId++}`);
    this.images.set(img.id, img);
    img.startScan();
    const { title, source, demo } = description;
    if (!demo) await this.recent.add({ ...source, title, openedAt: Date.now() }).catch(() => {});
    this.imagesChanged();
    return this.summary(img);
  }

  async close(id: string): Promise<void> {
    const img = this.image(id);
    if (this.serving.isServed(id)) await this.stopServing(id);
    this.images.delete(id);
    this.activity.forget(id);
    this.compares.forget(id);
    await img.close();
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
    return img.summary(this.serving.exportState(img.id));
  }

  /** Image `id` as its chain reads now against `other`, which opens as an image too (so it can be looked at). */
  async compare(id: string, other: ImageSource, strict: boolean): Promise<CompareRun> {
    const a = this.image(id);
    const opened = 'path' in other ? await this.openPath(other.path) : await this.openUri(other.uri);
    const result = await compareChains(a.chain.chain, this.image(opened.id).chain.chain, strict);
    return this.compares.remember({ ...result, imageId: id, otherId: opened.id, otherTitle: opened.title });
  }

  /** The last comparison of `id` with `otherId`, the `changed` ranges compared again. */
  compareRefresh(id: string, otherId: string, changed: Window[]): Promise<CompareRun> {
    return this.compares.refresh(id, otherId, changed, (x) => this.image(x).chain.chain);
  }

  // ------------------------------------------------------------ map and hex

  bins(id: string, start: number, end: number, bins: number): MapBins {
    return this.image(id).bins(start, end, bins);
  }

  extentAt(id: string, offset: number): ExtentAt {
    return this.image(id).extentAt(offset);
  }

  exportMap(id: string, format: MapExportFormat): Promise<MapExport> {
    return this.image(id).exportMap(format);
  }

  readBytes(id: string, offset: number, length: number): Promise<HexBytes> {
    return this.image(id).readBytes(offset, length);
  }

  searchBytes(id: string, pattern: Uint8Array, from: number, limit: number): Promise<ByteSearchResult> {
    return searchChain(this.image(id).chain.chain, pattern, from, limit);
  }

  // ------------------------------------------------------------ chain

  chainState(id: string): ChainState {
    return this.image(id).chainState();
  }

  /** New connections (and the map) get the new chain; open connections keep theirs. */
  async setChain(id: string, config: ChainConfig, force = false): Promise<ChainState> {
    const img = this.image(id);
    await img.setChain(config, force);
    await this.serving.chainChanged(img);
    // A served image's export may have changed with its chain (cow makes it writable).
    if (this.serving.isServed(id)) this.serverChanged();
    else this.imagesChanged();
    return this.chainState(id);
  }

  // ------------------------------------------------------------ serving

  async startServing(id: string, options: ServeOptions = {}): Promise<ServerStatus> {
    await this.serving.serve(this.image(id), options);
    return this.serverChanged();
  }

  async stopServing(id?: string): Promise<ServerStatus> {
    await this.serving.stop(id === undefined ? [...this.images.values()] : [this.image(id)]);
    return this.serverChanged();
  }

  /** Where the app keeps the TLS credentials it makes; without a state folder, a private temp folder. */
  tlsRoot(): string {
    this.tlsFolder ??= this.deps.stateDir ? path.join(this.deps.stateDir, 'tls') : mkdtempSync(path.join(os.tmpdir(), 'blockscope-tls-'));
    return this.tlsFolder;
  }

  serverStatus(): ServerStatus {
    return this.serving.status();
  }

  clients(): ClientInfo[] {
    return this.serving.clients();
  }

  disconnectClient(clientId: number): Promise<ClientInfo[]> {
    return this.serving.disconnect(clientId);
  }

  // ------------------------------------------------------------ cow overlay

  overlayStatus(id: string): OverlayStatus {
    return overlayStatus(id, this.image(id).chain.chain);
  }

  /** The disk as `id`'s chain shows it, into a new file; never over a file an open image reads. */
  commitOverlay(id: string, request: CommitRequest): Promise<OverlayCommitResult> {
    const img = this.image(id);
    const inUse = [...this.images.values()].flatMap((i) => [
      ...('path' in i.description.source ? [i.description.source.path] : []),
      ...(i.chain.imageLayers?.map((l) => l.path) ?? []),
    ]);
    return commitChain(img.chain.chain, request, {
      protectedPaths: inUse,
      progress: (done, total) => this.emit('overlay.progress', { imageId: id, done, total }),
    });
  }

  /** Drop the cow overlay's writes; the map re-reads the ranges it held. */
  async discardOverlay(id: string): Promise<ChainState> {
    const img = this.image(id);
    for (const [start, end] of await discardOverlay(img.chain.chain)) img.markDirty(start, end - start);
    this.imagesChanged();
    return this.chainState(id);
  }

  private serverChanged(): ServerStatus {
    const status = this.serverStatus();
    this.emit('server.status', status);
    this.imagesChanged();
    return status;
  }

  /** Stop serving and close every image. */
  async dispose(): Promise<void> {
    await this.serving.close();
    for (const id of [...this.images.keys()]) await this.close(id);
    this.activity.dispose();
    this.listeners.clear();
  }
}
