// ISO9660: volume descriptors are 2 KiB sectors from sector 16; the primary one (type 1)
// holds the label. blkid makes a UUID from its modification (else creation) date.
import { hasMagic, latin1, paddedLabel } from './fields.ts';
import type { FilesystemSignature, ProbeInput } from './types.ts';

const SECTOR = 2048;
const FIRST_DESCRIPTOR = 16;
const TERMINATOR = 255;
const PRIMARY = 1;

export function probeIso9660({ head }: ProbeInput): FilesystemSignature | null {
  for (let at = FIRST_DESCRIPTOR * SECTOR; at + SECTOR <= head.length; at += SECTOR) {
    if (!hasMagic(head, at + 1, 'CD001')) return null;
    const kind = head[at]!;
    if (kind === TERMINATOR) return null;
    if (kind !== PRIMARY) continue;
    return { type: 'iso9660', label: paddedLabel(head, at + 40, 32), uuid: dateUuid(latin1(head, at + 830, 16)) ?? dateUuid(latin1(head, at + 813, 16)) };
  }
  return null;
}

/** "2024010203040500" -> "2024-01-02-03-04-05-00"; an unset date is all '0' or NUL. */
function dateUuid(digits: string): string | undefined {
  if (!/^\d{16}$/.test(digits) || /^0+$/.test(digits)) return undefined;
  const p = (from: number, to: number) => digits.slice(from, to);
  return [p(0, 4), p(4, 6), p(6, 8), p(8, 10), p(10, 12), p(12, 14), p(14, 16)].join('-');
}
