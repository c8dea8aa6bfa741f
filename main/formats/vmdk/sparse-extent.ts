// A hosted sparse extent ("KDMV"): grain directory -> grain tables -> grains, optionally
// zeroed-grain entries, and the streamOptimized variant whose grains are deflate-compressed
// behind markers and whose real header is a footer at the end of the file.
import { EXTENT_DATA, EXTENT_HOLE_ZERO } from '../../../shared/extents.ts';
import { BlockError } from '../../backend/errors.ts';
import { decompressBounded, describePiece } from '../decompress.ts';
import type { ImageFile } from '../image-file.ts';
import type { LayerCaches, RunBuilder } from '../layer.ts';
import { MAX_DESCRIPTOR_BYTES } from './descriptor.ts';
import { VMDK4_MAGIC } from './probe.ts';

const SECTOR = 512;
const FLAG_ZEROED_GRAIN = 1 << 2;
const FLAG_COMPRESSED = 1 << 16;
const FLAG_MARKERS = 1 << 17;
const COMPRESSION_DEFLATE = 1;
const GD_AT_END = 0xffffffffffffffffn;
const MARKER_FOOTER = 3;
const GTE_ZEROED = 1;
/** Bigger grains would make one compressed grain an unbounded allocation. */
const MAX_GRAIN_SECTORS = 32768;
const MAX_GTES_PER_GT = 512;

interface SparseHeader {
  flags: number;
  capacity: number;
  grainSectors: number;
  gtes: number;
  gdSector: number;
  descriptorSector: number;
  descriptorSectors: number;
}

export class SparseExtent {
  readonly capacity: number;
  private readonly grainBytes: number;
  private readonly gtSpan: number;

  private constructor(
    private readonly file: ImageFile,
    private readonly header: SparseHeader,
    private readonly gd: Buffer,
    private readonly caches: LayerCaches,
    private readonly guestBase: number,
  ) {
    this.capacity = header.capacity * SECTOR;
    this.grainBytes = header.grainSectors * SECTOR;
    this.gtSpan = this.grainBytes * header.gtes;
  }

  get compressed(): boolean {
    return (this.header.flags & FLAG_COMPRESSED) !== 0;
  }

  /** `guestBase`: where the extent starts in the disk, for messages that name guest offsets. */
  static async open(file: ImageFile, caches: LayerCaches, guestBase = 0): Promise<SparseExtent> {
    const header = await readSparseHeader(file);
    const gdEntries = Math.ceil(header.capacity / (header.grainSectors * header.gtes));
    const gd = await file.read(header.gdSector * SECTOR, gdEntries * 4, 'VMDK grain directory');
    return new SparseExtent(file, header, gd, caches, guestBase);
  }

  /** The embedded text descriptor of a monolithicSparse file, if it has one. */
  async embeddedDescriptor(): Promise<string | undefined> {
    const { descriptorSector, descriptorSectors } = this.header;
    if (descriptorSector === 0 || descriptorSectors === 0) return undefined;
    const length = Math.min(descriptorSectors * SECTOR, MAX_DESCRIPTOR_BYTES, this.file.size - descriptorSector * SECTOR);
    if (length <= 0) throw new BlockError('EIO', `${this.file.path}: embedded descriptor lies beyond the end of the file`);
    return (await this.file.read(descriptorSector * SECTOR, length, 'VMDK descriptor')).toString('latin1');
  }

  /** Appends the status of extent-relative [offset, offset+count); the extent starts at guest `base`. */
  async status(offset: number, count: number, base: number, b: RunBuilder): Promise<void> {
    const end = offset + count;
    let pos = offset;
    while (pos < end) {
      const gdIndex = Math.floor(pos / this.gtSpan);
      const spanEnd = Math.min(end, (gdIndex + 1) * this.gtSpan);
      const gt = await this.grainTable(gdIndex);
      if (!gt) {
        b.absent(base + pos, spanEnd - pos);
        pos = spanEnd;
        continue;
      }
      while (pos < spanEnd) {
        const grain = Math.floor(pos / this.grainBytes);
        const stop = Math.min((grain + 1) * this.grainBytes, spanEnd);
        const gte = gt.readUInt32LE((grain % this.header.gtes) * 4);
        if (gte === 0) b.absent(base + pos, stop - pos);
        else if (gte === GTE_ZEROED && this.header.flags & FLAG_ZEROED_GRAIN) b.push(base + pos, stop - pos, true, EXTENT_HOLE_ZERO);
        else b.push(base + pos, stop - pos, true, EXTENT_DATA);
        pos = stop;
      }
    }
  }

  /** Fill `buf` from extent-relative `offset`; the range holds only data grains. */
  async readPresent(buf: Buffer, offset: number): Promise<void> {
    let pos = offset;
    const end = offset + buf.length;
    while (pos < end) {
      const grain = Math.floor(pos / this.grainBytes);
      const grainStart = grain * this.grainBytes;
      const stop = Math.min(grainStart + this.grainBytes, end);
      const gt = await this.grainTable(Math.floor(pos / this.gtSpan));
      const gte = gt ? gt.readUInt32LE((grain % this.header.gtes) * 4) : 0;
      if (gte === 0) throw new BlockError('EIO', `${this.file.path}: internal error: read of unallocated grain ${grain}`);
      const piece = buf.subarray(pos - offset, stop - offset);
      if (this.compressed) {
        const data = await this.compressedGrain(gte, grainStart);
        data.copy(piece, 0, pos - grainStart, stop - grainStart);
      } else {
        await this.file.readExact(piece, gte * SECTOR + (pos - grainStart), 'VMDK grain');
      }
      pos = stop;
    }
  }

