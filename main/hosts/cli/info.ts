// `blockscope info`: what an image or export is: size, format, capabilities, block sizes
// and partitions, as text or JSON.
import { capabilitiesOf } from '../../services/export-capabilities.ts';
import { describeChain } from '../../../shared/chain-config.ts';
import { detectFilesystem, type FilesystemSignature } from '../../formats/filesystems/index.ts';
import { readPartitionTable, type PartitionTable } from '../../formats/partitions/index.ts';
import { advertisedBlockSize } from '../../nbd/option-data.ts';
import { TFLAG } from '../../nbd/protocol.ts';
import { scaleBytes } from '../../../shared/bytes.ts';
import { openTarget, type Target } from './open-target.ts';
import { parseOptions } from './options.ts';

export function humanSize(bytes: number): string {
  const scaled = scaleBytes(bytes);
  return scaled ? `${Number(scaled.value.toFixed(scaled.value < 10 ? 2 : 1))} ${scaled.unit}` : `${bytes} bytes`;
}

function capabilities(target: Target): Record<string, boolean> {
  if (target.remote) {
    const f = target.remote.flags;
    const has = (b: number) => (f & b) !== 0;
    return {
      is_read_only: has(TFLAG.READ_ONLY), can_flush: has(TFLAG.SEND_FLUSH), can_fua: has(TFLAG.SEND_FUA),
      is_rotational: has(TFLAG.ROTATIONAL), can_trim: has(TFLAG.SEND_TRIM), can_zero: has(TFLAG.SEND_WRITE_ZEROES),
      can_fast_zero: has(TFLAG.SEND_FAST_ZERO), can_df: has(TFLAG.SEND_DF), can_multi_conn: has(TFLAG.CAN_MULTI_CONN),
      can_cache: has(TFLAG.SEND_CACHE), can_extents: target.remote.contexts.includes('base:allocation'),
    };
  }
  return capabilitiesOf(target.top!);
}

/** The partition table (or why it could not be read) and what each partition holds. */
interface Layout {
  table: PartitionTable | null;
  tableError: string | null;
  /** By partition number; 0 is the whole disk when it has no table. */
  filesystems: Map<number, FilesystemSignature | null>;
}

export async function infoCommand(argv: string[]): Promise<number> {
  const opts = parseOptions(argv, [{ long: 'json' }, { long: 'filter', value: true, repeat: true }, { long: 'help', short: 'h' }]);
  const target = await openTarget(opts.positional, opts.values.get('filter') ?? []);
  try {
    const layout = await readLayout(target);
    const info = describeTarget(opts.positional[0], target, layout);
    const text = opts.flags.has('json') ? JSON.stringify(info, null, 2) : infoLines(info, target, layout).join('\n');
    process.stdout.write(`${text}\n`);
  } finally {
    await target.close();
  }
  return 0;
}

async function readLayout(target: Target): Promise<Layout> {
  let table: PartitionTable | null = null;
  let tableError: string | null = null;
  const read = async (offset: number, length: number) => {
    const b = Buffer.alloc(length);
    await target.pread(b, offset);
    return b;
  };
  try {
    table = await readPartitionTable(read, target.size);
  } catch (err) {
    tableError = (err as Error).message;
  }
  // What each partition (or the whole disk, when it has no table) holds.
  const spans = table && table.partitions.length ? table.partitions.filter((p) => !p.pastEnd) : [{ number: 0, start: 0, length: target.size }];
  const filesystems = new Map<number, FilesystemSignature | null>();
  for (const p of spans) {
    filesystems.set(p.number, await detectFilesystem((offset, length) => read(p.start + offset, length), p.length).catch(() => null));
  }
  return { table, tableError, filesystems };
}

function fsOf(layout: Layout, partition: number): FilesystemSignature | null {
  return layout.filesystems.get(partition) ?? null;
}

function blockSizesOf(target: Target): { minimum: number; preferred: number; maximum: number } {
  return target.remote
    ? { minimum: target.remote.minBlock, preferred: target.remote.preferredBlock, maximum: target.remote.maxPayload }
    : advertisedBlockSize(target.top!);
}

type Info = ReturnType<typeof describeTarget>;

/** What `--json` prints; the text form is drawn from it too. */
function describeTarget(name: string | undefined, target: Target, layout: Layout) {
  const { table, tableError } = layout;
  return {
    target: name,
    format: target.format,
    chain: target.config ? describeChain(target.config) : undefined,
    size: target.size,
    ...capabilities(target),
    block_size: blockSizesOf(target),
    partitions: table
      ? { scheme: table.scheme, sector_size: table.sectorSize, disk_guid: table.diskGuid, entries: table.partitions.map((p) => ({ ...p, filesystem: fsOf(layout, p.number) })), warnings: table.warnings }
      : { error: tableError },
    ...(table?.partitions.length ? {} : { filesystem: fsOf(layout, 0) }),
  };
}

function infoLines(info: Info, target: Target, layout: Layout): string[] {
  const blockSizes = info.block_size;
  const lines = [
    `target:      ${info.target}`,
    `format:      ${info.format}`,
    ...(info.chain ? [`chain:       ${info.chain}`] : []),
    `size:        ${info.size} (${humanSize(info.size)})`,
    `block sizes: minimum ${blockSizes.minimum}, preferred ${blockSizes.preferred}, maximum ${blockSizes.maximum}`,
    ...Object.entries(capabilities(target)).map(([k, v]) => `${k.padEnd(15)}${v}`),
  ];
  const { table } = layout;
  if (table) {
    lines.push(`partitions:  ${table.scheme}${table.scheme === 'none' ? '' : ` (${table.sectorSize}-byte sectors)`}`);
    for (const p of table.partitions) {
      const fs = fsOf(layout, p.number);
      const fsText = fs ? `  ${fs.type}${fs.label ? ` "${fs.label}"` : ''}` : '';
      lines.push(`  ${String(p.number).padStart(2)}  start ${String(p.start).padStart(12)}  size ${humanSize(p.length).padStart(10)}  ${p.typeName}${p.name ? `  "${p.name}"` : ''}${fsText}`);
    }
    for (const w of table.warnings) lines.push(`  warning: ${w}`);
  } else {
    lines.push(`partitions:  unreadable: ${layout.tableError}`);
  }
  const whole = table?.partitions.length ? null : fsOf(layout, 0);
  if (whole) lines.push(`filesystem:  ${whole.type}${whole.label ? ` "${whole.label}"` : ''}${whole.uuid ? ` ${whole.uuid}` : ''}`);
  return lines;
}
