// The VMDK text descriptor: the extents that make up the disk (FLAT, SPARSE, ZERO with their
// sizes in sectors) and the parent link of a delta disk.
import { BlockError } from '../../backend/errors.ts';

export type ExtentType = 'FLAT' | 'SPARSE' | 'ZERO' | 'VMFS' | 'VMFSSPARSE';

export interface DescriptorExtent {
  sectors: number;
  type: ExtentType;
  file?: string;
  /** Start of the extent's data in its file, in sectors (FLAT only). */
  offset: number;
}

export interface VmdkDescriptor {
  createType?: string;
  parentFileNameHint?: string;
  extents: DescriptorExtent[];
}

/** A descriptor larger than this is not a descriptor. */
export const MAX_DESCRIPTOR_BYTES = 1024 * 1024;
const MAX_EXTENTS = 65536;
const NO_PARENT_CID = 'ffffffff';

const EXTENT_LINE = /^(RW|RDONLY|NOACCESS)\s+(\d+)\s+([A-Z]+)(?:\s+"([^"]*)"(?:\s+(\d+))?)?\s*$/;

export function parseDescriptor(text: string, where: string): VmdkDescriptor {
  const fail = (msg: string): never => {
    throw new BlockError('EINVAL', `${where}: ${msg}`);
  };
  const out: VmdkDescriptor = { extents: [] };
  let parentCID: string | undefined;
  let totalSectors = 0;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/\0.*$/s, '').trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = EXTENT_LINE.exec(line);
    if (m) {
      const type = m[3]!;
      if (m[1] === 'NOACCESS') throw new BlockError('ENOTSUP', `${where}: NOACCESS extents are not supported`);
      if (!['FLAT', 'SPARSE', 'ZERO', 'VMFS', 'VMFSSPARSE'].includes(type)) {
        throw new BlockError('ENOTSUP', `${where}: unsupported VMDK extent type ${type}`);
      }
      const sectors = Number(m[2]);
      totalSectors += sectors;
      if (!Number.isSafeInteger(totalSectors * 512)) fail('extents add up to more than 2^53 bytes');
      if (type !== 'ZERO' && m[4] === undefined) fail(`${type} extent names no file`);
      if (out.extents.length >= MAX_EXTENTS) fail(`more than ${MAX_EXTENTS} extents`);
      const offset = Number(m[5] ?? 0);
      if (!Number.isSafeInteger(offset * 512)) fail(`extent offset ${m[5]} is too large`);
      out.extents.push({ sectors, type: type as ExtentType, file: m[4], offset });
      continue;
    }
    const kv = /^([A-Za-z0-9_.]+)\s*=\s*"?([^"]*)"?$/.exec(line);
    if (!kv) continue;
    if (kv[1] === 'createType') out.createType = kv[2];
    else if (kv[1] === 'parentCID') parentCID = kv[2]!.toLowerCase();
    else if (kv[1] === 'parentFileNameHint') out.parentFileNameHint = kv[2];
  }
  // A parent hint left behind after the parent link was cut (parentCID ffffffff) means nothing.
  if (parentCID === undefined || parentCID === NO_PARENT_CID) delete out.parentFileNameHint;
  return out;
}
