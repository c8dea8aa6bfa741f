// "Go to offset": what the field accepts (0x1f000, 1048576, 1.5G, 512K, 10s sectors) and the
// view that shows the offset in the middle of the map, close enough to see its block.
import { parseSize } from '../../../shared/params.ts';
import { formatBytes } from '../format/bytes.ts';
import { centreOn, minSpan, type View } from './viewport.ts';

/** The byte offset typed, or why it is not one on this disk. */
export function parseGoTo(text: string, size: number): { offset: number } | { error: string } {
  const t = text.trim().replace(/[_\s\u202f]/g, '');
  if (t === '') return { error: 'type an offset: 0x1f000, 1048576, 1.5G or 512K' };
  let offset: number;
  if (/^0x[0-9a-f]+$/i.test(t)) {
    offset = Number.parseInt(t.slice(2), 16);
  } else {
    try {
      offset = parseSize(t);
    } catch {
      return { error: `'${text.trim()}' is not an offset (examples: 0x1f000, 1048576, 1.5G, 512K)` };
    }
  }
  if (!Number.isSafeInteger(offset)) return { error: `'${text.trim()}' is too large` };
  if (offset >= size) return { error: `${formatBytes(offset)} is past the end of the ${formatBytes(size)} disk` };
  return { offset };
}

/**
 * The view centred on `offset`: the current zoom when it is close enough, else zoomed in to
 * 1/64 of the disk (never below the narrowest view), so the block is found, not a pixel.
 */
export function viewAround(view: View, offset: number, size: number): View {
  const span = Math.min(view.end - view.start, Math.max(minSpan(size), Math.round(size / 64)));
  return centreOn({ start: 0, end: span }, offset, size);
}
