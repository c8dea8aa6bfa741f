// `blockscope map`: the allocation map in nbdinfo --map's text and JSON shapes, so scripts
// written for nbdinfo can switch.
import { describeExtentFlags, type Extent } from '../../../shared/extents.ts';
import { formatNbdinfoJson } from '../../services/map-export.ts';
import { fullMap, openTarget } from './open-target.ts';
import { parseOptions } from './options.ts';

export function formatMapText(map: readonly Extent[]): string {
  return map.map((e) => `${String(e.offset).padStart(10)}  ${String(e.length).padStart(10)}  ${String(e.flags).padStart(3)}  ${describeExtentFlags(e.flags)}\n`).join('');
}

export interface Total {
  size: number;
  percent: number;
  type: number;
  description: string;
}

export function mapTotals(map: readonly Extent[], diskSize: number): Total[] {
  const bytes = new Map<number, number>();
  for (const e of map) bytes.set(e.flags, (bytes.get(e.flags) ?? 0) + e.length);
  return [...bytes.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([type, size]) => ({ size, percent: diskSize ? (100 * size) / diskSize : 0, type, description: describeExtentFlags(type) }));
}

export function formatTotalsText(totals: readonly Total[]): string {
  return totals.map((t) => `${String(t.size).padStart(10)} ${t.percent.toFixed(1).padStart(5)}% ${String(t.type).padStart(3)} ${t.description}\n`).join('');
}

export function formatTotalsJson(totals: readonly Total[]): string {
  const rows = totals.map((t) => `{ "size": ${t.size}, "percent": ${Number(t.percent.toPrecision(6))}, "type": ${t.type}, "description": "${t.description}" }`);
  return `[\n${rows.join(',\n')}\n]\n`;
}

export async function mapCommand(argv: string[]): Promise<number> {
  const opts = parseOptions(argv, [{ long: 'json' }, { long: 'totals' }, { long: 'filter', value: true, repeat: true }, { long: 'help', short: 'h' }]);
  const target = await openTarget(opts.positional, opts.values.get('filter') ?? []);
  try {
    const map = await fullMap(target);
    const json = opts.flags.has('json');
    if (opts.flags.has('totals')) {
      const totals = mapTotals(map, target.size);
      process.stdout.write(json ? formatTotalsJson(totals) : formatTotalsText(totals));
    } else {
      process.stdout.write(json ? formatNbdinfoJson(map) : formatMapText(map));
    }
  } finally {
    await target.close();
  }
  return 0;
}
