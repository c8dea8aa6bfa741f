// Test support: mutate small images of a layered format and check that opening, mapping and
// reading each one either works or fails with an error naming the image: never another
// exception type, a hang, or an allocation out of proportion to the file.
import { writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { BlockError } from '../backend/errors.ts';
import type { LayerStack } from './layer-stack.ts';

export interface FuzzSeed {
  name: string;
  bytes: Buffer;
  /** Byte ranges worth mutating most (headers, tables), [start, end). */
  hot: [number, number][];
}

export interface FuzzResult {
  cases: number;
  opened: number;
  violations: string[];
}

/** Small, fast and deterministic (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SPECIAL_WORDS = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x200, 0x10000];
const CASE_TIMEOUT_MS = 2000;
const PROBE_SPAN = 64 * 1024 * 1024;
const MAX_ARRAY_BUFFERS = 512 * 1024 * 1024;

function mutate(seed: FuzzSeed, random: () => number): Buffer {
  const out = Buffer.from(seed.bytes);
  const pick = (): number => {
    const r = random();
    if (r < 0.7 && seed.hot.length > 0) {
      const [s, e] = seed.hot[Math.floor(random() * seed.hot.length)]!;
      return Math.min(out.length - 1, s + Math.floor(random() * (e - s)));
    }
    return Math.floor(random() * out.length);
  };
  const count = 1 + Math.floor(random() * 4);
  for (let i = 0; i < count; i++) {
    const at = pick();
    const kind = random();
    if (kind < 0.4) out[at] = Math.floor(random() * 256);
    else if (kind < 0.6) out[at]! ^= 1 << Math.floor(random() * 8);
    else if (at + 4 <= out.length) {
      const word = SPECIAL_WORDS[Math.floor(random() * SPECIAL_WORDS.length)]!;
      const aligned = at - (at % 4);
      if (random() < 0.5) out.writeUInt32BE(word, aligned);
      else out.writeUInt32LE(word, aligned);
    }
  }
  // Now and then, a truncated file.
  if (random() < 0.05) return out.subarray(0, Math.floor(random() * out.length));
  return out;
}

async function exercise(stack: LayerStack, random: () => number): Promise<void> {
  const size = stack.size;
  const head = Math.min(size, PROBE_SPAN);
  if (head > 0) {
    const map = await stack.extents(head, 0);
    await stack.allocationDepth(head, 0);
    const tailStart = Math.max(0, size - PROBE_SPAN);
    if (tailStart > 0) await stack.extents(size - tailStart, tailStart);
    for (const e of map.filter((x) => x.flags === 0).slice(0, 3)) {
      await stack.read(Buffer.alloc(Math.min(e.length, 65536)), e.offset);
    }
    const at = Math.floor(random() * Math.max(0, size - 4096));
    await stack.read(Buffer.alloc(Math.min(4096, size - at)), at);
  }
}

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`HANG: ${what} took over ${CASE_TIMEOUT_MS} ms`)), CASE_TIMEOUT_MS);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Run `perSeed` mutated cases of each seed, written one at a time to `path`. */
export async function fuzzLayered(
  seeds: readonly FuzzSeed[],
  perSeed: number,
  path: string,
  open: (path: string) => Promise<LayerStack>,
  seedNumber = 20240601,
): Promise<FuzzResult> {
  const random = prng(seedNumber);
  const result: FuzzResult = { cases: 0, opened: 0, violations: [] };
  for (const seed of seeds) {
    for (let i = 0; i < perSeed; i++) {
      const label = `${seed.name} #${i}`;
      writeFileSync(path, mutate(seed, random));
      result.cases++;
      let stack: LayerStack | undefined;
      try {
        stack = await withTimeout(open(path), `${label} open`);
        result.opened++;
        await withTimeout(exercise(stack, random), `${label} map/read`);
      } catch (err) {
        const e = err as Error;
        const plain = err instanceof BlockError || (err instanceof Error && err.constructor === Error && !e.message.startsWith('HANG'));
        if (!plain) result.violations.push(`${label}: ${e?.constructor?.name}: ${e?.message}`);
        else if (!e.message.includes(dirname(path))) result.violations.push(`${label}: message does not name the image: ${e.message}`);
      } finally {
        await stack?.close();
      }
      if (process.memoryUsage().arrayBuffers > MAX_ARRAY_BUFFERS) {
        result.violations.push(`${label}: ${process.memoryUsage().arrayBuffers} bytes of buffers held`);
        return result;
      }
    }
  }
  return result;
}
