// The hex view's rows: offset column, 16 bytes in hex, ASCII with dots for anything not
// printable, as hexdump -C and every hex editor print them.

export interface HexRow {
  offset: number;
  hex: string;
  ascii: string;
}

export const BYTES_PER_ROW = 16;

export function hexRows(bytes: Uint8Array, baseOffset: number): HexRow[] {
  const rows: HexRow[] = [];
  for (let at = 0; at < bytes.length; at += BYTES_PER_ROW) {
    const chunk = bytes.subarray(at, at + BYTES_PER_ROW);
    const hexParts: string[] = [];
    let ascii = '';
    for (let k = 0; k < BYTES_PER_ROW; k++) {
      if (k < chunk.length) {
        const b = chunk[k]!;
        hexParts.push(b.toString(16).padStart(2, '0'));
        ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
      } else {
        hexParts.push('  ');
      }
    }
    // The extra space after byte 8 is the one landmark the eye uses to count columns.
    const hex = hexParts.slice(0, 8).join(' ') + '  ' + hexParts.slice(8).join(' ');
    rows.push({ offset: baseOffset + at, hex, ascii });
  }
  return rows;
}

/** Whether a row is all zero bytes, so long zero runs can be folded like hexdump's "*". */
export function isZeroRow(bytes: Uint8Array, at: number): boolean {
  for (let k = at; k < Math.min(bytes.length, at + BYTES_PER_ROW); k++) if (bytes[k] !== 0) return false;
  return true;
}
