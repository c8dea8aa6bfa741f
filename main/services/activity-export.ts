// The activity as files: CSV (one row per bucket clients touched, with its bytes of each
// operation) and the extent list nbdkit's extentlist filter reads ("offset length" per line,
// the touched buckets coalesced; gaps are holes to that filter), e.g. the blocks a VM read
// while booting, to prefetch or to build a minimal image from.
import type { ActivityExport, ActivityExportFormat } from '../../shared/ipc.ts';
import { pushRun } from '../../shared/extents.ts';
import { OPS, type ImageActivity } from './activity.ts';

const CSV_HEADER = 'offset,length,read,written,zeroed,trimmed';

/** Each bucket with any activity in `counters`: [offset, length] of its bytes on the disk. */
function touchedBuckets(activity: ImageActivity, counters: Float64Array): [number, number][] {
  const out: [number, number][] = [];
  for (let b = 0; b < activity.buckets; b++) {
    let any = false;
    for (let c = 0; c < OPS; c++) any ||= counters[b * OPS + c]! > 0;
    if (!any) continue;
    const offset = b * activity.bucketBytes;
    out.push([offset, Math.min(activity.size, offset + activity.bucketBytes) - offset]);
  }
  return out;
}

export function activityCsv(activity: ImageActivity, counters: Float64Array): string {
  const rows = touchedBuckets(activity, counters).map(([offset, length]) => {
    const c = activity.bucketCounts(counters, offset / activity.bucketBytes);
    return `${offset},${length},${c.read},${c.written},${c.zeroed},${c.trimmed}`;
  });
  return [CSV_HEADER, ...rows].join('\n') + '\n';
}

/** The touched ranges, neighbours joined: what `--filter=extentlist extentlist=FILE` reads as data. */
export function activityExtentList(activity: ImageActivity, counters: Float64Array): string {
  const runs: { offset: number; length: number }[] = [];
  for (const [offset, length] of touchedBuckets(activity, counters)) pushRun(runs, { offset, length }, () => true);
  return runs.map((r) => `${r.offset} ${r.length}\n`).join('');
}

export function activityExport(activity: ImageActivity, counters: Float64Array, format: ActivityExportFormat, title: string): ActivityExport {
  const base = title.replace(/[^A-Za-z0-9._-]+/g, '_') || 'disk';
  return format === 'csv'
    ? { format, mimeType: 'text/csv', fileName: `${base}-activity.csv`, text: activityCsv(activity, counters) }
    : { format, mimeType: 'text/plain', fileName: `${base}-activity.extents`, text: activityExtentList(activity, counters) };
}
