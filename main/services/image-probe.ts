// What the info panel shows beyond the size: the partition table and the filesystem in each
// partition (or on the whole disk), read through the chain so it describes the filtered
// view. The readers come from main/formats; a failure becomes a warning, not a failed open.
import type { FilesystemInfo, PartitionInfo } from '../../shared/ipc.ts';

export type ReadAt = (offset: number, length: number) => Promise<Buffer>;

export interface PartitionReader {
  (read: ReadAt, diskSize: number): Promise<{
    scheme: 'gpt' | 'mbr' | 'none';
    partitions: Omit<PartitionInfo, 'filesystem'>[];
    warnings: string[];
  }>;
}

export type FilesystemReader = (read: ReadAt, size: number) => Promise<FilesystemInfo | null>;

export interface ImageLayout {
  scheme: 'gpt' | 'mbr' | 'none';
  partitions: PartitionInfo[];
  /** The filesystem on the whole disk when there is no partition table. */
  filesystem?: FilesystemInfo;
  warnings: string[];
}

/** Neither a partition table nor a filesystem: nothing says these bytes are a disk. */
export function layoutIsBlank(layout: ImageLayout): boolean {
  return layout.scheme === 'none' && !layout.filesystem;
}

export async function probeLayout(read: ReadAt, size: number, readPartitions?: PartitionReader, readFilesystem?: FilesystemReader): Promise<ImageLayout> {
  const layout: ImageLayout = { scheme: 'none', partitions: [], warnings: [] };
  if (size === 0) return layout;
  if (readPartitions) {
    try {
      const table = await readPartitions(read, size);
      layout.scheme = table.scheme;
      layout.warnings.push(...table.warnings);
      layout.partitions = table.partitions.map((p) => ({
        number: p.number, start: p.start, length: p.length, type: p.type, typeName: p.typeName, name: p.name,
      }));
    } catch (err) {
      layout.warnings.push(`partition table: ${(err as Error).message}`);
    }
  }
  if (!readFilesystem) return layout;
  const within = (start: number, length: number): ReadAt => (offset, n) => {
    if (offset < 0 || offset + n > length) return Promise.reject(new RangeError(`read of ${n} bytes at ${offset} is past the end (${length})`));
    return read(start + offset, n);
  };
  for (const p of layout.partitions) {
    if (p.start + p.length > size) continue;
    try {
      const fs = await readFilesystem(within(p.start, p.length), p.length);
      if (fs) p.filesystem = fs;
    } catch (err) {
      layout.warnings.push(`partition ${p.number}: ${(err as Error).message}`);
    }
  }
  if (layout.partitions.length === 0) {
    try {
      layout.filesystem = (await readFilesystem(read, size)) ?? undefined;
    } catch (err) {
      layout.warnings.push(`filesystem: ${(err as Error).message}`);
    }
  }
  return layout;
}
