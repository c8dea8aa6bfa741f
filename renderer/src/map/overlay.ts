// Where partitions and the overview's viewport window land on a map, as plain numbers the
// renderer draws and the tests check.
import type { PartitionInfo } from '../../../shared/ipc.ts';
import { xOfOffset, type View } from './viewport.ts';

export interface PartitionSpan {
  number: number;
  label: string;
  x0: number;
  x1: number;
}

/** "p1 EFI System (vfat ESP)": number, name or type, filesystem and its label. */
export function partitionLabel(p: PartitionInfo): string {
  const name = p.name || p.typeName;
  const fs = p.filesystem ? ` · ${p.filesystem.type}${p.filesystem.label ? ` “${p.filesystem.label}”` : ''}` : '';
  return `p${p.number} ${name}${fs}`;
}

/** Partitions visible in `view`, clipped to [0, width]. */
export function partitionSpans(partitions: readonly PartitionInfo[], view: View, width: number): PartitionSpan[] {
  return partitions
    .map((p) => ({
      number: p.number,
      label: partitionLabel(p),
      x0: Math.max(0, xOfOffset(view, p.start, width)),
      x1: Math.min(width, xOfOffset(view, p.start + p.length, width)),
    }))
    .filter((s) => s.x1 > 0 && s.x0 < width && s.x1 > s.x0);
}
