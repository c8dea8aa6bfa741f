// What share of a hovered pixel's bytes is data, said exactly: the map draws a little data at a
// visible minimum (paint.ts dataMinimum), so the readout must give the true proportion, with
// enough digits that one 4 KiB block in a 64 MiB pixel does not read as 0%.
import { formatBytes } from '../format/bytes.ts';
import type { BinSummary } from './bins.ts';

/** `part` of `whole` as a percentage: two significant digits below 1%, never 0% or 100% unless exact. */
export function formatShare(part: number, whole: number): string {
  if (whole <= 0 || part <= 0) return '0%';
  if (part >= whole) return '100%';
  const p = (part / whole) * 100;
  if (p < 1) return `${p.toPrecision(2)}%`;
  const text = p.toFixed(2).replace(/\.?0+$/, '');
  return Number(text) >= 100 ? '>99.99%' : `${text}%`;
}

/** One share: a name, its bytes and the pixel's span. */
export interface Share {
  name: string;
  bytes: number;
  span: number;
}

/** The data a bin holds: the image's own, then each backing file's, leaving out those holding none. */
export function dataShares(bin: BinSummary): Share[] {
  const span = bin.to - bin.from;
  const shares: Share[] = [{ name: 'data', bytes: bin.data, span }];
  bin.backing.forEach((bytes, k) => shares.push({ name: `backing ${k + 1}`, bytes, span }));
  return shares.filter((s) => s.bytes > 0);
}

/** "data 0.0061% (4 KiB of 64 MiB)". */
export function shareWords(share: Share): string {
  return `${share.name} ${formatShare(share.bytes, share.span)} (${formatBytes(share.bytes)} of ${formatBytes(share.span)})`;
}
