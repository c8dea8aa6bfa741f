import { QCOW2_MAGIC } from './header.ts';

/** By magic alone, so that an unsupported version gets a clear error rather than "raw". */
export function isQcow2(head: Buffer): boolean {
  return head.length >= 4 && head.readUInt32BE(0) === QCOW2_MAGIC;
}
