// The renderer's form of one map.bins answer: per bin, how many bytes of each class it holds,
// in parallel typed arrays so the painter walks a 4000-bin answer without an object per bin.
// Bin edges come from shared/bins.ts, the same cut main counts with.
import { BIN_DATA, BIN_HOLE, BIN_HOLE_UNDEFINED, BIN_STRIDE, BIN_UNKNOWN, BIN_ZERO, binEdge } from '../../../shared/bins.ts';
import type { MapBins } from '../../../shared/ipc.ts';

export interface BinCounts {
  start: number;
  end: number;
  count: number;
  data: Float64Array;
  zero: Float64Array;
  hole: Float64Array;
  holeUndefined: Float64Array;
  /** Not scanned yet. */
  unknown: Float64Array;
  /**
   * Bytes of data held by each backing layer (index 0 = first backing file), when the
   * engine reports allocation depth. Data of the top layer stays in `data`.
   */
  backing?: Float64Array[];
}

export function emptyBins(start: number, end: number, count: number): BinCounts {
  return {
    start,
    end,
    count,
    data: new Float64Array(count),
    zero: new Float64Array(count),
    hole: new Float64Array(count),
    holeUndefined: new Float64Array(count),
    unknown: new Float64Array(count),
  };
}

/**
 * Unpacks the contract's flat counts (BIN_STRIDE numbers per bin) and, when the reply has
 * them, the bytes each backing file holds, which the contract counts inside data and the
 * painter wants apart from it.
 */
export function binsFromReply(reply: MapBins): BinCounts {
  const b = emptyBins(reply.start, reply.end, reply.bins);
  const c = reply.counts;
  const layers = reply.backing ? (reply.backingLayers ?? 0) : 0;
  const held = reply.backing ?? [];
  if (layers > 0) b.backing = Array.from({ length: layers }, () => new Float64Array(reply.bins));
  for (let i = 0; i < reply.bins; i++) {
    const at = i * BIN_STRIDE;
    let data = c[at + BIN_DATA] ?? 0;
    for (let k = 0; k < layers; k++) {
      const bytes = held[i * layers + k] ?? 0;
      b.backing![k]![i] = bytes;
      data -= bytes;
    }
    b.data[i] = Math.max(0, data);
    b.zero[i] = c[at + BIN_ZERO] ?? 0;
    b.hole[i] = c[at + BIN_HOLE] ?? 0;
    b.holeUndefined[i] = c[at + BIN_HOLE_UNDEFINED] ?? 0;
    b.unknown[i] = c[at + BIN_UNKNOWN] ?? 0;
  }
  return b;
}

export type BinKind = 'data' | 'zero' | 'hole' | 'hole-undefined' | 'unknown' | 'backing' | 'mixed' | 'empty';

export interface BinSummary {
  from: number;
  to: number;
  data: number;
  zero: number;
  hole: number;
  holeUndefined: number;
  unknown: number;
  backing: number[];
  /** The one kind the bin holds, or 'mixed'. */
  kind: BinKind;
}

export function summariseBin(bins: BinCounts, i: number): BinSummary {
  const from = binEdge(bins.start, bins.end, bins.count, i);
  const to = binEdge(bins.start, bins.end, bins.count, i + 1);
  const data = bins.data[i] ?? 0;
  const zero = bins.zero[i] ?? 0;
  const hole = bins.hole[i] ?? 0;
  const holeUndefined = bins.holeUndefined[i] ?? 0;
  const unknown = bins.unknown[i] ?? 0;
  const backing = (bins.backing ?? []).map((layer) => layer[i] ?? 0);
  const byKind: [BinKind, number][] = [
    ['data', data],
    ['backing', backing.reduce((a, b) => a + b, 0)],
    ['zero', zero],
    ['hole', hole],
    ['hole-undefined', holeUndefined],
    ['unknown', unknown],
  ];
  const present = byKind.filter(([, v]) => v > 0);
  const kind: BinKind = present.length === 0 ? 'empty' : present.length === 1 ? present[0]![0] : 'mixed';
  return { from, to, data, zero, hole, holeUndefined, unknown, backing, kind };
}
