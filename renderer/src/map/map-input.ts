// The map canvas's pointer and wheel input, turned into map terms: a hover at a device x, a
// drag as a fraction of the width, a wheel or double-click as a zoom factor around an anchor.
// MapRenderer owns the canvas and the view; this module only reads events.
import type { MapRendererOptions } from './MapRenderer.ts';

/** What the input needs from its renderer: the canvas geometry and where a device x points. */
export interface InputTarget {
  readonly canvas: HTMLCanvasElement;
  /** Device pixels per CSS pixel, now (it changes when the window moves between screens). */
  dpr(): number;
  readonly options: MapRendererOptions;
  offsetAt(deviceX: number): number;
  hoverAt(deviceX: number | null): void;
}

type Listen = <K extends keyof HTMLElementEventMap>(type: K, fn: (e: HTMLElementEventMap[K]) => void, opts?: AddEventListenerOptions) => void;

export function deviceX(target: InputTarget, e: { clientX: number }): number {
  const rect = target.canvas.getBoundingClientRect();
  return (e.clientX - rect.left) * target.dpr();
}

/** Listens on the target's canvas; returns the function that stops listening. */
export function listenToMapInput(target: InputTarget): () => void {
  const disposers: (() => void)[] = [];
  const on: Listen = (type, fn, opts) => {
    target.canvas.addEventListener(type, fn as EventListener, opts);
    disposers.push(() => target.canvas.removeEventListener(type, fn as EventListener));
  };
  listenToPointer(target, on);
  on('wheel', (e) => onWheel(target, e), { passive: false });
  return () => {
    for (const d of disposers.splice(0)) d();
  };
}

/** Hover, drag (pan in the detail map, scrub in the overview), click, double-click zoom. */
function listenToPointer(target: InputTarget, on: Listen): void {
  const { canvas, options } = target;
  let drag: { x: number; moved: boolean } | null = null;
  on('pointermove', (e) => {
    const x = deviceX(target, e);
    if (drag) {
      const dx = x - drag.x;
      if (Math.abs(dx) > 2 * target.dpr()) drag.moved = true;
      if (drag.moved && options.mode === 'detail') {
        options.onPan?.(-dx / canvas.width);
        drag.x = x;
      } else if (drag.moved) {
        options.onClick?.(target.offsetAt(x));
      }
    }
    target.hoverAt(x);
  });
  on('pointerleave', () => target.hoverAt(null));
  // Double-click dives in (4x) around the pointer; with Shift it backs out.
  on('dblclick', (e) => options.onZoom?.(deviceX(target, e) / canvas.width, e.shiftKey ? 4 : 0.25));
  on('pointerdown', (e) => {
    if (e.button !== 0) return;
    canvas.setPointerCapture(e.pointerId);
    drag = { x: deviceX(target, e), moved: false };
  });
  on('pointerup', (e) => {
    const was = drag;
    drag = null;
    if (was && !was.moved) options.onClick?.(target.offsetAt(deviceX(target, e)));
  });
}

function onWheel(target: InputTarget, e: WheelEvent): void {
  e.preventDefault();
  const { options } = target;
  const anchor = deviceX(target, e) / target.canvas.width;
  // Horizontal wheels and shift+wheel pan; vertical wheels zoom, as in timeline tools.
  if (Math.abs(e.deltaX) > Math.abs(e.deltaY) || e.shiftKey) {
    options.onPan?.((e.shiftKey ? e.deltaY : e.deltaX) / 1000);
    return;
  }
  const lines = e.deltaMode === 1 ? e.deltaY * 33 : e.deltaMode === 2 ? e.deltaY * 400 : e.deltaY;
  options.onZoom?.(anchor, Math.pow(2, lines / 300));
}
