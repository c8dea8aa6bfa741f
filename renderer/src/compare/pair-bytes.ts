// The two-sided hex view's bytes: the same window read from A and from B through their chains
// (hex/read-range.ts, as copy and save read), read again when the live diff changes, and which
// of them differ. Past the end of the smaller image a side reads as zeroes, as compare has it.
import { useEffect, useState } from 'react';
import type { WindowBytes } from '../hex/use-window-bytes.ts';
import { readRange } from '../hex/read-range.ts';

export interface PairBytes {
  a: WindowBytes;
  b: WindowBytes;
}

/** The byte at `offset` of `side`, zero past what it holds (past the image's end). */
function byteAt(side: WindowBytes, offset: number): number {
  return side.data[offset - side.offset] ?? 0;
}

/** Whether the byte at `offset` reads differently in A and B. */
export function differsAt(pair: PairBytes, offset: number): boolean {
  return byteAt(pair.a, offset) !== byteAt(pair.b, offset);
}

/** Every offset of the window where A and B differ, in order. */
export function differingOffsets(pair: PairBytes): number[] {
  const out: number[] = [];
  const end = pair.a.offset + Math.max(pair.a.data.length, pair.b.data.length);
  for (let o = pair.a.offset; o < end; o++) if (differsAt(pair, o)) out.push(o);
  return out;
}

interface Side {
  imageId: string;
  size: number;
}

async function readSide(side: Side, start: number, length: number): Promise<WindowBytes> {
  const end = Math.min(side.size, start + length);
  const data = end > start ? await readRange(side.imageId, { start, end }) : new Uint8Array(0);
  return { offset: start, data };
}

/** A's and B's `length` bytes at `start`; `version` changing reads them again. */
export function usePairBytes(a: Side, b: Side, start: number, length: number, version: number) {
  const [pair, setPair] = useState<PairBytes | null>(null);
  const [error, setError] = useState<string | null>(null);
  const { imageId: idA, size: sizeA } = a;
  const { imageId: idB, size: sizeB } = b;
  useEffect(() => {
    let live = true;
    Promise.all([readSide({ imageId: idA, size: sizeA }, start, length), readSide({ imageId: idB, size: sizeB }, start, length)])
      .then(([ba, bb]) => {
        if (!live) return;
        setPair({ a: ba, b: bb });
        setError(null);
      })
      .catch((e: Error) => live && setError(e.message));
    return () => {
      live = false;
    };
  }, [idA, sizeA, idB, sizeB, start, length, version]);
  return { pair, error };
}
