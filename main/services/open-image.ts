// One open image: its chain and the read-only view of that chain that the map, the hex view
// and the info panel read (a connection, the layout probed through it, an allocation
// tracker), and the answers to what the UI asks about the image. openMapView is the one
// place a chain gets that view, when the image opens and after each chain edit.
import { partitionAt } from '../../shared/ipc.ts';
import { stat } from 'node:fs/promises';
import { DEPTH_TOP, flagsOfBinClass } from '../../shared/bins.ts';
import type { ChainConfig } from '../../shared/chain-config.ts';
import { extentKind, type Extent } from '../../shared/extents.ts';
import type { ChainState, ExportState, ExtentAt, HexBytes, ImageSummary, MapBins, MapExport, MapExportFormat } from '../../shared/ipc.ts';
import type { Chain, OpenChain } from '../backend/chain.ts';
import type { Registry } from '../backend/registry.ts';
import { AllocationTracker, type AllocationListener, type AllocationOptions } from './allocation.ts';
import { ServiceError } from './errors.ts';
import { ImageChain } from './image-chain.ts';
import { layoutIsBlank, probeLayout, type FilesystemReader, type ImageLayout, type PartitionReader } from './image-probe.ts';
import { mapExportFormats } from './map-export.ts';

/** What the user opened: a file or an nbd:// URI. */
export type ImageSource = { path: string } | { uri: string };

export interface ImageDescription {
  title: string;
  source: ImageSource;
  /** raw, qcow2, ..., nbd */
  format: string;
  /** The chain it opens with: its plugin and no filters. */
  config: ChainConfig;
  demo: boolean;
  onDiskSize: number | null;
}

/** What every open image needs from the session. */
export interface ImageEnv {
  registry: Registry;
  readPartitions?: PartitionReader;
  readFilesystem?: FilesystemReader;
  allocation?: Pick<AllocationOptions, 'throttleMs' | 'dirtyAlign'>;
  /** Where the tracker of image `imageId` reports scan progress and map changes. */
  trackerEvents(imageId: string): AllocationListener;
  /** A scan finished, so the image's totals changed. */
  scanned(): void;
}

interface MapView {
  imageId: string;
  connection: OpenChain;
  layout: ImageLayout;
  tracker: AllocationTracker;
}

/**
 * Opens a read-only connection to `chain`, probes the layout through it and sets up a tracker
 * (not yet scanning) that reports as the image `imageId()` names. The id is asked for only
 * once the connection is open, so an image that fails to open uses up no id.
 */
async function openMapView(chain: Chain, env: ImageEnv, imageId: () => string): Promise<MapView> {
  const connection = await chain.open({ readonly: true, exportName: '' });
  const id = imageId();
  const top = connection.top;
  const read = async (offset: number, length: number) => {
    const buf = Buffer.alloc(length);
    await top.pread(buf, offset);
    return buf;
  };
  const layout = await probeLayout(read, top.getSize(), env.readPartitions, env.readFilesystem);
  const tracker = new AllocationTracker(top, env.trackerEvents(id), env.allocation);
  return { imageId: id, connection, layout, tracker };
}

/** Bytes a file occupies on its filesystem (allocated blocks, not its length); null when it cannot be read. */
export async function onDiskBytes(file: string): Promise<number | null> {
  const st = await stat(file).catch(() => null);
  return st ? st.blocks * 512 : null;
}

export class OpenImage {
  private onDiskSize: number | null;
  /**
   * Detection fell through to raw (main/formats/table.ts: raw is what no format claims) and
   * the bytes hold no partition table or filesystem either: the UI says it guessed. Decided
   * once, on the chain the image opened with; later filters do not change how it opened.
   */
  private readonly rawFallback: boolean;

  private constructor(
    readonly description: ImageDescription,
    readonly chain: ImageChain,
    private readonly env: ImageEnv,
    private view: MapView,
  ) {
    this.onDiskSize = description.onDiskSize;
    this.rawFallback = description.format === 'raw' && 'path' in description.source && layoutIsBlank(view.layout);
  }

  /** Opens the image's chain and its map view; call startScan once the image is listed. */
  static async open(description: ImageDescription, env: ImageEnv, newId: () => string): Promise<OpenImage> {
    const { source } = description;
    try {
      const chain = await ImageChain.create(env.registry, description.config);
      return new OpenImage(description, chain, env, await openMapView(chain.chain, env, newId));
    } catch (err) {
      if (err instanceof ServiceError) throw err;
      throw new ServiceError('failed', `cannot open ${'path' in source ? source.path : source.uri}: ${(err as Error).message}`);
    }
  }

  get id(): string {
    return this.view.imageId;
  }

  get title(): string {
    return this.description.title;
  }

  get format(): string {
    return this.description.format;
  }

