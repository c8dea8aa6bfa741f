// The data inspector's readings of the bytes at the cursor: the integers every hex editor
// shows in both byte orders, the two IEEE floats, a GUID in the mixed-endian layout GPT and
// Windows store (first three fields little-endian, the last eight bytes as they are), and
// the bytes as ASCII and as UTF-8. A reading needs its full width: shorter input leaves it out.
import { asciiChar } from './hex.ts';

export interface Reading {
  label: string;
  /** Little-endian, or the only value for one byte and for text. */
  le: string;
  /** Big-endian, for multi-byte numbers. */
  be?: string;
}

/** How many bytes the inspector looks at: a GUID's width. */
export const INSPECT_BYTES = 16;

type Read = (view: DataView, littleEndian: boolean) => number | bigint;

const NUMBERS: readonly { label: string; width: number; read: Read }[] = [
  { label: 'u16', width: 2, read: (v, le) => v.getUint16(0, le) },
  { label: 'i16', width: 2, read: (v, le) => v.getInt16(0, le) },
  { label: 'u32', width: 4, read: (v, le) => v.getUint32(0, le) },
  { label: 'i32', width: 4, read: (v, le) => v.getInt32(0, le) },
  { label: 'u64', width: 8, read: (v, le) => v.getBigUint64(0, le) },
  { label: 'i64', width: 8, read: (v, le) => v.getBigInt64(0, le) },
  { label: 'f32', width: 4, read: (v, le) => v.getFloat32(0, le) },
  { label: 'f64', width: 8, read: (v, le) => v.getFloat64(0, le) },
];

export function inspect(bytes: Uint8Array): Reading[] {
  if (bytes.length === 0) return [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Reading[] = [
    { label: 'u8', le: String(bytes[0]) },
    { label: 'i8', le: String(view.getInt8(0)) },
  ];
  for (const n of NUMBERS) {
    if (bytes.length < n.width) continue;
    out.push({ label: n.label, le: String(n.read(view, true)), be: String(n.read(view, false)) });
  }
  const guid = formatGuid(bytes);
  if (guid) out.push({ label: 'GUID', le: guid });
  out.push({ label: 'ASCII', le: asciiText(bytes.subarray(0, INSPECT_BYTES)) });
  out.push({ label: 'UTF-8', le: utf8Text(bytes.subarray(0, INSPECT_BYTES)) });
  return out;
}

const hex2 = (b: number) => b.toString(16).padStart(2, '0');

/** 16 bytes as a GUID, upper case as GPT tools print it; null when fewer bytes are given. */
export function formatGuid(bytes: Uint8Array): string | null {
  if (bytes.length < 16) return null;
  const b = [...bytes.subarray(0, 16)].map(hex2);
  const le = (from: number, to: number) => b.slice(from, to).reverse().join('');
  const text = `${le(0, 4)}-${le(4, 6)}-${le(6, 8)}-${b.slice(8, 10).join('')}-${b.slice(10, 16).join('')}`;
  return text.toUpperCase();
}

/** Printable ASCII as itself, everything else as '.' (the hex view's right column). */
export function asciiText(bytes: Uint8Array): string {
  return Array.from(bytes, asciiChar).join('');
}

/** UTF-8 with invalid sequences as U+FFFD and control characters as '.', so the row stays one line. */
export function utf8Text(bytes: Uint8Array): string {
  // eslint-disable-next-line no-control-regex
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes).replace(/[\u0000-\u001f\u007f-\u009f]/g, '.');
}
