// partition: serve one partition of the disk below (nbdkit-partition-filter). The table is
// read through the layer below on every open, so it follows whatever the filters under
// this one present (a cow overlay with a freshly written table, an offset window, ...).
import { BlockError } from '../../backend/errors.ts';
import { defineFilter, type Next } from '../../backend/types.ts';
import { readPartitionTable, type PartitionTable, type ReadAt } from '../../formats/partitions/index.ts';
import { windowOnto } from '../window.ts';

export const partitionFilter = defineFilter({
  name: 'partition',
  summary: 'serve one partition of a GPT or MBR disk',
  params: [
    { key: 'partition', kind: 'int', required: true, min: 1, description: 'partition number: GPT entry, MBR primary 1-4, logical from 5' },
  ],
  create(params) {
    const number = params.partition;
    return {
      async open(next) {
        const table = await readPartitionTable(readThrough(next), next.getSize());
        const p = table.partitions.find((q) => q.number === number);
        if (!p) throw new BlockError('EINVAL', `partition: partition ${number} not found; ${describeTable(table)}`);
        if (p.pastEnd) {
          throw new BlockError('EINVAL', `partition: partition ${number} (bytes ${p.start}-${p.start + p.length}) extends past the end of the disk (${next.getSize()} bytes)`);
        }
        return windowOnto(next, p.start, p.length);
      },
    };
  },
});

function readThrough(next: Next): ReadAt {
  return async (offset, length) => {
    const buf = Buffer.alloc(length);
    await next.pread(buf, offset);
    return buf;
  };
}

function describeTable(table: PartitionTable): string {
  const problems = table.warnings.length > 0 ? ` (${table.warnings.join('; ')})` : '';
  if (table.scheme === 'none') return `the disk has no partition table${problems}`;
  const scheme = table.scheme === 'gpt' ? 'a GPT' : 'an MBR';
  const numbers = table.partitions.map((p) => p.number).join(', ');
  return numbers ? `the disk has ${scheme} with partitions ${numbers}` : `the disk has ${scheme} with no partitions${problems}`;
}
