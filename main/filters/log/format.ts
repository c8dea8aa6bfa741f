// nbdkit-log-filter's line format, so parsers written for nbdkit's logs read ours: a local
// timestamp with microseconds, "connection=N", the action, key=value fields (numbers in hex,
// strings shell-quoted), and "..." marking a call whose result follows on a later line.
import { EXTENT_HOLE, EXTENT_ZERO, type Extent } from '../../../shared/extents.ts';

/** "2020-08-06 02:07:23.080415", local time as nbdkit prints it. */
export function logTimestamp(date: Date, micros = date.getMilliseconds() * 1000): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())} ` +
    `${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())}.${p(micros, 6)}`;
}

const SAFE = /^[A-Za-z0-9%+,\-./:=@_]+$/;

/** nbdkit's shell quoting: bare when every character is safe, else in double quotes. */
export function shellQuote(text: string): string {
  if (SAFE.test(text)) return text;
  return `"${text.replace(/[$`\\"]/g, (c) => `\\${c}`)}"`;
}

export const hex = (n: number): string => `0x${n.toString(16)}`;

/** nbdkit's extent type words: "" for data, "hole", "zero", "hole,zero". */
function extentType(flags: number): string {
  const words = [];
  if (flags & EXTENT_HOLE) words.push('hole');
  if (flags & EXTENT_ZERO) words.push('zero');
  return words.join(',');
}

/** extents=(0x0 0x8000 "" 0x8000 0x8000 "hole,zero") */
export function formatExtents(list: readonly Extent[]): string {
  return `(${list.map((e) => `${hex(e.offset)} ${hex(e.length)} "${extentType(e.flags)}"`).join(' ')})`;
}
