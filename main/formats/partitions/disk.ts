// A disk seen through a ReadAt function, with every read checked against the disk size:
// tables are untrusted input, and a field pointing past the end must become a message
// about the table, not an out-of-range error from whatever layer sits below.
import type { ReadAt } from './types.ts';

export class Disk {
  readonly size: number;
  private readonly readAt: ReadAt;

  constructor(read: ReadAt, size: number) {
    this.readAt = read;
    this.size = size;
  }

  contains(offset: number, length: number): boolean {
    return Number.isSafeInteger(offset) && offset >= 0 && length >= 0 && offset + length <= this.size;
  }

  /** The bytes at [offset, offset+length), or null when that range is not inside the disk. */
  async read(offset: number, length: number): Promise<Buffer | null> {
    if (!this.contains(offset, length)) return null;
    return this.readAt(offset, length);
  }
}

/** A u64 field as a number, or null when it does not fit exactly (no disk is that big). */
export function readU64(buf: Buffer, at: number): number | null {
  const v = buf.readBigUInt64LE(at);
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : null;
}
