// One VirtualBox VDI file as a layer: a block map of u32 entries, one per block, naming the
// block's slot in the data area, or "never written" (the parent's, or zero), or "discarded"
// (reads as zero, hides the parent). Numbers are little-endian.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { BlockError } from '../../backend/errors.ts';
import { walkBlocks } from '../block-walk.ts';
import { HostAllocation } from '../host-allocation.ts';
import { ImageFile } from '../image-file.ts';
import { isHttpUrl } from '../../plugins/http/client.ts';
import type { BackingReference, ImageLayer, LayerCaches, LayerRun } from '../layer.ts';
import { appendMapped, readMapped, statusOf, type MappedRun } from '../mapped-runs.ts';
import { PagedTable } from '../paged-table.ts';

export const VDI_SIGNATURE = 0xbeda107f;
const SIGNATURE_AT = 0x40;
const HEADER_BYTES = 0x200;
const BLOCK_FREE = 0xffffffff;
const BLOCK_ZERO = 0xfffffffe;
/** qemu's bound too: a map of more blocks than this is corruption, not a disk. */
const MAX_BLOCKS = 0x3fffffff;
const MAX_BLOCK_SIZE = 256 * 1024 * 1024;

export const IMAGE_NORMAL = 1;
export const IMAGE_FIXED = 2;
export const IMAGE_DIFF = 4;

export interface VdiHeader {
  imageType: number;
  blockMapOffset: number;
  dataOffset: number;
  diskSize: number;
  blockSize: number;
  blockExtra: number;
  blocksInImage: number;
  uuid: Buffer;
  parentUuid: Buffer;
}

export function hasVdiSignature(head: Buffer): boolean {
  return head.length >= SIGNATURE_AT + 4 && head.readUInt32LE(SIGNATURE_AT) === VDI_SIGNATURE;
}

export function parseVdiHeader(bytes: Buffer, imagePath: string): VdiHeader {
  if (!hasVdiSignature(bytes)) throw new BlockError('EINVAL', `${imagePath}: no VDI signature at 0x40`);
  const version = bytes.readUInt32LE(0x44);
  if (version >>> 16 !== 1 || (version & 0xffff) !== 1) {
    throw new BlockError('EINVAL', `${imagePath}: unsupported VDI version ${version >>> 16}.${version & 0xffff} (only 1.1 is read)`);
  }
  const diskSize = bytes.readUInt32LE(0x174) * 2 ** 32 + bytes.readUInt32LE(0x170);
  if (!Number.isSafeInteger(diskSize)) throw new BlockError('EINVAL', `${imagePath}: disk size is larger than 2^53`);
  return {
    imageType: bytes.readUInt32LE(0x4c),
    blockMapOffset: bytes.readUInt32LE(0x154),
    dataOffset: bytes.readUInt32LE(0x158),
    diskSize,
    blockSize: bytes.readUInt32LE(0x178),
    blockExtra: bytes.readUInt32LE(0x17c),
    blocksInImage: bytes.readUInt32LE(0x180),
    uuid: Buffer.from(bytes.subarray(0x188, 0x198)),
    parentUuid: Buffer.from(bytes.subarray(0x1b8, 0x1c8)),
  };
}

const TYPE_NAMES: Record<number, string> = { [IMAGE_NORMAL]: 'normal', [IMAGE_FIXED]: 'fixed', [IMAGE_DIFF]: 'differencing' };

export class VdiLayer implements ImageLayer {
  readonly format = 'vdi';
  readonly path: string;
  readonly size: number;
  readonly summary: string;
  readonly warnings: readonly string[] = [];
  private readonly blockMap: PagedTable;
  private readonly slotBytes: number;
  private readonly host: HostAllocation;

  private constructor(
    private readonly file: ImageFile,
    readonly header: VdiHeader,
    caches: LayerCaches,
    readonly backing: BackingReference | undefined,
  ) {
    const h = header;
    const p = file.path;
    if (h.imageType !== IMAGE_NORMAL && h.imageType !== IMAGE_FIXED && h.imageType !== IMAGE_DIFF) {
      throw new BlockError('EINVAL', `${p}: unsupported VDI image type ${h.imageType} (expected 1 normal, 2 fixed or 4 differencing)`);
    }
    if (h.blockSize < 512 || h.blockSize > MAX_BLOCK_SIZE || (h.blockSize & (h.blockSize - 1)) !== 0) {
      throw new BlockError('EINVAL', `${p}: block size ${h.blockSize} is not a power of two between 512 and ${MAX_BLOCK_SIZE}`);
    }
    if (h.blockExtra > MAX_BLOCK_SIZE) throw new BlockError('EINVAL', `${p}: block extra data of ${h.blockExtra} bytes is absurd`);
    if (h.blocksInImage > MAX_BLOCKS) throw new BlockError('EINVAL', `${p}: the block map claims ${h.blocksInImage} blocks, more than a VDI can have`);
    if (h.diskSize > h.blocksInImage * h.blockSize) {
      throw new BlockError('EINVAL', `${p}: ${h.blocksInImage} blocks of ${h.blockSize} bytes cannot hold a ${h.diskSize}-byte disk`);
    }
    this.path = p;
    this.size = h.diskSize;
    this.summary = `vdi ${TYPE_NAMES[h.imageType]}, ${h.diskSize} bytes, ${h.blockSize}-byte blocks`;
    this.slotBytes = h.blockSize + h.blockExtra;
    this.blockMap = new PagedTable(file, h.blockMapOffset, Math.ceil(h.diskSize / h.blockSize), 4, 'block map', caches.tables);
    this.host = HostAllocation.open(p);
  }

