// One VHDX file as a layer. The BAT interleaves payload block entries with one sector
// bitmap entry after every `chunkRatio` payload entries; each payload entry's state says
// whether the block is data, zero, absent, or (differencing disks) present sector by sector.
import { BlockError } from '../../backend/errors.ts';
import { walkBlocks, type BlockSpan } from '../block-walk.ts';
import type { BoundedCache } from '../cache.ts';
import { ImageFile } from '../image-file.ts';
import type { BackingReference, ImageLayer, LayerCaches, LayerRun } from '../layer.ts';
import { appendBitmapRuns, appendMapped, readMapped, statusOf, type MappedRun } from '../mapped-runs.ts';
import { PagedTable } from '../paged-table.ts';
import { chooseParent } from '../parent-reference.ts';
import {
  HEADER_BYTES, HEADER_OFFSETS, ITEM_FILE_PARAMETERS, ITEM_LOGICAL_SECTOR_SIZE, ITEM_PARENT_LOCATOR,
  ITEM_VIRTUAL_DISK_SIZE, MiB, REGION_BAT, REGION_METADATA, REGION_TABLE_BYTES, REGION_TABLE_OFFSETS,
  hasVhdxSignature, isZeroGuid, parseHeader, parseMetadataTable, parseParentLocator, parseRegionTable,
  type MetadataItem, type Region, type VhdxHeader,
} from './structures.ts';

const NOT_PRESENT = 0;
const UNDEFINED = 1;
const ZERO = 2;
const UNMAPPED = 3;
/** Files written to the v0.95 draft used 5 for UNMAPPED; qemu accepts both. */
const UNMAPPED_V095 = 5;
const FULLY_PRESENT = 6;
const PARTIALLY_PRESENT = 7;
const MAX_VIRTUAL_SIZE = 64 * 1024 * MiB * 1024;
const SECTOR_BITMAP_BLOCK = MiB;

interface Geometry {
  blockSize: number;
  logicalSectorSize: number;
  virtualSize: number;
  hasParent: boolean;
  chunkRatio: number;
}

export class VhdxLayer implements ImageLayer {
  readonly format = 'vhdx';
  readonly path: string;
  readonly size: number;
  readonly summary: string;
  readonly warnings: readonly string[] = [];
  private readonly bat: PagedTable;
  private readonly sectorsPerBlock: number;

  private constructor(
    private readonly file: ImageFile,
    private readonly g: Geometry,
    batRegion: Region,
    private readonly cache: BoundedCache<string, Buffer>,
    readonly backing: BackingReference | undefined,
  ) {
    this.path = file.path;
    this.size = g.virtualSize;
    this.sectorsPerBlock = g.blockSize / g.logicalSectorSize;
    const payloadBlocks = Math.ceil(g.virtualSize / g.blockSize);
    const bitmapBlocks = Math.ceil(payloadBlocks / g.chunkRatio);
    // A differencing disk has every chunk's bitmap entry; others may omit the last one.
    const entries = g.hasParent ? bitmapBlocks * (g.chunkRatio + 1) : payloadBlocks + Math.floor((payloadBlocks - 1) / g.chunkRatio);
    if (entries * 8 > batRegion.length) {
      throw new BlockError('EINVAL', `${file.path}: the BAT region holds ${Math.floor(batRegion.length / 8)} entries but the disk needs ${entries}`);
    }
    this.bat = new PagedTable(file, batRegion.offset, entries, 8, 'BAT', cache);
    const kind = g.hasParent ? 'differencing' : 'dynamic';
    this.summary = `vhdx ${kind}, ${g.virtualSize} bytes, ${g.blockSize}-byte blocks, ${g.logicalSectorSize}-byte sectors`;
  }

  /** Open one VHDX file (its parent is the chain's business); the file is closed on failure. */
  static async open(path: string, caches: LayerCaches): Promise<VhdxLayer> {
    const file = await ImageFile.open(path);
    try {
      if (!hasVhdxSignature(await file.read(0, 8, 'file identifier'))) throw new BlockError('EINVAL', `${path}: no "vhdxfile" identifier at offset 0`);
      const header = await currentHeader(file);
      if (!isZeroGuid(header.logGuid)) {
        throw new BlockError('EINVAL', `${path}: has a pending log; open it once in Hyper-V or run qemu-img check -r all to replay it`);
      }
      const regions = await regionTable(file);
      const batRegion = regions.get(REGION_BAT);
      const metaRegion = regions.get(REGION_METADATA);
      if (!batRegion || !metaRegion) throw new BlockError('EINVAL', `${path}: the region table lacks the ${batRegion ? 'metadata' : 'BAT'} region`);
      const items = parseMetadataTable(await file.read(metaRegion.offset, Math.min(metaRegion.length, 64 * 1024), 'metadata table'), metaRegion, path);
      const g = await geometry(file, items);
      let backing: BackingReference | undefined;
      if (g.hasParent) {
        const parent = await chooseParent(path, await parentReferences(file, items));
        if (parent === undefined) throw new BlockError('EINVAL', `${path}: a differencing disk whose parent locator names no path`);
        backing = { name: parent, format: 'vhdx' };
      }
      return new VhdxLayer(file, g, batRegion, caches.tables, backing);
    } catch (err) {
      await file.close().catch(() => {});
      throw err;
    }
  }

