// A qcow2 image's own clusters: two-level L1/L2 lookup (standard or extended L2 entries with
// 32 subclusters), zero clusters, compressed clusters and an optional external data file.
// L2 tables come from the chain's bounded cache, and unallocated L1 entries are skipped
// whole, so mapping a huge sparse image costs one step per L1 entry.
import { stat } from 'node:fs/promises';
import { EXTENT_DATA, EXTENT_HOLE_ZERO, EXTENT_ZERO } from '../../../shared/extents.ts';
import { BlockError } from '../../backend/errors.ts';
import { decompressBounded, describePiece } from '../decompress.ts';
import { HostDataIndex } from '../host-allocation.ts';
import { ImageFile } from '../image-file.ts';
import { RunBuilder, type BackingReference, type ImageLayer, type LayerCaches, type LayerRun } from '../layer.ts';
import { openRelatedFile } from '../related-file.ts';
import { readQcow2Header, type Qcow2Header } from './header.ts';

const TWO_32 = 4294967296;
const COPIED = 0x80000000;
const COMPRESSED = 0x40000000;
const ZERO_FLAG = 1;
const SUBCLUSTERS = 32;

/** L2 tables requested together by one status() call. */
const L2_PREFETCH = 64;

/** Bits 9..55 of an L1 or L2 entry split into its high and low words. */
function entryOffset(hi: number, lo: number): number {
  return (hi & 0x00ffffff) * TWO_32 + ((lo & 0xfffffe00) >>> 0);
}

/**
 * qemu looks for holes under allocated clusters only in images it takes for metadata-
 * preallocated: the file spans clearly more clusters than the disk space it occupies. We
 * count the clusters the file spans where qemu counts refcounted ones (equal unless the
 * image leaks clusters), so both report the same map.
 */
async function looksMetadataPreallocated(file: ImageFile, clusterSize: number): Promise<boolean> {
  // A server says nothing about holes in the file it serves: its clusters are all data.
  if (file.remote) return false;
  const st = await stat(file.path);
  const realClusters = Math.floor((st.blocks * 512) / clusterSize);
  const threshold = Math.max(Math.floor((realClusters * 10) / 9), realClusters + 2);
  return Math.ceil(file.size / clusterSize) >= threshold;
}

export class Qcow2Layer implements ImageLayer {
  readonly format = 'qcow2';
  readonly path: string;
  readonly size: number;
  readonly backing?: BackingReference;
  readonly warnings: string[] = [];
  readonly summary: string;

  private readonly clusterSize: number;
  private readonly entryBytes: number;
  private readonly l2Entries: number;
  /** Guest bytes one L1 entry covers. */
  private readonly l1Span: number;
  private readonly subclusterSize: number;

  private constructor(
    private readonly file: ImageFile,
    private readonly dataFile: ImageFile,
    private readonly header: Qcow2Header,
    private readonly l1: Buffer,
    private readonly caches: LayerCaches,
    private readonly hostIndex: HostDataIndex | null,
  ) {
    this.path = file.path;
    this.size = header.size;
    this.clusterSize = header.clusterSize;
    this.entryBytes = header.extendedL2 ? 16 : 8;
    this.l2Entries = header.clusterSize / this.entryBytes;
    this.l1Span = this.l2Entries * header.clusterSize;
    this.subclusterSize = header.clusterSize / SUBCLUSTERS;
    if (header.backingName !== undefined) this.backing = { name: header.backingName, format: header.backingFormat };
    if (header.corrupt) this.warnings.push(`${file.path}: the image is marked corrupt; reading it anyway (read-only)`);
    const parts = [`qcow2 v${header.version}`, `cluster ${header.clusterSize}`];
    if (header.extendedL2) parts.push('extended L2');
    if (header.compression === 'zstd') parts.push('zstd');
    if (header.dataFileName !== undefined) parts.push(`data file ${header.dataFileName}${header.dataFileRaw ? ' (raw)' : ''}`);
    if (header.dirty) parts.push('dirty');
    if (header.corrupt) parts.push('marked corrupt');
    this.summary = parts.join(', ');
  }

