// The write path as a model: random requests (write, write with FUA, write zeroes with and
// without NO_HOLE / FAST_ZERO, trim, flush, cache, read) placed on an export, grouped into
// batches that run at once on different connections, and what each outcome does to the
// expected bytes. Requests in a batch touch disjoint ranges, so the model after a batch
// does not depend on the order the server ran them in.
import fc from 'fast-check';
import { CMD_FLAG, type ExportInfo } from './nbd-rpc.ts';
import { fractionArb, seededBytes } from './sparse-image.ts';

export type OpKind = 'write' | 'write-fua' | 'zero' | 'zero-no-hole' | 'zero-fast' | 'zero-fua' | 'trim' | 'flush' | 'cache' | 'read';

export interface OpSpec {
  kind: OpKind;
  connection: number;
  /** Start as a fraction of the export in 1/65536ths, then rounded down to `align`. */
  at: number;
  length: number;
  align: number;
  seed: number;
}

export const opArb: fc.Arbitrary<OpSpec> = fc.record({
  kind: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('write' as const, 'read' as const) },
    { weight: 3, arbitrary: fc.constantFrom('write-fua' as const, 'zero' as const, 'zero-no-hole' as const, 'zero-fast' as const, 'zero-fua' as const, 'trim' as const) },
    { weight: 1, arbitrary: fc.constantFrom('flush' as const, 'cache' as const) },
  ),
  connection: fc.nat(2),
  // Some requests crowd the first few KiB, so that requests in flight together share
  // filesystem and cow blocks.
  at: fc.oneof(fractionArb, fc.integer({ min: 0, max: 64 })),
  length: fc.oneof(fc.integer({ min: 1, max: 4096 }), fc.integer({ min: 1, max: 256 << 10 })),
  align: fc.constantFrom(1, 512, 4096, 65536),
  seed: fc.integer({ min: 1, max: 0x7fffffff }),
});

/**
 * Every scenario ends with a write at an odd offset and length, a flush on the same
 * connection, and a read of the same bytes on the next one: the write path end to end,
 * whatever the random requests before it were (and over every transport, however few
 * cases it runs).
 */
export const FLUSH_AND_REREAD: readonly OpSpec[] = [
  { kind: 'write', connection: 0, at: 0x5555, length: 3001, align: 1, seed: 77 },
  { kind: 'flush', connection: 0, at: 0, length: 0, align: 1, seed: 0 },
  { kind: 'read', connection: 1, at: 0x5555, length: 3001, align: 1, seed: 0 },
];

export interface PlacedOp {
  kind: OpKind;
  connection: number;
  offset: number;
  count: number;
  flags: number;
  /** The bytes of a write. */
  data: Buffer | null;
}

const FLAGS: Partial<Record<OpKind, number>> = {
  'write-fua': CMD_FLAG.FUA,
  'zero-no-hole': CMD_FLAG.NO_HOLE,
  'zero-fast': CMD_FLAG.FAST_ZERO,
  'zero-fua': CMD_FLAG.FUA,
};

/** Whether the export can take this request at all (libnbd refuses flags it did not advertise). */
function supported(kind: OpKind, info: ExportInfo): boolean {
  switch (kind) {
    case 'write-fua':
    case 'zero-fua':
      return info.fua;
    case 'zero':
    case 'zero-no-hole':
      return info.zero;
    case 'zero-fast':
      return info.zero && info.fastZero;
    case 'trim':
      return info.trim;
    case 'flush':
      return info.flush;
    case 'cache':
      return info.cache;
    default:
      return true;
  }
}

/** Concrete requests for an export of `size` bytes served to `connections` clients. */
export function placeOps(specs: readonly OpSpec[], size: number, connections: number, info: ExportInfo): PlacedOp[] {
  return specs.filter((s) => supported(s.kind, info)).map((s) => {
    const raw = Math.floor(((size - 1) * s.at) / 0x10000);
    const offset = raw - (raw % s.align);
    const count = Math.min(size - offset, s.length);
    const data = s.kind === 'write' || s.kind === 'write-fua' ? seededBytes(s.seed, count) : null;
    return { kind: s.kind, connection: s.connection % connections, offset, count, flags: FLAGS[s.kind] ?? 0, data };
  });
}

const overlaps = (a: PlacedOp, b: PlacedOp) => a.kind !== 'flush' && b.kind !== 'flush' && a.offset < b.offset + b.count && b.offset < a.offset + a.count;

/**
 * Consecutive requests grouped into batches of at most one per connection and no two
 * touching the same bytes; a request that would break either rule starts the next batch.
 */
export function batches(ops: readonly PlacedOp[]): PlacedOp[][] {
  const out: PlacedOp[][] = [];
  let current: PlacedOp[] = [];
  for (const op of ops) {
    if (current.some((o) => o.connection === op.connection || overlaps(o, op))) {
      out.push(current);
      current = [];
    }
    current.push(op);
  }
  if (current.length > 0) out.push(current);
  return out;
}

export type Outcome = { ok: true } | { ok: false; errno: string | null; message: string };

/**
 * Apply a finished request to `model`, or say why its outcome is wrong. `zeroTailFrom`:
 * export bytes from there on take only zeroes (a truncate tail), so a write with other bytes
 * there fails with ENOSPC and writes nothing. FAST_ZERO may fail with ENOTSUP, writing
 * nothing. Trim reads back as zeroes on every stack these tests serve.
 */
export function applyOutcome(model: Buffer, op: PlacedOp, outcome: Outcome, zeroTailFrom: number): string | null {
  const what = `${op.kind} [${op.offset}, ${op.offset + op.count}) on connection ${op.connection}`;
  const tailData = op.data !== null && op.data.subarray(Math.max(0, zeroTailFrom - op.offset)).some((b) => b !== 0);
  if (!outcome.ok) {
    if (tailData && outcome.errno === 'ENOSPC') return null;
    if (op.kind === 'zero-fast' && outcome.errno === 'ENOTSUP') return null;
    return `${what} failed: ${outcome.message}`;
  }
  if (tailData) return `${what} wrote data past the end of the disk below (from ${zeroTailFrom}) and did not fail with ENOSPC`;
  if (op.data) op.data.copy(model, op.offset);
  else if (op.kind.startsWith('zero') || op.kind === 'trim') model.fill(0, op.offset, op.offset + op.count);
  return null;
}