  /** Open one VDI file (its parent is the chain's business); the file is closed on failure. */
  static async open(imagePath: string, caches: LayerCaches): Promise<VdiLayer> {
    const file = await ImageFile.open(imagePath);
    try {
      if (file.size < HEADER_BYTES) throw new BlockError('EINVAL', `${imagePath}: too small to be a VDI (${file.size} bytes)`);
      const header = parseVdiHeader(await file.read(0, HEADER_BYTES, 'VDI header'), imagePath);
      const parent = header.imageType === IMAGE_DIFF ? await findVdiParent(imagePath, header.parentUuid) : undefined;
      return new VdiLayer(file, header, caches, parent ? { name: parent, format: 'vdi' } : undefined);
    } catch (err) {
      await file.close().catch(() => {});
      throw err;
    }
  }

  async status(offset: number, count: number): Promise<LayerRun[]> {
    return statusOf(await this.map(offset, count), this.host);
  }

  async readPresent(buf: Buffer, offset: number): Promise<void> {
    return readMapped(this.file, await this.map(offset, buf.length), buf, offset);
  }

  close(): Promise<void> {
    this.host.close();
    return this.file.close();
  }

  private async map(offset: number, count: number): Promise<MappedRun[]> {
    const runs: MappedRun[] = [];
    await walkBlocks(offset, count, this.header.blockSize, ({ block, blockStart, from, to }) =>
      this.blockMap.withEntry(block, (page, at) => {
        const entry = page.readUInt32LE(at);
        const length = to - from;
        if (entry === BLOCK_FREE) {
          appendMapped(runs, { kind: 'absent', offset: from, length });
        } else if (entry === BLOCK_ZERO) {
          // Discarded: nothing stored, reads as zero, and (unlike a free block) hides the parent.
          appendMapped(runs, { kind: 'zero', offset: from, length, allocated: false });
        } else if (entry >= this.header.blocksInImage) {
          throw new BlockError('EIO', `${this.path}: block map entry ${block} names slot ${entry}, beyond the ${this.header.blocksInImage} blocks of the image`);
        } else {
          const hostStart = this.header.dataOffset + entry * this.slotBytes + this.header.blockExtra;
          appendMapped(runs, { kind: 'data', offset: from, length, hostOffset: hostStart + (from - blockStart) });
        }
      }),
    );
    return runs;
  }
}

/**
 * A differencing VDI records only its parent's UUID (VirtualBox keeps the path in its own
 * registry), so the parent is the VDI beside it whose image UUID matches.
 */
async function findVdiParent(childPath: string, wanted: Buffer): Promise<string> {
  if (isHttpUrl(childPath)) throw new BlockError('ENOTSUP', `${childPath}: differencing image at a URL: its parent (UUID ${formatUuid(wanted)}) is found by listing the folder, which HTTP cannot do`);
  const folder = path.dirname(childPath);
  const names = (await readdir(folder)).filter((n) => n.toLowerCase().endsWith('.vdi')).sort();
  for (const name of names) {
    const candidate = path.join(folder, name);
    if (candidate === childPath) continue;
    const uuid = await readUuid(candidate);
    if (uuid?.equals(wanted)) return candidate;
  }
  throw new BlockError('ENOENT', `${childPath}: differencing image whose parent (UUID ${formatUuid(wanted)}) is not among the .vdi files in ${folder}`);
}

async function readUuid(imagePath: string): Promise<Buffer | null> {
  try {
    const file = await ImageFile.open(imagePath);
    try {
      if (file.size < HEADER_BYTES) return null;
      const head = await file.read(0, HEADER_BYTES);
      return hasVdiSignature(head) ? Buffer.from(head.subarray(0x188, 0x198)) : null;
    } finally {
      await file.close();
    }
  } catch {
    return null;
  }
}

/** VirtualBox prints UUIDs with the first three fields little-endian, as GPT does. */
function formatUuid(b: Buffer): string {
  const hex = (bytes: Buffer) => bytes.toString('hex');
  const le = (start: number, end: number) => hex(Buffer.from(b.subarray(start, end)).reverse());
  return `${le(0, 4)}-${le(4, 6)}-${le(6, 8)}-${hex(b.subarray(8, 10))}-${hex(b.subarray(10, 16))}`;
}
