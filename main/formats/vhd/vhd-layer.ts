// One VHD file as a layer: a fixed disk is the file itself minus the footer; a dynamic or
// differencing disk maps blocks through the BAT and sectors inside a block through the
// block's sector bitmap (bit clear: zero in a dynamic disk, the parent's in a differencing one).
import { EXTENT_ZERO } from '../../../shared/extents.ts';
import { BlockError } from '../../backend/errors.ts';
import { walkBlocks, type BlockSpan } from '../block-walk.ts';
import type { BoundedCache } from '../cache.ts';
import { HostAllocation } from '../host-allocation.ts';
import { ImageFile } from '../image-file.ts';
import type { BackingReference, ImageLayer, LayerCaches, LayerRun } from '../layer.ts';
import { appendBitmapRuns, appendMapped, readMapped, statusOf, type MappedRun } from '../mapped-runs.ts';
import { PagedTable } from '../paged-table.ts';
import { chooseParent } from '../parent-reference.ts';
import { hostStatus } from '../raw-layer.ts';
import {
  DISK_DIFFERENCING, DISK_DYNAMIC, DISK_FIXED, DYNAMIC_HEADER_BYTES, FOOTER_BYTES, SECTOR, decodeUtf16,
  footerChecksumOk, hasFooterCookie, parseDynamicHeader, parseFooter, virtualSize,
  type DynamicHeader, type VhdFooter,
} from './structures.ts';

const UNALLOCATED = 0xffffffff;
/** Blocks are powers of two; past this a header is corrupt, not ambitious. */
const MAX_BLOCK_SIZE = 256 * 1024 * 1024;
const MAX_LOCATOR_BYTES = 64 * 1024;
const TYPE_NAMES: Record<number, string> = { [DISK_FIXED]: 'fixed', [DISK_DYNAMIC]: 'dynamic', [DISK_DIFFERENCING]: 'differencing' };

export class VhdLayer implements ImageLayer {
  readonly format = 'vhd';
  readonly path: string;
  readonly summary: string;

  private constructor(
    private readonly file: ImageFile,
    readonly size: number,
    readonly footer: VhdFooter,
    readonly warnings: readonly string[],
    private readonly layout: DynamicLayout | HostAllocation,
    readonly backing: BackingReference | undefined,
  ) {
    this.path = file.path;
    this.summary = `vhd ${TYPE_NAMES[footer.diskType]}, ${size} bytes, created by '${footer.creatorApp.replace(/\0/g, '')}'`;
  }

  async status(offset: number, count: number): Promise<LayerRun[]> {
    // Every sector of a fixed disk is allocated in the format; a host hole just reads as
    // zero there (qemu reports the same: zero, not a hole). Guest bytes sit at the same
    // offset in the file, so the host range asked about is the guest range itself.
    if (this.layout instanceof HostAllocation) return hostStatus(this.layout, offset, count, offset, EXTENT_ZERO);
    // Unlike for a fixed disk, qemu does not ask the host file about dynamic blocks.
    return statusOf(await this.layout.map(offset, count));
  }

  async readPresent(buf: Buffer, offset: number): Promise<void> {
    if (this.layout instanceof HostAllocation) {
      await this.file.readExact(buf, offset, 'guest data');
      return;
    }
    return readMapped(this.file, await this.layout.map(offset, buf.length), buf, offset);
  }

  async close(): Promise<void> {
    if (this.layout instanceof HostAllocation) this.layout.close();
    await this.file.close();
  }

  /** Open one VHD file (its parent is the chain's business); the file is closed on failure. */
  static async open(path: string, caches: LayerCaches): Promise<VhdLayer> {
    const file = await ImageFile.open(path);
    try {
      return await VhdLayer.parse(file, caches);
    } catch (err) {
      await file.close().catch(() => {});
      throw err;
    }
  }

