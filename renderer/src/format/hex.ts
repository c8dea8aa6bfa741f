// The hex view's rows: offset column, 16 bytes in hex, ASCII with dots for anything not
// printable, as hexdump -C and every hex editor print them.

export interface HexRow {
  offset: number;
  hex: string;
  ascii: string;
}

export const BYTES_PER_ROW = 16;

/** Printable ASCII as itself, anything else as '.'. */
export function asciiChar(b: number): string {
  return b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
}

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
        ascii += asciiChar(b);
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

/** A run of bytes the user picked, [start, end): anchor and focus in either order. */
export interface ByteRange {
  start: number;
  end: number;
}

/** The range from the byte the selection started at to the byte it reaches, both included. */
export function rangeBetween(anchor: number, focus: number): ByteRange {
  return { start: Math.min(anchor, focus), end: Math.max(anchor, focus) + 1 };
}

/** Bytes as two hex digits each, separated by `separator` ("de ad be ef" to copy, "deadbeef" for hex.search). */
export function hexDigits(bytes: Uint8Array, separator = ''): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(separator);
}

export type PatternMode = 'hex' | 'text';

/**
 * What the search field means: hex bytes ("de ad be ef", "DEADBEEF", "0xde 0xad", "de:ad")
 * or text, searched as its UTF-8 bytes.
 */
export function parsePattern(text: string, mode: PatternMode): { bytes: Uint8Array } | { error: string } {
  if (mode === 'text') {
    return text === '' ? { error: 'type the text to find' } : { bytes: new TextEncoder().encode(text) };
  }
  const digits = text.replace(/0x/gi, '').replace(/[\s:,-]/g, '');
  if (digits === '') return { error: 'type the bytes to find, in hex: de ad be ef' };
  if (!/^[0-9a-f]*$/i.test(digits)) return { error: `'${text.trim()}' is not hex bytes (example: de ad be ef)` };
  if (digits.length % 2 !== 0) return { error: 'hex bytes take two digits each (0a, not a)' };
  return { bytes: Uint8Array.from(digits.match(/../g)!, (h) => Number.parseInt(h, 16)) };
}

/** The end of a saved range's file name: -0x1000-0x1fff.bin (the last byte included, as hex editors name ranges). */
export function rangeSuffix(range: ByteRange): string {
  return `-0x${range.start.toString(16)}-0x${(range.end - 1).toString(16)}.bin`;
}
