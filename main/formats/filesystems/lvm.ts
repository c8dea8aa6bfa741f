// LVM2 physical volume: a "LABELONE" label in one of the first four sectors, naming the
// sector it sits in, followed by the PV header with the UUID as 32 bare characters.
import { hasMagic, latin1 } from './fields.ts';
import type { FilesystemSignature, ProbeInput } from './types.ts';

const UUID_GROUPS = [6, 4, 4, 4, 4, 4, 6];

export function probeLvm({ head }: ProbeInput): FilesystemSignature | null {
  for (let sector = 0; sector < 4; sector++) {
    const at = sector * 512;
    if (!hasMagic(head, at, 'LABELONE') || !hasMagic(head, at + 0x18, 'LVM2 001')) continue;
    if (head.readBigUInt64LE(at + 8) !== BigInt(sector)) continue;
    return { type: 'lvm2-pv', uuid: dashed(latin1(head, at + 0x20, 32)) };
  }
  return null;
}

function dashed(raw: string): string {
  const parts: string[] = [];
  let pos = 0;
  for (const n of UUID_GROUPS) {
    parts.push(raw.slice(pos, pos + n));
    pos += n;
  }
  return parts.join('-');
}
