// The contract's data about I/O activity: what clients read and wrote where, per map bin and
// per partition, and its exports. (Part of the IPC contract: import it through shared/ipc.ts.)

/** The operations the activity recorder counts, in the order of its counters. */
export const ACTIVITY_OPS = ['read', 'write', 'zero', 'trim'] as const;
/** What the heat overlay shows: reads, writes (written, zeroed and trimmed bytes), or both. */
export type ActivitySelection = 'reads' | 'writes' | 'both';
/** Bytes clients moved, per operation. */
export interface ActivityCounts {
  read: number;
  written: number;
  zeroed: number;
  trimmed: number;
}

/** activity.bins: `selection`'s bytes per bin of [start, end), the bins cut as map.bins cuts them. */
export interface ActivityBins {
  imageId: string;
  start: number;
  end: number;
  bins: number;
  counts: number[];
  /** The recorder's bucket size: bins whose edges are multiples of it get exact counts. */
  granularity: number;
  /** null: since the image was served (or last cleared). */
  windowSeconds: number | null;
}

export interface ActivityPartitions {
  imageId: string;
  windowSeconds: number | null;
  disk: ActivityCounts;
  partitions: (ActivityCounts & { number: number; name: string })[];
}

export type ActivityExportFormat = 'csv' | 'extentlist';

export interface ActivityExport {
  format: ActivityExportFormat;
  mimeType: string;
  fileName: string;
  text: string;
}
