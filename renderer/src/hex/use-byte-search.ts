// "Find next" over the whole disk in bounded hex.search steps: each step reads at most STEP
// bytes in the engine and says where it stopped, so the view shows how far it got and a
// cancel lands between steps instead of waiting for a terabyte.
import { useRef, useState } from 'react';
import { formatBytes, formatHex } from '../format/bytes.ts';
import { hexDigits } from '../format/hex.ts';
import { transport } from '../transport/index.ts';

const STEP = 64 * 1024 * 1024;

export type SearchState =
  | { kind: 'idle' }
  | { kind: 'running'; from: number; at: number }
  | { kind: 'found'; offset: number }
  | { kind: 'not-found'; from: number }
  | { kind: 'cancelled'; at: number }
  | { kind: 'error'; message: string };

export function useByteSearch(imageId: string, size: number, onFound: (offset: number, length: number) => void) {
  const [state, setState] = useState<SearchState>({ kind: 'idle' });
  const run = useRef(0);

  const find = async (pattern: Uint8Array, from: number) => {
    const id = ++run.current;
    const live = () => run.current === id;
    setState({ kind: 'running', from, at: from });
    try {
      for (let at = from; ; ) {
        const r = await transport().invoke('hex.search', { imageId, from: at, pattern: hexDigits(pattern), limit: STEP });
        if (!live()) return;
        if (r.found !== null) {
          setState({ kind: 'found', offset: r.found });
          onFound(r.found, pattern.length);
          return;
        }
        if (r.scannedTo >= size) return setState({ kind: 'not-found', from });
        at = r.scannedTo;
        setState({ kind: 'running', from, at });
      }
    } catch (e) {
      if (live()) setState({ kind: 'error', message: (e as Error).message });
    }
  };

  const cancel = () => {
    run.current++;
    setState((s) => (s.kind === 'running' ? { kind: 'cancelled', at: s.at } : s));
  };

  return { state, find, cancel };
}

/** The search's state in words. */
export function describeSearch(s: SearchState, size: number): string {
  switch (s.kind) {
    case 'idle':
      return '';
    case 'running':
      return `searching… ${formatHex(s.at)} (${Math.floor(((s.at - s.from) / Math.max(1, size - s.from)) * 100)}% of the rest)`;
    case 'found':
      return `found at ${formatHex(s.offset)}`;
    case 'not-found':
      return `not found between ${formatHex(s.from)} and the end of the disk (${formatBytes(size - s.from)})`;
    case 'cancelled':
      return `cancelled at ${formatHex(s.at)}`;
    case 'error':
      return s.message;
  }
}
