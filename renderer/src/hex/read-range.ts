// Reading a range of any length through the chain in hex.read-sized pieces, and putting
// text on the clipboard: what copy and save need beyond the bytes on screen.
import { decodeBase64, HEX_READ_MAX, SAVE_FILE_MAX } from '../../../shared/ipc.ts';
import { formatBytes } from '../format/bytes.ts';
import { exportName, saveExport } from '../app/download.ts';
import { hexDigits, rangeSuffix, type ByteRange } from '../format/hex.ts';
import { asciiText } from '../format/inspector.ts';
import { transport } from '../transport/index.ts';

/** The largest range saved to a file: what Electron's save dialog channel carries as base64. */
export const SAVE_MAX = (SAVE_FILE_MAX / 4) * 3;
/** The largest range copied: the clipboard gets three characters per byte as hex. */
export const COPY_MAX = 1024 * 1024;

/** Why `range` is too long for `what`, or null when it is not. */
export function tooLong(range: ByteRange, max: number, what: string): string | null {
  const n = range.end - range.start;
  return n > max ? `cannot ${what} ${formatBytes(n)}: select at most ${formatBytes(max)}` : null;
}

export async function readRange(imageId: string, range: ByteRange): Promise<Uint8Array> {
  const out = new Uint8Array(range.end - range.start);
  for (let at = range.start; at < range.end; at += HEX_READ_MAX) {
    const r = await transport().invoke('hex.read', { imageId, offset: at, length: Math.min(HEX_READ_MAX, range.end - at) });
    out.set(decodeBase64(r.base64), at - range.start);
  }
  return out;
}

/** navigator.clipboard where the page may use it (secure contexts), else the old execCommand path. */
export async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    return;
  } catch {
    // Plain http on another host, or permission refused: fall through.
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.append(area);
  area.select();
  const ok = document.execCommand('copy');
  area.remove();
  if (!ok) throw new Error('the browser refused to copy');
}

/** Copies the range as "de ad be ef" or as its ASCII column; answers what the status line says. */
export async function copyRange(imageId: string, range: ByteRange, as: 'hex' | 'text'): Promise<string> {
  const refused = tooLong(range, COPY_MAX, 'copy');
  if (refused) return refused;
  const bytes = await readRange(imageId, range);
  await copyText(as === 'hex' ? hexDigits(bytes, ' ') : asciiText(bytes));
  return `copied ${bytes.length} ${bytes.length === 1 ? 'byte' : 'bytes'} as ${as}`;
}

/** Saves the range as `<image>-0x<first>-0x<last>.bin`; answers what the status line says. */
export async function saveRange(imageId: string, title: string, range: ByteRange): Promise<string> {
  const refused = tooLong(range, SAVE_MAX, 'save');
  if (refused) return refused;
  const bytes = await readRange(imageId, range);
  const name = exportName(title, rangeSuffix(range));
  // Electron asks where (its save dialog); the browser downloads under `name`.
  const path = await saveExport({ name, blob: new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }) }, transport());
  return `saved ${formatBytes(bytes.length)} as ${path ?? name}`;
}