  async status(offset: number, count: number): Promise<LayerRun[]> {
    return statusOf(await this.map(offset, count));
  }

  async readPresent(buf: Buffer, offset: number): Promise<void> {
    return readMapped(this.file, await this.map(offset, buf.length), buf, offset);
  }

  close(): Promise<void> {
    return this.file.close();
  }

  private decode(index: number, page: Buffer, at: number): { state: number; host: number } {
    const lo = page.readUInt32LE(at);
    const hi = page.readUInt32LE(at + 4);
    // FileOffsetMB is bits 20..63: up to 2^44 MiB, beyond 2^53 bytes only in a corrupt file.
    const host = (hi * 2 ** 12 + (lo >>> 20)) * MiB;
    if (!Number.isSafeInteger(host)) throw new BlockError('EIO', `${this.path}: BAT entry ${index} points beyond 2^53 bytes`);
    return { state: lo & 7, host };
  }

  private async entry(index: number): Promise<{ state: number; host: number }> {
    return this.bat.withEntry(index, (page, at) => this.decode(index, page, at));
  }

  private async map(offset: number, count: number): Promise<MappedRun[]> {
    const runs: MappedRun[] = [];
    const ratio = this.g.chunkRatio;
    await walkBlocks(offset, count, this.g.blockSize, (span) => {
      const index = span.block + Math.floor(span.block / ratio);
      return this.bat.withEntry(index, (page, at) => this.mapBlock(runs, span, this.decode(index, page, at)));
    });
    return runs;
  }

  private mapBlock(runs: MappedRun[], { block, blockStart, from, to }: BlockSpan, { state, host }: { state: number; host: number }): void | Promise<void> {
    const length = to - from;
    switch (state) {
      case NOT_PRESENT:
        appendMapped(runs, { kind: 'absent', offset: from, length });
        return;
      case UNDEFINED:
      case UNMAPPED:
      case UNMAPPED_V095:
        // qemu reads these as zeroes; in a differencing disk they still hide the parent,
        // since the guest discarded the data there.
        appendMapped(runs, this.g.hasParent ? { kind: 'zero', offset: from, length, allocated: false } : { kind: 'absent', offset: from, length });
        return;
      case ZERO:
        appendMapped(runs, { kind: 'zero', offset: from, length, allocated: host !== 0 });
        return;
      case FULLY_PRESENT:
        this.checkHost(block, host, this.blockBytes(blockStart));
        appendMapped(runs, { kind: 'data', offset: from, length, hostOffset: host + (from - blockStart) });
        return;
      case PARTIALLY_PRESENT:
        if (!this.g.hasParent) throw new BlockError('EIO', `${this.path}: block ${block} is partially present in a disk without a parent`);
        this.checkHost(block, host, this.blockBytes(blockStart));
        return this.mapPartial(runs, block, blockStart, from, to, host);
      default:
        throw new BlockError('EIO', `${this.path}: BAT entry of block ${block} has unknown state ${state}`);
    }
  }

  /**
   * Guest bytes in the block at `blockStart`: the last block of a disk that is not a block
   * multiple is partial, and qemu stores only that much of it (a fixed image ends there).
   */
  private blockBytes(blockStart: number): number {
    return Math.min(this.g.blockSize, this.size - blockStart);
  }

  private checkHost(block: number, host: number, length: number): void {
    if (host < MiB || host + length > this.file.size) {
      throw new BlockError('EIO', `${this.path}: block ${block} is stored at ${host} (+${length}), outside the file (${this.file.size} bytes)`);
    }
  }