  private static async parse(file: ImageFile, caches: LayerCaches): Promise<VhdLayer> {
    const warnings: string[] = [];
    const footer = await readFooter(file, warnings);
    const size = virtualSize(footer, file.path);
    if (footer.diskType === DISK_FIXED) {
      const dataBytes = file.size - FOOTER_BYTES;
      if (size > dataBytes) {
        throw new BlockError('EINVAL', `${file.path}: the fixed disk claims ${size} bytes but the file holds only ${dataBytes}: the image is truncated`);
      }
      return new VhdLayer(file, size, footer, warnings, HostAllocation.open(file.path), undefined);
    }
    if (footer.diskType !== DISK_DYNAMIC && footer.diskType !== DISK_DIFFERENCING) {
      throw new BlockError('EINVAL', `${file.path}: unknown VHD disk type ${footer.diskType} (expected 2 fixed, 3 dynamic or 4 differencing)`);
    }
    if (footer.dynamicHeaderOffset === null) throw new BlockError('EINVAL', `${file.path}: a dynamic VHD without a dynamic header offset`);
    const header = parseDynamicHeader(await file.read(footer.dynamicHeaderOffset, DYNAMIC_HEADER_BYTES, 'dynamic disk header'), file.path);
    if (!header.checksumOk) warnings.push(`${file.path}: the dynamic disk header checksum is wrong`);
    let backing: BackingReference | undefined;
    if (footer.diskType === DISK_DIFFERENCING) {
      const parent = await chooseParent(file.path, await parentReferences(file, header));
      if (parent === undefined) throw new BlockError('EINVAL', `${file.path}: a differencing disk that names no parent`);
      backing = { name: parent, format: 'vhd' };
      if (!(await parentIdMatches(parent, header.parentUniqueId))) {
        warnings.push(`${file.path}: its parent ${parent} is not the disk it was made from (unique id differs): reads may be wrong`);
      }
    }
    return new VhdLayer(file, size, footer, warnings, new DynamicLayout(file, size, header, caches.tables), backing);
  }
}

/** Read the footer at the end, falling back to the copy at offset 0 when the end is damaged. */
async function readFooter(file: ImageFile, warnings: string[]): Promise<VhdFooter> {
  if (file.size < FOOTER_BYTES) throw new BlockError('EINVAL', `${file.path}: too small to be a VHD (${file.size} bytes)`);
  const tail = await file.read(file.size - FOOTER_BYTES, FOOTER_BYTES, 'footer');
  const head = await file.read(0, FOOTER_BYTES, 'footer copy');
  const tailValid = hasFooterCookie(tail) && footerChecksumOk(tail);
  // Only dynamic and differencing disks keep a copy at 0; on a fixed disk that is guest data.
  const headValid = hasFooterCookie(head) && footerChecksumOk(head) && head.readUInt32BE(60) !== DISK_FIXED;
  if (tailValid) return parseFooter(tail, file.path);
  if (headValid) {
    warnings.push(`${file.path}: the footer at the end of the file is damaged; using the copy at offset 0`);
    return parseFooter(head, file.path);
  }
  if (hasFooterCookie(tail)) {
    warnings.push(`${file.path}: the footer checksum is wrong`);
    return parseFooter(tail, file.path);
  }
  if (hasFooterCookie(head)) {
    warnings.push(`${file.path}: the footer at the end of the file is missing and the copy at offset 0 has a wrong checksum`);
    return parseFooter(head, file.path);
  }
  throw new BlockError('EINVAL', `${file.path}: no VHD footer ("conectix") at the end of the file or at offset 0`);
}

class DynamicLayout {
  private readonly bat: PagedTable;
  private readonly blockSize: number;
  private readonly bitmapBytes: number;

