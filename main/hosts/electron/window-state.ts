// The window's size and position between runs: a small JSON file in the user-data folder.
// Anything unreadable or absurd falls back to the default size.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface WindowState {
  width: number;
  height: number;
  x?: number;
  y?: number;
  maximized: boolean;
}

export const DEFAULT_WINDOW_STATE: WindowState = { width: 1280, height: 800, maximized: false };

const FILE = 'window-state.json';

export function loadWindowState(dir: string): WindowState {
  try {
    const s = JSON.parse(readFileSync(path.join(dir, FILE), 'utf8')) as Partial<WindowState>;
    const ok = (n: unknown, min: number) => typeof n === 'number' && Number.isFinite(n) && n >= min && n < 100_000;
    if (!ok(s.width, 400) || !ok(s.height, 300)) return DEFAULT_WINDOW_STATE;
    return {
      width: s.width!,
      height: s.height!,
      ...(ok(s.x, -100_000) && ok(s.y, -100_000) ? { x: s.x, y: s.y } : {}),
      maximized: s.maximized === true,
    };
  } catch {
    return DEFAULT_WINDOW_STATE;
  }
}

export function saveWindowState(dir: string, state: WindowState): void {
  try {
    writeFileSync(path.join(dir, FILE), JSON.stringify(state));
  } catch {
    // Not remembering a window size is no reason to fail quitting.
  }
}
