// protect=START-END ranges (nbdkit's syntax): inclusive byte offsets in decimal, octal (0NN)
// or hex (0xNN), either end may be left out, and ~START-END protects everything outside.
import { repeatedValues } from '../../../shared/params.ts';

/** A protected range, both ends inclusive. */
export interface ProtectedRange {
  start: number;
  end: number;
}

const LAST = Number.MAX_SAFE_INTEGER;

function parseOffset(text: string, whole: string): number {
  const t = text.trim();
  const n = /^0x[0-9a-f]+$/i.test(t) ? Number(t) : /^0[0-7]+$/.test(t) ? parseInt(t, 8) : /^\d+$/.test(t) ? Number(t) : NaN;
  if (!Number.isSafeInteger(n)) throw new Error(`'${whole}': '${text}' is not an offset (decimal, 0NN octal or 0xNN hex)`);
  return n;
}

/** One START-END or ~START-END: up to two ranges. */
function parseOne(text: string): ProtectedRange[] {
  const negate = text.startsWith('~');
  const body = negate ? text.slice(1) : text;
  const dash = body.indexOf('-');
  if (dash < 0) throw new Error(`'${text}' is not START-END (missing '-')`);
  const start = body.slice(0, dash).trim() === '' ? 0 : parseOffset(body.slice(0, dash), text);
  const end = body.slice(dash + 1).trim() === '' ? LAST : parseOffset(body.slice(dash + 1), text);
  if (end < start) throw new Error(`'${text}': the end is before the start`);
  if (!negate) return [{ start, end }];
  const out: ProtectedRange[] = [];
  if (start > 0) out.push({ start: 0, end: start - 1 });
  if (end < LAST) out.push({ start: end + 1, end: LAST });
  return out;
}

/** Comma-separated ranges (several protect= keys, see `repeat`), sorted, with overlapping and adjacent ones merged. */
export function parseRanges(text: string): ProtectedRange[] {
  const all = repeatedValues(text).flatMap((t) => t.split(',')).filter((t) => t.trim() !== '').flatMap(parseOne).sort((a, b) => a.start - b.start);
  const merged: ProtectedRange[] = [];
  for (const r of all) {
    const last = merged[merged.length - 1];
    if (last && r.start <= last.end + 1) last.end = Math.max(last.end, r.end);
    else merged.push({ ...r });
  }
  return merged;
}

/** The protected parts of [offset, offset+count), as [from, to) pairs. */
export function protectedParts(ranges: readonly ProtectedRange[], offset: number, count: number): [number, number][] {
  const end = offset + count;
  const out: [number, number][] = [];
  for (const r of ranges) {
    const from = Math.max(r.start, offset);
    const to = Math.min(r.end + 1, end);
    if (to > from) out.push([from, to]);
  }
  return out;
}
