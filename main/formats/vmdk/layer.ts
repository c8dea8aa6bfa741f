// A VMDK disk as one layer: a hosted sparse file on its own, or a text descriptor listing
// FLAT, SPARSE and ZERO extents laid end to end. A delta disk names its parent through
// parentFileNameHint, which becomes the layer's backing file.
import { EXTENT_HOLE_ZERO, EXTENT_ZERO } from '../../../shared/extents.ts';
import { BlockError } from '../../backend/errors.ts';
import { HostAllocation } from '../host-allocation.ts';
import { ImageFile } from '../image-file.ts';
import { RunBuilder, type BackingReference, type ImageLayer, type LayerCaches, type LayerRun } from '../layer.ts';
import { hostStatus } from '../raw-layer.ts';
import { openRelatedFile } from '../related-file.ts';
import { MAX_DESCRIPTOR_BYTES, parseDescriptor, type VmdkDescriptor } from './descriptor.ts';
import { looksLikeDescriptor, VMDK4_MAGIC } from './probe.ts';
import { SparseExtent } from './sparse-extent.ts';

const SECTOR = 512;

/** One piece of the disk, addressed relative to its own start. */
interface VmdkExtent {
  start: number;
  length: number;
  status(offset: number, count: number, base: number, b: RunBuilder): Promise<void>;
  readPresent(buf: Buffer, offset: number): Promise<void>;
}

export class VmdkLayer implements ImageLayer {
  readonly format = 'vmdk';
  readonly warnings: readonly string[] = [];
  readonly size: number;
  readonly backing?: BackingReference;

  private constructor(
    readonly path: string,
    readonly summary: string,
    private readonly extents: VmdkExtent[],
    private readonly files: ImageFile[],
    private readonly hosts: HostAllocation[],
    parentHint: string | undefined,
  ) {
    const last = extents[extents.length - 1];
    this.size = last ? last.start + last.length : 0;
    if (parentHint !== undefined) this.backing = { name: parentHint, format: 'vmdk' };
  }

  static async open(path: string, caches: LayerCaches): Promise<VmdkLayer> {
    const files: ImageFile[] = [];
    const hosts: HostAllocation[] = [];
    try {
      const file = await ImageFile.open(path);
      files.push(file);
      const head = await file.read(0, Math.min(file.size, SECTOR), 'VMDK header');
      if (head.length >= 4 && head.readUInt32LE(0) === VMDK4_MAGIC) {
        const sparse = await SparseExtent.open(file, caches);
        const embedded = await sparse.embeddedDescriptor();
        const desc = embedded !== undefined ? parseDescriptor(embedded, path) : undefined;
        const extent = sparseAt(0, sparse.capacity, sparse);
        const kind = desc?.createType ?? (sparse.compressed ? 'streamOptimized' : 'monolithicSparse');
        return new VmdkLayer(path, `vmdk ${kind}`, [extent], files, hosts, desc?.parentFileNameHint);
      }
      if (!looksLikeDescriptor(head)) throw new BlockError('EINVAL', `${path}: not a VMDK image (no sparse header or text descriptor)`);
      if (file.size > MAX_DESCRIPTOR_BYTES) throw new BlockError('EINVAL', `${path}: VMDK descriptor of ${file.size} bytes is too large`);
      const desc = parseDescriptor((await file.read(0, file.size, 'VMDK descriptor')).toString('latin1'), path);
      const extents = await openDescriptorExtents(path, desc, caches, files, hosts);
      return new VmdkLayer(path, `vmdk ${desc.createType ?? 'descriptor'}, ${extents.length} extent(s)`, extents, files, hosts, desc.parentFileNameHint);
    } catch (err) {
      for (const h of hosts) h.close();
      await Promise.allSettled(files.map((f) => f.close()));
      throw err;
    }
  }

  async status(offset: number, count: number): Promise<LayerRun[]> {
    const b = new RunBuilder();
    await this.eachExtent(offset, count, (e, rel, len) => e.status(rel, len, e.start, b));
    return b.runs;
  }

  async readPresent(buf: Buffer, offset: number): Promise<void> {
    await this.eachExtent(offset, buf.length, (e, rel, len, done) => e.readPresent(buf.subarray(done, done + len), rel));
  }

  private async eachExtent(offset: number, count: number, fn: (e: VmdkExtent, rel: number, len: number, done: number) => Promise<void>): Promise<void> {
    const end = offset + count;
    let i = firstExtentAt(this.extents, offset);
    let pos = offset;
    while (pos < end && i < this.extents.length) {
      const e = this.extents[i]!;
      const stop = Math.min(end, e.start + e.length);
      if (stop > pos) await fn(e, pos - e.start, stop - pos, pos - offset);
      pos = Math.max(pos, stop);
      i++;
    }
  }

  async close(): Promise<void> {
    for (const h of this.hosts) h.close();
    await Promise.allSettled(this.files.map((f) => f.close()));
  }
}

function firstExtentAt(extents: readonly VmdkExtent[], offset: number): number {
  let lo = 0;
  let hi = extents.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (extents[mid]!.start + extents[mid]!.length <= offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

async function openDescriptorExtents(path: string, desc: VmdkDescriptor, caches: LayerCaches, files: ImageFile[], hosts: HostAllocation[]): Promise<VmdkExtent[]> {
  const extents: VmdkExtent[] = [];
  let start = 0;
  for (const d of desc.extents) {
    const length = d.sectors * SECTOR;
    if (d.type === 'ZERO') {
      extents.push(zeroAt(start, length));
    } else {
      const file = await openRelatedFile(path, d.file!, `${d.type} extent`);
      files.push(file);
      if (d.type === 'FLAT' || d.type === 'VMFS') {
        const host = HostAllocation.open(file.path);
        hosts.push(host);
        extents.push(flatAt(start, length, file, host, d.offset * SECTOR));
      } else {
        extents.push(sparseAt(start, length, await SparseExtent.open(file, caches, start)));
      }
    }
    start += length;
  }
  return extents;
}

function sparseAt(start: number, length: number, sparse: SparseExtent): VmdkExtent {
  return {
    start,
    length,
    async status(offset, count, base, b) {
      // Past the sparse file's own capacity nothing is allocated.
      const inside = Math.max(0, Math.min(count, sparse.capacity - offset));
      if (inside > 0) await sparse.status(offset, inside, base, b);
      b.absent(base + offset + inside, count - inside);
    },
    readPresent: (buf, offset) => sparse.readPresent(buf, offset),
  };
}

function flatAt(start: number, length: number, file: ImageFile, host: HostAllocation, fileOffset: number): VmdkExtent {
  return {
    start,
    length,
    async status(offset, count, base, b) {
      // qemu reports holes in a flat extent's file as data that reads as zero.
      for (const r of hostStatus(host, base + offset, count, fileOffset + offset, EXTENT_ZERO)) b.push(r.offset, r.length, r.present, r.flags);
    },
    async readPresent(buf, offset) {
      await file.readExact(buf, fileOffset + offset, 'VMDK flat extent data');
    },
  };
}

function zeroAt(start: number, length: number): VmdkExtent {
  return {
    start,
    length,
    async status(offset, count, base, b) {
      b.push(base + offset, count, true, EXTENT_HOLE_ZERO);
    },
    readPresent: async (buf) => {
      buf.fill(0);
    },
  };
}
