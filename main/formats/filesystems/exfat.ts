// exFAT keeps its label in the root directory, not the boot sector: one extra read of the
// root directory's first cluster.
import { hasMagic, u32le, utf16Label, volumeSerial } from './fields.ts';
import type { FilesystemSignature, ProbeInput } from './types.ts';

const ENTRY = 32;
const END_OF_DIRECTORY = 0x00;
const VOLUME_LABEL = 0x83;
/** Enough of the root directory for the label, which mkfs puts first. */
const MAX_SCAN = 64 * 1024;

export async function probeExfat({ head, read }: ProbeInput): Promise<FilesystemSignature | null> {
  if (!hasMagic(head, 3, 'EXFAT   ') || head.length < 512) return null;
  const sectorShift = head[0x6c]!;
  const clusterShift = head[0x6d]!;
  if (sectorShift < 9 || sectorShift > 12 || sectorShift + clusterShift > 25) return null;
  const uuid = volumeSerial(u32le(head, 0x64));
  const heapSector = u32le(head, 0x58);
  const rootCluster = u32le(head, 0x60);
  if (rootCluster < 2) return { type: 'exfat', uuid };
  const rootOffset = (heapSector + (rootCluster - 2) * 2 ** clusterShift) * 2 ** sectorShift;
  const dir = await read(rootOffset, Math.min(2 ** (sectorShift + clusterShift), MAX_SCAN));
  return { type: 'exfat', label: dir ? findLabel(dir) : undefined, uuid };
}

function findLabel(dir: Buffer): string | undefined {
  for (let at = 0; at + ENTRY <= dir.length; at += ENTRY) {
    const kind = dir[at]!;
    if (kind === END_OF_DIRECTORY) return undefined;
    if (kind === VOLUME_LABEL) return utf16Label(dir.subarray(at + 2, at + 2 + Math.min(dir[at + 1]!, 11) * 2));
  }
  return undefined;
}
