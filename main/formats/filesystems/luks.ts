// LUKS1 and LUKS2 share the magic and the UUID field; only LUKS2 has a label.
import { cString, hasMagic } from './fields.ts';
import type { FilesystemSignature, ProbeInput } from './types.ts';

export function probeLuks({ head }: ProbeInput): FilesystemSignature | null {
  if (!hasMagic(head, 0, 'LUKS\xba\xbe') || head.length < 0xd0) return null;
  const version = head.readUInt16BE(6);
  const uuid = cString(head, 0xa8, 40);
  if (version === 1) return { type: 'luks1', uuid };
  if (version === 2) return { type: 'luks2', label: cString(head, 0x18, 48), uuid };
  return null;
}
