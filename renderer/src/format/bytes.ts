// Human and exact renderings of byte counts and offsets. The map shows both: "1.5 GiB" to
// read, the exact hex/decimal offset to paste into qemu-io or nbdsh.
import { scaleBytes } from '../../../shared/bytes.ts';

export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return '—';
  const scaled = scaleBytes(n);
  if (!scaled) return `${n} B`;
  const v = scaled.value;
  const digits = v >= 100 ? 0 : v >= 10 ? 1 : 2;
  const text = digits === 0 ? v.toFixed(0) : v.toFixed(digits).replace(/\.?0+$/, '');
  return `${text} ${scaled.unit}`;
}

/** Exact decimal with thin grouping: 1 073 741 824. */
export function formatExact(n: number): string {
  return Math.trunc(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f');
}

export function formatHex(n: number, width = 0): string {
  return '0x' + Math.trunc(n).toString(16).padStart(width, '0');
}

export function formatPercent(part: number, whole: number): string {
  if (whole <= 0) return '0%';
  const p = (part / whole) * 100;
  if (p > 0 && p < 0.1) return '<0.1%';
  // The rest of a disk that is almost all one kind: "100%" beside a non-zero other part would not add up.
  if (p < 100 && p > 99.9) return '>99.9%';
  const round = p === 0 || p === 100 || (p >= 10 && p < 99.5);
  return `${p.toFixed(round ? 0 : 1)}%`;
}