  /**
   * Reads the file's allocated size again (a client's writes fill holes, trims punch them);
   * true when it changed.
   */
  async refreshOnDisk(): Promise<boolean> {
    const { source } = this.description;
    if (!('path' in source)) return false;
    const bytes = await onDiskBytes(source.path);
    if (bytes === this.onDiskSize) return false;
    this.onDiskSize = bytes;
    return true;
  }

  startScan(): void {
    void this.view.tracker.start().then(() => this.env.scanned());
  }

  /** A write, trim or zero reached the image through the server: re-query that range. */
  markDirty(offset: number, length: number): void {
    this.view.tracker.markDirty(offset, length);
  }

  /**
   * Switch to `config` (see ImageChain.set): the map view moves to the new chain and scans it.
   * A chain that does not open (partition 9 of a disk with two) is refused and changes nothing.
   */
  async setChain(config: ChainConfig, force: boolean): Promise<Chain> {
    let view: MapView | undefined;
    const chain = await this.chain.set(config, force, async (candidate) => {
      try {
        view = await openMapView(candidate, this.env, () => this.id);
      } catch (err) {
        throw new ServiceError('invalid-input', (err as Error).message);
      }
    });
    const old = this.view;
    this.view = view!;
    old.tracker.dispose();
    this.startScan();
    await old.connection.close().catch(() => {});
    return chain;
  }

  async close(): Promise<void> {
    this.view.tracker.dispose();
    await this.view.connection.close().catch(() => {});
  }

  chainState(): ChainState {
    return { imageId: this.id, config: this.chain.config, label: this.chain.label, unsavedFilters: this.chain.unsavedFilters() };
  }

  summary(exportState: ExportState | undefined): ImageSummary {
    const { tracker, layout } = this.view;
    const totals = tracker.current.layeredTotals();
    const [data, zero, hole, holeUndefined, unknown] = totals.counts as [number, number, number, number, number];
    const layers = this.chain.imageLayers?.map((l, i) => ({ depth: i + DEPTH_TOP, path: l.path, format: l.format, size: l.size, summary: l.summary }));
    const p = tracker.progress;
    const d = this.description;
    return {
      id: this.id,
      title: d.title,
      ...d.source,
      demo: d.demo,
      format: d.format,
      ...(this.rawFallback ? { rawFallback: true as const } : {}),
      size: this.view.connection.top.getSize(),
      onDiskSize: this.onDiskSize,
      chain: this.chain.config,
      chainLabel: this.chain.label,
      partitionScheme: layout.scheme,
      partitions: layout.partitions,
      filesystem: layout.filesystem,
      layers,
      warnings: layout.warnings,
      totals: { data, zero, hole, holeUndefined, unknown, ...(totals.backingLayers > 0 ? { backing: totals.backing } : {}) },
      scan: { done: p.done, total: p.total, complete: p.complete, error: p.error },
      export: exportState,
    };
  }

  bins(start: number, end: number, bins: number): MapBins {
    const { tracker } = this.view;
    const size = tracker.current.size;
    if (start >= size) throw new ServiceError('invalid-input', `start ${start} is past the end of the disk (${size} bytes)`);
    const { counts, backingLayers, backing } = tracker.current.layeredBins(start, Math.min(end, size), bins);
    const reply: MapBins = { imageId: this.id, start, end: Math.min(end, size), bins, counts, version: tracker.version };
    if (backingLayers > 0) Object.assign(reply, { backingLayers, backing });
    return reply;
  }

  extentAt(offset: number): ExtentAt {
    const model = this.view.tracker.current;
    if (offset >= model.size) throw new ServiceError('invalid-input', `offset ${offset} is past the end of the disk (${model.size} bytes)`);
    const run = model.runAt(offset);
    const flags = flagsOfBinClass(run.cls);
    return {
      offset: run.offset,
      length: run.length,
      flags,
      kind: flags < 0 ? 'unknown' : extentKind(flags),
      ...(run.depth === undefined ? {} : { depth: run.depth }),
      partition: partitionAt(this.view.layout.partitions, offset),
    };
  }

  async exportMap(format: MapExportFormat): Promise<MapExport> {
    await this.view.tracker.whenScanned();
    // A chain edit while waiting swaps the view: export what it shows now.
    const { tracker } = this.view;
    const { error } = tracker.progress;
    if (error) throw new ServiceError('failed', `the map is incomplete: ${error}`);
    const spec = mapExportFormats[format];
    const extents: Extent[] = [...tracker.current.runs()].map((r) => ({ offset: r.offset, length: r.length, flags: flagsOfBinClass(r.cls) }));
    return { format, mimeType: spec.mimeType, fileName: `${this.title}${spec.extension}`, text: spec.format(extents) };
  }

  async readBytes(offset: number, length: number): Promise<HexBytes> {
    const top = this.view.connection.top;
    const size = top.getSize();
    if (offset >= size) throw new ServiceError('invalid-input', `offset ${offset} is past the end of the disk (${size} bytes)`);
    const buf = Buffer.alloc(Math.min(length, size - offset));
    await top.pread(buf, offset);
    return { offset, base64: buf.toString('base64') };
  }
}
