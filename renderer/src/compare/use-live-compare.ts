// The diff view, live: a write, trim or zero through a served export of either image raises
// map.changed for it (the allocation tracker's re-read ranges); those ranges gather for a
// moment and compare.refresh compares them again, one request at a time, so a client writing
// fast costs a refresh every DEBOUNCE_MS and never a whole compare.
import { useEffect, useRef, useState } from 'react';
import type { CompareRun } from '../../../shared/ipc.ts';
import { useApp } from '../store/store.ts';
import { transport } from '../transport/index.ts';

/** How long changed ranges gather before they are compared again. */
export const DEBOUNCE_MS = 150;
/** More pending ranges than this are sent as the one range that spans them. */
const MAX_PENDING = 1024;

export interface LiveState {
  /** Refreshes applied since the comparison ran. */
  updates: number;
  /** When the last one was applied (ms since the epoch), or null. */
  updatedAt: number | null;
  refreshing: boolean;
}

/** Ranges in any order as at most MAX_PENDING; past that, one span over all (the main side merges the rest). */
export function gatherRanges(pending: [number, number][], more: readonly [number, number][]): [number, number][] {
  const all = [...pending, ...more];
  if (all.length <= MAX_PENDING) return all;
  return [[Math.min(...all.map((r) => r[0])), Math.max(...all.map((r) => r[1]))]];
}

export function useLiveCompare(run: CompareRun, onRun: (run: CompareRun) => void): LiveState {
  const [state, setState] = useState<LiveState>({ updates: 0, updatedAt: null, refreshing: false });
  const latest = useRef(onRun);
  latest.current = onRun;
  const { imageId, otherId } = run;
  useEffect(() => {
    let pending: [number, number][] = [];
    let timer: ReturnType<typeof setTimeout> | null = null;
    let busy = false;
    let live = true;
    const flush = async () => {
      timer = null;
      if (busy || pending.length === 0) return;
      const ranges = pending;
      pending = [];
      busy = true;
      setState((s) => ({ ...s, refreshing: true }));
      try {
        const next = await transport().invoke('compare.refresh', { imageId, otherId, ranges });
        if (!live) return;
        latest.current(next);
        setState((s) => ({ updates: s.updates + 1, updatedAt: Date.now(), refreshing: false }));
        useApp.getState().clearError('compare');
      } catch (e) {
        if (live) useApp.getState().setError(`Live compare: ${(e as Error).message}`, 'compare');
        if (live) setState((s) => ({ ...s, refreshing: false }));
      } finally {
        busy = false;
        // Changes that came in while this one was out go next.
        if (live && pending.length && !timer) timer = setTimeout(() => void flush(), DEBOUNCE_MS);
      }
    };
    const off = transport().on('map.changed', (e) => {
      if (e.imageId !== imageId && e.imageId !== otherId) return;
      pending = gatherRanges(pending, e.ranges);
      timer ??= setTimeout(() => void flush(), DEBOUNCE_MS);
    });
    return () => {
      live = false;
      off();
      if (timer) clearTimeout(timer);
    };
  }, [imageId, otherId]);
  return state;
}