  constructor(
    private readonly file: ImageFile,
    size: number,
    header: DynamicHeader,
    private readonly cache: BoundedCache<string, Buffer>,
  ) {
    const { blockSize, maxTableEntries } = header;
    if (blockSize < SECTOR || blockSize > MAX_BLOCK_SIZE || (blockSize & (blockSize - 1)) !== 0) {
      throw new BlockError('EINVAL', `${file.path}: block size ${blockSize} is not a power of two between 512 and ${MAX_BLOCK_SIZE}`);
    }
    const needed = Math.ceil(size / blockSize);
    if (maxTableEntries < needed) {
      throw new BlockError('EINVAL', `${file.path}: the BAT has ${maxTableEntries} entries but a ${size}-byte disk needs ${needed}`);
    }
    this.blockSize = blockSize;
    this.bitmapBytes = Math.ceil(blockSize / SECTOR / 8 / SECTOR) * SECTOR;
    this.bat = new PagedTable(file, header.tableOffset, needed, 4, 'BAT', cache);
  }

  async map(offset: number, count: number): Promise<MappedRun[]> {
    const runs: MappedRun[] = [];
    await walkBlocks(offset, count, this.blockSize, (span) =>
      this.bat.withEntry(span.block, (page, at) => {
        const entry = page.readUInt32BE(at);
        if (entry === UNALLOCATED) appendMapped(runs, { kind: 'absent', offset: span.from, length: span.to - span.from });
        else return this.mapSectors(runs, span, entry * SECTOR);
      }),
    );
    return runs;
  }

  /** An allocated block: its sector bitmap says which sectors this file holds. */
  private async mapSectors(runs: MappedRun[], span: BlockSpan, bitmapOffset: number): Promise<void> {
    const { block } = span;
    const dataStart = bitmapOffset + this.bitmapBytes;
    const bitmap = await this.cache.get(`${this.file.path}#bitmap@${bitmapOffset}`, () =>
      this.file.read(bitmapOffset, this.bitmapBytes, `sector bitmap of block ${block}`),
    );
    appendBitmapRuns(runs, span, { bits: bitmap, order: 'msb-first', sectorSize: SECTOR }, dataStart);
  }
}

/**
 * Hyper-V refuses a parent whose unique id is not the one the child recorded (it was
 * replaced or modified); serving it anyway is the user's call, so this only warns. A parent
 * that cannot be read is left to the chain, which reports it.
 */
async function parentIdMatches(parentPath: string, expected: Buffer): Promise<boolean> {
  let parent: ImageFile | undefined;
  try {
    parent = await ImageFile.open(parentPath);
    const footer = await parent.read(parent.size - FOOTER_BYTES, FOOTER_BYTES, 'footer');
    return !hasFooterCookie(footer) || footer.subarray(68, 84).equals(expected);
  } catch {
    return true;
  } finally {
    await parent?.close().catch(() => {});
  }
}

/** How a differencing disk names its parent, most reliable first (relative paths survive moves). */
async function parentReferences(file: ImageFile, header: DynamicHeader): Promise<string[]> {
  const order = ['W2ru', 'W2ku', 'MacX'];
  const found: [number, string][] = [];
  for (const loc of header.locators) {
    const rank = order.indexOf(loc.platform);
    if (rank < 0 || loc.dataLength === 0) continue;
    if (loc.dataLength > MAX_LOCATOR_BYTES || loc.dataOffset < 0) {
      throw new BlockError('EINVAL', `${file.path}: parent locator ${loc.platform} claims ${loc.dataLength} bytes at ${loc.dataOffset}: the image is corrupt`);
    }
    const bytes = await file.read(loc.dataOffset, loc.dataLength, `parent locator ${loc.platform}`);
    const text = loc.platform === 'MacX' ? macxPath(bytes.toString('utf8')) : decodeUtf16(bytes, 'le');
    if (text) found.push([rank, text]);
  }
  found.sort((a, b) => a[0] - b[0]);
  return [...found.map(([, text]) => text), header.parentName];
}

function macxPath(url: string): string {
  const trimmed = url.replace(/\0.*$/s, '');
  const m = /^file:\/\/(?:localhost)?(\/.*)$/.exec(trimmed);
  if (!m) return trimmed;
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    return m[1]!;
  }
}