  static async open(path: string, caches: LayerCaches): Promise<Qcow2Layer> {
    const file = await ImageFile.open(path);
    let dataFile: ImageFile | undefined;
    try {
      const header = await readQcow2Header(file);
      const l1 = await file.read(header.l1Offset, header.l1Size * 8, 'L1 table');
      dataFile = header.dataFileName !== undefined ? await openRelatedFile(path, header.dataFileName, 'external data file') : file;
      const hostIndex = (await looksMetadataPreallocated(file, header.clusterSize)) ? HostDataIndex.build(dataFile.path, dataFile.size) : null;
      return new Qcow2Layer(file, dataFile, header, l1, caches, hostIndex);
    } catch (err) {
      if (dataFile && dataFile !== file) await dataFile.close();
      await file.close();
      throw err;
    }
  }

  async status(offset: number, count: number): Promise<LayerRun[]> {
    const b = new RunBuilder();
    const end = offset + count;
    // Ask for every L2 table the range needs at once: read one after another, a map of a
    // large image waits on the disk (or the thread pool) once per table.
    const first = Math.floor(offset / this.l1Span);
    const last = Math.floor((end - 1) / this.l1Span);
    const tables = new Map<number, Promise<Buffer | null>>();
    for (let i = first; i <= last && i - first < L2_PREFETCH; i++) tables.set(i, this.l2Table(i));
    // Settle the prefetches that the loop below may never await (an error ends the walk).
    for (const t of tables.values()) t.catch(() => {});
    let pos = offset;
    while (pos < end) {
      const l1Index = Math.floor(pos / this.l1Span);
      const spanEnd = Math.min(end, (l1Index + 1) * this.l1Span);
      const table = await (tables.get(l1Index) ?? this.l2Table(l1Index));
      if (!table) {
        b.absent(pos, spanEnd - pos);
        pos = spanEnd;
        continue;
      }
      const base = l1Index * this.l1Span;
      let index = Math.floor((pos - base) / this.clusterSize);
      while (pos < spanEnd) {
        const clusterStart = base + index * this.clusterSize;
        const clusterEnd = Math.min(clusterStart + this.clusterSize, spanEnd);
        this.classify(table, index, clusterStart, pos, clusterEnd, b);
        pos = clusterEnd;
        index++;
      }
    }
    return b.runs;
  }

  /** Appends the status of guest [from, to), inside the cluster at `clusterStart`. */
  private classify(table: Buffer, index: number, clusterStart: number, from: number, to: number, b: RunBuilder): void {
    const at = index * this.entryBytes;
    const hi = table.readUInt32BE(at);
    const lo = table.readUInt32BE(at + 4);
    if (hi & COMPRESSED) {
      b.push(from, to - from, true, EXTENT_DATA);
      return;
    }
    const host = entryOffset(hi, lo);
    // An external data file makes offset 0 a real cluster; the COPIED bit tells it apart.
    const allocated = host !== 0 || (this.header.hasDataFile && (hi & COPIED) !== 0);
    if (allocated) this.checkAligned(host, clusterStart);
    if (!this.header.extendedL2) {
      // qemu takes a zero entry with offset 0 for a plain zero cluster even when COPIED is
      // set: the COPIED rule for offset 0 only applies to data (and to subclusters below).
      if (lo & ZERO_FLAG) b.push(from, to - from, true, host !== 0 ? EXTENT_ZERO : EXTENT_HOLE_ZERO);
      else if (allocated) this.pushData(b, from, to - from, host + (from - clusterStart));
      else b.absent(from, to - from);
      return;
    }
    const zeroMask = table.readUInt32BE(at + 8);
    const allocMask = table.readUInt32BE(at + 12);
    if ((zeroMask & allocMask) !== 0 || (!allocated && allocMask !== 0)) {
      throw new BlockError('EIO', `${this.path}: invalid subcluster bitmap for the cluster at guest offset ${clusterStart}`);
    }
    const sc = this.subclusterSize;
    let pos = from;
    while (pos < to) {
      const bit = Math.floor((pos - clusterStart) / sc);
      const stop = Math.min(clusterStart + (bit + 1) * sc, to);
      const mask = 1 << bit;
      if (allocMask & mask) this.pushData(b, pos, stop - pos, host + (pos - clusterStart));
      else if (zeroMask & mask) b.push(pos, stop - pos, true, allocated ? EXTENT_ZERO : EXTENT_HOLE_ZERO);
      else b.absent(pos, stop - pos);
      pos = stop;
    }
  }

  /** Data at host offset `host`; where the host file has a hole it reads as zero (as qemu reports). */
  private pushData(b: RunBuilder, guest: number, length: number, host: number): void {
    if (!this.hostIndex) b.push(guest, length, true, EXTENT_DATA);
    else this.hostIndex.split(host, length, (at, len, data) => b.push(guest + (at - host), len, true, data ? EXTENT_DATA : EXTENT_ZERO));
  }

