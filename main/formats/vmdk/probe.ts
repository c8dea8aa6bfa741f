export const VMDK4_MAGIC = 0x564d444b; // "KDMV" read little-endian

/** A hosted sparse extent, or a text descriptor naming its extents. */
export function isVmdk(head: Buffer): boolean {
  if (head.length >= 4 && head.readUInt32LE(0) === VMDK4_MAGIC) return true;
  return looksLikeDescriptor(head);
}

export function looksLikeDescriptor(head: Buffer): boolean {
  // qemu pads descriptor files with NULs to a whole sector.
  const window = head.subarray(0, Math.min(head.length, 4096));
  const nul = window.indexOf(0);
  const s = window.subarray(0, nul < 0 ? window.length : nul).toString('latin1');
  return s.startsWith('# Disk DescriptorFile') || /^\s*createType\s*=/m.test(s);
}
