// The two-sided hex view of a comparison: A's and B's bytes at the same offsets side by side in
// one scrolling box (so they scroll together), the bytes that differ marked on both sides, a
// cursor shared by both, and n / p (or ] / [) for the next and previous difference, which
// moves the diff view's current difference too. The grids are the hex view's own HexGrid.
import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import type { CompareRange, CompareRun } from '../../../shared/ipc.ts';
import { differingOffsets, differsAt, usePairBytes } from '../compare/pair-bytes.ts';
import { formatHex } from '../format/bytes.ts';
import { WINDOW } from '../hex/use-hex-cursor.ts';
import { BLOCK } from '../map/viewport.ts';
import { selectTitle } from '../store/selectors.ts';
import { useApp } from '../store/store.ts';
import { HexGrid } from './HexGrid.tsx';

interface Props {
  run: CompareRun;
  current: CompareRange | undefined;
  /** Bumped whenever the live diff changed: the bytes are read again. */
  version: number;
  onStep(step: 1 | -1): void;
}

/** Arrow keys' steps: a byte sideways, a row up or down. */
const STEPS: Record<string, number> = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -16, ArrowDown: 16 };
/** Keys for the next and previous difference. */
const DIFF_KEYS: Record<string, 1 | -1> = { n: 1, ']': 1, p: -1, '[': -1 };

const blockOf = (offset: number) => Math.floor(offset / BLOCK) * BLOCK;

export function CompareHex({ run, current, version, onStep }: Props) {
  const titleA = useApp((s) => selectTitle(s, run.imageId)) ?? 'A';
  const size = Math.max(run.sizeA, run.sizeB);
  const at = current?.offset ?? 0;
  // The cursor starts over at each new current difference; keys and clicks move it locally.
  const [local, setLocal] = useState<{ origin: number; windowStart: number; focus: number } | null>(null);
  const place = local?.origin === at ? local : { origin: at, windowStart: blockOf(at), focus: at };
  const length = Math.min(WINDOW, size - place.windowStart);
  const sideA = { imageId: run.imageId, size: run.sizeA };
  const sideB = { imageId: run.otherId, size: run.sizeB };
  const { pair, error } = usePairBytes(sideA, sideB, place.windowStart, length, version);
  const differing = useMemo(() => (pair ? differingOffsets(pair) : []), [pair]);
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    // The current difference's row in view inside the box, without moving the page.
    const el = box.current?.querySelector<HTMLElement>(`[data-o="${at}"]`);
    if (el && box.current) box.current.scrollTop = Math.max(0, el.offsetTop - 2 * el.offsetHeight); // the box is the offsetParent
  }, [at, pair]);

  const moveTo = (offset: number) => {
    const focus = Math.max(0, Math.min(size - 1, offset));
    const inView = focus >= place.windowStart && focus < place.windowStart + WINDOW;
    setLocal({ origin: at, focus, windowStart: inView ? place.windowStart : blockOf(focus) });
  };
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    if (DIFF_KEYS[e.key]) onStep(DIFF_KEYS[e.key]!);
    else if (STEPS[e.key] !== undefined) moveTo(place.focus + STEPS[e.key]!);
    else return;
    e.preventDefault();
    e.stopPropagation();
  };
  const marked = (o: number) => pair !== null && differsAt(pair, o);
  const range = { start: place.focus, end: place.focus + 1 };
  const grid = (side: 'a' | 'b') =>
    pair && <HexGrid bytes={pair[side]} focus={place.focus} range={range} onPick={moveTo} onKeyDown={onKeyDown} marked={marked} fold={false} testId={`compare-hex-${side}`} />;
  return (
    <div className="compare-hex" data-testid="compare-hex" data-window={place.windowStart}>
      <HexLegend differing={differing.length} start={place.windowStart} length={length} />
      {error && <div className="hex-msg bad">{error}</div>}
      <div className="compare-hex-body" ref={box}>
        <div className="compare-hex-side">
          <div className="faint">A: {titleA}</div>
          {grid('a')}
        </div>
        <div className="compare-hex-side">
          <div className="faint">B: {run.otherTitle}</div>
          {grid('b')}
        </div>
      </div>
    </div>
  );
}

/** The mark's meaning, how many bytes of the window differ, and the keys. */
function HexLegend({ differing, start, length }: { differing: number; start: number; length: number }) {
  return (
    <div className="legend">
      <span>
        <span className="swatch diff" /> differs from the other side
      </span>
      <span className="mono" data-testid="compare-hex-count" data-count={differing}>
        {differing} differing {differing === 1 ? 'byte' : 'bytes'} in {formatHex(start)}–{formatHex(start + length - 1)}
      </span>
      <span className="faint">n / p: next / previous difference · arrows move the cursor</span>
    </div>
  );
}
