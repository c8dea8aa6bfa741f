// nbdkit's pattern: every 8-byte big-endian word holds its own offset, so any byte can be
// checked without a reference copy. The byte at offset o is byte (o & 7) of the BE u64 (o & ~7).

const TWO_32 = 2 ** 32;

/** The byte a pattern disk holds at `offset` (an exact integer < 2^53). */
export function patternByte(offset: number): number {
  const k = offset % 8;
  const word = offset - k;
  const half = k < 4 ? Math.floor(word / TWO_32) : word % TWO_32;
  return (half >>> (24 - 8 * (k & 3))) & 0xff;
}

/** Fill `buf` with the pattern bytes of [offset, offset + buf.length), a word at a time. */
export function fillPattern(buf: Buffer, offset: number): void {
  const end = buf.length;
  let i = 0;
  while (i < end && (offset + i) % 8 !== 0) {
    buf[i] = patternByte(offset + i);
    i++;
  }
  const first = offset + i;
  let hi = Math.floor(first / TWO_32);
  let lo = first % TWO_32;
  const words = Math.floor((end - i) / 8);
  const view = new DataView(buf.buffer, buf.byteOffset + i, words * 8);
  for (let at = 0; at < words * 8; at += 8) {
    view.setUint32(at, hi);
    view.setUint32(at + 4, lo);
    lo += 8;
    if (lo >= TWO_32) {
      lo -= TWO_32;
      hi++;
    }
  }
  i += words * 8;
  for (; i < end; i++) buf[i] = patternByte(offset + i);
}
