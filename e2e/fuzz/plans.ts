// What a fuzz session does, as data fast-check can generate and shrink: a handshake (options,
// valid, mangled or unknown, pipelined or not), then transmission batches (requests near
// every boundary, mostly valid, some not), then an ending (clean or abrupt). Offsets are
// kept relative to the export's size so one plan means the same thing on every export.
import fc from 'fast-check';
import { CMD, CMD_FLAG, OPT } from '../../main/nbd/protocol.ts';

export type OptionPlan =
  | { op: 'structured' | 'list'; junk: Buffer | null }
  | { op: 'info' | 'go'; name: string; requests: number[] }
  | { op: 'list-meta' | 'set-meta'; name: string; queries: string[] }
  | { op: 'starttls' | 'abort' }
  | { op: 'export-name'; name: string }
  /** An option we do not know, or one we know with random data. */
  | { op: 'raw'; option: number; data: Buffer };

export type HandshakeEnd = 'abort' | 'hangup' | 'cut' | 'bad-magic' | 'too-long';

export interface HandshakePlan {
  clientFlags: number;
  pipelined: boolean;
  options: OptionPlan[];
  /** What the client does if the options run out before transmission. */
  end: HandshakeEnd;
}

/** An offset: from the start, from the end of the export, or a value no export reaches. */
export type Place = { from: 'start' | 'end'; delta: number } | { absolute: bigint };

export interface RequestPlan {
  type: number;
  flags: number;
  offset: Place;
  length: number;
}

export type TransmissionEnd = 'disc' | 'hangup' | 'cut-request' | 'short-write' | 'bad-magic' | 'never-read' | 'mutated';

export interface TransmissionPlan {
  batches: { requests: RequestPlan[]; pipelined: boolean }[];
  end: TransmissionEnd;
  /** For 'mutated': bytes of a READ header overwritten (index, value), then trailing junk. */
  mutation: { flips: [number, number][]; tail: Buffer };
}

export interface SessionPlan {
  transport: 'tcp' | 'unix';
  /** Send each message in pieces of these sizes (cycled), one event-loop turn apart. */
  pieces: number[] | null;
  handshake: HandshakePlan;
  transmission: TransmissionPlan;
}

const EXPORT_NAMES = ['', 'pattern', 'sparse', 'cow', 'no-extents'];
const nameArb = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(...EXPORT_NAMES) },
  { weight: 1, arbitrary: fc.constantFrom('nope', 'PATTERN', 'sparse\0', '/', 'é') },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);
const queryArb = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('base:allocation', 'qemu:allocation-depth') },
  { weight: 3, arbitrary: fc.constantFrom('base:', 'qemu:', 'base:nope', 'x-unknown:thing', '', 'base', ':') },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
);
const bytesArb = (max: number) => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));
/** Mostly null: fc.option's freq is the odds of null, so weights say it plainly. */
const rarely = <T>(arb: fc.Arbitrary<T>, odds: number): fc.Arbitrary<T | null> =>
  fc.oneof({ weight: odds - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arb });
const junkArb = rarely(bytesArb(8).filter((b) => b.length > 0), 8);

const optionArb: fc.Arbitrary<OptionPlan> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('structured' as const), junk: junkArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('list' as const), junk: junkArb }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constantFrom('info' as const, 'go' as const), name: nameArb, requests: fc.array(fc.oneof(fc.constantFrom(0, 1, 2, 3), fc.integer({ min: 0, max: 0xffff })), { maxLength: 5 }) }) },
  { weight: 6, arbitrary: fc.record({ op: fc.constantFrom('list-meta' as const, 'set-meta' as const), name: nameArb, queries: fc.array(queryArb, { maxLength: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constantFrom('starttls' as const, 'abort' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('export-name' as const), name: nameArb }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('raw' as const),
      option: fc.oneof(fc.constantFrom(OPT.PEEK_EXPORT, OPT.INFO, OPT.GO, OPT.LIST_META_CONTEXT, OPT.SET_META_CONTEXT, OPT.EXTENDED_HEADERS, 12, 0), fc.integer({ min: 0, max: 0xffffffff })),
      data: bytesArb(40),
    }),
  },
);

/** Options that choose an export, placed so most sessions reach transmission. */
const goArb: fc.Arbitrary<OptionPlan> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ op: fc.constant('go' as const), name: fc.constantFrom(...EXPORT_NAMES), requests: fc.constantFrom<number[]>([], [3], [0, 1, 2, 3]) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('export-name' as const), name: fc.constantFrom(...EXPORT_NAMES) }) },
);

/** Negotiate what real clients do (structured replies, base:allocation) more often than not. */
const usualPrefixArb = (name: string): OptionPlan[] => [
  { op: 'structured', junk: null },
  { op: 'set-meta', name, queries: ['base:allocation', 'qemu:allocation-depth'] },
];

