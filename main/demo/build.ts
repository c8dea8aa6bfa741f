// Builds the demo disk in memory from the plan in layout.ts, and derives from the result
// the layout the map must show: written pages are data, preallocated regions are zero,
// everything else is a hole.
import { buildGpt } from '../formats/partitions/gpt-writer.ts';
import { gptTypeName } from '../formats/partitions/type-names.ts';
import { writeExt4Superblock } from './ext4.ts';
import { writeFat32 } from './fat32.ts';
import {
  DEMO_CONTENT_VERSION, DEMO_DISK_GUID, DEMO_PARTITIONS, DEMO_README, DEMO_SECTOR, DEMO_SIZE,
  type ByteRange, type DemoPartitionPlan,
} from './layout.ts';
import { seededBytes } from './prng.ts';
import { SparseImage } from './sparse-image.ts';
import { writeSwapHeader } from './swap.ts';

export interface DemoPartition {
  number: number;
  name: string;
  type: string;
  typeName: string;
  offset: number;
  length: number;
  filesystem: DemoPartitionPlan['filesystem'];
}

export interface DemoLayout {
  contentVersion: number;
  size: number;
  sectorSize: number;
  diskGuid: string;
  partitions: readonly DemoPartition[];
  /** Sorted, disjoint, 4 KiB aligned; together they cover the disk. */
  dataRanges: readonly ByteRange[];
  zeroRanges: readonly ByteRange[];
  holeRanges: readonly ByteRange[];
}

export interface DemoDisk {
  image: SparseImage;
  /** Absolute ranges to preallocate (allocated, reading as zero). */
  preallocate: readonly ByteRange[];
  layout: DemoLayout;
}

export function buildDemoDisk(): DemoDisk {
  const image = new SparseImage(DEMO_SIZE);
  const gpt = buildGpt({
    diskSize: DEMO_SIZE,
    sectorSize: DEMO_SECTOR,
    diskGuid: DEMO_DISK_GUID,
    partitions: DEMO_PARTITIONS.map((p) => ({
      type: p.type, guid: p.guid, name: p.name,
      firstLba: p.offset / DEMO_SECTOR, lastLba: (p.offset + p.length) / DEMO_SECTOR - 1,
    })),
  });
  for (const w of gpt) image.write(w.offset, w.data);
  for (const p of DEMO_PARTITIONS) writePartition(image, p);

  const preallocate = DEMO_PARTITIONS.flatMap((p) => p.preallocated.map((r) => ({ offset: p.offset + r.offset, length: r.length })));
  for (const r of preallocate) {
    if (image.touches(r.offset, r.length)) throw new Error(`demo image: preallocated range at ${r.offset} overlaps written data`);
  }
  const dataRanges = image.runs().map((r) => ({ offset: r.start, length: r.data.length }));
  const zeroRanges = [...preallocate].sort((a, b) => a.offset - b.offset);
  return {
    image,
    preallocate,
    layout: {
      contentVersion: DEMO_CONTENT_VERSION,
      size: DEMO_SIZE,
      sectorSize: DEMO_SECTOR,
      diskGuid: DEMO_DISK_GUID,
      partitions: DEMO_PARTITIONS.map((p) => ({
        number: p.number, name: p.name, type: p.type, typeName: gptTypeName(p.type), offset: p.offset, length: p.length, filesystem: p.filesystem,
      })),
      dataRanges,
      zeroRanges,
      holeRanges: gaps(DEMO_SIZE, [...dataRanges, ...zeroRanges]),
    },
  };
}

function writePartition(image: SparseImage, p: DemoPartitionPlan): void {
  const fs = p.filesystem;
  switch (fs.type) {
    case 'fat32':
      writeFat32(image, p.offset, {
        startLba: p.offset / DEMO_SECTOR,
        sectors: p.length / DEMO_SECTOR,
        label: fs.label,
        serial: parseInt(fs.uuid.replace('-', ''), 16),
        files: [{ name: 'README.TXT', data: Buffer.from(DEMO_README, 'latin1') }, ...p.files.map((f) => ({ name: f.name, data: seededBytes(f.seed, f.length) }))],
      });
      return;
    case 'ext4':
      writeExt4Superblock(image, p.offset, { bytes: p.length, label: fs.label, uuid: fs.uuid });
      for (const f of p.files) image.write(p.offset + (f.offset ?? 0), seededBytes(f.seed, f.length));
      return;
    case 'swap':
      writeSwapHeader(image, p.offset, p.length, fs.label, fs.uuid);
      return;
  }
}

/** The parts of [0, size) that no range covers. */
function gaps(size: number, ranges: readonly ByteRange[]): ByteRange[] {
  const out: ByteRange[] = [];
  let pos = 0;
  for (const r of [...ranges].sort((a, b) => a.offset - b.offset)) {
    if (r.offset > pos) out.push({ offset: pos, length: r.offset - pos });
    pos = Math.max(pos, r.offset + r.length);
  }
  if (pos < size) out.push({ offset: pos, length: size - pos });
  return out;
}
