// Which parts of a host file hold data (SEEK_DATA / SEEK_HOLE through the native addon), for
// layers stored raw in a file: raw backing files, flat VMDK extents. Without the addon every
// byte counts as data, which is always a safe answer. An image at a URL has no host file to
// ask: every byte of it is data, and the format's own tables say the rest.
import { closeSync, openSync } from 'node:fs';
import { nativeIo } from '../native-io.ts';
import { isHttpUrl } from '../plugins/http/client.ts';

/** One lseek walk can return this many runs; a longer list is fetched in several calls. */
const RUNS_PER_CALL = 65536;

export class HostAllocation {
  private constructor(private readonly fd: number | null) {}

  static open(path: string): HostAllocation {
    return new HostAllocation(!isHttpUrl(path) && nativeIo() ? openSync(path, 'r') : null);
  }

  /** Data runs [start, end) overlapping [offset, end), clipped; the rest of the range is holes. */
  dataRuns(offset: number, end: number): [number, number][] {
    const io = nativeIo();
    if (this.fd === null || !io) return [[offset, end]];
    const out: [number, number][] = [];
    let pos = offset;
    while (pos < end) {
      const arr = io.dataRuns(this.fd, pos, end, RUNS_PER_CALL);
      // A filesystem that cannot answer makes everything data rather than failing the read.
      if (arr.length === 1) return [[offset, end]];
      for (let i = 0; i < arr.length; i += 2) out.push([arr[i]!, arr[i + 1]!]);
      if (arr.length < RUNS_PER_CALL * 2) break;
      pos = arr[arr.length - 1]!;
    }
    return out;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
  }
}

/** Past this many runs the index is not worth its memory: everything counts as data. */
const MAX_INDEXED_RUNS = 1 << 20;

/**
 * The data runs of a whole host file, for formats that map guest ranges to scattered host
 * offsets (qcow2 clusters): qemu reports allocated ranges whose host bytes are a hole (a
 * preallocated image, a subcluster qemu zeroed with fallocate) as data that reads as zero.
 */
export class HostDataIndex {
  private constructor(private readonly starts: Float64Array, private readonly ends: Float64Array) {}

  /** Null when the file is one dense run (the usual case) or cannot be asked. */
  static build(path: string, size: number): HostDataIndex | null {
    const host = HostAllocation.open(path);
    try {
      const runs = host.dataRuns(0, size);
      if (runs.length > MAX_INDEXED_RUNS) return null;
      if (runs.length === 1 && runs[0]![0] === 0 && runs[0]![1] >= size) return null;
      return new HostDataIndex(Float64Array.from(runs, (r) => r[0]), Float64Array.from(runs, (r) => r[1]));
    } finally {
      host.close();
    }
  }

  /** Calls `fn` for the data and hole pieces of host [start, start+length), in order. */
  split(start: number, length: number, fn: (at: number, length: number, data: boolean) => void): void {
    const end = start + length;
    let lo = 0;
    let hi = this.ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ends[mid]! <= start) lo = mid + 1;
      else hi = mid;
    }
    let pos = start;
    for (let i = lo; i < this.starts.length && pos < end; i++) {
      const s = Math.max(this.starts[i]!, pos);
      if (s >= end) break;
      if (s > pos) fn(pos, s - pos, false);
      const e = Math.min(this.ends[i]!, end);
      fn(s, e - s, true);
      pos = e;
    }
    if (pos < end) fn(pos, end - pos, false);
  }
}