  private async grainTable(gdIndex: number): Promise<Buffer | null> {
    if (gdIndex * 4 >= this.gd.length) return null;
    const sector = this.gd.readUInt32LE(gdIndex * 4);
    if (sector === 0) return null;
    return this.caches.tables.get(`${this.file.path}#g${sector}`, () =>
      this.file.read(sector * SECTOR, this.header.gtes * 4, `VMDK grain table ${gdIndex}`));
  }

  private compressedGrain(sector: number, grainStart: number): Promise<Buffer> {
    return this.caches.clusters.get(`${this.file.path}#z${sector}`, async () => {
      const at = sector * SECTOR;
      const piece = { image: this.file.path, unit: 'grain', guestOffset: this.guestBase + grainStart, hostOffset: at };
      let dataAt = at;
      let length: number;
      if (this.header.flags & FLAG_MARKERS) {
        const marker = await this.file.read(at, 12, 'VMDK grain marker');
        length = marker.readUInt32LE(8);
        dataAt = at + 12;
        // Incompressible data grows a little under deflate, never to twice its size.
        if (length === 0 || length > 2 * this.grainBytes) {
          throw new BlockError('EIO', `${describePiece(piece)}: its marker claims ${length} compressed bytes (1 to ${2 * this.grainBytes} for a ${this.grainBytes}-byte grain): the image is corrupt`);
        }
      } else {
        length = Math.min(2 * this.grainBytes, this.file.size - at);
      }
      const input = await this.file.read(dataAt, length, 'VMDK compressed grain');
      const needed = Math.min(this.grainBytes, this.capacity - grainStart);
      const out = decompressBounded('zlib', input, needed, this.grainBytes, piece);
      if (out.length >= this.grainBytes) return out;
      const full = Buffer.alloc(this.grainBytes);
      out.copy(full);
      return full;
    });
  }
}

async function readSparseHeader(file: ImageFile): Promise<SparseHeader> {
  const fail = (msg: string): never => {
    throw new BlockError('EINVAL', `${file.path}: ${msg}`);
  };
  if (file.size < SECTOR) fail(`VMDK sparse header is truncated (file is ${file.size} bytes)`);
  let h = await file.read(0, SECTOR, 'VMDK header');
  if (h.readUInt32LE(0) !== VMDK4_MAGIC) fail('not a VMDK sparse extent (bad magic)');
  if (h.readBigUInt64LE(56) === GD_AT_END) {
    // streamOptimized: footer marker, then a copy of the header with the real GD offset.
    if (file.size < 3 * SECTOR) fail('streamOptimized VMDK has no room for its footer');
    const marker = await file.read(file.size - 3 * SECTOR, 16, 'VMDK footer marker');
    if (marker.readUInt32LE(8) !== 0 || marker.readUInt32LE(12) !== MARKER_FOOTER) fail('streamOptimized VMDK footer marker is missing');
    h = await file.read(file.size - 2 * SECTOR, SECTOR, 'VMDK footer');
    if (h.readUInt32LE(0) !== VMDK4_MAGIC) fail('streamOptimized VMDK footer has a bad magic');
    if (h.readBigUInt64LE(56) === GD_AT_END) fail('streamOptimized VMDK footer has no grain directory offset');
  }
  const version = h.readUInt32LE(4);
  if (version < 1 || version > 3) throw new BlockError('ENOTSUP', `${file.path}: unsupported VMDK version ${version}`);
  const u64 = (at: number, what: string): number => {
    const v = h.readBigUInt64LE(at);
    if (v > BigInt(Math.floor(Number.MAX_SAFE_INTEGER / SECTOR))) fail(`${what} ${v} is absurdly large`);
    return Number(v);
  };
  const flags = h.readUInt32LE(8);
  const capacity = u64(12, 'capacity');
  const grainSectors = u64(20, 'grain size');
  const gtes = h.readUInt32LE(44);
  if (grainSectors < 1 || grainSectors > MAX_GRAIN_SECTORS) fail(`grain size of ${grainSectors} sectors is outside 1..${MAX_GRAIN_SECTORS}`);
  if (gtes < 1 || gtes > MAX_GTES_PER_GT) fail(`${gtes} entries per grain table is outside 1..${MAX_GTES_PER_GT}`);
  if (flags & FLAG_COMPRESSED && h.readUInt16LE(77) !== COMPRESSION_DEFLATE) {
    throw new BlockError('ENOTSUP', `${file.path}: unsupported VMDK compression algorithm ${h.readUInt16LE(77)}`);
  }
  const gdSector = u64(56, 'grain directory offset');
  const gdBytes = Math.ceil(capacity / (grainSectors * gtes)) * 4;
  if (gdSector === 0 && capacity > 0) fail('grain directory offset is 0');
  if (gdSector * SECTOR + gdBytes > file.size) fail(`grain directory (${gdBytes} bytes at sector ${gdSector}) lies beyond the end of the file (${file.size} bytes)`);
  return { flags, capacity, grainSectors, gtes, gdSector, descriptorSector: u64(28, 'descriptor offset'), descriptorSectors: u64(36, 'descriptor size') };
}
