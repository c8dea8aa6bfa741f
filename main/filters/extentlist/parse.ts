// The extentlist file (nbdkit-extentlist-filter): "offset length [type]" a line, sizes in
// nbdkit's syntax, type an integer or "hole"/"zero" words (missing = data). Entries may come
// in any order but must not overlap; gaps, and everything after the last entry, are holes.
import { EXTENT_HOLE, EXTENT_HOLE_ZERO, EXTENT_ZERO, type Extent } from '../../../shared/extents.ts';
import { parseSize } from '../../../shared/params.ts';

/** The last extent runs on past any disk, as nbdkit's runs to INT64_MAX. */
const FOREVER = Number.MAX_SAFE_INTEGER;

function parseType(word: string | undefined, where: string): number {
  if (word === undefined) return 0;
  if (/^\d+$/.test(word)) {
    const n = Number(word);
    if (n > 3) throw new Error(`${where}: type ${word} has bits other than hole (1) and zero (2)`);
    return n;
  }
  let flags = 0;
  for (const w of word.split(',')) {
    if (w === 'hole') flags |= EXTENT_HOLE;
    else if (w === 'zero') flags |= EXTENT_ZERO;
    else if (w !== '') throw new Error(`${where}: unknown extent type '${w}' (expected hole, zero or a number)`);
  }
  return flags;
}

/** Sorted, gap-free extents from 0 to FOREVER. Throws with the line number on a bad line. */
export function parseExtentList(text: string, file = 'extentlist'): Extent[] {
  const given: Extent[] = [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((raw, i) => {
    const line = raw.trim();
    const where = `${file}:${i + 1}`;
    // nbdkit refuses blank and comment lines too: a file it rejects is rejected here.
    if (line === '') throw new Error(`${where}: empty line`);
    const [off, len, type, extra] = line.split(/\s+/);
    if (len === undefined || extra !== undefined) throw new Error(`${where}: expected "offset length [type]", got '${line}'`);
    const size = (t: string) => {
      try {
        return parseSize(t);
      } catch (err) {
        throw new Error(`${where}: ${(err as Error).message}`, { cause: err });
      }
    };
    given.push({ offset: size(off!), length: size(len), flags: parseType(type, where) });
  });
  given.sort((a, b) => a.offset - b.offset);
  const out: Extent[] = [];
  let pos = 0;
  for (const e of given) {
    if (e.length === 0) continue;
    if (e.offset < pos) throw new Error(`${file}: the extents at ${e.offset} and before it overlap`);
    if (e.offset > pos) out.push({ offset: pos, length: e.offset - pos, flags: EXTENT_HOLE_ZERO });
    out.push(e);
    pos = e.offset + e.length;
  }
  out.push({ offset: pos, length: FOREVER - pos, flags: EXTENT_HOLE_ZERO });
  return out;
}

/** The entries of a sorted list that overlap [offset, offset+count), by binary search. */
export function extentsIn(list: readonly Extent[], count: number, offset: number): Extent[] {
  let lo = 0;
  let hi = list.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (list[mid]!.offset <= offset) lo = mid;
    else hi = mid - 1;
  }
  const out: Extent[] = [];
  for (let i = lo; i < list.length && list[i]!.offset < offset + count; i++) out.push(list[i]!);
  return out;
}