  /** Sectors of a partially present block: bit set = held here, clear = the parent's. */
  private async mapPartial(runs: MappedRun[], block: number, blockStart: number, from: number, to: number, host: number): Promise<void> {
    const ratio = this.g.chunkRatio;
    const chunk = Math.floor(block / ratio);
    const bitmapEntry = await this.entry(chunk * (ratio + 1) + ratio);
    if (bitmapEntry.state !== FULLY_PRESENT) {
      throw new BlockError('EIO', `${this.path}: block ${block} is partially present but its sector bitmap block is not (state ${bitmapEntry.state})`);
    }
    this.checkHost(block, bitmapEntry.host, SECTOR_BITMAP_BLOCK);
    const bitsPerBlock = this.sectorsPerBlock;
    const bytesPerBlock = bitsPerBlock / 8;
    const at = bitmapEntry.host + (block % ratio) * bytesPerBlock;
    const bitmap = await this.cache.get(`${this.path}#bitmap@${at}`, () => this.file.read(at, bytesPerBlock, `sector bitmap of block ${block}`));
    appendBitmapRuns(runs, { blockStart, from, to }, { bits: bitmap, order: 'lsb-first', sectorSize: this.g.logicalSectorSize }, host);
  }
}

/** The intact header with the higher sequence number (equal sequences: the first). */
async function currentHeader(file: ImageFile): Promise<VhdxHeader> {
  let best: VhdxHeader | null = null;
  for (const at of HEADER_OFFSETS) {
    if (at + HEADER_BYTES > file.size) continue;
    const h = parseHeader(await file.read(at, HEADER_BYTES, 'header'));
    if (h && (!best || h.sequence > best.sequence)) best = h;
  }
  if (!best) throw new BlockError('EINVAL', `${file.path}: both VHDX headers are damaged (bad signature, checksum or version)`);
  return best;
}

async function regionTable(file: ImageFile): Promise<Map<string, Region>> {
  for (const at of REGION_TABLE_OFFSETS) {
    if (at + REGION_TABLE_BYTES > file.size) continue;
    const regions = parseRegionTable(await file.read(at, REGION_TABLE_BYTES, 'region table'), file.path, file.size);
    if (regions) return regions;
  }
  throw new BlockError('EINVAL', `${file.path}: both region tables are damaged`);
}

async function readItem(file: ImageFile, items: Map<string, MetadataItem>, guid: string, name: string, minLength: number): Promise<Buffer> {
  const item = items.get(guid);
  if (!item) throw new BlockError('EINVAL', `${file.path}: the metadata lacks the ${name} item`);
  if (item.length < minLength) throw new BlockError('EINVAL', `${file.path}: the ${name} item is ${item.length} bytes, too short`);
  return file.read(item.offset, item.length, `${name} metadata`);
}

async function geometry(file: ImageFile, items: Map<string, MetadataItem>): Promise<Geometry> {
  const p = file.path;
  const params = await readItem(file, items, ITEM_FILE_PARAMETERS, 'file parameters', 8);
  const blockSize = params.readUInt32LE(0);
  const hasParent = (params.readUInt32LE(4) & 2) !== 0;
  const virtualSize = Number((await readItem(file, items, ITEM_VIRTUAL_DISK_SIZE, 'virtual disk size', 8)).readBigUInt64LE(0));
  const logicalSectorSize = (await readItem(file, items, ITEM_LOGICAL_SECTOR_SIZE, 'logical sector size', 4)).readUInt32LE(0);
  if (blockSize < MiB || blockSize > 256 * MiB || (blockSize & (blockSize - 1)) !== 0) {
    throw new BlockError('EINVAL', `${p}: block size ${blockSize} is not a power of two between 1 MiB and 256 MiB`);
  }
  if (logicalSectorSize !== 512 && logicalSectorSize !== 4096) throw new BlockError('EINVAL', `${p}: logical sector size ${logicalSectorSize} is neither 512 nor 4096`);
  if (!(virtualSize > 0 && virtualSize <= MAX_VIRTUAL_SIZE) || virtualSize % logicalSectorSize !== 0) {
    throw new BlockError('EINVAL', `${p}: virtual disk size ${virtualSize} is not a positive multiple of the sector size up to 64 TiB`);
  }
  return { blockSize, logicalSectorSize, virtualSize, hasParent, chunkRatio: (2 ** 23 * logicalSectorSize) / blockSize };
}

/** The parent's path as the locator records it: relative first, it survives moving the chain. */
async function parentReferences(file: ImageFile, items: Map<string, MetadataItem>): Promise<string[]> {
  const locator = parseParentLocator(await readItem(file, items, ITEM_PARENT_LOCATOR, 'parent locator', 20), file.path);
  return ['relative_path', 'absolute_win32_path', 'volume_path'].map((k) => locator.get(k) ?? '').filter((v) => v !== '');
}
