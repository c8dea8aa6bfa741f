// Random filter stacks for `blockscope serve` and the bytes each must serve. A stack is
// generated as abstract choices (fractions, modes) so fast-check can shrink it; resolving
// it against the image below gives the CLI words and the model: the expected bytes of the
// whole export, computed from the image's bytes layer by layer (a slice, a zero-extended
// copy, ...). Filters that do not change bytes (cow, readonly, ...) leave the model alone.
import fc from 'fast-check';
import { truncatedSize } from '../../main/filters/truncate/index.ts';
import { fractionArb, type Partition } from './sparse-image.ts';

const IDENTITY_PARAMS: Record<'cow' | 'noextents' | 'readonly' | 'delay' | 'error' | 'stats', Record<string, string>[]> = {
  cow: [{}, { 'cow-block-size': '4K' }],
  noextents: [{}],
  readonly: [{}],
  // Zero delays and a zero error rate: present in the chain, invisible in the bytes.
  delay: [{ rdelay: '0', wdelay: '0', 'delay-extents': '0', 'delay-cache': '0' }],
  error: [{ 'error-rate': '0', 'error-seed': '7' }],
  stats: [{}],
};

type IdentityName = keyof typeof IDENTITY_PARAMS;

export type FilterChoice =
  | { kind: 'offset'; at: number; length: number | null; align: number }
  | { kind: 'truncate'; mode: 'grow' | 'shrink' | 'keep'; amount: number; roundUp: number | null }
  | { kind: 'partition'; index: number }
  | { kind: IdentityName; variant: number };

export const offsetChoiceArb = fc.record({
  kind: fc.constant('offset' as const),
  at: fractionArb,
  length: fc.option(fractionArb, { nil: null }),
  align: fc.constantFrom(1, 512, 4096),
});

export const truncateChoiceArb = fc.record({
  kind: fc.constant('truncate' as const),
  mode: fc.constantFrom('grow' as const, 'shrink' as const, 'keep' as const),
  amount: fc.integer({ min: 1, max: 1 << 20 }),
  roundUp: fc.option(fc.constantFrom(512, 4096, 65536), { nil: null }),
});

const identityChoice = fc.record({
  kind: fc.constantFrom(...(Object.keys(IDENTITY_PARAMS) as IdentityName[])),
  variant: fc.nat(1),
});

/**
 * 0-3 filters, outermost first, each filter at most once (the CLI hands a KEY=VALUE to the
 * first filter that declares the key, so two offsets could not be told apart).
 */
export const stackArb: fc.Arbitrary<FilterChoice[]> = fc.uniqueArray(fc.oneof(offsetChoiceArb, truncateChoiceArb, identityChoice), {
  maxLength: 3,
  selector: (c) => c.kind,
});

export interface ResolvedStack {
  /** `--filter=NAME` words, outermost first, to put before the plugin. */
  filterWords: string[];
  /** KEY=VALUE words for the filters, to put after the plugin's own. */
  paramWords: string[];
  /** The export's expected bytes. */
  model: Buffer;
  /** The stack for failure messages: `offset offset=5 | cow`. */
  describe: string;
  /**
   * Where writes land: export bytes [0, length) are image bytes [start, start+length).
   * null when a cow overlay keeps them from the image.
   */
  stored: { start: number; length: number } | null;
  /** Export bytes from here on are a tail past the disk below: only zeroes can be written there (ENOSPC). */
  zeroTailFrom: number;
}

interface Layer {
  name: string;
  params: Record<string, string>;
  model: Buffer;
  /** Export byte 0 is byte `start` of the layer below; the first `below` bytes exist there. */
  start: number;
  below: number;
  /** Writes go to an overlay, not down. */
  overlay?: boolean;
}

function zeroExtend(bytes: Buffer, size: number): Buffer {
  return size <= bytes.length ? bytes.subarray(0, size) : Buffer.concat([bytes, Buffer.alloc(size - bytes.length)]);
}

function fraction(total: number, f: number): number {
  return Math.floor((total * f) / 0x10000);
}

/** One filter over `below`; null when the choice cannot apply (partition over a changed disk). */
function applyChoice(c: FilterChoice, below: Buffer, partitions: readonly Partition[] | null): Layer | null {
  const size = below.length;
  switch (c.kind) {
    case 'offset': {
      const raw = fraction(size - 1, c.at);
      const offset = raw - (raw % c.align);
      const length = c.length === null ? size - offset : Math.max(1, fraction(size - offset, c.length));
      const params: Record<string, string> = { offset: String(offset) };
      if (c.length !== null) params.range = String(length);
      return { name: 'offset', params, model: below.subarray(offset, offset + length), start: offset, below: length };
    }
    case 'truncate': {
      const base = c.mode === 'grow' ? size + c.amount : c.mode === 'shrink' ? Math.max(1, size - (c.amount % size)) : size;
      const params: Record<string, string> = {};
      if (c.mode !== 'keep') params.truncate = String(base);
      if (c.roundUp !== null) params['round-up'] = String(c.roundUp);
      if (c.mode === 'keep' && c.roundUp === null) params.truncate = String(size);
      const newSize = truncatedSize(size, base, c.roundUp ?? undefined);
      return { name: 'truncate', params, model: zeroExtend(below, newSize), start: 0, below: Math.min(size, newSize) };
    }
    case 'partition': {
      const p = partitions?.[c.index % partitions.length];
      if (!p) return null;
      return { name: 'partition', params: { partition: String(p.number) }, model: below.subarray(p.start, p.start + p.length), start: p.start, below: p.length };
    }
    default: {
      const params = IDENTITY_PARAMS[c.kind][c.variant % IDENTITY_PARAMS[c.kind].length]!;
      return { name: c.kind, params, model: below, start: 0, below: size, overlay: c.kind === 'cow' };
    }
  }
}

/**
 * Resolve `choices` (outermost first) over an image whose bytes are `image`. `partitions`
 * are the image's partitions; a partition filter applies only while every layer under it
 * leaves the bytes as they are (it must find the table at the start of the disk).
 */
export function resolveStack(choices: readonly FilterChoice[], image: Buffer, partitions: readonly Partition[] = []): ResolvedStack {
  const layers: Layer[] = [];
  let model = image;
  let untouched = true;
  let stored: ResolvedStack['stored'] = { start: 0, length: image.length };
  let zeroTailFrom = image.length;
  for (let i = choices.length - 1; i >= 0; i--) {
    const layer = applyChoice(choices[i]!, model, untouched ? partitions : null);
    if (!layer) continue;
    untouched &&= layer.model === model;
    const size = layer.model.length;
    zeroTailFrom = layer.overlay ? size : Math.max(0, Math.min(zeroTailFrom - layer.start, layer.below, size));
    if (layer.overlay) stored = null;
    else if (stored) stored = { start: stored.start + layer.start, length: Math.max(0, Math.min(layer.below, stored.length - layer.start)) };
    model = layer.model;
    layers.unshift(layer);
  }
  return {
    stored,
    zeroTailFrom,
    filterWords: layers.map((l) => `--filter=${l.name}`),
    paramWords: layers.flatMap((l) => Object.entries(l.params).map(([k, v]) => `${k}=${v}`)),
    model,
    describe: layers.map((l) => [l.name, ...Object.entries(l.params).map(([k, v]) => `${k}=${v}`)].join(' ')).join(' | ') || '(no filters)',
  };
}
