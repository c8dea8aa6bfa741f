// Where the hex view is: the window of bytes it shows, the byte the cursor is on (the
// selection's focus) and the byte the selection started at (its anchor). A click on the map,
// "go to" or a search hit moves all three through the store's `selected`; clicks, drags and
// keys inside the hex view move them locally. Local state remembers which `selected` it was
// made for, so a new one from outside starts over without an effect.
import { useState } from 'react';
import { rangeBetween, type ByteRange } from '../format/hex.ts';
import { BLOCK } from '../map/viewport.ts';
import { useApp } from '../store/store.ts';

/** Eight blocks: a screenful, and well under one hex.read. */
export const WINDOW = 8 * BLOCK;

interface Place {
  origin: object;
  windowStart: number;
  anchor: number;
  focus: number;
}

export interface HexCursor {
  windowStart: number;
  focus: number;
  range: ByteRange;
}

const blockOf = (offset: number) => Math.floor(offset / BLOCK) * BLOCK;

export function useHexCursor(imageId: string, size: number) {
  const selected = useApp((s) => (s.selected?.imageId === imageId ? s.selected : null));
  const [local, setLocal] = useState<Place | null>(null);
  const place: Place | null =
    selected === null ? null : local?.origin === selected ? local : { origin: selected, windowStart: blockOf(selected.offset), anchor: selected.offset, focus: selected.offset };
  const clamp = (o: number) => Math.max(0, Math.min(size - 1, o));

  /** Moves the focus (and the anchor unless extending), paging the window to keep it in view. */
  const moveTo = (offset: number, extend: boolean) => {
    if (!place) return;
    const focus = clamp(offset);
    const inView = focus >= place.windowStart && focus < place.windowStart + WINDOW;
    const windowStart = inView ? place.windowStart : blockOf(focus - (focus < place.windowStart ? WINDOW - BLOCK : 0));
    setLocal({ ...place, windowStart: Math.max(0, windowStart), focus, anchor: extend ? place.anchor : focus });
  };

  /** Shows `length` bytes at `offset` selected, from anywhere (go to, search hits). */
  const jump = (offset: number, length = 1) => {
    useApp.getState().select(imageId, offset);
    const origin = useApp.getState().selected!;
    setLocal({ origin, windowStart: blockOf(offset), anchor: offset, focus: clamp(offset + length - 1) });
  };

  const page = (step: 1 | -1) => {
    if (!place) return;
    const windowStart = Math.max(0, Math.min(blockOf(size - 1), place.windowStart + step * WINDOW));
    setLocal({ ...place, windowStart });
  };

  const cursor: HexCursor | null = place && { windowStart: place.windowStart, focus: place.focus, range: rangeBetween(place.anchor, place.focus) };
  return { cursor, moveTo, jump, page };
}