const handshakeArb: fc.Arbitrary<HandshakePlan> = fc.record({
  clientFlags: fc.oneof({ weight: 20, arbitrary: fc.constantFrom(1, 3) }, { weight: 1, arbitrary: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffffffff })) }),
  pipelined: fc.boolean(),
  usual: fc.boolean(),
  options: fc.array(optionArb, { maxLength: 5 }),
  // fc.option's freq is the odds of null: most sessions choose an export.
  go: fc.option(goArb, { freq: 12 }),
  end: fc.constantFrom<HandshakeEnd>('abort', 'hangup', 'cut', 'bad-magic', 'too-long'),
}).map(({ clientFlags, pipelined, usual, options, go, end }) => {
  const name = go && 'name' in go ? go.name : '';
  return { clientFlags, pipelined, end, options: [...(usual ? usualPrefixArb(name) : []), ...options, ...(go ? [go] : [])] };
});

const MiB = 1024 * 1024;
const placeArb: fc.Arbitrary<Place> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ from: fc.constant('start' as const), delta: fc.oneof(fc.constantFrom(0, 1, 511, 512, 4096, 65536), fc.integer({ min: 0, max: 4 * MiB })) }) },
  { weight: 4, arbitrary: fc.record({ from: fc.constant('end' as const), delta: fc.oneof(fc.constantFrom(0, 1, 512, 4096, 65536), fc.integer({ min: -4096, max: 2 * MiB })) }) },
  { weight: 1, arbitrary: fc.record({ absolute: fc.oneof(fc.constantFrom(2n ** 53n - 1n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })) }) },
);
const lengthArb = fc.oneof(
  { weight: 8, arbitrary: fc.oneof(fc.constantFrom(1, 511, 512, 4096, 65536), fc.integer({ min: 1, max: 256 * 1024 })) },
  { weight: 1, arbitrary: fc.constantFrom(0, 2 ** 32 - 1, 32 * MiB + 1, 2 ** 31) },
  { weight: 1, arbitrary: fc.integer({ min: 256 * 1024, max: 4 * MiB }) },
);
const VALID_FLAGS = [0, CMD_FLAG.FUA, CMD_FLAG.DF, CMD_FLAG.REQ_ONE, CMD_FLAG.NO_HOLE, CMD_FLAG.FAST_ZERO, CMD_FLAG.FUA | CMD_FLAG.NO_HOLE];
const requestArb: fc.Arbitrary<RequestPlan> = fc.record({
  type: fc.oneof(
    { weight: 20, arbitrary: fc.constantFrom(CMD.READ, CMD.READ, CMD.WRITE, CMD.BLOCK_STATUS, CMD.BLOCK_STATUS, CMD.FLUSH, CMD.TRIM, CMD.WRITE_ZEROES, CMD.CACHE) },
    { weight: 1, arbitrary: fc.integer({ min: 8, max: 0xffff }) },
  ),
  flags: fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...VALID_FLAGS) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }) }),
  offset: placeArb,
  length: lengthArb,
  // A few big reads: what 32 MiB replies cost, without making every session slow.
  big: rarely(fc.constantFrom(8 * MiB, 32 * MiB), 150),
}).map(({ type, flags, offset, length, big }) => {
  // WRITE payloads travel in full: keep them small enough to send thousands of sessions.
  if (type === CMD.WRITE) return { type, flags, offset, length: Math.min(length, MiB) };
  return { type, flags, offset, length: big && type === CMD.READ ? big : length };
});

const transmissionArb: fc.Arbitrary<TransmissionPlan> = fc.record({
  batches: fc.array(fc.record({ requests: fc.array(requestArb, { minLength: 1, maxLength: 8 }), pipelined: fc.boolean() }), { maxLength: 4 }),
  end: fc.oneof(
    { weight: 10, arbitrary: fc.constant<TransmissionEnd>('disc') },
    { weight: 5, arbitrary: fc.constantFrom<TransmissionEnd>('hangup', 'cut-request', 'short-write', 'bad-magic', 'never-read', 'mutated') },
  ),
  mutation: fc.record({ flips: fc.array(fc.tuple(fc.nat(27), fc.nat(255)), { minLength: 1, maxLength: 4 }), tail: bytesArb(64) }),
});

export const sessionArb: fc.Arbitrary<SessionPlan> = fc.record({
  transport: fc.constantFrom('tcp' as const, 'unix' as const),
  pieces: rarely(fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 4 }), 5),
  handshake: handshakeArb,
  transmission: transmissionArb,
});

/**
 * How a session on a server that requires TLS goes on after STARTTLS's ACK: a real TLS
 * handshake (then the plan's options), or bytes that are no ClientHello, or a hang-up.
 */
export type TlsStart = { kind: 'tls' } | { kind: 'garbage'; bytes: Buffer } | { kind: 'hangup' };

export const tlsStartArb: fc.Arbitrary<TlsStart> = fc.oneof(
  { weight: 12, arbitrary: fc.constant({ kind: 'tls' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('garbage' as const), bytes: bytesArb(600).filter((b) => b.length > 0) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'hangup' as const }) },
);

/** The wire offset a place stands for on an export of `size` bytes. */
export function resolvePlace(p: Place, size: number): bigint {
  if ('absolute' in p) return p.absolute;
  const at = p.from === 'start' ? p.delta : size - p.delta;
  return BigInt(Math.max(0, at));
}
