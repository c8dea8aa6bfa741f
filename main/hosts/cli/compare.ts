// `blockscope compare A B`: every range where two images differ, listed the way nbdinfo --map
// lists extents, and qemu-img compare's exit status (0 identical, 1 different, 2 error).
import type { CompareClass, CompareResult } from '../../../shared/ipc.ts';
import { compareImages } from '../../services/compare.ts';
import { UsageError } from './chain-args.ts';
import { openTarget, type Target } from './open-target.ts';
import { parseOptions } from './options.ts';

export const COMPARE_DESCRIPTIONS: Record<CompareClass, string> = {
  identical: 'identical',
  differ: 'differ',
  'only-a': 'allocated only in A',
  'only-b': 'allocated only in B',
};

export function formatCompareText(r: CompareResult): string {
  const lines = r.ranges.map((x) => `${String(x.offset).padStart(10)}  ${String(x.length).padStart(10)}  ${COMPARE_DESCRIPTIONS[x.class]}\n`);
  if (r.sizeA !== r.sizeB) {
    lines.unshift(`image size mismatch: A is ${r.sizeA} bytes, B is ${r.sizeB} bytes${r.strict ? '' : ' (the tail of the larger compared against zeroes)'}\n`);
  }
  const t = r.totals;
  lines.push(`totals: ${t.differ} bytes differ, ${t['only-a']} allocated only in A, ${t['only-b']} allocated only in B, ${t.identical} identical\n`);
  const first = r.ranges.find((x) => x.offset === r.firstDifference);
  if (r.identical) lines.push('Images are identical.\n');
  else if (first?.class === 'differ') lines.push(`Content mismatch at offset ${r.firstDifference}!\n`);
  else lines.push(`Strict mode: ${first ? 'allocation' : 'size'} mismatch at offset ${r.firstDifference}!\n`);
  return lines.join('');
}

export function formatCompareJson(r: CompareResult): string {
  const out = {
    identical: r.identical,
    strict: r.strict,
    size_a: r.sizeA,
    size_b: r.sizeB,
    first_difference: r.firstDifference,
    totals: { identical: r.totals.identical, differ: r.totals.differ, only_a: r.totals['only-a'], only_b: r.totals['only-b'] },
    ranges: r.ranges.map((x) => ({ offset: x.offset, length: x.length, class: x.class })),
  };
  return `${JSON.stringify(out, null, 2)}\n`;
}

export async function compareCommand(argv: string[]): Promise<number> {
  try {
    const opts = parseOptions(argv, [{ long: 'json' }, { long: 'strict', short: 's' }, { long: 'help', short: 'h' }]);
    if (opts.positional.length !== 2) throw new UsageError('compare takes two images or URIs: blockscope compare A B [--json] [--strict]');
    const opened: Target[] = [];
    try {
      for (const word of opts.positional) opened.push(await openTarget([word]));
      const result = await compareImages(opened[0]!, opened[1]!, { strict: opts.flags.has('strict') });
      process.stdout.write(opts.flags.has('json') ? formatCompareJson(result) : formatCompareText(result));
      return result.identical ? 0 : 1;
    } finally {
      await Promise.allSettled(opened.map((t) => t.close()));
    }
  } catch (err) {
    // Exit 2 for every failure, usage or I/O: 1 means "different" here, as in qemu-img compare.
    console.error(`blockscope compare: ${err instanceof Error ? err.message : String(err)}`);
    if (process.env.BLOCKSCOPE_DEBUG) console.error(err);
    return 2;
  }
}