  private checkAligned(host: number, guest: number): void {
    if (host % this.clusterSize !== 0) {
      throw new BlockError('EIO', `${this.path}: cluster for guest offset ${guest} points to unaligned host offset ${host}: the image is corrupt`);
    }
  }

  /** The L2 table for an L1 index, or null when the L1 entry is unallocated. */
  private async l2Table(l1Index: number): Promise<Buffer | null> {
    const hi = this.l1.readUInt32BE(l1Index * 8);
    const lo = this.l1.readUInt32BE(l1Index * 8 + 4);
    const offset = entryOffset(hi, lo);
    if (offset === 0) return null;
    if (offset % this.clusterSize !== 0) {
      throw new BlockError('EIO', `${this.path}: L2 table offset ${offset} (L1 index ${l1Index}) is not aligned to a cluster: the image is corrupt`);
    }
    const l1Start = this.header.l1Offset;
    const l1End = l1Start + this.header.l1Size * 8;
    if (offset < l1End && offset + this.clusterSize > l1Start) {
      throw new BlockError('EIO', `${this.path}: L2 table at ${offset} (L1 index ${l1Index}) overlaps the L1 table: the image is corrupt`);
    }
    return this.caches.tables.get(`${this.path}#${offset}`, () => this.file.read(offset, this.clusterSize, `L2 table (L1 index ${l1Index})`));
  }

  async readPresent(buf: Buffer, offset: number): Promise<void> {
    const cs = this.clusterSize;
    // Host-contiguous clusters are read with one file read.
    let pending: { at: number; host: number; length: number } | null = null;
    const flush = async (): Promise<void> => {
      if (!pending) return;
      await this.dataFile.readExact(buf.subarray(pending.at, pending.at + pending.length), pending.host, 'data cluster');
      pending = null;
    };
    let pos = offset;
    const end = offset + buf.length;
    while (pos < end) {
      const guestCluster = Math.floor(pos / cs);
      const l1Index = Math.floor(guestCluster / this.l2Entries);
      const index = guestCluster - l1Index * this.l2Entries;
      const clusterStart = guestCluster * cs;
      const stop = Math.min(clusterStart + cs, end);
      const table = await this.l2Table(l1Index);
      if (!table) throw new BlockError('EIO', `${this.path}: internal error: read of unallocated guest offset ${pos}`);
      const at = index * this.entryBytes;
      const hi = table.readUInt32BE(at);
      const lo = table.readUInt32BE(at + 4);
      const into = pos - offset;
      if (hi & COMPRESSED) {
        await flush();
        const cluster = await this.compressedCluster(hi, lo, clusterStart);
        cluster.copy(buf, into, pos - clusterStart, stop - clusterStart);
      } else {
        const host = entryOffset(hi, lo);
        this.checkAligned(host, clusterStart);
        const hostPos = host + (pos - clusterStart);
        const p = pending as { at: number; host: number; length: number } | null;
        if (p && p.host + p.length === hostPos) p.length += stop - pos;
        else {
          await flush();
          pending = { at: into, host: hostPos, length: stop - pos };
        }
      }
      pos = stop;
    }
    await flush();
  }

  private async compressedCluster(hi: number, lo: number, guest: number): Promise<Buffer> {
    const bits = this.header.clusterBits;
    // Bits 0..x-1 hold the byte offset, bits x..61 the count of extra 512-byte sectors.
    const x = 62 - (bits - 8);
    const host = (hi & ((1 << (x - 32)) - 1)) * TWO_32 + (lo >>> 0);
    const sectors = ((hi >>> (x - 32)) & ((1 << (bits - 8)) - 1)) + 1;
    const piece = { image: this.path, unit: 'cluster', guestOffset: guest, hostOffset: host };
    if (host >= this.file.size) throw new BlockError('EIO', `${describePiece(piece)} points past the end of the file (${this.file.size} bytes): the image is corrupt`);
    // The sector count may round past the end of the file; the stream itself ends earlier.
    const length = Math.min(sectors * 512 - (host % 512), this.file.size - host);
    return this.caches.clusters.get(`${this.path}#z${host}`, async () => {
      const input = await this.file.read(host, length, 'compressed cluster');
      return decompressBounded(this.header.compression, input, this.clusterSize, this.clusterSize, piece);
    });
  }

  async close(): Promise<void> {
    if (this.dataFile !== this.file) await this.dataFile.close();
    await this.file.close();
  }
}
