// `blockscope map`: the allocation map in nbdinfo --map's text and JSON shapes, so scripts
// written for nbdinfo can switch.
import { describeExtentFlags, type Extent } from '../../../shared/extents.ts';
import { formatNbdinfoJson } from '../../services/map-export.ts';
import { CONTEXT_ALLOCATION_DEPTH, CONTEXT_BASE_ALLOCATION } from '../../nbd/protocol.ts';
import { UsageError } from './chain-args.ts';
import { fullMap, openTarget } from './open-target.ts';
import { oneValue, parseOptions } from './options.ts';

/** What nbdinfo calls the values of qemu:allocation-depth. */
export function describeDepth(depth: number): string {
  return depth === 0 ? 'absent' : depth === 1 ? 'local' : `backing depth ${depth}`;
}

export function formatMapText(map: readonly Extent[], describe: (type: number) => string = describeExtentFlags): string {
  return map.map((e) => `${String(e.offset).padStart(10)}  ${String(e.length).padStart(10)}  ${String(e.flags).padStart(3)}  ${describe(e.flags)}\n`).join('');
}

export interface Total {
  size: number;
  percent: number;
  type: number;
  description: string;
}

export function mapTotals(map: readonly Extent[], diskSize: number, describe: (type: number) => string = describeExtentFlags): Total[] {
  const bytes = new Map<number, number>();
  for (const e of map) bytes.set(e.flags, (bytes.get(e.flags) ?? 0) + e.length);
  return [...bytes.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([type, size]) => ({ size, percent: diskSize ? (100 * size) / diskSize : 0, type, description: describe(type) }));
}

export function formatTotalsText(totals: readonly Total[]): string {
  return totals.map((t) => `${String(t.size).padStart(10)} ${t.percent.toFixed(1).padStart(5)}% ${String(t.type).padStart(3)} ${t.description}\n`).join('');
}

export function formatTotalsJson(totals: readonly Total[]): string {
  const rows = totals.map((t) => `{ "size": ${t.size}, "percent": ${Number(t.percent.toPrecision(6))}, "type": ${t.type}, "description": "${t.description}" }`);
  return `[\n${rows.join(',\n')}\n]\n`;
}

export async function mapCommand(argv: string[]): Promise<number> {
  const opts = parseOptions(argv, [
    { long: 'json' }, { long: 'totals' }, { long: 'filter', value: true, repeat: true }, { long: 'help', short: 'h' },
    { long: 'context', value: true }, { long: 'depth' },
  ]);
  const context = opts.flags.has('depth') ? CONTEXT_ALLOCATION_DEPTH : (oneValue(opts, 'context') ?? CONTEXT_BASE_ALLOCATION);
  if (context !== CONTEXT_BASE_ALLOCATION && context !== CONTEXT_ALLOCATION_DEPTH) {
    throw new UsageError(`--context ${context}: known contexts are ${CONTEXT_BASE_ALLOCATION} and ${CONTEXT_ALLOCATION_DEPTH}`);
  }
  const describe = context === CONTEXT_ALLOCATION_DEPTH ? describeDepth : describeExtentFlags;
  const target = await openTarget(opts.positional, opts.values.get('filter') ?? []);
  try {
    const map = await fullMap(target, context);
    const json = opts.flags.has('json');
    if (opts.flags.has('totals')) {
      const totals = mapTotals(map, target.size, describe);
      process.stdout.write(json ? formatTotalsJson(totals) : formatTotalsText(totals));
    } else {
      process.stdout.write(json ? formatNbdinfoJson(map, describe) : formatMapText(map, describe));
    }
  } finally {
    await target.close();
  }
  return 0;
}
