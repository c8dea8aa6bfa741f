// Property: whatever replaces land on an allocation model (as runs or as columns, with or
// without depths, with reserves and trims between them), its runs and its bins are those of
// a byte-per-byte model of the same replaces: every run coalesced, every bin exact.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BIN_DATA, BIN_STRIDE, BIN_UNKNOWN, backingLayerOfDepth, binEdge } from '../../shared/bins.ts';
import { propertyParams } from '../testing/property-params.ts';
import { AllocationModel, RunColumns, type Run } from './allocation-model.ts';

const SIZE = 300;

type Op =
  | { kind: 'replace'; start: number; pieces: { length: number; cls: number; depth?: number }[]; columns: boolean }
  | { kind: 'reserve'; runs: number }
  | { kind: 'trim' };

// Few classes and depths, and most replaces on a 25-byte grid, so that new runs often meet
// old ones exactly at their ends with the same class: the merges the model must make.
const pieceArb = (unit: number) =>
  fc.record(
    { length: fc.integer({ min: 1, max: 4 }).map((n) => n * unit), cls: fc.integer({ min: 0, max: BIN_UNKNOWN }), depth: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }) },
    { requiredKeys: ['length', 'cls'] },
  );
const replaceArb = fc.constantFrom(1, 7, 25, 25).chain((unit) =>
  fc.record({ kind: fc.constant('replace' as const), start: fc.nat(Math.ceil(SIZE / unit) - 1).map((k) => k * unit), pieces: fc.array(pieceArb(unit), { minLength: 1, maxLength: 8 }), columns: fc.boolean() }),
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: replaceArb },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reserve' as const), runs: fc.nat(400) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('trim' as const) }) },
);

/** The pieces laid from `start`, the last one cut at the disk's end. */
function runsOf(start: number, pieces: { length: number; cls: number; depth?: number }[]): Run[] {
  const runs: Run[] = [];
  let pos = start;
  for (const p of pieces) {
    const length = Math.min(p.length, SIZE - pos);
    if (length <= 0) break;
    runs.push(p.depth === undefined ? { offset: pos, length, cls: p.cls } : { offset: pos, length, cls: p.cls, depth: p.depth });
    pos += length;
  }
  return runs;
}

/** Byte-per-byte: [cls, depth] of every byte, depth -1 when unknown. */
function referenceOf(ops: Op[]): [number, number][] {
  const bytes: [number, number][] = Array.from({ length: SIZE }, () => [BIN_UNKNOWN, -1]);
  for (const op of ops) {
    if (op.kind !== 'replace') continue;
    for (const r of runsOf(op.start, op.pieces)) for (let b = r.offset; b < r.offset + r.length; b++) bytes[b] = [r.cls, r.depth ?? -1];
  }
  return bytes;
}

function coalesced(bytes: [number, number][]): [number, number, number, number][] {
  const out: [number, number, number, number][] = [];
  bytes.forEach(([cls, depth], b) => {
    const last = out[out.length - 1];
    if (last && last[2] === cls && last[3] === depth) last[1]++;
    else out.push([b, 1, cls, depth]);
  });
  return out;
}

/** Bins as the model counts them: data held by a backing file counts as data. */
function referenceBins(bytes: [number, number][], start: number, end: number, bins: number): number[] {
  const counts = new Array<number>(bins * BIN_STRIDE).fill(0);
  for (let i = 0; i < bins; i++) {
    for (let b = binEdge(start, end, bins, i); b < binEdge(start, end, bins, i + 1); b++) counts[i * BIN_STRIDE + bytes[b]![0]]!++;
  }
  return counts;
}

function apply(model: AllocationModel, op: Op): void {
  if (op.kind === 'reserve') model.reserve(op.runs);
  else if (op.kind === 'trim') model.trim();
  else {
    const runs = runsOf(op.start, op.pieces);
    const end = runs[runs.length - 1]!.offset + runs[runs.length - 1]!.length;
    if (!op.columns) return model.replace(op.start, end, runs);
    const cols = new RunColumns(2);
    for (const r of runs) cols.push(r.offset, r.cls, r.depth);
    model.replaceColumns(op.start, end, cols);
  }
}

describe('AllocationModel (property)', () => {
  it('holds the runs and bins of a byte-per-byte model after any replaces', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 30 }), fc.nat(SIZE - 1), fc.integer({ min: 1, max: SIZE }), fc.integer({ min: 1, max: 17 }), (ops, a, span, bins) => {
        const model = new AllocationModel(SIZE);
        for (const op of ops) apply(model, op);
        const bytes = referenceOf(ops);
        const runs = [...model.runs()].map((r) => [r.offset, r.length, r.cls, r.depth ?? -1]);
        expect(runs).toEqual(coalesced(bytes));
        const end = Math.min(SIZE, a + span);
        expect(model.bins(a, end, bins)).toEqual(referenceBins(bytes, a, end, bins));
        const held = bytes.filter(([cls, depth]) => cls === BIN_DATA && depth >= 0).map(([, depth]) => backingLayerOfDepth(depth));
        // Room for a backing file stays once its data was seen, even if since replaced.
        const seen = ops.flatMap((op) => (op.kind === 'replace' ? runsOf(op.start, op.pieces) : []));
        const layers = Math.max(0, ...seen.filter((r) => r.cls === BIN_DATA && r.depth !== undefined).map((r) => backingLayerOfDepth(r.depth!)));
        const backing = model.layeredTotals().backing;
        expect(backing).toEqual(Array.from({ length: layers }, (_, k) => held.filter((l) => l === k + 1).length));
      }),
      propertyParams(300),
    );
  });
});
