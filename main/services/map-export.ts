// The map as text in the shapes existing tools print, so scripts written for them read ours:
// `nbdinfo --map --json`, `qemu-img map --output=json` (as qemu-img prints it for a raw NBD
// export: depth 0, every range present, offset = start) and a CSV with nbdinfo's columns.
import { describeExtentFlags, EXTENT_HOLE, EXTENT_ZERO, pushRun, type Extent } from '../../shared/extents.ts';
import type { MapExportFormat } from '../../shared/ipc.ts';

/** `describe` names a context's values (base:allocation's by default). */
export function formatNbdinfoJson(extents: Iterable<Extent>, describe: (type: number) => string = describeExtentFlags): string {
  const lines: string[] = [];
  for (const e of extents) {
    lines.push(`{ "offset": ${e.offset}, "length": ${e.length}, "type": ${e.flags}, "description": "${describe(e.flags)}"}`);
  }
  return `[\n${lines.join(',\n')}${lines.length ? '\n' : ''}]\n`;
}

interface QemuImgRange {
  offset: number;
  length: number;
  zero: boolean;
  data: boolean;
}

const sameQemuKind = (a: QemuImgRange, b: QemuImgRange): boolean => a.zero === b.zero && a.data === b.data;

export function formatQemuImgJson(extents: Iterable<Extent>): string {
  // qemu-img merges neighbours that look the same in its own terms (data/zero), which can
  // join ranges nbdinfo keeps apart.
  const merged: QemuImgRange[] = [];
  for (const e of extents) {
    pushRun(merged, { offset: e.offset, length: e.length, zero: (e.flags & EXTENT_ZERO) !== 0, data: (e.flags & EXTENT_HOLE) === 0 }, sameQemuKind);
  }
  const lines = merged.map((m) =>
    `{ "start": ${m.offset}, "length": ${m.length}, "depth": 0, "present": true, "zero": ${m.zero}, "data": ${m.data}, "offset": ${m.offset}}`);
  return `[${lines.join(',\n')}]\n`;
}

export function formatCsv(extents: Iterable<Extent>): string {
  let text = 'offset,length,type,description\n';
  for (const e of extents) {
    const type = e.flags & 3;
    text += `${e.offset},${e.length},${type},"${describeExtentFlags(type)}"\n`;
  }
  return text;
}

export const mapExportFormats: Record<MapExportFormat, { mimeType: string; extension: string; format(extents: Iterable<Extent>): string }> = {
  'nbdinfo-json': { mimeType: 'application/json', extension: '.nbdinfo.json', format: formatNbdinfoJson },
  'qemu-img-json': { mimeType: 'application/json', extension: '.qemu-img.json', format: formatQemuImgJson },
  csv: { mimeType: 'text/csv', extension: '.csv', format: formatCsv },
};
